"""A stack's outputs as the local tooling reads them: from `pulumi stack output --json`, or from a file, parsed by
the outputs contract's models (viberator_contract), so the tooling names no output key of its own.

The file may hold the stack outputs themselves or a whole `make plan FORMAT=json` document, whose `outputs`
are taken. A plan's digests and accounts are placeholders, so `placeholder` says that its images can't be
pulled: the tooling then runs the local alias built from this checkout instead. A preview's plan is refused: its
outputs hold values known only after an apply (`(known after apply)`), which no contract field takes.
Without a Pulumi CLI, `--stack NAME` falls back to the offline plan of `Pulumi.NAME.yaml`, and says so.

A document the contract does not read is an OutputsError naming the source and each wrong field by its path in
the outputs, with its value.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from viberator_contract import Clanker, StackOutputs
from viberator_contract.errors import field_path
from workers.catalog import PROJECT_DIR, stack_config_file

_PLAN_MODE_UP = "up"
"""A `make plan FORMAT=json` document's `mode` when its outputs are an up's (placeholders, but every value known)."""
_SHOWN_ERRORS = 10
_SHOWN_VALUE = 120
"""Characters of a wrong value a message quotes."""


class OutputsError(ValueError):
    """The outputs could not be had, or hold nothing of what was asked; the message names the source and what to
    do."""


class OutputsUnusable(OutputsError):
    """A document was read, but it is not stack outputs the contract reads: the caller named the wrong thing."""


@dataclass(frozen=True)
class LoadedOutputs:
    document: StackOutputs
    """The stack outputs, as the contract reads them."""
    source: str
    placeholder: bool
    """True for an offline plan's outputs: digests and accounts are stand-ins, never pullable."""

    def clanker(self, name: str) -> Clanker:
        """The clanker `name`; OutputsError when the outputs have none of that name, or only one of a target
        newer than this checkout's contract (which the contract skips)."""
        clankers = self.document.clankers
        if name in clankers:
            return clankers[name]
        skipped = [clanker for clanker in self.document.skipped_clankers if clanker.name == name]
        if skipped:
            raise OutputsError(f"{self.source}: {skipped[0]}")
        if not clankers:
            raise OutputsError(f"{self.source} has no clankers{self.skipped()}")
        raise OutputsError(f"no clanker {name!r} in {self.source}; it has: {', '.join(sorted(clankers))}")

    def skipped(self) -> str:
        """`; skipped: <name> (target '<target>'), …`: the clankers of targets newer than this checkout's contract,
        which it leaves out; empty when there are none."""
        skipped = self.document.skipped_clankers
        return "; skipped: " + ", ".join(f"{c.name} (target {c.target!r})" for c in skipped) if skipped else ""


def _shown(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= _SHOWN_VALUE else f"{text[: _SHOWN_VALUE - 1]}…"


def _contract_errors(error: ValidationError) -> list[str]:
    """`<path> = <value>: <message>` for each field the contract refuses (`<path>: missing` for an absent one)."""
    lines = []
    for problem in error.errors(include_url=False):
        path = field_path(tuple(problem["loc"]))
        if problem["type"] in ("union_tag_not_found", "union_tag_invalid") and isinstance(problem["input"], Mapping):
            # pydantic reports a wrong discriminator (a clanker's `target`) at the entry, with the whole entry as
            # the value: name the field and its own value instead.
            tag = problem["ctx"]["discriminator"].strip("'")
            path = f"{path}.{tag}"
            if tag not in problem["input"]:
                lines.append(f"{path}: missing")
                continue
            problem = {
                **problem,
                "input": problem["input"][tag],
                "msg": f"not a target's name (this reader knows {problem['ctx']['expected_tags']})",
            }
        if problem["type"] == "missing":
            lines.append(f"{path}: missing")
        else:
            lines.append(f"{path} = {_shown(problem['input'])}: {problem['msg']}")
    if len(lines) > _SHOWN_ERRORS:
        lines[_SHOWN_ERRORS:] = [f"… and {len(lines) - _SHOWN_ERRORS} more"]
    return lines


def _read(outputs: Mapping[str, Any], source: str, placeholder: bool) -> LoadedOutputs:
    try:
        document = StackOutputs.model_validate(outputs)
    except ValidationError as error:
        what = "its outputs are not" if placeholder else "neither a `make plan FORMAT=json` document nor"
        problems = "".join(f"\n  - {line}" for line in _contract_errors(error))
        raise OutputsUnusable(f"{source}: {what} stack outputs as viberator_contract reads them:{problems}") from None
    return LoadedOutputs(document, source, placeholder)


def from_document(document: Any, source: str) -> LoadedOutputs:
    """Stack outputs, or a `make plan FORMAT=json` document's, from a parsed JSON document read from `source`."""
    if not isinstance(document, Mapping):
        raise OutputsUnusable(f"{source} is not a JSON object")
    if "resources" in document and isinstance(document.get("outputs"), Mapping):
        mode = document.get("mode", _PLAN_MODE_UP)
        if mode != _PLAN_MODE_UP:
            shown = mode if re.fullmatch("[a-z-]+", str(mode)) else _shown(mode)  # the file's: never raw
            raise OutputsUnusable(
                f"{source} is the plan of a {shown}: its outputs are known only after an apply; "
                "use a plan without PREVIEW (`make plan FORMAT=json`)"
            )
        return _read(document["outputs"], f"{source} (an offline plan)", placeholder=True)
    return _read(document, source, placeholder=False)


def from_file(path: Path) -> LoadedOutputs:
    try:
        document = json.loads(path.read_text())
    except OSError as error:
        raise OutputsError(f"cannot read {path}: {error.strerror}") from None
    except (ValueError, RecursionError) as error:  # RecursionError: nested deeper than the parser goes
        raise OutputsUnusable(f"{path} is not JSON: {error}") from None
    return from_document(document, str(path))


def _json_of(command: list[str], cwd: Path, what: str, timeout: int) -> Any:
    """What `command` prints as JSON; OutputsError naming `what` when it fails or prints something else."""
    completed = subprocess.run(
        command, capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd=cwd, timeout=timeout
    )
    if completed.returncode != 0:
        raise OutputsError(f"{what} failed: {completed.stderr.strip()[-2000:]}")
    try:
        return json.loads(completed.stdout)
    except ValueError as error:
        raise OutputsError(f"{what} printed no JSON: {error}") from None


def from_stack(stack: str, say: Callable[[str], None], *, project_dir: Path) -> LoadedOutputs:
    """`pulumi stack output --json --stack <stack>`; without the Pulumi CLI, the stack's offline plan, by the plan
    engine's own command line in a process of its own (the tooling never imports the program or Pulumi's SDK;
    `make plan`'s `python -m offline_plan`, whose exit 2 is an invalid config with its message on stderr)."""
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        config = stack_config_file(stack, project_dir)
        if not config.is_file():
            raise OutputsError(f"no Pulumi CLI on PATH and no {config} to plan offline; pass --outputs FILE")
        say(f"no Pulumi CLI on PATH: using the offline plan of {config.name} (its digests are placeholders)")
        plan = [sys.executable, "-m", "offline_plan", "--config", str(config.resolve()), "--format", "json"]
        return from_document(_json_of(plan, PROJECT_DIR, f"the offline plan of {config.name}", 300), config.name)
    command = [pulumi, "stack", "output", "--json", "--stack", stack]
    return from_document(_json_of(command, project_dir, f"pulumi stack output --stack {stack}", 120), f"stack {stack}")
