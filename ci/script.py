"""What every CI script shares: how it is called (`python -m ci.<name>`), how it reads a file a workflow step saved
(`pulumi stack output --json`, `gh api … --slurp`), and what it does with input it cannot use.

A workflow step tells a broken input (exit 2, `EXIT_UNUSABLE`) from a finding (exit 1 and up, each script's own):
a missing file, JSON that is not JSON, or outputs that are not a stack's are never reported as, say, a digest
mismatch, and never end in a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from workers.catalog import stack_config_file

EXIT_UNUSABLE = 2
"""Input the script cannot use: the step failed, not the check."""


def script_parser(module: str, doc: str | None) -> argparse.ArgumentParser:
    """The parser of `python -m <module>` (its `__name__`), described by its docstring's first paragraph."""
    if module == "__main__":  # run by `python -m ci.<name>`: the module's own name is its spec's
        spec = sys.modules["__main__"].__spec__
        module = spec.name if spec is not None else module
    return argparse.ArgumentParser(prog=f"python -m {module}", description=(doc or "").split("\n\n")[0])


def add_stack_argument(
    # _ActionsContainer: what a parser, a subcommand's parser and a mutually exclusive group all are.
    parser: argparse._ActionsContainer,
    help: str = "the stack, as in Pulumi.<stack>.yaml",
    *,
    required: bool = True,
) -> None:
    """`--stack NAME`, one of this project's stacks: a name with no Pulumi.<NAME>.yaml beside Pulumi.yaml is the
    parser's usage error (exit 2, as EXIT_UNUSABLE), before the script reads anything."""
    parser.add_argument("--stack", type=_project_stack, required=required, help=help)


def _project_stack(name: str) -> str:
    if "/" in name:  # what `pulumi --stack` takes, <org>/<project>/<stack>: a stack file has the short name only
        raise argparse.ArgumentTypeError(f"{name!r}: give the stack's own name (as in Pulumi.<stack>.yaml)")
    config = stack_config_file(name)
    if not config.is_file():
        raise argparse.ArgumentTypeError(f"no stack {name!r} in this project: there is no {config.name}")
    return name


def read_json(path: Path) -> Any:
    """A JSON file a step saved; ValueError (naming the file) for text that is not JSON, OSError if unreadable."""
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise ValueError(f"{path.name} is not JSON: {error}") from None


def read_stack_outputs(path: Path) -> dict[str, Any]:
    """A saved `pulumi stack output --json`: a JSON object, else ValueError naming the file."""
    outputs = read_json(path)
    if not isinstance(outputs, dict):
        raise ValueError(f"{path.name}: the stack outputs are not a JSON object")
    return outputs


def unusable(error: BaseException | str) -> int:
    """Say why the input is unusable, on stderr; the exit code to return."""
    print(f"error: {error}", file=sys.stderr)
    return EXIT_UNUSABLE
