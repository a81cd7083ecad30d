"""A config mistake as the user sees it: `ConfigIssue` (key path, value, message) and `ConfigError`, which
reports every issue of a run together.

Owns how an issue is printed (values as the YAML had them, long ones cut, credentials never echoed). Does not own
what is wrong (the models, components/config/rules/) or how pydantic's errors become issues
(components/config/validation_errors.py).
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
from pydantic import BaseModel, model_validator

from components.credentials import credentials_in


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


MISSING: Any = _Missing()
"""The value of a key the config lacks."""
REDACTED = "(redacted)"
"""Shown instead of a value that looks like a credential."""


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


def shown(value: Any) -> Any:
    """A value as the user wrote it: a top-level setting arrives as text ("30", "true"), shown as YAML had it."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        return decoded if isinstance(decoded, bool | int | float) else value
    return value
