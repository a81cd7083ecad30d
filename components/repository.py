"""A repository of worker images: the ECR repository, its lifecycle rules and its pull policy, wherever it is.

The harness's own (components/harness_image.py), a replica in another region of the image stack's account, or a
replica another account's promoting stack creates (components/replication.py) are all made here, with the same
settings: ECR applies each repository's own lifecycle rules to the images in it, so every copy of a digest must
be judged by the same rules.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
from pulumi_aws import ecr

from components.policies import policy_document
from workers.naming import (
    CACHE_TAG,
    CLANKER_NAME_WILDCARD,
    GLOBAL_LATEST_TAG,
    MUTABLE_TAG_PATTERNS,
    SUPPLY_CHAIN_TAG_PATTERN,
)

UNTAGGED_EXPIRY_DAYS = 7
"""Untagged manifests are superseded cache layers or interrupted pushes; a week leaves time to debug."""
FLOATING_TAG_PATTERN = f"*{GLOBAL_LATEST_TAG}"
"""`latest` and every `<env>-latest`: the images floating clankers run."""
FLOATING_IMAGES_KEPT = 9999
"""More images than can ever carry a floating tag (one per environment, plus `latest`): the rule expires none."""
SUPPLY_CHAIN_ARTIFACTS_KEPT = 9999
"""Likewise for signatures and SBOMs (`sha256-*` tags): the rule expires none, so no image's signature or SBOM
is ever expired while the image lives (ECR's rules cannot tie an artifact's expiry to its subject's). An expired
image's SBOM goes with it (a referrer); its `.sig` is deleted by ci/prune_signatures.py, daily."""


@dataclass(frozen=True)
class RepositorySettings:
    """What a repository of worker images is created with besides its name, wherever it is: the harness's own, a
    replica in another region of the image stack's account, or a replica another account's promoting stack
    creates (components/replication.py, ReplicaRegistry). ECR applies each repository's own lifecycle rules to
    the images in it, so every copy of a digest must be judged by the same rules."""

    lifecycle_environments: tuple[str, ...]
    """The environments each kept by its own rule, in priority order (`lifecycle_policy`)."""
    keep_images: int
    """Builds (or promotions) kept per environment."""
    manifests_per_build: int = 1
    """`<env>-*` manifests one build (or promotion) tags: its platforms' images, and the index joining them where
    there are several (`manifests_per_build`)."""
    protect: bool = False
    """Protect (and retain on delete) the repository: its images are digests clankers pin."""
    force_delete: bool = False
    """Let `pulumi destroy` delete a repository that still holds images (never in production)."""
    consumer_accounts: tuple[str, ...] = ()
    """Other accounts whose clankers pull from it (`pull_policy`)."""
    partition: pulumi.Input[str] = "aws"


@dataclass(frozen=True)
class OwnedRepository:
    repository: ecr.Repository
    policies: tuple[ecr.LifecyclePolicy, ecr.RepositoryPolicy]
    """Its lifecycle and pull policies: a clanker that pulls from the repository waits for them."""


def manifests_per_build(platforms: int) -> int:
    """The `<env>-*` manifests one build pushes (and one promotion tags): each platform's image, plus the index
    joining them when there are several (components/harness_image.py; ci/record_promotion.py tags them all)."""
    return platforms + 1 if platforms > 1 else 1


def lifecycle_policy(environments: tuple[str, ...], keep_images: int, per_build: int = 1) -> str:
    """ECR lifecycle rules: keep the newest `keep_images` builds per environment, expire old untagged manifests.

    ECR counts images, not builds: `imageCountMoreThan` sorts the images a rule selects (each manifest carrying a
    matching tag: a platform's image and an index alike) by push time and expires all past the count (ECR User
    Guide, "Lifecycle policy properties in Amazon ECR", countType). A build of several platforms tags
    `per_build` manifests, so the count is `keep_images * per_build`: at least `keep_images` builds (a build where
    one platform's inputs did not change pushes fewer new manifests, so more builds are kept, never fewer).
    An image matched by a rule's tag selection can't be expired by a later rule, so an image that carries
    tags of two environments (a promoted digest) is judged only by the first environment's count.
    """
    # First, the images floating tags name: a floating clanker runs whatever `<env>-latest` names, and an image
    # selected by a higher-priority rule cannot be expired by a lower one, so no count ever expires it.
    rules: list[dict[str, object]] = [
        {
            "rulePriority": 1,
            "description": "Keep every image a floating tag names",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": [FLOATING_TAG_PATTERN],
                "countType": "imageCountMoreThan",
                "countNumber": FLOATING_IMAGES_KEPT,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": "Keep every signature and SBOM (tags named after their image's digest)",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": [SUPPLY_CHAIN_TAG_PATTERN],
                "countType": "imageCountMoreThan",
                "countNumber": SUPPLY_CHAIN_ARTIFACTS_KEPT,
            },
            "action": {"type": "expire"},
        },
    ]
    rules += [
        {
            "rulePriority": priority,
            "description": f"Keep the newest {keep_images} {environment} builds"
            + (f" ({per_build} manifests each)" if per_build > 1 else ""),
            "selection": {
                "tagStatus": "tagged",
                "tagPrefixList": [f"{environment}-"],
                "countType": "imageCountMoreThan",
                "countNumber": keep_images * per_build,
            },
            "action": {"type": "expire"},
        }
        for priority, environment in enumerate(environments, start=len(rules) + 1)
    ]
    # The build cache this repository held before caches moved to repositories of their own
    # (components/build_cache.py): no build writes it any more, and only this rule selects it.
    rules.append(
        {
            "rulePriority": len(rules) + 1,
            "description": f"Expire the retired build cache ({CACHE_TAG}: caches are in <repository>-{CACHE_TAG})",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": [CACHE_TAG],
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": 1,
            },
            "action": {"type": "expire"},
        }
    )
    rules.append(expire_untagged_rule(len(rules) + 1, "untagged manifests"))
    return json.dumps({"rules": rules}, indent=2)


