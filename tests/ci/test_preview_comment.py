"""The failed-preview comment replaces the green one pulumi/actions left for the same stack, and only that one."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci.preview_comment import SUMMARY_MARKER, comment_to_replace, heading, main

PROJECT = "viberator-workers"
RUN = "https://github.com/o/r/actions/runs/1"


def _green(stack_name: str) -> str:
    """A comment as pulumi/actions v7 writes it (src/libs/pr.ts), abridged."""
    return f"{heading(PROJECT, stack_name)}\n\n<details>\n{SUMMARY_MARKER}\n\n<pre>\nResources: 40 unchanged\n</pre>"


def _pages() -> list[list[dict[str, object]]]:
    return [
        [{"id": 1, "body": "LGTM"}, {"id": 2, "body": _green("viberator/prod")}],
        [{"id": 3, "body": _green("viberator/dev")}, {"id": 4, "body": f"quoting: {_green('viberator/dev')}"}],
    ]


def test_the_heading_is_pulumi_actions_own():
    assert heading(PROJECT, "viberator/dev") == "#### :tropical_drink: `preview` on viberator-workers/viberator/dev"


def test_finds_the_stacks_own_comment_on_any_page():
    assert comment_to_replace(_pages(), PROJECT, "viberator/dev") == 3
    assert comment_to_replace(_pages(), PROJECT, "viberator/prod") == 2
    assert comment_to_replace([[{"id": 1, "body": "LGTM"}]], PROJECT, "viberator/dev") is None


def test_the_failure_comment_is_found_again_by_the_next_green_preview(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    comments = tmp_path / "comments.json"
    comments.write_text(json.dumps(_pages()))

    assert main(["--stack-name", "viberator/dev", "--run-url", RUN, str(comments)]) == 0

    result = json.loads(capsys.readouterr().out)
    assert result["id"] == 3
    assert "failed" in result["body"] and RUN in result["body"]
    # pulumi/actions edits the comment that starts with its heading and holds its marker: this one.
    assert comment_to_replace([[{"id": 3, "body": result["body"]}]], PROJECT, "viberator/dev") == 3


def test_unreadable_comments_exit_2(tmp_path: Path):
    comments = tmp_path / "comments.json"
    comments.write_text('{"message": "Not Found"}')
    assert main(["--stack-name", "s", "--run-url", RUN, str(comments)]) == 2
