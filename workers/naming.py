"""Tag and reference rules for worker images: the one definition the Pulumi program and the tooling share.

Tags per image:
- `<env>-<revision>`: immutable; names exactly one build of one environment.
- `<env>-latest`: floating; what a clanker with `image: floating` runs.
- `latest`: floating; optional per stack (`viberator:pushLatest`), because two stacks sharing a repository
  would flip-flop it.
The registry cache lives in a repository of its own, `<repository>-buildcache`, one movable tag per platform
(`buildcache-<arch>`: components/build_cache.py).
"""

from __future__ import annotations

from workers.catalog import REPOSITORY_PREFIX

GLOBAL_LATEST_TAG = "latest"
CACHE_TAG = "buildcache"
SUPPLY_CHAIN_TAG_PATTERN = "sha256-*"
"""The tags of an image's signatures and SBOM, named after its digest: cosign's `sha256-<hex>.sig` and `.sbom`, and
the OCI referrers tag schema's index `sha256-<hex>` (workers/tooling/sbom/referrer.py, signature.py). Each is rewritten
when another signature or referrer is added, so they must stay movable."""
MUTABLE_TAG_PATTERNS: tuple[str, ...] = (GLOBAL_LATEST_TAG, "*-latest", SUPPLY_CHAIN_TAG_PATTERN)
"""ECR wildcard filters for the tags that must stay movable in an otherwise immutable repository."""

LOCAL_ALIAS_TAG = "local"

RESOURCE_PREFIX = "viberator"
"""Every physical name the program gives a stack's AWS resources starts `viberator-<env>`."""
CLANKER_NAME_WILDCARD = f"{RESOURCE_PREFIX}-*"
"""Matches every clanker's physical name (`clanker_resource_name`), whatever its environment: the functions a
repository lets Lambda pull for."""


def revision_tag(environment: str, revision: str) -> str:
    return f"{environment}-{revision}"


def floating_tag(environment: str) -> str:
    return f"{environment}-latest"


def image_tags(environment: str, revision: str, *, push_latest: bool) -> list[str]:
    """The tags one build is pushed under, immutable tag first."""
    tags = [revision_tag(environment, revision), floating_tag(environment)]
    if push_latest:
        tags.append(GLOBAL_LATEST_TAG)
    return tags


def repository_name(harness: str, *, review_environment: str | None = None) -> str:
    """The ECR repository of a harness's images: `viberator-worker-<harness>`, which every environment of an
    account pushes into, or a review stack's own, `viberator-worker-<review environment>-<harness>` (pr-<n>)."""
    if review_environment is not None:
        return f"{REPOSITORY_PREFIX}{review_environment}-{harness}"
    return f"{REPOSITORY_PREFIX}{harness}"


def stack_resource_name(environment: str) -> str:
    """The physical name of what one environment's clankers share: `viberator-<env>` (the ECS cluster)."""
    return f"{RESOURCE_PREFIX}-{environment}"


def clanker_resource_name(environment: str, clanker: str) -> str:
    """A clanker's physical name, `viberator-<env>-<clanker>`: its Lambda function or task definition family,
    stable so the backend can invoke it by name."""
    return f"{stack_resource_name(environment)}-{clanker}"


def image_reference(repository: str, tag: str) -> str:
    """`<repository>:<tag>`, where repository is a URL or a bare name."""
    return f"{repository}:{tag}"


def pinned_reference(repository: str, digest: str) -> str:
    """`<repository>@<digest>`: the form Lambda and ECS run."""
    return f"{repository}@{digest}"


def referrers_tag(digest: str) -> str:
    """The referrers tag schema's tag for a subject digest (OCI distribution-spec 1.1): `sha256-<hex>`."""
    return digest.replace(":", "-")


def sbom_tag(digest: str) -> str:
    """The tag of an image's SBOM referrer, cosign's name for it (workers/tooling/sbom/referrer.py attaches it)."""
    return f"{referrers_tag(digest)}.sbom"
