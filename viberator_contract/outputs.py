"""The whole document `pulumi stack output --json` returns for a viberator-workers stack, and how it evolves.

`schemaVersion` is bumped only by a change a reader built before it could not take (docs/contract.md, "How the
contract evolves"); within a version, a reader built today reads tomorrow's outputs:
- fields are added, optional to readers (absent in outputs written before them: "none"); fields it does not know
  it ignores;
- harness, agent, platform and architecture names are data (open strings of a stated shape), so new ones parse;
- a clanker of a target it does not know is skipped, and `StackOutputs.skipped_clankers` says which and why: the
  others stay dispatchable. A clanker of a known target that breaks its model is an error (a writer's bug).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ConfigDict, Field, ModelWrapValidatorHandler, PrivateAttr, model_validator

from viberator_contract.base import ContractModel, HarnessName, Name
from viberator_contract.clankers import KNOWN_TARGETS, Clanker
from viberator_contract.images import Image, Lifecycle, Replica, Signing

SCHEMA_VERSION: Literal[1] = 1
"""The version of the outputs this contract writes and reads (docs/contract.md says what bumps it)."""

_PLAN_KEYS = frozenset({"resources", "outputs"})
"""A `make plan FORMAT=json` document's: its stack outputs are the `outputs` beside its `resources`."""


@dataclass(frozen=True)
class SkippedClanker:
    """A clanker a reader left out: its target is newer than the reader's contract."""

    name: str
    target: str

    def __str__(self) -> str:
        return (
            f"clanker {self.name!r} skipped: its target {self.target!r} is not one this reader knows "
            f"({', '.join(KNOWN_TARGETS)}); a newer viberator_contract reads it"
        )


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
    clankers: dict[Name, Clanker] = Field(
        description="Each clanker by name. One of a target this contract does not know (added after it) is valid "
        "and skipped by the reader, which lists it in `skipped_clankers`."
    )

    _skipped: tuple[SkippedClanker, ...] = PrivateAttr(default=())

    @property
    def skipped_clankers(self) -> tuple[SkippedClanker, ...]:
        """The clankers left out of `clankers` because their target is newer than this contract."""
        return self._skipped

    @model_validator(mode="wrap")
    @classmethod
    def _read_what_this_version_knows(cls, data: Any, handler: ModelWrapValidatorHandler[StackOutputs]) -> StackOutputs:
        if not isinstance(data, Mapping):
            return handler(data)
        if data.keys() >= _PLAN_KEYS and "schemaVersion" not in data:
            raise ValueError(
                "this is a `make plan FORMAT=json` document, not stack outputs: its stack outputs are its "
                "`outputs` (with placeholder digests and accounts)"
            )
        skipped: list[SkippedClanker] = []
        clankers = data.get("clankers")
        if isinstance(clankers, Mapping):
            for name, entry in clankers.items():
                target = entry.get("target") if isinstance(entry, Mapping) else None
                if isinstance(target, str) and target not in KNOWN_TARGETS:
                    skipped.append(SkippedClanker(str(name), target))
            left_out = {clanker.name for clanker in skipped}
            data = {**data, "clankers": {name: e for name, e in clankers.items() if name not in left_out}}
        outputs = handler(data)
        outputs._skipped = tuple(skipped)
        return outputs
