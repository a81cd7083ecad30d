"""Every CI script that reads a file a workflow step saved treats an unusable one the same way (ci/script.py): a
missing file, text that is not JSON, or JSON of the wrong kind is exit 2 with one `error:` line naming the
problem, never a traceback and never one of the script's findings (a mismatch, a missing replica…)."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ci import (
    build_summary,
    preview_comment,
    prune_signatures,
    record_promotion,
    review_stacks,
    verify_promotion,
    wait_for_replicas,
)
from ci.script import EXIT_UNUSABLE
from workers.catalog import PROJECT_DIR


def _no_registry(region: str) -> object:
    raise AssertionError(f"an unusable input reached the registry ({region})")


SCRIPTS: dict[str, tuple[Callable[..., int], Callable[[str], list[str]]]] = {
    "build_summary": (build_summary.main, lambda path: [path, "--stack", "dev"]),
    "preview_comment": (
        preview_comment.main,
        lambda path: [path, "--stack-name", "dev", "--run-url", "https://run"],
    ),
    "prune_signatures": (lambda argv: prune_signatures.main(argv, client_for=_no_registry), lambda path: [path]),
    "record_promotion": (
        lambda argv: record_promotion.main(argv, client_for=_no_registry),
        lambda path: [path, "--environment", "prod"],
    ),
    "review_stacks comment": (
        review_stacks.main,
        lambda path: ["comment", "--stack", "pr-1", "--run-url", "https://run", "--outputs", path, "--results", "."],
    ),
    "verify_promotion digests": (verify_promotion.main, lambda path: ["digests", path]),
    "wait_for_replicas": (
        lambda argv: wait_for_replicas.main(argv, client_for=_no_registry),
        lambda path: ["--stack", "prod", "--timeout", "0", path],
    ),
}

UNUSABLE = {
    "missing": None,
    "not JSON": "{not json",
    "a list, not the outputs' object": '["images", "clankers"]',
    "a string, not the outputs' object": '"images"',
}


@pytest.mark.parametrize("script", SCRIPTS)
@pytest.mark.parametrize("content", UNUSABLE, ids=list(UNUSABLE))
def test_an_unusable_saved_file_is_exit_2_with_one_error_line(
    script: str, content: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main, argv = SCRIPTS[script]
    path = tmp_path / "saved.json"
    if UNUSABLE[content] is not None:
        path.write_text(UNUSABLE[content])
    assert main(argv(str(path))) == EXIT_UNUSABLE
    errors = capsys.readouterr().err.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("error: "), errors


def test_a_script_run_as_the_workflows_run_it_names_itself() -> None:
    """`python -m ci.<name>` (its `__name__` is then `__main__`): its usage line, and so its argument errors in a
    workflow's log, name the script (ci/script.py's script_parser, which every script's parser comes from)."""
    ran = subprocess.run(
        [sys.executable, "-m", "ci.record_promotion", "--environment"], cwd=PROJECT_DIR, capture_output=True, text=True
    )
    assert ran.returncode == EXIT_UNUSABLE  # argparse's usage error, the same exit 2
    assert ran.stderr.startswith("usage: python -m ci.record_promotion "), ran.stderr


NO_SUCH_STACK: dict[str, Callable[[Path], int]] = {
    "wait_for_replicas": lambda outputs: wait_for_replicas.main(
        ["--stack", "nonexistent", "--timeout", "0", str(outputs)], client_for=_no_registry
    ),
    "verify_promotion source": lambda _outputs: verify_promotion.main(["source", "--stack", "nonexistent"]),
}


@pytest.mark.parametrize("script", NO_SUCH_STACK)
def test_a_stack_without_a_config_file_is_exit_2(script: str, tmp_path: Path) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text('{"images": {}, "clankers": {}}')
    assert NO_SUCH_STACK[script](outputs) == EXIT_UNUSABLE
