"""What a reader says when a document breaks the contract: each wrong field by its path in the outputs."""

from __future__ import annotations

import json
import re

from pydantic import ValidationError

_PLAIN_KEY = re.compile(r"[\w/:@+-]+", re.ASCII)
"""A key shown as it is; any other (a dot, a space, a control character: the document is the writer's) is shown
JSON-quoted, so it cannot pass for another path or reach a terminal raw."""


def field_path(location: tuple[int | str, ...]) -> str:
    """`("platforms", "linux/riscv", "[key]")` → `platforms.linux/riscv (the key)`; list positions as `[0]`.
    A discriminated union adds its tag (`clankers.w.lambda.deploymentConfig`): kept, it names the model."""
    path = ""
    for part in location:
        if part == "[key]":
            path += " (the key)"
        elif isinstance(part, int):
            path += f"[{part}]"
        else:
            key = part if _PLAIN_KEY.fullmatch(part) else json.dumps(part)
            path += f".{key}" if path else key
    return path or "(the document)"


def field_errors(error: ValidationError) -> list[str]:
    """`<field path>: <message>` for each error of a parse (aliases, as the outputs spell the fields)."""
    return [f"{field_path(tuple(e['loc']))}: {e['msg']}" for e in error.errors(include_url=False)]
