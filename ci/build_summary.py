"""Render a deploy's stack outputs (`pulumi stack output --json`) as Markdown for `$GITHUB_STEP_SUMMARY`.

The summary answers what a reviewer of a deploy asks: which images this deploy built and pushed, under which tags
and digest, and which image every clanker now runs. An image whose digest is the one the stack exported before
the `up` (`--before`) was not rebuilt: docker-build builds only when an input changed, so most deploys push few
images, and the summary says "unchanged" rather than claiming a push. A promoting stack (config
`viberator:images: {from: …}`) builds nothing; its summary says where its digests come from instead.

    pulumi stack output --json --stack viberator/dev > before.json     # before `pulumi up`
    pulumi stack output --json --stack viberator/dev > outputs.json    # after it
    python -m ci.build_summary --stack dev --harness all --before before.json outputs.json >> "$GITHUB_STEP_SUMMARY"

The outputs are checked against `viberator_contract/outputs.schema.json`, the backend's contract: a violation is
shown at the top of the summary and makes the command exit 1, so the deploy job fails where people look.
Exit codes: 0 rendered; 1 rendered, but the outputs break the schema; 2 unreadable input.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ci.script import add_stack_argument, read_stack_outputs, script_parser, unusable
from ci.verify_promotion import approved_digest, image_digests, promoted_from
from viberator_contract.schema import SCHEMA_PATH, outputs_schema
from workers.catalog import PROJECT_DIR, stack_config_file

ALL = "all"
EXIT_SCHEMA_VIOLATION = 1
SCHEMA_FILE = SCHEMA_PATH.relative_to(PROJECT_DIR).as_posix()


class SummaryError(ValueError):
    """The outputs document cannot be summarised at all."""


@dataclass(frozen=True)
class DeployContext:
    stack: str
    harness: str = ALL
    """The dispatch input: one harness, or `all` for a whole-stack deploy."""
    promoted_from: str | None = None
    """`<org>/<project>/<stack>` the images come from when this stack builds none."""
    digests_before: Mapping[str, str] | None = None
    """`{harness: digest}` the stack exported before this deploy; None when unknown (every image counts as built)."""

    def includes(self, harness: str) -> bool:
        return self.harness in (ALL, harness)

    def pushed(self, harness: str, digest: object) -> bool:
        return self.digests_before is None or self.digests_before.get(harness) != digest


def _cell(text: object) -> str:
    # A pipe ends a table cell and a newline ends the row, whatever the Markdown around them.
    return str(text).replace("|", "\\|").replace("\n", " ")


def _code(text: object) -> str:
    return f"`{_cell(text).replace('`', '')}`"


def _tag(reference: str) -> str:
    """`registry/repo:tag` -> `tag`; a registry port (`host:5000/repo`) is not a tag."""
    _, sep, tag = reference.rpartition(":")
    return tag if sep and "/" not in tag else reference


def _clanker_image(clanker: Mapping[str, Any]) -> str:
    config = clanker.get("deploymentConfig", {})
    return str(config.get("imageUri") or config.get("containerImage") or "")


def _pinning(image: str) -> str:
    return "digest" if "@sha256:" in image else "floating tag"


def _schema_violation(outputs: Mapping[str, Any]) -> str | None:
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(outputs_schema()).iter_errors(outputs))
    if error is None:
        return None
    where = "/".join(str(part) for part in error.absolute_path) or "(root)"
    return f"{where}: {error.message}"


def _heading(context: DeployContext, environment: str) -> list[str]:
    scope = (
        "every harness"
        if context.harness == ALL
        else f"harness {_code(context.harness)} (its image and the clankers that run it)"
    )
    return [f"## Deployed stack {_code(context.stack)} (environment {_code(environment)}): {scope}", ""]


def _image_section(images: Mapping[str, Any], context: DeployContext) -> list[str]:
    shown = {name: image for name, image in sorted(images.items()) if context.includes(name)}
    if context.promoted_from is not None:
        lines = [
            f"### Images promoted from {_code(context.promoted_from)}",
            "",
            "This stack builds and pushes nothing; its clankers run these digests, built and tested there.",
            "",
            "| Harness | Image (by digest) |",
            "| --- | --- |",
        ]
        lines += [f"| {_cell(name)} | {_code(image.get('imageUri', ''))} |" for name, image in shown.items()]
    else:
        # Compared as `--before` was read (image_digests): a multi-platform harness by its index's digest.
        pushed = [name for name, image in shown.items() if context.pushed(name, approved_digest(image))]
        lines = [
            "### Images",
            "",
            f"{len(pushed)} of {len(shown)} built and pushed; the others kept the digest they had before this deploy.",
            "",
            "| Harness | This deploy | Repository | Digest | Tags | Platform |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for name, image in shown.items():
            tags = "<br>".join(_code(_tag(tag)) for tag in image.get("tags", []))
            outcome = "built and pushed" if name in pushed else "unchanged"
            lines.append(
                f"| {_cell(name)} | {outcome} | {_code(image.get('repositoryUrl', ''))} "
                f"| {_code(image.get('digest', ''))} | {tags} | {_cell(image.get('platform', ''))} |"
            )
    if not shown:
        lines.append("| _none_ | |" if context.promoted_from else "| _none_ | | | | | |")
    return [*lines, ""]


def _clanker_section(clankers: Mapping[str, Any], context: DeployContext) -> list[str]:
    lines = [
        "### Clankers",
        "",
        "| Clanker | Agent | Target | Image | Pinned by | In this deploy |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for name, clanker in sorted(clankers.items()):
        image = _clanker_image(clanker)
        deployed = "yes" if context.includes(str(clanker.get("agent"))) else "no (unchanged)"
        lines.append(
            f"| {_cell(name)} | {_cell(clanker.get('agent', ''))} | {_cell(clanker.get('target', ''))} "
            f"| {_code(image)} | {_pinning(image)} | {deployed} |"
        )
    if not clankers:
        lines.append("| _none_ | | | | | |")
    return [*lines, ""]


def render_summary(outputs: Mapping[str, Any], context: DeployContext) -> tuple[str, bool]:
    """The Markdown summary and whether the outputs satisfy the outputs schema."""
    images, clankers = outputs.get("images"), outputs.get("clankers")
    if not isinstance(images, Mapping) or not isinstance(clankers, Mapping):
        raise SummaryError("the stack outputs have no `images` and `clankers` mappings: is this the right stack?")
    violation = _schema_violation(outputs)
    lines = _heading(context, str(outputs.get("environment", context.stack)))
    if violation is not None:
        lines += [f"> **Warning:** the stack outputs break `{SCHEMA_FILE}`: {_cell(violation)}", ""]
    lines += _image_section(images, context)
    lines += _clanker_section(clankers, context)
    return "\n".join(lines), violation is None


def main(argv: list[str] | None = None) -> int:
    parser = script_parser(__name__, __doc__)
    parser.add_argument("outputs", type=Path, help="`pulumi stack output --json` saved to a file")
    add_stack_argument(parser)
    parser.add_argument("--harness", default=ALL, help="the harness this deploy targeted (default: all)")
    parser.add_argument("--before", type=Path, help="the stack's outputs before the deploy (`{}` for a new stack)")
    args = parser.parse_args(argv)
    try:
        outputs = read_stack_outputs(args.outputs)
        # A stack's first deploy exports nothing beforehand: every image is new.
        before = None if args.before is None else read_stack_outputs(args.before)
        digests_before = None if before is None else image_digests(before) if "images" in before else {}
        source = promoted_from(stack_config_file(args.stack))  # add_stack_argument checked it exists
        context = DeployContext(args.stack, args.harness, source, digests_before)
        markdown, valid = render_summary(outputs, context)
    except (OSError, ValueError, yaml.YAMLError) as error:
        return unusable(error)
    print(markdown)
    return 0 if valid else EXIT_SCHEMA_VIOLATION


if __name__ == "__main__":
    sys.exit(main())
