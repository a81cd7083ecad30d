"""The stack outputs, built from the contract's models (viberator_contract: what each field means, and the JSON
Schema generated from them).

The models are built with `model_construct`, unvalidated, because their leaves are pulumi Outputs: a digest
is unknown until the push, and on a first preview almost everything is. `model_dump(warnings=False)` then
returns the same nested dicts and lists with those Outputs as leaves, rather than one Output of the whole
document, so a preview still shows every part it knows. The resolved values are validated against the
models and the schema by the tests, for every committed stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from components.images import ImageRef
from viberator_contract import SCHEMA_VERSION, ClankerEntry, Lifecycle, Signing, StackOutputs
from workers.naming import image_reference, sbom_tag


def stack_outputs(
    environment: str,
    images: Mapping[str, ImageRef],
    clankers: Mapping[str, ClankerEntry],
    replicas: pulumi.Input[list[dict[str, Any]]],
    lifecycle: Lifecycle | None,
    signing: Signing | None = None,
) -> dict[str, Any]:
    document = StackOutputs.model_construct(
        schema_version=SCHEMA_VERSION,
        environment=environment,
        # The stack whose deploy signs its digests attaches their SBOMs too (.github/workflows/deploy-stack.yml).
        images={
            harness: image.entry(sbom=_sbom_tag(image) if signing is not None else None)
            for harness, image in sorted(images.items())
        },
        replicas=replicas,
        lifecycle=lifecycle,
        signing=signing,
        clankers=dict(sorted(clankers.items())),
    )
    # No field of the contract is ever null: None is an absent optional field (`lifecycle`, `index`, …).
    return document.model_dump(exclude_none=True, warnings=False)


def _sbom_tag(image: ImageRef) -> pulumi.Output[str]:
    """The tag of the SBOM referrer of the image's primary digest."""
    return pulumi.Output.all(image.repository_url, image.platforms[image.primary_platform].digest).apply(
        lambda parts: image_reference(parts[0], sbom_tag(parts[1]))
    )
