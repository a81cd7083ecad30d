"""What a config rule sees, and what it is: a function from the parsed stack to the issues it finds."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from pydantic.alias_generators import to_camel

from components.config_model.clankers import ClankerBase, CloudClanker
from components.config_model.fields import NAMESPACE
from components.config_model.issues import ConfigIssue, shown
from components.config_model.stack import StackConfig
from workers.catalog import HARNESS_NAMES

KEY = f"{NAMESPACE}:"
"""The prefix of every key path a rule reports."""


@dataclass(frozen=True)
class ParsedStack:
    """The top-level settings valid on their own, the clankers valid on their own, and what parsing saw besides."""

    config: StackConfig
    positions: tuple[int, ...]
    """The clankers' indexes in the user's list (those invalid on their own are left out), for the key paths."""
    declared_targets: frozenset[str]
    """Every `target` the user's clankers name, the invalid clankers' too."""
    account: str | None
    """The stack's account when `aws:allowedAccountIds` pins exactly one, else unknown."""

    def clankers(self) -> Iterator[tuple[int, ClankerBase]]:
        """Each clanker with its index in the user's list."""
        return zip(self.positions, self.config.clankers, strict=True)

    def cloud_clankers(self) -> Iterator[tuple[int, CloudClanker]]:
        """The clankers that run in AWS (lambda, ecs: those with secrets and roles), with their indexes."""
        return ((i, clanker) for i, clanker in self.clankers() if isinstance(clanker, CloudClanker))

    def secrets(self) -> Iterator[tuple[str, str]]:
        """Every secret a cloud clanker reads, as `(its key path, the secret's ARN)`, in the clankers' order."""
        for i, clanker in self.cloud_clankers():
            for variable, arn in clanker.secrets.items():
                yield f"{clanker_key(i)}.secrets.{variable}", arn

    def settings_set(self, names: Iterable[str]) -> Iterator[tuple[str, str, Any]]:
        """Those of the top-level settings `names` (field names) the stack file sets, in the order given, as
        `(name, key path, value as the YAML had it)`: for the rules that refuse a setting the stack never reads."""
        written = self.config.model_dump(exclude_none=True)
        for name in names:
            if name in self.config.model_fields_set:
                yield name, f"{KEY}{to_camel(name)}", shown(written.get(name))

    @property
    def available_harnesses(self) -> set[str]:
        """The harnesses this stack has images of: those it builds, or those it takes from its image stack."""
        if self.config.images is not None:
            return set(self.config.images.harnesses or HARNESS_NAMES)
        return set(self.config.harnesses)


def clanker_key(index: int) -> str:
    return f"{KEY}clankers[{index}]"


Rule = Callable[[ParsedStack], Iterator[ConfigIssue]]
"""One rule that spans keys: it yields each issue it finds, none for a config that keeps it."""
