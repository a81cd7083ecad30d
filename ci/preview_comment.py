"""Replace a pull request's green preview comment when a later preview of the same stack fails.

pulumi/actions comments only after a successful command (src/main.ts: `handlePullRequestMessage` runs after the
command returned; a failure throws first), and with `edit-pr-comment` it edits its earlier comment, found by
its heading `#### :tropical_drink: \\`preview\\` on <project>/<stack>` and `<summary>Pulumi report</summary>`
(src/libs/pr.ts). So a preview that fails after a green one leaves the green comment in place. This renders a
failure comment with the same heading and marker, so it replaces the green one, and the next green preview
replaces it in turn.

    gh api --paginate --slurp "repos/$GH_REPO/issues/$PR/comments" > comments.json
    python -m ci.preview_comment --stack-name viberator/dev --run-url "$RUN_URL" comments.json
    # prints {"id": <comment to edit, or null to create one>, "body": "..."}
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from ci.script import read_json, script_parser, unusable
from workers.catalog import PROJECT_NAME

SUMMARY_MARKER = "<summary>Pulumi report</summary>"


def heading(project: str, stack_name: str) -> str:
    """pulumi/actions' comment heading for a preview (src/libs/pr.ts)."""
    return f"#### :tropical_drink: `preview` on {project}/{stack_name}"


def failure_body(project: str, stack_name: str, run_url: str) -> str:
    return "\n".join(
        [
            heading(project, stack_name),
            "",
            "<details>",
            SUMMARY_MARKER,
            "",
            f":x: **The latest preview of `{stack_name}` failed**: no preview of this commit exists, and the "
            f"previous one no longer describes the pull request. The log: {run_url}",
            "</details>",
        ]
    )


def comment_to_replace(pages: Iterable[Iterable[Mapping[str, Any]]], project: str, stack_name: str) -> int | None:
    """The id of the comment pulumi/actions would edit for this stack (its first match), else None."""
    wanted = heading(project, stack_name)
    for page in pages:
        for comment in page:
            body = str(comment.get("body") or "")
            if body.startswith(wanted) and SUMMARY_MARKER in body:
                return int(comment["id"])
    return None


def main(argv: list[str] | None = None) -> int:
    parser = script_parser(__name__, __doc__)
    parser.add_argument("comments", type=Path, help="the pull request's comments: `gh api --paginate --slurp`")
    parser.add_argument("--stack-name", required=True, help="the stack as the preview step names it")
    parser.add_argument("--run-url", required=True, help="the workflow run to point at")
    args = parser.parse_args(argv)
    try:
        pages = read_json(args.comments)
        if not isinstance(pages, list) or not all(isinstance(page, list) for page in pages):
            raise ValueError("expected `gh api --paginate --slurp` output: a list of pages of comments")
        found = comment_to_replace(pages, PROJECT_NAME, args.stack_name)
    except (OSError, ValueError, KeyError) as error:
        return unusable(error)
    print(json.dumps({"id": found, "body": failure_body(PROJECT_NAME, args.stack_name, args.run_url)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
