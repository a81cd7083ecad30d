"""The build stages of a Dockerfile, read with BuildKit's own parser: what the plan checks a harness's target
against, and what the harness check (workers/harness_check.py) reads each stage's `COPY`s from.

The `dockerfile` package (PyPI; asottile/dockerfile, parse.go) runs moby's Dockerfile parser and hands back one
command per instruction, line continuations, comments and parser directives already resolved. A stage's name is
read as BuildKit reads it (moby/buildkit frontend/dockerfile/instructions/parse.go, parseBuildStageName): the
third word of a three-word `FROM <base> AS <name>`, `AS` in any case, the name lower-cased; `--platform` is a
flag, not a word.
"""

from __future__ import annotations

import functools
import types
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import dockerfile


class DockerfileError(ValueError):
    """The Dockerfile could not be read or parsed; the message names the file."""


@dataclass(frozen=True)
class Copy:
    """One `COPY` of a stage: `--from` (None: the build context) and its sources."""

    from_stage: str | None
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Stage:
    name: str
    base: str
    """What the stage is built FROM: an image reference or an earlier stage."""
    line: int
    copies: tuple[Copy, ...]


def _copy(flags: tuple[str, ...], value: tuple[str, ...]) -> Copy:
    from_stage = next((flag.partition("=")[2] for flag in flags if flag.lower().startswith("--from=")), None)
    return Copy(from_stage.lower() if from_stage else None, value[:-1])


def stages(path: Path) -> Mapping[str, Stage]:
    """The named stages of the Dockerfile at `path`, in file order (an unnamed stage has no entry)."""
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as failed:
        raise DockerfileError(f"{path}: {failed}") from None
    try:
        return _stages_of(text)
    except dockerfile.GoParseError as failed:
        raise DockerfileError(f"{path}: {failed}") from None


@functools.lru_cache(maxsize=8)
def _stages_of(text: str) -> Mapping[str, Stage]:
    """Parsed once per content: every plan checks its harnesses' targets against the same Dockerfile, and the
    parse costs about 12 ms (a test run plans it some 1,500 times). Keyed by the text, so an edit is read anew."""
    found: dict[str, Stage] = {}
    current: tuple[str, str, int] | None = None
    copies: list[Copy] = []

    def close() -> None:
        if current is not None:
            name, base, line = current
            found[name] = Stage(name, base, line, tuple(copies))

    for command in dockerfile.parse_string(text):
        instruction = command.cmd.upper()
        if instruction == "FROM":
            close()
            copies = []
            value = command.value
            named = len(value) == 3 and value[1].lower() == "as"
            current = (value[2].lower(), value[0], command.start_line) if named else None
        elif instruction == "COPY" and current is not None:
            copies.append(_copy(command.flags, command.value))
    close()
    return types.MappingProxyType(found)  # shared by every caller of the cache: read-only
