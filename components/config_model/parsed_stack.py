"""What a config rule sees, and what it is: a function from the parsed stack to the issues it finds."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic.alias_generators import to_camel

from components.config_model.clankers import ClankerBase, CloudClanker
from components.config_model.issues import ConfigIssue, Key, key_path, written_at
from components.config_model.stack import StackConfig
from workers.catalog import HARNESS_NAMES


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
    written: Mapping[str, Any]
    """The `viberator:` values as the stack file has them (keys without the prefix; the stack's name as
    `environment`, every clanker at its index in the user's list): what an issue shows."""
    secret_keys: frozenset[str] = frozenset()
    """The top-level keys set with `pulumi config set --secret`: decrypted here, never shown (REDACTED)."""

    def issue(self, key: str | Key, message: str) -> ConfigIssue:
        """An issue about `key` of this stack (a top-level key, `"forceDelete"`, or its parts: `("signing",
        "keyAdmins", 2)`, `("clankers", i, "name")`), showing the key's value as the stack file has it (`written_at`:
        MISSING where it has none): a rule names the key and says what is wrong, and never restates (or
        misstates) the value."""
        written, value = written_at(self.written, (key,) if isinstance(key, str) else key, self.secret_keys)
        return ConfigIssue(path=key_path(written), value=value, message=message)

    def clankers(self) -> Iterator[tuple[int, ClankerBase]]:
        """Each clanker with its index in the user's list."""
        return zip(self.positions, self.config.clankers, strict=True)

    def cloud_clankers(self) -> Iterator[tuple[int, CloudClanker]]:
        """The clankers that run in AWS (lambda, ecs: those with secrets and roles), with their indexes."""
        return ((i, clanker) for i, clanker in self.clankers() if isinstance(clanker, CloudClanker))

    def secrets(self) -> Iterator[tuple[Key, str]]:
        """Every secret a cloud clanker reads, as `(its key, the secret's ARN)`, in the clankers' order."""
        for i, clanker in self.cloud_clankers():
            for variable, arn in clanker.secrets.items():
                yield ("clankers", i, "secrets", variable), arn

    def settings_set(self, names: Iterable[str]) -> Iterator[tuple[str, str]]:
        """Those of the top-level settings `names` (field names) the stack file sets, in the order given, as
        `(name, key)`: for the rules that refuse a setting the stack never reads."""
        for name in names:
            if name in self.config.model_fields_set:
                yield name, to_camel(name)

    @property
    def available_harnesses(self) -> set[str]:
        """The harnesses this stack has images of: those it builds, or those it takes from its image stack."""
        if self.config.images is not None:
            return set(self.config.images.harnesses or HARNESS_NAMES)
        return set(self.config.harnesses)


Rule = Callable[[ParsedStack], Iterator[ConfigIssue]]
"""One rule that spans keys: it yields each issue it finds, none for a config that keeps it."""
