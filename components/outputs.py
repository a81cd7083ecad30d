"""The stack outputs: the contract the backend reads with `pulumi stack output --json`.

One function builds them; `outputs.schema.json` beside this module describes them (JSON Schema 2020-12) and
the tests validate every committed stack's outputs against it. Bump SCHEMA_VERSION on any breaking change.

    {
      "schemaVersion": 1,
      "environment": "dev",
      "images":   {"<harness>": {repositoryName, repositoryUrl, digest, imageUri, tags, platform,
                                 platforms: {"<platform>": {digest, imageUri, tags}}, index: {digest, imageUri, tags}}},
      "replicas": [{region, registryId}],
      "lifecycle": {keepImages, environments},
      "signing":  {keyArn, alias, algorithm, publicKey},
      "clankers": {"<name>": {agent, target, imageRegion, deploymentConfig}}
    }

`replicas`: where ECR replicates an image stack's images (`viberator:replicas`; empty for a promoting stack),
read by the stacks that promote from it to run the copy in their own region. `imageRegion`: the region of the
repository the clanker's image is pulled from (a promoting stack's own region when it runs a replica).
`lifecycle`: the lifecycle rules of the repositories an image stack owns (`keepImages` per environment, the
`environments` in rule priority order; components/harness_image.py `lifecycle_policy`), which a promoting stack
in another account repeats on the replica repositories it creates; absent where a stack owns no repositories.
`platforms`: every platform a harness is built for, each a single-platform image (what Lambda runs); the top-level
`digest`, `imageUri`, `tags` and `platform` repeat the first (primary) one, as a single-platform stack always wrote
them. `index`: the image index joining several platforms, which `<env>-latest` names (absent for one platform).
Each clanker's `deploymentConfig.platform` says whose image it runs.
`replicas`, `imageRegion`, `lifecycle`, `platforms`, `index` and `platform` were added within schema version 1:
outputs written before them lack them, and readers treat a missing one as "none" (`platforms`: only the top-level
image).
`signing` (the image stack's KMS signing key, components/signing.py: what every digest it pushes is signed with,
and the PEM public key that verifies them) and `images.<harness>.sbom` (the tag of the image's SBOM referrer,
`<repositoryUrl>:sha256-<hex>.sbom`, workers/tooling/sbom.py) were added within schema version 1 too: absent in
outputs written before them, and `signing` is absent where a stack creates no key (promoting and review stacks).
A reader that must verify a digest and finds no `signing` refuses it rather than running it unchecked.

deploymentConfig per target:
    lambda: {imageUri, functionName, functionArn, architecture, platform, memoryMb, timeoutSeconds}
    ecs:    {containerImage, taskDefinitionArn, family, containerName, cluster, subnets, securityGroups,
             assignPublicIp, architecture, platform}
    docker: {containerImage, architecture, platform}
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
from workers.naming import image_reference, sbom_tag

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
    signing: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "schemaVersion": SCHEMA_VERSION,
        "environment": environment,
        # The stack whose deploy signs its digests attaches their SBOMs too (.github/workflows/deploy-stack.yml).
        "images": {
            harness: _with_sbom(image.outputs()) if signing is not None else image.outputs()
            for harness, image in sorted(images.items())
        },
        "replicas": replicas,
        **({"lifecycle": dict(lifecycle)} if lifecycle is not None else {}),
        **({"signing": dict(signing)} if signing is not None else {}),
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


def _with_sbom(image: dict[str, Any]) -> dict[str, Any]:
    """An `images.<harness>` entry with the tag of its digest's SBOM referrer."""
    sbom = pulumi.Output.all(image["repositoryUrl"], image["digest"]).apply(
        lambda parts: image_reference(parts[0], sbom_tag(parts[1]))
    )
    return {**image, "sbom": sbom}


@cache
def outputs_schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text())
