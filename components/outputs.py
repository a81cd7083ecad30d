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
        images={harness: image.entry() for harness, image in sorted(images.items())},
        replicas=replicas,
        lifecycle=lifecycle,
        signing=signing,
        clankers=dict(sorted(clankers.items())),
    )
    # No field of the contract is ever null: None is an absent optional field (`lifecycle`, `index`, …).
    return document.model_dump(exclude_none=True, warnings=False)
