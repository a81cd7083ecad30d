"""The `clankers` entries: what the backend needs to dispatch a job to each clanker, one deployment model per
target (`deploymentConfig`), chosen by the entry's `target`.

A new target adds its deployment model and its entry here, and its entry to `Clanker`; a reader built before it
skips (and reports) that target's clankers (viberator_contract/outputs.py), and the schema allows them.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from viberator_contract.base import AgentName, Architecture, ContractModel, HarnessName, Platform, Region, RunnableImage

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
    # CloudWatch Logs' LogGroup name: "[\.\-_/#A-Za-z0-9]+", 1 to 512 characters (botocore's logs service model).
    log_group: str | None = Field(
        default=None,
        max_length=512,
        pattern=r"^[.\-_/#A-Za-z0-9]+$",
        description="The CloudWatch log group its container logs to (the awslogs driver's `awslogs-group`). Added "
        "within version 1.",
    )
    log_stream_prefix: str | None = Field(
        default=None,
        pattern=r"^[^:*]+$",  # a LogStreamName's characters: "[^:*]*" (ibid.)
        description="The awslogs driver's `awslogs-stream-prefix`: a task's stream is "
        "`<logStreamPrefix>/<containerName>/<task id>`, and its last line starting `VIBERATOR_RESULT ` holds the "
        "job's result. Added within version 1.",
    )


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

    agent: HarnessName = Field(
        description="The harness whose image it runs, as `harness` names it: this field's name before `harness` was "
        "added, kept for the readers of then. Not what a job's `agent` names (one of `agents`)."
    )
    harness: HarnessName | None = Field(
        default=None,
        description="The harness whose image it runs (a key of `images` in an image stack). Added within version "
        "1: absent in outputs written before it, where `agent` names it.",
    )
    agents: list[AgentName] | None = Field(
        default=None,
        min_length=1,
        description="The agent CLIs its image holds: the values a job's `agent` may take on this clanker. Added "
        "within version 1.",
    )
    target: str
    region: Region | None = Field(
        default=None,
        description="The region it runs in: where to invoke its function or run its task. Absent for a clanker "
        "that runs on a local daemon (docker). Added within version 1.",
    )
    image_region: Region | None = Field(
        default=None,
        description="The region of the repository the image is pulled from (a promoting stack's own region when "
        "it runs a replica). Added within version 1.",
    )
    deployment_config: ContractModel

    @property
    def runs_harness(self) -> str:
        """The harness whose image it runs, in outputs of any version: `harness`, else `agent`."""
        return self.harness or self.agent

    @property
    def image(self) -> str:
        """The image reference it runs: a Lambda's `imageUri`, the other targets' `containerImage`."""
        match self.deployment_config:
            case (
                LambdaDeployment(image_uri=image)
                | EcsDeployment(container_image=image)
                | DockerDeployment(container_image=image)
            ):
                return image
        raise TypeError(f"a clanker entry of target {self.target!r} names no image this contract knows")


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


class _OtherTargets:
    """In the JSON Schema, beside the entries of the targets this contract knows, an entry of any other target
    (one added after it): an object with a string `target`, otherwise unchecked, as the models skip it
    (viberator_contract/outputs.py). pydantic's `discriminator` keyword, which names only the known targets, is
    left out: it is OpenAPI's, not JSON Schema's, and a reader that honoured it would refuse the others."""

    def __get_pydantic_json_schema__(self, schema: CoreSchema, handler: GetJsonSchemaHandler) -> JsonSchemaValue:
        known: dict[str, Any] = handler(schema)
        other = {
            "type": "object",
            "description": "A clanker of a target this version of the contract does not know: a reader skips it.",
            "required": ["target"],
            "properties": {"target": {"type": "string", "not": {"enum": list(KNOWN_TARGETS)}}},
        }
        return {"oneOf": [*known["oneOf"], other]}


KNOWN_ENTRIES = (LambdaClankerEntry, EcsClankerEntry, DockerClankerEntry)
KNOWN_TARGETS: tuple[str, ...] = tuple(get_args(entry.model_fields["target"].annotation)[0] for entry in KNOWN_ENTRIES)
"""The targets this version of the contract reads: a clanker of any other is skipped, not refused."""

Clanker = Annotated[
    LambdaClankerEntry | EcsClankerEntry | DockerClankerEntry, Field(discriminator="target"), _OtherTargets()
]
