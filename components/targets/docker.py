"""The docker target: a clanker a local Docker daemon runs (`python -m workers ensure`, `run-job`). The stack
registers nothing for it; its outputs entry names the image to pull.

Its config takes no `environment` or `secrets` (refused as unknown keys, never dropped): whoever starts the
container sets its variables (`docker run -e`, compose), and resolving Secrets Manager ARNs on a developer's
machine would need that machine's AWS credentials, which no stack output can grant.

The container gets Docker's default bridge network, never the host's by default: with `--network host` the
agent (and anything a job makes it run) reaches the host's loopback services and, on EC2, the instance
metadata service and its role's credentials. `network: host` is the explicit opt-in; `none` cuts it off.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from pydantic import Field

from components.config_model.clankers import ClankerBase
from components.targets.base import ClankerStack, ClankerTarget, Placement
from viberator_contract import DockerClankerEntry, DockerDeployment


class DockerClankerConfig(ClankerBase):
    """Runs on a local Docker daemon, which the stack does not configure: its outputs name only the image."""

    target: Literal["docker"] = Field(description="A container on a Docker engine the stack does not manage.")
    network: Literal["bridge", "none", "host"] = Field(
        "bridge",
        description="The container's Docker network: bridge (default), none, or host (explicit opt-in: the agent "
        "then reaches the host's loopback services and, on EC2, the instance metadata service).",
    )


def deploy(stack: ClankerStack, placements: Sequence[Placement[DockerClankerConfig]]) -> dict[str, DockerClankerEntry]:
    return {
        placement.clanker.name: placement.entry(
            DockerClankerEntry,
            DockerDeployment.model_construct(
                container_image=placement.image_reference(),
                architecture=placement.architecture,
                platform=placement.platform,
                network=placement.clanker.network,
            ),
            region=None,
        )
        for placement in placements
    }


TARGET = ClankerTarget(name="docker", config_model=DockerClankerConfig, deploy=deploy)
