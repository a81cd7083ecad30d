"""A harness's registry build cache: a repository of its own (`<repository>-buildcache`), one tag per platform,
that only the configured build role may write.

Why per platform: the platform Images of a multi-platform harness build concurrently; with one `buildcache` tag
each `mode=max` export replaced the other's, and every rebuild started nearly cold (docker-build's own Index
example keeps one cache per platform: pulumi/pulumi-docker-build, provider/internal/embed/index-examples.md).
Each platform writes `buildcache-<arch>` and reads its own first, then the others' (stages that do not depend on
the target platform, such as fetched sources, hit either).

Why a repository of its own: every build imports the cache, and CI signs what it builds, so whoever can write the
cache chooses layers of a signed image. Its repository policy denies every image write (layer upload, manifest
put, delete) to any principal but `writer_role` (`aws:PrincipalArn` is the role's ARN for its sessions: IAM User
Guide, "AWS global condition context keys"), and an explicit deny in a resource policy overrides any allow
(IAM User Guide, "Policy evaluation logic"). The image repositories no longer hold a cache: their lifecycle
expires the retired `buildcache` tag (components/repository.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_aws import ecr

from components.policies import policy_document
from components.repository import expire_untagged_rule
from workers.naming import CACHE_TAG

CACHE_REPOSITORY_SUFFIX = f"-{CACHE_TAG}"
CACHE_TAG_PATTERN = f"{CACHE_TAG}-*"
"""Every platform's cache tag: the only tags of the cache repository, all movable."""
IMAGE_WRITE_ACTIONS = (
    "ecr:BatchDeleteImage",
    "ecr:CompleteLayerUpload",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
)
"""What a push (and a delete) calls: the ECR actions of `docker push` (ECR User Guide, "Pushing an image": the
required IAM permissions), and BatchDeleteImage, which would let a writer drop the cache for a poisoned one."""


def cache_tag(platform: str) -> str:
    """`buildcache-amd64` for `linux/amd64`."""
    return f"{CACHE_TAG}-{platform.split('/', 1)[1]}"


def cache_repository_name(repository_name: str) -> str:
    return f"{repository_name}{CACHE_REPOSITORY_SUFFIX}"


def cache_reference(repository_url: pulumi.Input[str], platform: str) -> pulumi.Output[str]:
    """`platform`'s cache: the cache repository's URL is the image repository's with the suffix (same registry),
    so a stack that looks its repositories up finds the cache the same way."""
    return pulumi.Output.concat(repository_url, CACHE_REPOSITORY_SUFFIX, ":", cache_tag(platform))


def cache_sources(
    repository_url: pulumi.Input[str], platforms: tuple[str, ...], platform: str
) -> list[pulumi.Output[str]]:
    """What `platform`'s build reads: its own cache first, then the other platforms'."""
    ordered = [platform, *(other for other in platforms if other != platform)]
    return [cache_reference(repository_url, each) for each in ordered]


def writer_only_policy(writer_role: str) -> str:
    """The cache repository's policy: no image write by anyone but `writer_role`."""
    return policy_document(
        [
            {
                "Sid": "OnlyTheBuildRoleWrites",
                "Effect": "Deny",
                "Principal": "*",
                "Action": list(IMAGE_WRITE_ACTIONS),
                "Condition": {"ArnNotEquals": {"aws:PrincipalArn": writer_role}},
            }
        ]
    )


def cache_lifecycle_policy() -> str:
    """Expire superseded cache manifests: each export moves its tag and leaves the previous manifest untagged."""
    return json.dumps(
        {"rules": [expire_untagged_rule(1, "superseded cache manifests")]},
        indent=2,
    )


@dataclass(frozen=True)
class BuildCacheRepository:
    repository: ecr.Repository
    policy: ecr.RepositoryPolicy | None
    """None when no writer is configured (a review stack's own cache)."""


def build_cache_repository(
    prefix: str,
    repository_name: str,
    writer_role: str | None,
    tags: Mapping[str, str],
    *,
    protect: bool,
    force_delete: bool,
    parent: pulumi.Resource,
) -> BuildCacheRepository:
    """The cache repository of the image repository `repository_name`, protected and force-deleted as that one is
    (one rule for every repository a stack owns, though a cache holds nothing a clanker runs)."""
    child = pulumi.ResourceOptions(parent=parent)
    repository = ecr.Repository(
        f"{prefix}-cache-repository",
        name=cache_repository_name(repository_name),
        image_tag_mutability="IMMUTABLE_WITH_EXCLUSION",
        image_tag_mutability_exclusion_filters=[
            ecr.RepositoryImageTagMutabilityExclusionFilterArgs(filter=CACHE_TAG_PATTERN, filter_type="WILDCARD")
        ],
        image_scanning_configuration=ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
        encryption_configurations=[ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS")],
        force_delete=force_delete,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent, protect=protect, retain_on_delete=protect),
    )
    ecr.LifecyclePolicy(
        f"{prefix}-cache-lifecycle", repository=repository.name, policy=cache_lifecycle_policy(), opts=child
    )
    policy = None
    if writer_role is not None:
        policy = ecr.RepositoryPolicy(
            f"{prefix}-cache-policy",
            repository=repository.name,
            policy=writer_only_policy(writer_role),
            opts=child,
        )
    return BuildCacheRepository(repository, policy)
