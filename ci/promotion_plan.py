"""What recording a promotion tags: each digest a promoting stack's clankers run, read from its outputs.

Checked in full before any registry call (ci/record_promotion.py makes them), so a bad document writes nothing.
The tags are derived by the naming rules (workers/naming.py): the promoting environment's `<env>-<revision>` for
the revision of the image stack's immutable tag on the same digest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fnmatch import fnmatch
from typing import Any

from workers.ecr_url import REPOSITORY_URL
from workers.naming import MUTABLE_TAG_PATTERNS, floating_tag, revision_tag

# The single-platform manifests the images are pushed as (Lambda rejects indexes), and the index a multi-platform
# harness's are joined by. Asking for exactly the kind a digest is means PutImage re-sends exactly the bytes the
# digest was computed from.
MANIFEST_MEDIA_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
]
INDEX_MEDIA_TYPES = [
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
]
INDEX = "index"
"""`Promotion.platform` of a multi-platform harness's index."""


class PromotionError(ValueError):
    """The outputs document does not say, unambiguously, what to tag."""


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
    platform: str | None = None
    """Which of a multi-platform harness's manifests: a platform, or INDEX; None for a single-platform image."""

    @property
    def media_types(self) -> list[str]:
        return INDEX_MEDIA_TYPES if self.platform == INDEX else MANIFEST_MEDIA_TYPES

    @property
    def label(self) -> str:
        return self.harness if self.platform is None else f"{self.harness} ({self.platform})"


def _tag_name(reference: str) -> str:
    """`<account>.dkr.ecr.<region>.amazonaws.com/<repo>:<tag>` -> `<tag>` (ECR URLs carry no port)."""
    return reference.rpartition(":")[2]


def _mutable(name: str) -> bool:
    return any(fnmatch(name, pattern) for pattern in MUTABLE_TAG_PATTERNS)


def source_revision(tags: list[str]) -> tuple[str, str, str]:
    """(source environment, revision, immutable tag) from an image's pushed tags, by the naming rules.

    An image is pushed as `revision_tag(env, rev)` plus `floating_tag(env)` (workers.naming.image_tags); the
    environment is the one whose floating tag is present, and the revision is the rest of the one tag that no
    mutable pattern matches.
    """
    names = [_tag_name(tag) for tag in tags]
    immutable = [name for name in names if not _mutable(name)]
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


def _runs(image: Mapping[str, Any]) -> dict[str | None, Mapping[str, Any]]:
    """Each manifest of an `images.<harness>` entry a clanker may pin, by platform: the top-level one (the primary,
    or the only one of outputs without `platforms`) under None, and each platform's of a multi-platform image."""
    platforms = image.get("platforms") if image.get("index") else None
    return {None: image} if not isinstance(platforms, Mapping) else dict(platforms)


def _source_of(harness: str, image: Mapping[str, Any], environment: str) -> tuple[str, str, str]:
    """(source environment, revision, immutable tag) of what carries the floating tags: the image itself, or the
    index joining a multi-platform image's platforms (their own images carry only `<env>-<rev>-<hash>-<arch>`)."""
    carrier = image.get("index") or image
    source = source_revision(list(carrier.get("tags", [])))
    if source[0] == environment:
        raise PromotionError(
            f"{harness}: the image is tagged {source[2]} by {environment} itself: this stack builds its "
            "images, there is no promotion to record"
        )
    return source


def platform_revision(tags: list[str], source_environment: str) -> tuple[str, str]:
    """(revision, immutable tag) of one platform's image of a multi-platform harness: its one
    `<env>-<rev>-<hash>-<arch>` tag, the environment being the one its index's floating tag states."""
    prefix = revision_tag(source_environment, "")
    found = [
        (name.removeprefix(prefix), name)
        for name in map(_tag_name, tags)
        if name.startswith(prefix) and name != prefix and not _mutable(name)
    ]
    if len(found) != 1:
        raise PromotionError(f"expected exactly one `{prefix}<revision>` tag in {[_tag_name(t) for t in tags]}")
    return found[0]


def plan_promotions(outputs: Mapping[str, Any], environment: str) -> list[Promotion]:
    """What to tag, checked in full before any registry call: a bad document writes nothing.

    Every manifest a clanker runs is tagged `<env>-<its source revision>`: a multi-platform harness's each
    platform's (`prod-<rev>-<hash>-arm64` beside dev's `dev-<rev>-<hash>-arm64`), and its index too. No clanker
    runs the index (Lambda refuses one; each clanker pins its own platform's digest), but it is the digest a
    reviewer approved for the harness (ci/verify_promotion.py), and only dev's tags keep it: `dev-latest` moves on
    with dev's next build and dev's count rule (components/repository.py `lifecycle_policy`) then expires it
    while prod still runs its platforms, leaving the approval unverifiable (its signature, `check`, a re-pin).
    Tagged `prod-…`, prod's rule, ahead of dev's, keeps it as long as the platforms it commits to.
    """
    images, clankers = outputs.get("images"), outputs.get("clankers")
    if not isinstance(images, Mapping) or not isinstance(clankers, Mapping):
        raise PromotionError("the stack outputs have no `images` and `clankers` mappings: is this the right stack?")
    if outputs.get("environment") != environment:
        raise PromotionError(
            f"these are the outputs of environment {outputs.get('environment')!r}, not {environment!r}"
        )
    by_pin = {
        (image.get("repositoryUrl"), manifest.get("digest")): (name, platform)
        for name, image in images.items()
        for platform, manifest in _runs(image).items()
    }
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
    indexes: dict[str, list[str]] = {}
    for (url, digest), names in sorted(runners.items()):
        harness, platform = by_pin[(url, digest)]
        image = images[harness]
        source_environment, revision, source_tag = _source_of(harness, image, environment)
        if platform is not None:
            revision, source_tag = platform_revision(
                list(image["platforms"][platform].get("tags", [])), source_environment
            )
            indexes.setdefault(harness, []).extend(names)
        promotions.append(
            _promotion(harness, image, platform, digest, source_tag, revision_tag(environment, revision), names)
        )
    for harness, names in sorted(indexes.items()):
        image = images[harness]
        _, revision, source_tag = _source_of(harness, image, environment)
        promotions.append(
            _promotion(
                harness,
                image,
                INDEX,
                str(image["index"]["digest"]),
                source_tag,
                revision_tag(environment, revision),
                names,
            )
        )
    return promotions


def _promotion(
    harness: str,
    image: Mapping[str, Any],
    platform: str | None,
    digest: str,
    source_tag: str,
    tag: str,
    clankers: list[str],
) -> Promotion:
    url = str(image.get("repositoryUrl"))
    match = REPOSITORY_URL.match(url)
    if match is None:
        raise PromotionError(f"{harness}: {url!r} is not an ECR repository URL")
    return Promotion(
        harness=harness,
        repository_name=str(image["repositoryName"]),
        registry_id=match["account"],  # the image stack's account, which owns the repository
        region=match["region"],
        digest=digest,
        source_tag=source_tag,
        tag=tag,
        clankers=tuple(sorted(set(clankers))),
        platform=platform,
    )
