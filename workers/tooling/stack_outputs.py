"""A stack's outputs as the local tooling reads them: from `pulumi stack output --json`, or from a file.

The file may hold the stack outputs themselves or a whole `make plan FORMAT=json` document, whose `outputs`
are taken. A plan's digests and accounts are placeholders, so `placeholder` says that its images can't be
pulled: the tooling then runs the local alias built from this checkout instead.
Without a Pulumi CLI, `--stack NAME` falls back to the offline plan of `Pulumi.NAME.yaml`, and says so.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workers.catalog import PROJECT_DIR, stack_config_file


class OutputsError(ValueError):
    """The outputs could not be read; the message names the source and what to do."""


@dataclass(frozen=True)
class StackOutputs:
    document: Mapping[str, Any]
    """The stack outputs (viberator_contract.StackOutputs)."""
    source: str
    placeholder: bool
    """True for an offline plan's outputs: digests and accounts are stand-ins, never pullable."""

    def clanker(self, name: str) -> Mapping[str, Any]:
        clankers = self.document.get("clankers")
        if not isinstance(clankers, Mapping) or not clankers:
            raise OutputsError(f"{self.source} has no clankers")
        if name not in clankers:
            raise OutputsError(f"no clanker {name!r} in {self.source}; it has: {', '.join(sorted(clankers))}")
        return clankers[name]


def _parsed(document: Any, source: str) -> StackOutputs:
    if not isinstance(document, Mapping):
        raise OutputsError(f"{source} is not a JSON object")
    if "resources" in document and isinstance(document.get("outputs"), Mapping):
        return StackOutputs(document["outputs"], f"{source} (an offline plan)", placeholder=True)
    if "clankers" not in document:
        raise OutputsError(f"{source} is neither stack outputs nor a `make plan FORMAT=json` document")
    return StackOutputs(document, source, placeholder=False)


def from_file(path: Path) -> StackOutputs:
    try:
        document = json.loads(path.read_text())
    except OSError as error:
        raise OutputsError(f"cannot read {path}: {error.strerror}") from None
    except ValueError as error:
        raise OutputsError(f"{path} is not JSON: {error}") from None
    return _parsed(document, str(path))


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


def from_stack(stack: str, say: Callable[[str], None], *, project_dir: Path) -> StackOutputs:
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
        return _parsed(_json_of(plan, PROJECT_DIR, f"the offline plan of {config.name}", 300), config.name)
    command = [pulumi, "stack", "output", "--json", "--stack", stack]
    return _parsed(_json_of(command, project_dir, f"pulumi stack output --stack {stack}", 120), f"stack {stack}")
