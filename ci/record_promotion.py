"""Record a promotion on the registry: tag every digest a promoting stack runs `<env>-<revision>`.

A promoting stack (prod, `viberator:images: {from: …/dev}`) pins digests the image stack built, which carry only
the image stack's tags (`dev-<revision>`), so only the image stack's lifecycle rule keeps them alive. Tagging the
same digest `prod-<revision>` records the promotion where the registry can see it, and the image stack's
lifecycle policy (`viberator:sharedEnvironments: [prod]`, prod's rule first) then never expires it. Nothing is
rebuilt: ECR adds a tag to an existing manifest only through BatchGetImage + PutImage of the same manifest bytes,
which keeps the digest (no Pulumi resource does this, hence a deploy-workflow step).

    pulumi stack output --json --stack viberator/prod > outputs.json
    python -m ci.record_promotion outputs.json --environment prod >> "$GITHUB_STEP_SUMMARY"

Idempotent: a tag already naming the digest is success. A tag naming another digest (tags are immutable) fails
with both digests named: the registry then disagrees with what prod runs, which a person must look at.
Exit codes: 0 recorded; 1 a registry call failed or a tag conflicts; 2 unusable outputs (nothing was written).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import botocore.session
from botocore.exceptions import BotoCoreError, ClientError

from components.promotion import REPOSITORY_URL
from workers.naming import MUTABLE_TAG_PATTERNS, floating_tag, revision_tag

EXIT_REGISTRY = 1
EXIT_UNUSABLE = 2

# The single-platform manifests the images are pushed as (Lambda rejects indexes). Asking for these only means
# PutImage re-sends exactly the bytes the digest was computed from.
MANIFEST_MEDIA_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
]


class PromotionError(ValueError):
    """The outputs document does not say, unambiguously, what to tag."""


class TagConflictError(RuntimeError):
    """The promotion tag exists and names another digest."""


@dataclass(frozen=True)
class Promotion:
    """One digest a promoting stack runs, and the tag that records it."""

    harness: str
    repository_name: str
    registry_id: str
    region: str
    digest: str
    source_tag: str
    """The image stack's immutable tag on this digest (`dev-<revision>`)."""
    tag: str
    """The tag to add (`prod-<revision>`)."""
    clankers: tuple[str, ...]


def _tag_name(reference: str) -> str:
    """`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>` -> `<tag>` (ECR URLs carry no port)."""
    return reference.rpartition(":")[2]


def source_revision(tags: list[str]) -> tuple[str, str, str]:
    """(source environment, revision, immutable tag) from an image's pushed tags, by the naming rules.

    An image is pushed as `revision_tag(env, rev)` plus `floating_tag(env)` (workers.naming.image_tags); the
    environment is the one whose floating tag is present, and the revision is the rest of the one tag that no
    mutable pattern matches.
    """
    names = [_tag_name(tag) for tag in tags]
    immutable = [name for name in names if not any(fnmatch(name, pattern) for pattern in MUTABLE_TAG_PATTERNS)]
    floating_suffix = floating_tag("")  # "-latest", from the rule rather than a copy
    environments = [name.removesuffix(floating_suffix) for name in names if name.endswith(floating_suffix)]
    found = [
        (environment, name.removeprefix(revision_tag(environment, "")), name)
        for name in immutable
        for environment in environments
        if environment and name.startswith(revision_tag(environment, "")) and name != revision_tag(environment, "")
    ]
    if len(found) != 1:
        raise PromotionError(f"expected exactly one `<env>-<revision>` tag beside `<env>-latest` in {names}")
    return found[0]


def _pinned(image: str) -> tuple[str, str] | None:
    """`<repository URL>@sha256:…` -> (repository URL, digest); None for a floating `<url>:<tag>`."""
    repository, sep, digest = image.partition("@")
    return (repository, digest) if sep else None


