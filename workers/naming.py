"""Tag and reference rules for worker images: the one definition the Pulumi program and the tooling share.

Tags per image:
- `<env>-<revision>-<settings hash>[-<arch>]` (`immutable_tag`): immutable; names exactly one build of one
  environment. `<revision>` traces it to the build context's commit (`workers.revision`); the settings hash
  (`hash_of`) covers the build's own inputs, so a build with any input changed gets a tag that does not exist yet
  (an immutable repository refuses to move one). The Pulumi program hashes its docker-build Image's arguments
  (components/image_build.py), the tooling its `docker build` options (workers/tooling/build/plan.py): one rule,
  one hash function, each over the inputs of its own build. `-<arch>` ends the tag of each platform's image of a
  multi-platform build; the index (manifest list) joining them hashes their tags (`index_hash`).
- `<env>-latest`: floating; what a clanker with `image: floating` runs.
- `latest`: floating; optional per stack (`viberator:pushLatest`), because two stacks sharing a repository
  would flip-flop it.
The registry cache lives in a repository of its own, `<repository>-buildcache`, one movable tag per platform
(`buildcache-<arch>`: components/build_cache.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

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


SETTINGS_HASH_LENGTH = 8
"""Hex digits of the settings hash in an immutable tag."""


def hash_of(settings: Any) -> str:
    """The settings hash: sha256 of `settings` as canonical JSON (sorted keys, compact), its first
    SETTINGS_HASH_LENGTH hex digits. The one function both the program and the tooling hash with."""
    canonical = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:SETTINGS_HASH_LENGTH]


def revision_tag(environment: str, revision: str) -> str:
    """`<env>-<revision>`: what every immutable tag of `revision` starts with (`immutable_tag` adds the hash)."""
    return f"{environment}-{revision}"


def architecture_suffix(platform: str) -> str:
    """`linux/arm64` -> `arm64`: a platform's image's tag suffix in a multi-platform build (a variant, if any,
    joined with `-`: a tag holds no `/`)."""
    return platform.split("/", 1)[1].replace("/", "-")


def immutable_tag(environment: str, revision: str, settings_hash: str, platform: str | None = None) -> str:
    """`<env>-<revision>-<settings hash>`, and `-<arch>` for `platform`'s image of a multi-platform build."""
    tag = revision_tag(environment, f"{revision}-{settings_hash}")
    return f"{tag}-{architecture_suffix(platform)}" if platform is not None else tag


def index_hash(sources: Sequence[str], floating: Sequence[str]) -> str:
    """The settings hash of a multi-platform build's index: new whenever a platform's image is (`sources`, their
    immutable tags) or its floating tags change, so the index never moves an immutable tag either."""
    return hash_of({"sources": list(sources), "floatingTags": list(floating)})


def floating_tag(environment: str) -> str:
    return f"{environment}-latest"


def floating_tags(environment: str, *, push_latest: bool) -> list[str]:
    """`<env>-latest`, and `latest` where the stack (or the build) pushes it."""
    return [floating_tag(environment), *([GLOBAL_LATEST_TAG] if push_latest else [])]


def image_tags(immutable: str, environment: str, *, push_latest: bool) -> list[str]:
    """The tags one build is pushed under, its immutable tag first."""
    return [immutable, *floating_tags(environment, push_latest=push_latest)]


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
