"""Every CI script that reads a file a workflow step saved treats an unusable one the same way (ci/script.py): a
missing file, text that is not JSON, or JSON of the wrong kind is exit 2 with one `error:` line naming the
problem, never a traceback and never one of the script's findings (a mismatch, a missing replica…)."""

from __future__ import annotations

import contextlib
import importlib
import io
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ci import (
    build_summary,
    deploy_targets,
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


NO_SUCH_STACK: dict[str, Callable[[list[str]], int]] = {
    "build_summary": lambda stack: build_summary.main(["outputs.json", *stack]),
    "deploy_targets": lambda stack: deploy_targets.main([*stack, "--harness", "claude", "preview.json"]),
    "verify_promotion source": lambda stack: verify_promotion.main(["source", *stack]),
    "verify_promotion signatures": lambda stack: verify_promotion.main(
        ["signatures", "outputs.json", "--approved", "{}", *stack]
    ),
    "verify_promotion pin": lambda stack: verify_promotion.main(["pin", *stack, "--approved", "{}"]),
    "wait_for_replicas": lambda stack: wait_for_replicas.main(
        [*stack, "--timeout", "0", "outputs.json"], client_for=_no_registry
    ),
}


def test_an_org_qualified_stack_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    """What `pulumi --stack` takes (<org>/<project>/<stack>) names no stack file: the short name is asked for."""
    with pytest.raises(SystemExit):
        NO_SUCH_STACK["verify_promotion source"](["--stack", "viberator/viberator-workers/prod"])
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.endswith(
        "--stack: 'viberator/viberator-workers/prod': give the stack's own name (as in Pulumi.<stack>.yaml)"
    )


@pytest.mark.parametrize("script", NO_SUCH_STACK)
def test_a_stack_without_a_config_file_is_a_usage_error_before_anything_is_read(
    script: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every `--stack` of the scripts is this project's (ci/script.py's add_stack_argument): the files named beside
    it do not exist, so reaching them would be a different error."""
    with pytest.raises(SystemExit) as exited:
        NO_SUCH_STACK[script](["--stack", "nonexistent"])
    assert exited.value.code == EXIT_UNUSABLE
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.endswith(
        "error: argument --stack: no stack 'nonexistent' in this project: there is no Pulumi.nonexistent.yaml"
    ), error


SCRIPT_MAINS = {
    path.stem: importlib.import_module(f"ci.{path.stem}").main
    for path in sorted((PROJECT_DIR / "ci").glob("*.py"))
    if "\ndef main(" in path.read_text()
}


def _help(main: Callable[[list[str]], int], argv: list[str]) -> str:
    printed, errors = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(errors), pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0, errors.getvalue()
    return printed.getvalue()


def _helps(script: str) -> dict[str, str]:
    """Each command line of `script` (itself, or each of its subcommands) and the help it prints."""
    main = SCRIPT_MAINS[script]
    usage = _help(main, [])
    subcommands = re.search(r"\{([\w,-]+)\}", usage)
    if subcommands is None:
        return {script: usage}
    return {f"{script} {name}": _help(main, [name]) for name in subcommands.group(1).split(",")}


@pytest.mark.parametrize("script", SCRIPT_MAINS)
def test_every_script_and_subcommand_prints_its_help(script: str) -> None:
    """argparse formats help texts with `%`: one holding a strftime format unescaped fails only when asked for
    help (review_stacks' --now did)."""
    for command, printed in _helps(script).items():
        assert printed.startswith(f"usage: python -m ci.{command}"), printed


def test_every_stack_option_of_the_scripts_is_checked_above() -> None:
    """A script or subcommand that gains `--stack` joins NO_SUCH_STACK (review_stacks' names a review stack,
    which has no file before its workflow writes one)."""
    with_stack = {
        command for script in SCRIPT_MAINS for command, printed in _helps(script).items() if "--stack STACK" in printed
    }
    assert with_stack == {*NO_SUCH_STACK, "review_stacks comment"}