def plan_promotions(outputs: Mapping[str, Any], environment: str) -> list[Promotion]:
    """What to tag, checked in full before any registry call: a bad document writes nothing."""
    images, clankers = outputs.get("images"), outputs.get("clankers")
    if not isinstance(images, Mapping) or not isinstance(clankers, Mapping):
        raise PromotionError("the stack outputs have no `images` and `clankers` mappings: is this the right stack?")
    if outputs.get("environment") != environment:
        raise PromotionError(
            f"these are the outputs of environment {outputs.get('environment')!r}, not {environment!r}"
        )
    by_pin = {(image.get("repositoryUrl"), image.get("digest")): (name, image) for name, image in images.items()}
    runners: dict[tuple[str, str], list[str]] = {}
    for clanker_name, clanker in sorted(clankers.items()):
        config = clanker.get("deploymentConfig") or {}
        image = str(config.get("imageUri") or config.get("containerImage") or "")
        pin = _pinned(image)
        if pin is None:
            # A promoting stack refuses `image: floating`; a floating tag names no digest, so nothing is promoted.
            raise PromotionError(
                f"clanker {clanker_name} runs {image or 'no image'!r}, not a digest: only pinned digests are "
                "promoted (a floating tag names whatever was pushed last)"
            )
        if pin not in by_pin:
            raise PromotionError(
                f"clanker {clanker_name} runs {image}, which the stack's `images` output does not list"
            )
        runners.setdefault(pin, []).append(clanker_name)

    promotions = []
    for (url, digest), names in sorted(runners.items()):
        harness, image = by_pin[(url, digest)]
        source_environment, revision, source_tag = source_revision(list(image.get("tags", [])))
        if source_environment == environment:
            raise PromotionError(
                f"{harness}: the image is tagged {source_tag} by {environment} itself: this stack builds its "
                "images, there is no promotion to record"
            )
        match = REPOSITORY_URL.match(str(url))
        if match is None:
            raise PromotionError(f"{harness}: {url!r} is not an ECR repository URL")
        promotions.append(
            Promotion(
                harness=harness,
                repository_name=str(image["repositoryName"]),
                registry_id=match["account"],  # the image stack's account, which owns the repository
                region=match["region"],
                digest=str(digest),
                source_tag=source_tag,
                tag=revision_tag(environment, revision),
                clankers=tuple(names),
            )
        )
    return promotions


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _digest_of_tag(client: Any, promotion: Promotion) -> str:
    """The digest the existing tag names, for the conflict message (best effort: it is only reported)."""
    try:
        response = client.batch_get_image(
            repositoryName=promotion.repository_name,
            registryId=promotion.registry_id,
            imageIds=[{"imageTag": promotion.tag}],
            acceptedMediaTypes=MANIFEST_MEDIA_TYPES,
        )
        return str(response["images"][0]["imageId"]["imageDigest"])
    except (ClientError, BotoCoreError, LookupError):
        return "(unknown)"


def record(client: Any, promotion: Promotion) -> str:
    """Tag the digest; returns `tagged` or `already tagged`. Raises TagConflictError, ClientError."""
    where = {"repositoryName": promotion.repository_name, "registryId": promotion.registry_id}
    response = client.batch_get_image(
        **where, imageIds=[{"imageDigest": promotion.digest}], acceptedMediaTypes=MANIFEST_MEDIA_TYPES
    )
    if not response.get("images"):
        failures = "; ".join(f"{f.get('failureCode')}: {f.get('failureReason')}" for f in response.get("failures", []))
        raise PromotionError(f"{promotion.repository_name}@{promotion.digest}: not retrievable ({failures})")
    manifest = response["images"][0]
    try:
        # Same manifest bytes, so the same digest; imageDigest makes ECR check that.
        client.put_image(
            **where,
            imageManifest=manifest["imageManifest"],
            imageManifestMediaType=manifest["imageManifestMediaType"],
            imageTag=promotion.tag,
            imageDigest=promotion.digest,
        )
    except ClientError as error:
        if _error_code(error) == "ImageAlreadyExistsException":
            return "already tagged"  # this tag already names this digest: a rerun
        if _error_code(error) == "ImageTagAlreadyExistsException":
            raise TagConflictError(
                f"{promotion.repository_name}: tag {promotion.tag} already names {_digest_of_tag(client, promotion)}, "
                f"not the promoted {promotion.digest} (tags are immutable; the registry disagrees with what "
                f"{', '.join(promotion.clankers)} run)"
            ) from error
        raise
    return "tagged"


def _summary_line(promotion: Promotion, outcome: str) -> str:
    return (
        f"- {promotion.harness}: `{promotion.repository_name}@{promotion.digest}` "
        f"(`{promotion.source_tag}`) {outcome} `{promotion.tag}`; run by {', '.join(promotion.clankers)}"
    )


def _ecr_client(region: str) -> Any:
    return botocore.session.get_session().create_client("ecr", region_name=region)


def main(argv: list[str] | None = None, client_for: Callable[[str], Any] = _ecr_client) -> int:
    parser = argparse.ArgumentParser(prog="python -m ci.record_promotion", description=__doc__.split("\n\n")[0])
    parser.add_argument("outputs", type=Path, help="the promoting stack's `pulumi stack output --json`, saved")
    parser.add_argument("--environment", required=True, help="the promoting stack's environment (tag prefix)")
    args = parser.parse_args(argv)
    try:
        outputs = json.loads(args.outputs.read_text())
        if not isinstance(outputs, dict):
            raise PromotionError("the stack outputs are not a JSON object")
        promotions = plan_promotions(outputs, args.environment)
    except (OSError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_UNUSABLE

    print(f"### Promotion recorded: `{args.environment}-<revision>` tags", end="\n\n")
    failed = False
    clients: dict[str, Any] = {}
    for promotion in promotions:
        client = clients.setdefault(promotion.region, client_for(promotion.region))
        try:
            outcome = record(client, promotion)
        except (TagConflictError, PromotionError, ClientError, BotoCoreError) as error:
            # Keep going: the other images' tags are independent, and the summary should show them all.
            print(f"error: {error}", file=sys.stderr)
            outcome, failed = f"**failed** ({error}) to tag", True
        print(_summary_line(promotion, outcome))
    if not promotions:
        print("- no clanker runs a promoted image: nothing to record")
    return EXIT_REGISTRY if failed else 0


if __name__ == "__main__":
    sys.exit(main())
