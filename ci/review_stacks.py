"""Review stacks (`pr-<number>`, docs/review-stacks.md): which to create, update or destroy, and the PR comment.

.github/workflows/review-stack.yml calls it; every decision is made here, so it is tested offline:

    python -m ci.review_stacks event "$GITHUB_EVENT_PATH"   # action=up|destroy|none, stack, number, reason, destroy
    python -m ci.review_stacks stack-file --pr 12 [--builds] --output Pulumi.pr-12.yaml   # prints expires=<time>
    python -m ci.review_stacks sweep --stacks stacks.json --pull-requests open.json   # [{number, reason}] to destroy
    python -m ci.review_stacks comment --stack pr-12 --outputs outputs.json --results results/ --run-url URL
    python -m ci.review_stacks comment --stack pr-12 --destroyed "the pull request was closed" --run-url URL
    python -m ci.review_stacks find-comment comments.json        # the id of the review comment, or nothing

A stack is a review stack by its name alone (`pr-<number>`, which components/config/ refuses to any stack
without `viberator:review`), so neither path can ever select dev or prod.
"""

from __future__ import annotations

import datetime
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ci.review_stack_file import EXPIRES_FORMAT, expiry, review_number, review_stack_yaml
from ci.script import read_json, read_stack_outputs, script_parser, unusable

LABEL = "review-stack"
EXPIRES_TAG = "viberator:expires"
"""The Pulumi stack tag the workflow sets from `viberator:review.expires`: the sweep reads it without the stack's
config file, which exists only in the run that wrote it."""
COMMENT_MARKER = "<!-- viberator-review-stack -->"
DEPENDABOT = "dependabot[bot]"


@dataclass(frozen=True)
class Decision:
    action: Literal["up", "destroy", "none"]
    number: int
    reason: str

    @property
    def stack(self) -> str:
        return f"pr-{self.number}"


def _labels(pull_request: Mapping[str, Any]) -> set[str]:
    return {str(label["name"]) for label in pull_request.get("labels") or []}


def decide_event(event: Mapping[str, Any]) -> Decision:
    """What a `pull_request` event does to the pull request's review stack."""
    pull_request = event["pull_request"]
    number = int(pull_request["number"])
    action = str(event["action"])
    labelled = LABEL in _labels(pull_request)
    head_repo = (pull_request.get("head") or {}).get("repo") or {}
    if head_repo.get("full_name") != pull_request["base"]["repo"]["full_name"]:
        # GitHub gives a fork's pull request no OIDC token and no write access: nothing could deploy, or destroy.
        return Decision("none", number, "a fork's pull request never gets a review stack (no credentials)")
    if pull_request["user"]["login"] == DEPENDABOT:
        return Decision("none", number, "Dependabot's pull requests get no credentials, so no review stack")
    if action == "closed":
        if labelled:
            return Decision("destroy", number, f"pull request #{number} was closed")
        return Decision("none", number, f"closed without the {LABEL} label: no review stack to destroy")
    if action == "unlabeled":
        if (event.get("label") or {}).get("name") == LABEL:
            return Decision("destroy", number, f"the {LABEL} label was removed")
        return Decision("none", number, f"another label was removed; the {LABEL} label decides")
    if action == "labeled":
        if (event.get("label") or {}).get("name") == LABEL:
            return Decision("up", number, f"labelled {LABEL}")
        return Decision("none", number, f"another label was added; the {LABEL} label decides")
    if action in ("opened", "reopened", "synchronize"):
        if labelled:
            return Decision("up", number, f"{action} while labelled {LABEL}")
        return Decision("none", number, f"not labelled {LABEL}")
    return Decision("none", number, f"a pull request {action} event changes no review stack")


@dataclass(frozen=True)
class SweepVerdict:
    stack: str
    """As `pulumi stack ls` names it (possibly `<org>/pr-<number>`)."""
    number: int
    destroy: bool
    reason: str


def _expires(tags: Mapping[str, Any]) -> datetime.datetime | None:
    try:
        return datetime.datetime.strptime(str(tags[EXPIRES_TAG]), EXPIRES_FORMAT).replace(tzinfo=datetime.UTC)
    except (KeyError, ValueError):
        return None


