"""The whole document `pulumi stack output --json` returns for a viberator-workers stack."""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from viberator_contract.base import ContractModel, HarnessName, Name
from viberator_contract.clankers import Clanker
from viberator_contract.images import Image, Lifecycle, Replica, Signing

SCHEMA_VERSION: Literal[1] = 1
"""Bumped on any breaking change. Within a version fields are only added, optional for readers: outputs written
before a field lack it, and a reader treats a missing one as "none"."""


class StackOutputs(ContractModel):
    """What `pulumi stack output --json` returns for a viberator-workers stack; the backend's contract."""

    model_config = ConfigDict(title="viberator-workers stack outputs")

    schema_version: Literal[1]
    environment: Name
    images: dict[HarnessName, Image] = Field(
        description="The images clankers may run, by harness: those this stack built, or those a promoting stack "
        "takes from its image stack (in the copy of its own region when there is one)."
    )
    replicas: list[Replica] = Field(
        default_factory=list,
        description="Where ECR replicates this image stack's images (viberator:replicas), read by the stacks that "
        "promote from it to run the copy in their own region; empty for a promoting stack. Added within version "
        "1: absent in outputs written before it.",
    )
    lifecycle: Lifecycle | None = Field(
        default=None,
        description="Absent where a stack owns no repositories. Added within version 1.",
    )
    signing: Signing | None = Field(
        default=None,
        description="The key this stack's digests are verified with: an image stack's own KMS key, or for a "
        "promoting stack (prod, a review stack of dev's digests) the image stack's key as its own config pins it "
        "(`viberator:images.signing`), never as the image stack's outputs name it. Absent where nothing signs the "
        "digests (a review stack's own builds) or nothing is pinned: a reader that must verify a digest and finds "
        "none refuses it rather than running it unchecked. Added within version 1.",
    )
    clankers: dict[Name, Clanker]