def expire_untagged_rule(priority: int, what: str) -> dict[str, object]:
    """The lifecycle rule that expires untagged manifests (`what`, as the rule describes them) a week after
    their push: an image or cache manifest a moved tag left behind."""
    return {
        "rulePriority": priority,
        "description": f"Expire {what} after {UNTAGGED_EXPIRY_DAYS} days",
        "selection": {
            "tagStatus": "untagged",
            "countType": "sinceImagePushed",
            "countUnit": "days",
            "countNumber": UNTAGGED_EXPIRY_DAYS,
        },
        "action": {"type": "expire"},
    }


def pull_policy(partition: str, own_account: str, consumer_accounts: tuple[str, ...]) -> str:
    """The repository policy: Lambda may pull for this account's clanker functions and the consumers', and the
    consumer accounts may pull.

    Managed here rather than left to Lambda, which otherwise appends its own statement on CreateFunction: a
    policy Pulumi does not own would drift, and the next write of ours would drop Lambda's statement.
    """
    pull = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    functions = [
        f"arn:{partition}:lambda:*:{account}:function:{CLANKER_NAME_WILDCARD}"
        for account in (own_account, *consumer_accounts)
    ]
    statements: list[dict[str, object]] = [
        {
            "Sid": "LambdaPull",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": pull,
            "Condition": {"StringLike": {"aws:sourceARN": functions}},
        }
    ]
    if consumer_accounts:
        statements.append(
            {
                "Sid": "ConsumerAccountsPull",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:{partition}:iam::{account}:root" for account in consumer_accounts]},
                # DescribeImages: a consumer's deploy waits until a replicated digest is here (ci/wait_for_replicas.py).
                "Action": [*pull, "ecr:DescribeImages"],
            }
        )
    return policy_document(statements)


def owned_repository(
    prefix: str,
    repository_name: str,
    settings: RepositorySettings,
    tags: Mapping[str, str],
    *,
    parent: pulumi.Resource,
    region: str | None = None,
) -> OwnedRepository:
    """A repository this stack owns, with its lifecycle and pull policies: the harness's own, or its replica in
    `region` (the provider's region when None). A replica gets exactly the source's settings: ECR applies each
    repository's lifecycle rules to the images in it, so a replica with other rules would expire replicated images
    on another schedule, and a mutable replica would let a tag name other bytes there than here."""
    child = pulumi.ResourceOptions(parent=parent)
    repository = ecr.Repository(
        f"{prefix}-repository",
        name=repository_name,
        region=region,
        # Immutable so `<env>-<revision>-<hash>` always names the bytes it was first pushed with; the floating tags,
        # signatures and SBOMs must move (the build cache is in a repository of its own: components/build_cache.py).
        image_tag_mutability="IMMUTABLE_WITH_EXCLUSION",
        image_tag_mutability_exclusion_filters=[
            ecr.RepositoryImageTagMutabilityExclusionFilterArgs(filter=pattern, filter_type="WILDCARD")
            for pattern in MUTABLE_TAG_PATTERNS
        ],
        image_scanning_configuration=ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
        encryption_configurations=[ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS")],
        force_delete=settings.force_delete,
        tags=dict(tags),
        # Deleting a repository deletes every image in it, also the digests other stacks pin: a protected
        # repository is also retained, so that even an unprotected `destroy` leaves it in the account.
        opts=pulumi.ResourceOptions(parent=parent, protect=settings.protect, retain_on_delete=settings.protect),
    )
    lifecycle = ecr.LifecyclePolicy(
        f"{prefix}-lifecycle",
        repository=repository.name,
        region=region,
        policy=lifecycle_policy(settings.lifecycle_environments, settings.keep_images, settings.manifests_per_build),
        opts=child,
    )
    pull = ecr.RepositoryPolicy(
        f"{prefix}-pull-policy",
        repository=repository.name,
        region=region,
        policy=pulumi.Output.all(settings.partition, repository.registry_id).apply(
            lambda values: pull_policy(values[0], values[1], settings.consumer_accounts)
        ),
        opts=child,
    )
    return OwnedRepository(repository, (lifecycle, pull))