def sweep(
    stacks: Iterable[Mapping[str, Any]], open_pull_requests: Iterable[Mapping[str, Any]], now: datetime.datetime
) -> list[SweepVerdict]:
    """Every review stack among `stacks` ({name, tags}), destroyed when its pull request is closed or unlabelled
    (an event whose destroy failed, or never ran) or its expiry has passed; other stacks are not listed."""
    open_labels = {int(pr["number"]): _labels(pr) for pr in open_pull_requests}
    verdicts = []
    for stack in stacks:
        name = str(stack["name"])
        number = review_number(name)
        if number is None:
            continue
        expires = _expires(stack.get("tags") or {})
        if number not in open_labels:
            verdict = SweepVerdict(name, number, True, f"pull request #{number} is closed")
        elif LABEL not in open_labels[number]:
            verdict = SweepVerdict(name, number, True, f"pull request #{number} no longer has the {LABEL} label")
        elif expires is None:
            verdict = SweepVerdict(
                name, number, True, f"no readable {EXPIRES_TAG} stack tag: its deploy never finished"
            )
        elif expires <= now:
            verdict = SweepVerdict(name, number, True, f"expired at {expires.strftime(EXPIRES_FORMAT)}")
        else:
            verdict = SweepVerdict(name, number, False, f"open, labelled, expires {expires.strftime(EXPIRES_FORMAT)}")
        verdicts.append(verdict)
    return verdicts


@dataclass(frozen=True)
class JobOutcome:
    clanker: str
    target: str
    exit_code: int
    result: Mapping[str, Any] | None
    """run-job's result document (stdout), when the job ran."""
    log_tail: str


def _job_cell(outcome: JobOutcome) -> str:
    if outcome.result is not None:
        icon = ":white_check_mark:" if outcome.result.get("status") == "succeeded" else ":x:"
        return f"{icon} {outcome.result.get('status')} (exit {outcome.exit_code})"
    return f":x: not run (exit {outcome.exit_code})"


def _runs_as(deployment: Mapping[str, Any]) -> str:
    config = deployment.get("deploymentConfig") or {}
    return str(config.get("functionName") or config.get("family") or config.get("containerImage") or "")


def comment_body(stack: str, outputs: Mapping[str, Any], outcomes: list[JobOutcome], run_url: str) -> str:
    lines = [
        COMMENT_MARKER,
        f"### Review stack `{stack}`",
        "",
        f"Deployed and smoke-tested (examples/bootstrap/job.json on each clanker): {run_url}",
        "",
        "| clanker | target | runs as | job |",
        "| --- | --- | --- | --- |",
    ]
    clankers = outputs.get("clankers") or {}
    by_name = {outcome.clanker: outcome for outcome in outcomes}
    for name, deployment in sorted(clankers.items()):
        outcome = by_name.get(name)
        cell = _job_cell(outcome) if outcome else ":x: no result"
        lines.append(f"| `{name}` | {deployment.get('target')} | `{_runs_as(deployment)}` | {cell} |")
    for outcome in outcomes:
        if outcome.result is None or outcome.result.get("status") != "succeeded":
            lines += ["", f"<details><summary>{outcome.clanker}: log</summary>", "", "```text", outcome.log_tail]
            lines += ["```", "</details>"]
    lines += ["", "<details><summary>Stack outputs</summary>", "", "```json", json.dumps(outputs, indent=2)]
    lines += ["```", "</details>", "", f"Destroyed when the pull request closes or loses the `{LABEL}` label."]
    return "\n".join(lines)


def destroyed_body(stack: str, reason: str, run_url: str) -> str:
    return "\n".join([COMMENT_MARKER, f"### Review stack `{stack}`", "", f"Destroyed ({reason}): {run_url}"])


def read_outcomes(outputs: Mapping[str, Any], results: Path) -> list[JobOutcome]:
    """The workflow's per-clanker files: `<clanker>.json` (run-job's stdout), `.code`, `.log` (its stderr)."""
    outcomes = []
    for name, deployment in sorted((outputs.get("clankers") or {}).items()):
        code_file = results / f"{name}.code"
        exit_code = int(code_file.read_text().strip()) if code_file.exists() else -1
        try:
            result = json.loads((results / f"{name}.json").read_text())
        except (OSError, ValueError):
            result = None
        log = results / f"{name}.log"
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:]) if log.exists() else "(no log)"
        outcomes.append(JobOutcome(name, str(deployment.get("target")), exit_code, result, tail))
    return outcomes


