"""Promote exactly what was approved: compare a stack's image digests with the ones a reviewer approved.

A promoting stack (prod, `viberator:images: {from: …/dev}`) reads the image stack's outputs through a
StackReference when its `pulumi up` runs, which is after a reviewer approved the prod job: a later dev deploy (a
push, a dispatch) may have landed in between, and prod would then run digests nobody approved. So the job that
deployed dev publishes the digests it deployed (`digests`, a job output), and the prod job, after approval,
checks dev's current outputs against them before its `up` (`check`), and its own outputs after it
(`check --promoted`: every image prod now runs was approved; that closes the window between check and up).

    source=$(python -m ci.verify_promotion source --stack prod)           # viberator/viberator-workers/dev
    pulumi stack output --json --stack "$source" > dev.json
    python -m ci.verify_promotion digests dev.json >> "$GITHUB_OUTPUT"      # digests={"claude": "sha256:…", …}
    python -m ci.verify_promotion check --approved "$APPROVED" dev.json     # after approval, before `up`
    python -m ci.verify_promotion pin --approved "$APPROVED" --stack prod    # `up` refuses any other digest
    python -m ci.verify_promotion check --approved "$APPROVED" --promoted prod.json   # after `up`

`pin` writes the approved set into the runner's Pulumi.<stack>.yaml as `viberator:images.digests`: the program
then refuses, before it registers anything, any harness whose image stack output is no longer the approved
digest (components/promotion.py). That closes the window between `check` and `up`; `check --promoted` stays as
the record of what prod runs.

Exit codes: 0 the digests match; 1 they do not (each harness named with both digests); 2 unusable input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from offline_plan.engine import PROJECT_DIR

IMAGES_KEY = "viberator:images"
EXIT_MISMATCH = 1
EXIT_UNUSABLE = 2
OUTPUT_NAME = "digests"
"""The `$GITHUB_OUTPUT` key the deploy workflow maps to the job output the prod job reads."""


class UnusableInput(ValueError):
    """An outputs document or an approved set that says nothing checkable."""


def promoted_from(stack_config: Path) -> str | None:
    """The image stack a promoting stack reads its digests from (`viberator:images.from`), else None."""
    document = yaml.safe_load(stack_config.read_text()) or {}
    images = (document.get("config") or {}).get(IMAGES_KEY)
    source = images.get("from") if isinstance(images, dict) else None
    return source if isinstance(source, str) else None


def image_digests(outputs: Mapping[str, Any]) -> dict[str, str]:
    """`{harness: digest}` from a `pulumi stack output --json` document (its `images` output)."""
    images = outputs.get("images")
    if not isinstance(images, Mapping):
        raise UnusableInput("the stack outputs have no `images` mapping: is this the right stack?")
    digests = {}
    for harness, image in images.items():
        digest = image.get("digest") if isinstance(image, Mapping) else None
        if not isinstance(digest, str) or not digest.startswith("sha256:"):
            raise UnusableInput(f"image {harness!r} has no sha256 digest in the stack outputs")
        digests[harness] = digest
    return dict(sorted(digests.items()))


def parse_approved(text: str) -> dict[str, str]:
    """The approved `{harness: digest}` set, as `digests` printed it. Empty is unusable: approving nothing
    would let any digest through."""
    try:
        approved = json.loads(text) if text.strip() else {}
    except json.JSONDecodeError as error:
        raise UnusableInput(f"the approved digests are not JSON: {error}") from error
    if not isinstance(approved, dict) or not all(isinstance(v, str) for v in approved.values()):
        raise UnusableInput('the approved digests are not a {"harness": "sha256:…"} object')
    if not approved:
        raise UnusableInput("no approved digests: the job that deployed the image stack published none")
    return approved


def mismatches(approved: Mapping[str, str], current: Mapping[str, str], *, promoted: bool = False) -> list[str]:
    """One line per harness whose digest differs, naming both digests.

    Compared with the image stack's outputs (`promoted=False`) the sets must be equal: any other digest there
    means another deploy landed since the approval. A promoting stack exports only the harnesses it takes
    (`viberator:images.harnesses`), so with `promoted=True` each of its images must be an approved one.
    """
    harnesses = sorted(set(current) if promoted else set(approved) | set(current))
    return [
        f"{harness}: approved {approved.get(harness, '(none)')}, found {current.get(harness, '(none)')}"
        for harness in harnesses
        if approved.get(harness) != current.get(harness)
    ]


def pin(stack_config: Path, approved: Mapping[str, str]) -> None:
    """Write `approved` as the stack's `viberator:images.digests` (comments are not kept: a runner's copy)."""
    document = yaml.safe_load(stack_config.read_text()) or {}
    images = (document.get("config") or {}).get(IMAGES_KEY)
    if not isinstance(images, dict):
        raise UnusableInput(f"{stack_config.name} promotes nothing (no {IMAGES_KEY})")
    images["digests"] = dict(sorted(approved.items()))
    stack_config.write_text(yaml.safe_dump(document, sort_keys=False))


def _read_outputs(path: Path) -> dict[str, Any]:
    outputs = json.loads(path.read_text())
    if not isinstance(outputs, dict):
        raise UnusableInput("the stack outputs are not a JSON object")
    return outputs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ci.verify_promotion", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    source = commands.add_parser("source", help="print the image stack a promoting stack reads (`images.from`)")
    source.add_argument("--stack", required=True, help="stack name, as in Pulumi.<stack>.yaml")
    publish = commands.add_parser("digests", help=f"print `{OUTPUT_NAME}=<json>` for $GITHUB_OUTPUT")
    publish.add_argument("outputs", type=Path, help="`pulumi stack output --json` saved to a file")
    check = commands.add_parser("check", help="fail unless the outputs' digests are the approved ones")
    check.add_argument("outputs", type=Path, help="`pulumi stack output --json` saved to a file")
    check.add_argument("--approved", required=True, help="the JSON `digests` printed")
    check.add_argument("--promoted", action="store_true", help="the outputs are the promoting stack's own")
    pinned = commands.add_parser("pin", help="write the approved digests into Pulumi.<stack>.yaml for `up`")
    pinned.add_argument("--stack", required=True, help="stack name, as in Pulumi.<stack>.yaml")
    pinned.add_argument("--approved", required=True, help="the JSON `digests` printed")
    args = parser.parse_args(argv)
    if args.command == "pin":
        try:
            pin(PROJECT_DIR / f"Pulumi.{args.stack}.yaml", parse_approved(args.approved))
        except (OSError, ValueError) as error:
            print(f"error: {error}", file=sys.stderr)
            return EXIT_UNUSABLE
        return 0
    if args.command == "source":
        # The same `from` the program's StackReference reads, so the check reads what `up` will.
        found = promoted_from(PROJECT_DIR / f"Pulumi.{args.stack}.yaml")
        if found is None:
            print(f"error: stack {args.stack!r} builds its own images: it promotes nothing", file=sys.stderr)
            return EXIT_UNUSABLE
        print(found)
        return 0
    try:
        current = image_digests(_read_outputs(args.outputs))
        if args.command == "digests":
            print(f"{OUTPUT_NAME}={json.dumps(current, separators=(',', ':'))}")
            return 0
        approved = parse_approved(args.approved)
    except (OSError, ValueError) as error:  # UnusableInput and JSONDecodeError are ValueErrors
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    differences = mismatches(approved, current, promoted=args.promoted)
    if differences:
        where = "the promoted stack runs" if args.promoted else "the image stack now holds"
        print(f"error: {where} digests that were not approved:", file=sys.stderr)
        for line in differences:
            print(f"  - {line}", file=sys.stderr)
        return EXIT_MISMATCH
    print(f"{len(current)} image digests match the approved ones")
    return 0


if __name__ == "__main__":
    sys.exit(main())
