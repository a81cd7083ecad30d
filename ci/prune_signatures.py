"""Remove signatures whose image is gone: each `sha256-<hex>.sig` manifest in an image stack's repositories whose
subject, the manifest `sha256:<hex>`, the repository no longer holds.

cosign's tag-based signatures (the layout the deploy writes, workers/tooling/signature.py) name their image only
by that tag: the manifest carries no OCI `subject`, so ECR's deletion of an image's referrers with the image does
not reach it. Nor can a lifecycle rule tell an orphan from a live one: a rule selects by tag status, tag prefix or
wildcard pattern and counts by image count or age since push (ECR User Guide, "Lifecycle policy parameters"),
never by whether another manifest exists; so the repositories keep every `sha256-*` artifact by a rule no count
can expire (components/repository.py, rule 2), and this script, run daily by .github/workflows/prune-signatures.yml,
removes the orphans. The SBOMs need none of it: they are OCI referrers with a `subject` (workers/tooling/sbom/).

    pulumi stack output --json --stack dev > dev.json
    python -m ci.prune_signatures dev.json [--dry-run] >> "$GITHUB_STEP_SUMMARY"

It reads every image of a repository (DescribeImages, every page) before it deletes anything, and deletes by the
signature manifest's digest (BatchDeleteImage), so the manifest goes rather than lingering untagged. The image
stack's own region is pruned; another region's replica carries the same `.sig` and is judged by its own copy of
the rules: pass `--region` once per region to prune there too.
Exit codes: 0 done (or nothing to do); 1 a registry call failed; 2 unusable outputs.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import botocore.session
from botocore.exceptions import BotoCoreError, ClientError

from ci.script import read_stack_outputs, script_parser, unusable
from workers.ecr_url import RepositoryUrl, parse_repository_url

SIGNATURE_TAG = re.compile(r"^sha256-(?P<hex>[0-9a-f]{64})\.sig$")
DELETE_BATCH = 100
"""BatchDeleteImage takes at most 100 image ids per call (ECR API Reference, BatchDeleteImage `imageIds`)."""
EXIT_REGISTRY = 1


@dataclass(frozen=True)
class Orphan:
    repository: RepositoryUrl
    signature_digest: str
    subject: str


def repositories(outputs: Mapping[str, Any], regions: tuple[str, ...] = ()) -> list[RepositoryUrl]:
    """The image stack's repositories (its `images`), in its own region and each of `regions`."""
    images = outputs.get("images")
    if not isinstance(images, Mapping) or not images:
        raise ValueError("the stack outputs have no `images`: is this the image stack?")
    found = set()
    for harness, image in images.items():
        url = parse_repository_url(str(image.get("repositoryUrl", ""))) if isinstance(image, Mapping) else None
        if url is None:
            raise ValueError(f"image {harness!r} has no ECR repositoryUrl in the stack outputs")
        for region in (url.region, *regions):
            found.add(replace(url, region=region))
    return sorted(found, key=lambda r: (r.region, r.name))


def _images(client: Any, repository: RepositoryUrl) -> Iterator[dict[str, Any]]:
    paginator = client.get_paginator("describe_images")
    for page in paginator.paginate(repositoryName=repository.name, registryId=repository.account):
        yield from page.get("imageDetails", [])


def orphans(client: Any, repository: RepositoryUrl) -> list[Orphan]:
    """Every signature manifest of the repository whose subject it no longer holds (all pages read first)."""
    details = list(_images(client, repository))
    digests = {str(d["imageDigest"]) for d in details}
    found = []
    for detail in details:
        for tag in detail.get("imageTags") or []:
            match = SIGNATURE_TAG.match(tag)
            if match and f"sha256:{match['hex']}" not in digests:
                found.append(Orphan(repository, str(detail["imageDigest"]), f"sha256:{match['hex']}"))
    return found


def delete(client: Any, found: list[Orphan]) -> list[str]:
    """Delete the orphans' signature manifests; one line per failure ECR reports."""
    failures = []
    for start in range(0, len(found), DELETE_BATCH):
        batch = found[start : start + DELETE_BATCH]
        repository = batch[0].repository
        response = client.batch_delete_image(
            repositoryName=repository.name,
            registryId=repository.account,
            imageIds=[{"imageDigest": orphan.signature_digest} for orphan in batch],
        )
        failures += [
            f"{repository.name}: {f.get('imageId', {}).get('imageDigest')}: {f.get('failureCode')} "
            f"{f.get('failureReason')}"
            for f in response.get("failures", [])
        ]
    return failures


def _ecr_client(region: str) -> Any:
    return botocore.session.get_session().create_client("ecr", region_name=region)


def main(argv: list[str] | None = None, client_for: Callable[[str], Any] = _ecr_client) -> int:
    parser = script_parser(__name__, __doc__)
    parser.add_argument("outputs", type=Path, help="the image stack's `pulumi stack output --json`, saved")
    parser.add_argument("--region", action="append", default=[], help="also prune the replicas in this region")
    parser.add_argument("--dry-run", action="store_true", help="list the orphans, delete nothing")
    args = parser.parse_args(argv)
    try:
        targets = repositories(read_stack_outputs(args.outputs), tuple(args.region))
    except (OSError, ValueError) as error:
        return unusable(error)
    print("### Signatures of deleted images", end="\n\n")
    failed, total = False, 0
    clients: dict[str, Any] = {}
    for repository in targets:
        client = clients.setdefault(repository.region, client_for(repository.region))
        try:
            found = orphans(client, repository)
            failures = [] if args.dry_run or not found else delete(client, sorted(found, key=lambda o: o.subject))
        except (ClientError, BotoCoreError) as error:
            print(f"error: {repository.name} ({repository.region}): {error}", file=sys.stderr)
            failed = True
            continue
        for line in failures:
            print(f"error: {line}", file=sys.stderr)
        failed = failed or bool(failures)
        total += len(found)
        verb = "would delete" if args.dry_run else "deleted"
        for orphan in found:
            print(f"- `{repository.name}` ({repository.region}): {verb} the signature of `{orphan.subject}`")
    if total == 0:
        print("- none: every signature's image is still there")
    return EXIT_REGISTRY if failed else 0


if __name__ == "__main__":
    sys.exit(main())