def find_comment(pages: Iterable[Iterable[Mapping[str, Any]]]) -> int | None:
    for page in pages:
        for comment in page:
            if str(comment.get("body") or "").startswith(COMMENT_MARKER):
                return int(comment["id"])
    return None


def _now(text: str | None) -> datetime.datetime:
    if text is None:
        return datetime.datetime.now(datetime.UTC)
    return datetime.datetime.strptime(text, EXPIRES_FORMAT).replace(tzinfo=datetime.UTC)


EXPIRES_HELP = EXPIRES_FORMAT.replace("%", "%%")
"""The expiry format in a help text: argparse formats help with %, so the format's own %Y… are escaped."""


def main(argv: list[str] | None = None) -> int:
    parser = script_parser(__name__, __doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    event = commands.add_parser("event", help="what a pull_request event does (GITHUB_OUTPUT lines)")
    event.add_argument("event", type=Path, help="$GITHUB_EVENT_PATH")
    stack_file = commands.add_parser("stack-file", help="write Pulumi.pr-<n>.yaml; print expires=<time>")
    stack_file.add_argument("--pr", type=int, required=True)
    stack_file.add_argument("--builds", action="store_true", help="build the images (the PR changes workers/image/)")
    stack_file.add_argument("--output", type=Path, required=True)
    stack_file.add_argument("--now", help=f"deploy time ({EXPIRES_HELP}); default: now")
    swept = commands.add_parser("sweep", help="the review stacks to destroy, and why (JSON)")
    swept.add_argument("--stacks", type=Path, required=True, help="[{name, tags}]: pulumi stack ls + stack tag ls")
    swept.add_argument("--pull-requests", type=Path, required=True, help="gh pr list --state open --json number,labels")
    swept.add_argument("--now", help=f"{EXPIRES_HELP}; default: now")
    comment = commands.add_parser("comment", help="the review stack's pull request comment (Markdown)")
    comment.add_argument("--stack", required=True)
    comment.add_argument("--run-url", required=True)
    comment.add_argument("--outputs", type=Path, help="pulumi stack output --json")
    comment.add_argument("--results", type=Path, help="the run-job results directory")
    comment.add_argument("--destroyed", metavar="REASON", help="the stack was destroyed, for this reason")
    found = commands.add_parser("find-comment", help="the id of the review stack comment, if any")
    found.add_argument("comments", type=Path, help="gh api --paginate --slurp …/comments")
    args = parser.parse_args(argv)
    try:
        if args.command == "event":
            decision = decide_event(read_json(args.event))
            print(f"action={decision.action}\nstack={decision.stack}\nnumber={decision.number}")
            print(f"reason={decision.reason}")
            # The destroy job's matrix, which the sweep fills the same way.
            destroy = [{"number": decision.number, "reason": decision.reason}] if decision.action == "destroy" else []
            print(f"destroy={json.dumps(destroy)}")
        elif args.command == "stack-file":
            expires = expiry(_now(args.now))
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(review_stack_yaml(args.pr, expires, builds_images=args.builds))
            print(f"expires={expires}")
        elif args.command == "sweep":
            verdicts = sweep(read_json(args.stacks), read_json(args.pull_requests), _now(args.now))
            print(json.dumps([{"number": v.number, "reason": v.reason} for v in verdicts if v.destroy]))
            for verdict in verdicts:
                print(f"{verdict.stack}: {'destroy' if verdict.destroy else 'keep'}, {verdict.reason}", file=sys.stderr)
        elif args.command == "comment":
            if args.destroyed is not None:
                print(destroyed_body(args.stack, args.destroyed, args.run_url))
            elif args.outputs is None or args.results is None:
                parser.error("comment needs --outputs and --results, or --destroyed")
            else:
                outputs = read_stack_outputs(args.outputs)
                print(comment_body(args.stack, outputs, read_outcomes(outputs, args.results), args.run_url))
        else:
            comment_id = find_comment(read_json(args.comments))
            print("" if comment_id is None else comment_id)
    except (OSError, ValueError, KeyError, TypeError) as error:
        return unusable(error)
    return 0


if __name__ == "__main__":
    sys.exit(main())
