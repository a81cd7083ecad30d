"""`python -m offline_plan`: plan a stack offline and print it (rich text) or emit one JSON document; with
`--diff <git ref | plan.json>`, what the change from that base does to the stack instead (offline_plan/diff.py).

Exit codes: 0 planned; 2 invalid config or base (one message naming each key path and value, nothing planned);
1 a crash (a bug: its traceback) or a base whose own program failed.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from components.config import REVIEW_ENVIRONMENT, ConfigError, ConfigIssue
from offline_plan.diff import BasePlanError, base_plan, diff_plans
from offline_plan.engine import Plan
from offline_plan.render import plan_console, render_diff, render_plan
from offline_plan.stacks import PROJECTS, plan_stack_file, stack_file_of, stack_name_of

EXIT_INVALID_CONFIG = 2


def _stack_outputs(pairs: list[str]) -> dict[str, Any]:
    outputs: dict[str, Any] = {}
    for pair in pairs:
        stack, sep, path = pair.partition("=")
        if not sep or stack.count("/") != 2:
            raise ConfigError(
                [
                    ConfigIssue(
                        path="--stack-outputs",
                        value=pair,
                        message="expected <org>/<project>/<stack>=<file.json>",
                    )
                ]
            )
        try:
            document = json.loads(Path(path).read_text())
        except (OSError, ValueError) as error:
            raise ConfigError([ConfigIssue(path="--stack-outputs", value=pair, message=str(error))]) from None
        # `pulumi stack output --json` is the outputs; a `make plan FORMAT=json` document holds them.
        if isinstance(document, dict) and {"resources", "outputs"} <= set(document):
            document = document["outputs"]
        if not isinstance(document, dict):
            raise ConfigError(
                [
                    ConfigIssue(
                        path="--stack-outputs",
                        value=pair,
                        message="not a stack's outputs: give `pulumi stack output --json` or `make plan FORMAT=json`",
                    )
                ]
            )
        outputs[stack] = document
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make plan", description=__doc__)
    parser.add_argument(
        "--project",
        choices=sorted(PROJECTS),
        default="workers",
        help="the Pulumi project whose stack --stack names: workers (this directory) or access (access/)",
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--stack",
        default="dev",
        help="plan Pulumi.<stack>.yaml of this project (default: dev); a review stack pr-<number> without a file "
        "of its own: `make plan STACK=pr-<number>` makes its file from stacks/review.yaml first",
    )
    source.add_argument("--config", type=Path, help="plan any Pulumi.<name>.yaml; the stack name comes from the file")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--preview",
        nargs="?",
        const="update",
        choices=("update", "first"),
        help="plan as `pulumi preview` sees it: `update` (the default) an existing stack's, digests unknown; "
        "`first` the stack's first preview, every computed value unknown",
    )
    parser.add_argument(
        "--stack-outputs",
        action="append",
        default=[],
        metavar="ORG/PROJECT/STACK=FILE",
        help="outputs of a referenced stack (default: plan this project's stack of that name first)",
    )
    parser.add_argument(
        "--diff",
        metavar="GIT_REF|PLAN_JSON",
        help="print what the change from this base does: the same stack planned at a git ref (by that ref's "
        "code) or read from a `--format json` plan, matched with this plan by URN",
    )
    args = parser.parse_args(argv)
    if args.config:
        path = args.config
    else:
        path = stack_file_of(args.stack if args.project == "workers" else f"{args.project}/{args.stack}")
        if not path.exists() and args.project == "workers" and REVIEW_ENVIRONMENT.match(args.stack):
            # A review stack's file is the review tooling's to make (ci/review_stack_file.py), not the engine's.
            number = args.stack.removeprefix("pr-")
            print(
                f"error: no {path.name}: a review stack's file is made from stacks/review.yaml by "
                f"`python -m ci.review_stacks stack-file --pr {number} --output build/stacks/{path.name}`; "
                f"`make plan STACK={args.stack}` makes it and plans it",
                file=sys.stderr,
            )
            return EXIT_INVALID_CONFIG
    try:
        if args.diff:
            document = _diff(args, path)
        else:
            plan = _plan(args, path)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID_CONFIG
    except BasePlanError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if args.format == "json":
        json.dump(document if args.diff else plan.to_json(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif args.diff:
        render_diff(document, plan_console())
    else:
        render_plan(plan, plan_console())
    return 0


def _plan(args: argparse.Namespace, path: Path) -> Plan:
    return plan_stack_file(
        path,
        preview=args.preview is not None,
        first_preview=args.preview == "first",
        stack_outputs=_stack_outputs(args.stack_outputs),
    )


def _diff(args: argparse.Namespace, path: Path) -> dict[str, Any]:
    """The diff document: the base planned (in its worktree, by its code) while this checkout plans the head."""
    # The base runs in another directory: the files it reads are named absolutely.
    program_args = ["--format", "json"]
    if args.preview:
        program_args += ["--preview", args.preview]
    for pair in args.stack_outputs:
        stack, _, file = pair.partition("=")
        program_args += ["--stack-outputs", f"{stack}={Path(file).resolve()}"]
    with base_plan(args.diff, stack_name_of(path), path, program_args) as base:
        head = _plan(args, path)
        return diff_plans(base.result(), head.to_json(), base.label)


if __name__ == "__main__":
    sys.exit(main())
