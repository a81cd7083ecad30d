"""A config mistake as the user sees it: `ConfigIssue` (key path, value, message) and `ConfigError`, which
reports every issue of a run together.

Owns how an issue is printed (values as the YAML had them, long ones cut, credentials never echoed) and how a key
of the stack file is named and read (`key_path`, `written_at`), so that the rules (components/config/rules/) and
pydantic's errors (components/config/validation_errors.py) show a key's value as the file has it. Does not own
what is wrong (the models, the rules).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

import pulumi
from pydantic import BaseModel, model_validator

from components.config_model.fields import NAMESPACE
from components.credentials import credentials_in


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


MISSING: Any = _Missing()
"""The value of a key the config lacks."""
REDACTED = "(redacted)"
"""Shown instead of a value that looks like a credential."""

Key = tuple[str | int, ...]
"""A key of the stack file, part by part as the YAML nests it: `("network", "assignPublicIp")`, `("signing",
"keyAdmins", 2)`, `("clankers", 0, "secrets", "ANTHROPIC_API_KEY")`; a first part of another namespace
(`"aws:region"`) is a whole key. Parts, not a dotted path: a key may itself hold dots (a secret's ARN)."""


class ConfigIssue(BaseModel):
    path: str
    value: Any
    message: str

    @model_validator(mode="after")
    def _never_echo_a_credential(self) -> ConfigIssue:
        """Whatever the issue, a value holding a credential is shown as REDACTED."""
        if self.value is not MISSING and any(credentials_in(self.value)):
            self.value = REDACTED
        return self

    def __str__(self) -> str:
        shown = repr(self.value) if self.value is MISSING or self.value == REDACTED else json.dumps(self.value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return f"{self.path} = {shown}: {self.message}"


class ConfigError(pulumi.RunError):
    """Invalid stack config; str() lists every issue, one per line.

    A RunError, so `pulumi up` prints the message without a traceback.
    """

    def __init__(self, issues: list[ConfigIssue], source: str = "stack config"):
        self.issues = issues
        lines = "\n".join(f"  - {issue}" for issue in issues)
        super().__init__(f"invalid {source} ({len(issues)} error{'s' if len(issues) != 1 else ''}):\n{lines}")


def key_path(key: Key) -> str:
    """The key as an issue names it: `viberator:network.assignPublicIp`, `viberator:signing.keyAdmins[2]`."""
    first, *rest = key
    path = str(first) if ":" in str(first) else f"{NAMESPACE}:{first}"
    return path + "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in rest)


def written_at(values: Mapping[str, Any], key: Key, secret_keys: Collection[str] = ()) -> tuple[Key, Any]:
    """`key` as the stack file has it in `values` (the `viberator:` values, keys without the prefix), and its
    value there: a top-level one shown as the YAML had it (`shown`). Where the file lacks a part of the key, the
    key ends at that part and its value is MISSING: an issue never names a key inside one the file does not set
    (`harnesses[6]` of the default harnesses is `harnesses`, missing). A value under one of `secret_keys` (set
    with `pulumi config set --secret`, which the parser reads decrypted) is REDACTED, whatever it looks like."""
    if key and key[0] in secret_keys:
        found, plain = written_at(values, key)
        return found, plain if plain is MISSING else REDACTED
    value: Any = values
    for depth, part in enumerate(key, start=1):
        if isinstance(value, Mapping) and part in value:  # noqa: SIM114 - separate, so mypy narrows `part`
            value = value[part]
        elif isinstance(value, list) and isinstance(part, int) and 0 <= part < len(value):
            value = value[part]
        else:
            return key[:depth], MISSING
    return key, shown(value) if len(key) == 1 else value


def shown(value: Any) -> Any:
    """A value as the user wrote it: a top-level setting arrives as text ("30", "true"), shown as YAML had it."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        return decoded if isinstance(decoded, bool | int | float) else value
    return value
