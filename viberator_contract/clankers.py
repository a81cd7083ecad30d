"""The `clankers` entries: what the backend needs to dispatch a job to each clanker, one deployment model per
target (`deploymentConfig`), chosen by the entry's `target`.

A new target adds its deployment model and its entry here, and its entry to `Clanker`."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from viberator_contract.base import Architecture, ContractModel, Platform, Region, RunnableImage

_PLATFORM = "The platform whose image the clanker runs. Added within version 1."


class LambdaDeployment(ContractModel):
    """A Lambda function running the image: invoke it with the job."""

    image_uri: RunnableImage
    function_name: str = Field(max_length=64, pattern=r"^viberator-[a-z0-9-]+$")
    function_arn: str = Field(pattern=r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:viberator-[a-z0-9-]+$")
    architecture: Architecture
    platform: Platform | None = Field(default=None, description=_PLATFORM)
    memory_mb: int | None = Field(default=None, ge=128, le=10240, description="The function's memory size.")
    timeout_seconds: int | None = Field(
        default=None, ge=1, le=900, description="The function's timeout: an invoker waits at least this long."
    )


class EcsDeployment(ContractModel):
    """A Fargate task definition: run it in the cluster's network with the job in its environment."""

    container_image: RunnableImage
    task_definition_arn: str = Field(
        pattern=r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:task-definition/viberator-[a-z0-9-]+:[0-9]+$"
    )
    family: str = Field(pattern=r"^viberator-[a-z0-9-]+$")
    container_name: str = Field(min_length=1)
    cluster: str = Field(pattern=r"^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:cluster/.+$")
    subnets: list[Annotated[str, Field(pattern=r"^subnet-[0-9a-f]+$")]] = Field(min_length=1)
    security_groups: list[Annotated[str, Field(pattern=r"^sg-[0-9a-f]+$")]] = Field(min_length=1)
    assign_public_ip: bool
    architecture: Architecture
    platform: Platform | None = Field(default=None, description=_PLATFORM)


class DockerDeployment(ContractModel):
    """An image a local daemon runs (`python -m workers ensure`): nothing in the cloud."""

    container_image: RunnableImage
    architecture: Architecture
    platform: Platform | None = Field(default=None, description=_PLATFORM)
    network: Literal["bridge", "none", "host"] | None = Field(
        default=None,
        description="The container's Docker network (`docker run --network`): bridge unless the clanker's config "
        "opts in to host networking. Absent (outputs before it was added): bridge. Added within version 1.",
    )


class ClankerEntry(ContractModel):
    """One `clankers.<name>` entry; each target's entry narrows `target` and `deployment_config`."""

    agent: str = Field(description="The harness whose image it runs (a key of `images` in an image stack).")
    target: str
    image_region: Region | None = Field(
        default=None,
        description="The region of the repository the image is pulled from (a promoting stack's own region when "
        "it runs a replica). Added within version 1.",
    )
    deployment_config: ContractModel


class LambdaClankerEntry(ClankerEntry):
    """A clanker of target `lambda`."""

    target: Literal["lambda"]
    deployment_config: LambdaDeployment


class EcsClankerEntry(ClankerEntry):
    """A clanker of target `ecs`."""

    target: Literal["ecs"]
    deployment_config: EcsDeployment


class DockerClankerEntry(ClankerEntry):
    """A clanker of target `docker`."""

    target: Literal["docker"]
    deployment_config: DockerDeployment


Clanker = Annotated[LambdaClankerEntry | EcsClankerEntry | DockerClankerEntry, Field(discriminator="target")]
