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
    python -m ci.verify_promotion signatures --approved "$APPROVED" --stack prod --run "$GITHUB_RUN_ID" \
        --commit "$GITHUB_SHA" dev.json                                      # signed by prod's pin, in this run
    python -m ci.verify_promotion pin --approved "$APPROVED" --stack prod    # `up` refuses any other digest
    python -m ci.verify_promotion check --approved "$APPROVED" --promoted prod.json   # after `up`

The digest approved for a harness built for several platforms is its index's: the index lists every platform
manifest's digest, so approving it approves each image a clanker runs (an arm64 Lambda's and an x86_64 task's),
where the primary platform's digest would say nothing about the others. A single-platform harness's is its
image's digest.

`pin` writes the approved set into the runner's Pulumi.<stack>.yaml as `viberator:images.digests`: the program
then refuses, before it registers anything, any harness whose image stack output is no longer the approved
digest (components/promotion.py). That closes the window between `check` and `up`; `check --promoted` stays as
the record of what prod runs.

`pushed` lists what the image stack's deploy signs and attaches an SBOM to, one `<repository>@<digest>` a line:
each platform's image manifest, and with `--indexes` each harness's index too (a floating tag names it, so a pull
by that tag fetches and verifies the index's digest).

    python -m ci.verify_promotion pushed [--indexes] dev.json

`signatures` checks that each approved digest carries a valid signature (cosign's layout, made by the deploy
job after dev's `up`) by the image stack's key as the promoting stack pins it (`viberator:images.signing` of
Pulumi.<stack>.yaml, `--stack`; or `--public-key FILE`), never as the image stack's outputs name it: whoever can
write the image stack's state would choose both the digests and the key that approves them. skopeo checks it as
`ensure` and `run-job` check a pull (workers/tooling/signature.py): prod never promotes a digest the deploy did
not sign. A valid signature must also carry the commit and the workflow run it was signed in (cosign `-a`,
ci/signed_annotations.py): `--run`/`--commit` name them exactly (a push: dev's deploy ran in this run, at this
commit), `--in-history` wants the commit in the checked-out history (a dispatch promotes an earlier run's).

Exit codes: 0 the digests match (or are all signed); 1 they do not (each harness named with both digests); 2
unusable input; 3 an approved digest is unsigned, signed by another key, or signed without the expected commit and
run (each harness named); 4 a signature could not be checked (registry unreachable, skopeo missing).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from ci import signed_annotations
from ci.script import add_stack_argument, read_stack_outputs, script_parser, unusable
from ci.signed_annotations import Expected
from components.config_model.supply_chain import PinnedKeyConfig
from viberator_contract.errors import field_errors
from workers.catalog import PROJECT_DIR, stack_config_file
from workers.tooling import signature

IMAGES_KEY = "viberator:images"
EXIT_MISMATCH = 1
EXIT_UNSIGNED = 3
EXIT_UNCHECKED = 4
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


def approved_digest(image: object) -> object:
    """The digest approved for one `images.<harness>` entry (`Image.approved_digest`, read from the raw document):
    its index's when it has one, else its own; whatever the document holds there (None when nothing)."""
    approved = (image.get("index") or image) if isinstance(image, Mapping) else None
    return approved.get("digest") if isinstance(approved, Mapping) else None


def image_digests(outputs: Mapping[str, Any]) -> dict[str, str]:
    """`{harness: approved digest}` from a `pulumi stack output --json` document (its `images` output): a
    multi-platform harness's index digest, which commits to every platform manifest's digest (an approval of the
    primary's would say nothing about the arm64 one a clanker also runs), else the image's own digest; the rule
    of viberator_contract's `Image.approved_digest`, read from the raw document so a malformed one says which
    harness lacks a digest."""
    images = outputs.get("images")
    if not isinstance(images, Mapping):
        raise UnusableInput("the stack outputs have no `images` mapping: is this the right stack?")
    digests = {}
    for harness, image in images.items():
        digest = approved_digest(image)
        if not isinstance(digest, str) or not digest.startswith("sha256:"):
            raise UnusableInput(f"image {harness!r} has no sha256 digest in the stack outputs")
        digests[harness] = digest
    return dict(sorted(digests.items()))


def pushed(outputs: Mapping[str, Any], *, indexes: bool) -> list[str]:
    """`<repositoryUrl>@<digest>` of every platform's image of every harness (and of each index), sorted."""
    image_digests(outputs)  # UnusableInput unless every harness has a digest: an empty list would sign nothing
    references: set[str] = set()
    for harness, image in outputs["images"].items():
        manifests = [image, *(image.get("platforms") or {}).values()]  # the primary is also among the platforms
        if indexes and image.get("index"):
            manifests.append(image["index"])
        if not all(isinstance(manifest.get("digest"), str) for manifest in manifests):
            raise UnusableInput(f"image {harness!r} lists a manifest without a digest in the stack outputs")
        references.update(f"{image['repositoryUrl']}@{manifest['digest']}" for manifest in manifests)
    return sorted(references)


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


def pinned_key(stack_config: Path) -> bytes:
    """The public key a promoting stack pins for its image stack's digests (`viberator:images.signing`)."""
    document = yaml.safe_load(stack_config.read_text()) or {}
    images = (document.get("config") or {}).get(IMAGES_KEY)
    pinned = images.get("signing") if isinstance(images, dict) else None
    if pinned is None:
        raise UnusableInput(
            f"{stack_config.name} pins no signing key ({IMAGES_KEY}.signing): docs/images-tooling.md 'Supply chain'"
        )
    try:
        return PinnedKeyConfig.model_validate(pinned).public_key.encode()
    except ValidationError as error:
        raise UnusableInput(f"{stack_config.name}: {IMAGES_KEY}.signing: {'; '.join(field_errors(error))}") from None


def signing_key(stack: str | None, public_key: Path | None) -> bytes:
    """The key approved digests must be signed by: `--public-key`, else the one `--stack` pins."""
    if public_key is not None:
        key = signature.verifier(public_key, None, "--public-key")
        assert key.public_key_pem is not None  # read from the file, or VerifierFailed
        return key.public_key_pem
    if stack is None:
        raise UnusableInput("name the promoting stack whose pinned key verifies (--stack), or pass --public-key FILE")
    return pinned_key(stack_config_file(stack))


def _signed_with(image: Mapping[str, Any], digest: str) -> list[str]:
    """The digests that must be signed for an approved one: itself, and when it is the harness's index, each
    platform's image it joins (what the clankers run; the deploy signs them all, `pushed --indexes`)."""
    index = image.get("index")
    if not isinstance(index, Mapping) or index.get("digest") != digest:
        return [digest]
    platforms = image.get("platforms") or {}
    return [digest, *(str(platforms[platform]["digest"]) for platform in sorted(platforms))]


def unsigned(
    approved: Mapping[str, str],
    outputs: Mapping[str, Any],
    public_key_pem: bytes,
    expected: signed_annotations.Expected | None = None,
) -> list[str]:
    """One line per approved digest (a multi-platform harness's index, and each platform's image it joins) that,
    in the image stack's repository, has no valid signature by the key (skopeo's `signature.verify`), or none that
    carries the commit and the run `expected` names (`signed_annotations.check`; both looked up per call so a test
    can stand in for them); VerifierFailed, when either cannot decide, is raised on."""
    images = outputs.get("images")
    refused = []
    for harness, digest in sorted(approved.items()):
        image = images.get(harness) if isinstance(images, Mapping) else None
        repository = image.get("repositoryUrl") if isinstance(image, Mapping) else None
        if not isinstance(image, Mapping) or not isinstance(repository, str):
            raise UnusableInput(f"image {harness!r} has no repositoryUrl in the stack outputs")
        for signed in _signed_with(image, digest):
            try:
                signature.verify(f"{repository}@{signed}", public_key_pem)
                signed_annotations.check(f"{repository}@{signed}", public_key_pem, expected or Expected())
            except signature.SignatureRefused as why:
                refused.append(f"{harness}: {why}")
    return refused


def pin(stack_config: Path, approved: Mapping[str, str]) -> None:
    """Write `approved` as the stack's `viberator:images.digests` (comments are not kept: a runner's copy)."""
    document = yaml.safe_load(stack_config.read_text()) or {}
    images = (document.get("config") or {}).get(IMAGES_KEY)
    if not isinstance(images, dict):
        raise UnusableInput(f"{stack_config.name} promotes nothing (no {IMAGES_KEY})")
    images["digests"] = dict(sorted(approved.items()))
    stack_config.write_text(yaml.safe_dump(document, sort_keys=False))


def main(argv: list[str] | None = None) -> int:
    parser = script_parser(__name__, __doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    source = commands.add_parser("source", help="print the image stack a promoting stack reads (`images.from`)")
    add_stack_argument(source)
    publish = commands.add_parser("digests", help=f"print `{OUTPUT_NAME}=<json>` for $GITHUB_OUTPUT")
    publish.add_argument("outputs", type=Path, help="`pulumi stack output --json` saved to a file")
    check = commands.add_parser("check", help="fail unless the outputs' digests are the approved ones")
    check.add_argument("outputs", type=Path, help="`pulumi stack output --json` saved to a file")
    check.add_argument("--approved", required=True, help="the JSON `digests` printed")
    check.add_argument("--promoted", action="store_true", help="the outputs are the promoting stack's own")
    listed = commands.add_parser("pushed", help="print each pushed `<repository>@<digest>`: what the deploy signs")
    listed.add_argument("outputs", type=Path, help="the image stack's `pulumi stack output --json` saved to a file")
    listed.add_argument("--indexes", action="store_true", help="also each harness's index (multi-platform)")
    signed = commands.add_parser("signatures", help="fail unless each approved digest is signed by the stack's key")
    signed.add_argument("outputs", type=Path, help="the image stack's `pulumi stack output --json` saved to a file")
    signed.add_argument("--approved", required=True, help="the JSON `digests` printed")
    signed_by = signed.add_mutually_exclusive_group(required=True)
    add_stack_argument(signed_by, "the promoting stack whose viberator:images.signing verifies", required=False)
    signed_by.add_argument("--public-key", type=Path, help="PEM public key")
    signed.add_argument("--run", help="the workflow run that must have signed them (a push: the dev deploy's)")
    signed.add_argument("--commit", help="the commit they must have been signed at (a push: the one deployed)")
    signed.add_argument(
        "--in-history", action="store_true", help="the signed commit must be in the checked-out HEAD's history"
    )
    pinned = commands.add_parser("pin", help="write the approved digests into Pulumi.<stack>.yaml for `up`")
    add_stack_argument(pinned)
    pinned.add_argument("--approved", required=True, help="the JSON `digests` printed")
    args = parser.parse_args(argv)
    if args.command == "pin":
        try:
            pin(stack_config_file(args.stack), parse_approved(args.approved))
        except (OSError, ValueError) as error:
            return unusable(error)
        return 0
    if args.command == "source":
        # The same `from` the program's StackReference reads, so the check reads what `up` will.
        try:
            found = promoted_from(stack_config_file(args.stack))
        except (OSError, yaml.YAMLError) as error:
            return unusable(error)
        if found is None:
            return unusable(f"stack {args.stack!r} builds its own images: it promotes nothing")
        print(found)
        return 0
    try:
        outputs = read_stack_outputs(args.outputs)
        current = image_digests(outputs)
        if args.command == "digests":
            print(f"{OUTPUT_NAME}={json.dumps(current, separators=(',', ':'))}")
            return 0
        if args.command == "pushed":
            print("\n".join(pushed(outputs, indexes=args.indexes)))
            return 0
        approved = parse_approved(args.approved)
        if args.command == "signatures":
            expected = Expected(run=args.run, commit=args.commit, history=PROJECT_DIR if args.in_history else None)
            refused = unsigned(approved, outputs, signing_key(args.stack, args.public_key), expected)
            if refused:
                print("error: approved digests without a valid signature by the pinned key:", file=sys.stderr)
                for line in refused:
                    print(f"  - {line}", file=sys.stderr)
                return EXIT_UNSIGNED
            print(f"{len(approved)} approved digests are signed by the pinned key")
            return 0
    except signature.VerifierFailed as failed:
        print(f"error: {failed}", file=sys.stderr)
        return EXIT_UNCHECKED
    except (OSError, ValueError) as error:  # UnusableInput is a ValueError
        return unusable(error)
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
