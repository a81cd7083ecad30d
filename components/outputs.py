"""The stack outputs: the contract the backend reads with `pulumi stack output --json`.

One function builds them; `outputs.schema.json` beside this module describes them (JSON Schema 2020-12) and
the tests validate every committed stack's outputs against it. Bump SCHEMA_VERSION on any breaking change.

    {
      "schemaVersion": 1,
      "environment": "dev",
      "images":   {"<harness>": {repositoryName, repositoryUrl, digest, imageUri, tags, platform}},
      "replicas": [{region, registryId}],
      "lifecycle": {keepImages, environments},
      "clankers": {"<name>": {agent, target, imageRegion, deploymentConfig}}
    }

`replicas`: where ECR replicates an image stack's images (`viberator:replicas`; empty for a promoting stack),
read by the stacks that promote from it to run the copy in their own region. `imageRegion`: the region of the
repository the clanker's image is pulled from (a promoting stack's own region when it runs a replica).
`lifecycle`: the lifecycle rules of the repositories an image stack owns (`keepImages` per environment, the
`environments` in rule priority order; components/harness_image.py `lifecycle_policy`), which a promoting stack
in another account repeats on the replica repositories it creates; absent where a stack owns no repositories.
`replicas`, `imageRegion` and `lifecycle` were added within schema version 1: outputs written before them lack
them, and readers treat a missing one as "none".

deploymentConfig per target:
    lambda: {imageUri, functionName, functionArn, architecture, memoryMb, timeoutSeconds}
    ecs:    {containerImage, taskDefinitionArn, family, containerName, cluster, subnets, securityGroups,
             assignPublicIp, architecture}
    docker: {containerImage, architecture}
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pulumi

from components.images import ImageRef

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("outputs.schema.json")


@dataclass(frozen=True)
class ClankerDeployment:
    agent: str
    target: str
    image_region: str
    """The region of the repository the clanker pulls its image from."""
    deployment_config: Mapping[str, pulumi.Input[Any]]


def stack_outputs(
    environment: str,
    images: Mapping[str, ImageRef],
    clankers: Mapping[str, ClankerDeployment],
    replicas: pulumi.Input[list[dict[str, Any]]],
    lifecycle: Mapping[str, Any] | None,
) -> dict[str, Any]:
    return {
        "schemaVersion": SCHEMA_VERSION,
        "environment": environment,
        "images": {harness: image.outputs() for harness, image in sorted(images.items())},
        "replicas": replicas,
        **({"lifecycle": dict(lifecycle)} if lifecycle is not None else {}),
        "clankers": {
            name: {
                "agent": c.agent,
                "target": c.target,
                "imageRegion": c.image_region,
                "deploymentConfig": dict(c.deployment_config),
            }
            for name, c in sorted(clankers.items())
        },
    }


@cache
def outputs_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())
