"""The program: from a parsed StackConfig to images, clankers and the stack outputs.

`__main__.py` only loads config and hands it here. Everything a stack needs is decided before the first
resource is registered, including the images a promoting stack takes from its image stack, so a config
mistake fails the whole run instead of half-deploying it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_target import AwsTarget, aws_target
from components.config import ConfigError, ConfigIssue, StackConfig
from components.execution_role import ClankerRoles
from components.harness_image import HarnessImage, HarnessImageArgs
from components.images import ImageRef
from components.outputs import stack_outputs
from components.promotion import referenced_images
from components.replication import ImageReplication, ImageReplicationArgs, ReplicaDestination
from components.repository import RepositorySettings
from components.review_iam import (
    BOUNDARY_POLICY_NAME,
    CLANKER_BOUNDARY_NAME,
    ROLE_NAME_LIMIT,
    boundary_arn,
    review_role_name,
)
from components.signing import KeyRoles, SigningKey, SigningKeyArgs
from components.tags import stack_tags
from components.targets import TARGETS
from components.targets.base import ClankerStack, Placement
from viberator_contract import ClankerEntry, Lifecycle, Signing
from workers.catalog import BUILD_CONTEXT, HARNESSES
from workers.revision import BuildRevision, build_revision, context_digest, override_revision


def image_revision(config: StackConfig) -> BuildRevision:
    if config.image_revision is not None:
        return override_revision(config.image_revision)
    return build_revision(BUILD_CONTEXT)


def resource_tags(config: StackConfig) -> dict[str, str]:
    if config.review is not None:
        return stack_tags(
            config.environment,
            pulumi.get_stack(),
            pull_request=config.review.pull_request,
            expires=config.review.expires,
        )
    return stack_tags(config.environment, pulumi.get_stack())


def replication(config: StackConfig) -> ImageReplication | None:
    """The registry's replication configuration, when the image stack lists `replicas`."""
    if not config.replicas:
        return None
    destinations = tuple(ReplicaDestination(replica.region, replica.account) for replica in config.replicas)
    repositories = tuple(sorted(config.repository_name_of(harness) for harness in config.harnesses))
    return ImageReplication("images", ImageReplicationArgs(destinations=destinations, repository_names=repositories))


def lifecycle_environments(config: StackConfig) -> tuple[str, ...]:
    """The environments the lifecycle rules keep, in priority order. The shared (promoted) environments' rules
    come first: ECR evaluates rules by priority and an image matched by a rule's tags cannot be expired by a
    lower-priority rule, so a digest prod promoted (tagged prod-<rev> beside its dev-<rev>) is counted only among
    prod's images, never pushed out by newer dev builds."""
    return (*config.shared_environments, config.environment)


def exported_lifecycle(config: StackConfig) -> Lifecycle | None:
    """The `lifecycle` output: the rules of the repositories this stack owns, which another account's replica
    repositories must repeat (components/replication.py, ReplicaRegistry); None when it owns none."""
    if not config.builds_images or config.repositories != "create":
        return None
    return Lifecycle(keep_images=config.keep_images, environments=list(lifecycle_environments(config)))


def key_roles(config: StackConfig) -> KeyRoles:
    signing = config.signing
    if signing is None:
        return KeyRoles()
    return KeyRoles(tuple(signing.key_admins), tuple(signing.program_roles), signing.signer_role)


def signing_key(config: StackConfig) -> SigningKey | None:
    """The key the deploy signs this stack's digests with (StackConfig.creates_signing_key)."""
    if not config.creates_signing_key:
        return None
    return SigningKey(
        "signing",
        SigningKeyArgs(
            environment=config.environment,
            roles=key_roles(config),
            protect=config.protect_repositories,
            resource_tags=resource_tags(config),
        ),
    )


def repository_settings(config: StackConfig, target: AwsTarget) -> RepositorySettings:
    """What every harness repository this stack owns is created with."""
    return RepositorySettings(
        lifecycle_environments=lifecycle_environments(config),
        keep_images=config.keep_images,
        protect=config.protect_repositories,
        force_delete=config.force_delete,
        consumer_accounts=tuple(config.consumer_accounts),
        partition=target.partition,
    )


def build_images(config: StackConfig, target: AwsTarget, replicated: ImageReplication | None) -> dict[str, ImageRef]:
    revision = image_revision(config)
    repository = repository_settings(config, target)
    if revision.note:
        pulumi.log.warn(revision.note)
    images = {}
    for harness in config.harnesses:
        image = HarnessImage(
            harness,
            HarnessImageArgs(
                harness=HARNESSES[harness],
                repository_name=config.repository_name_of(harness),
                environment=config.environment,
                revision=revision.revision,
                source_date_epoch=revision.source_date_epoch,
                context_digest=context_digest(BUILD_CONTEXT),
                repository=repository,
                platforms=config.platforms_of(harness),
                builder=None if config.builder is None else config.builder.name,
                cache_writer_role=None if config.build_cache is None else config.build_cache.writer_role,
                push_latest=config.pushes_latest,
                create_repository=config.repositories == "create",
                # Another account's replicas are that account's to create (docs/promotion.md "Multi-region").
                replica_regions=tuple(replica.region for replica in config.replicas if replica.account is None),
                push_after=(replicated,) if replicated is not None else (),
                resource_tags=resource_tags(config),
            ),
        )
        built = ImageRef.built(image, config.environment, config.region)
        # The deploy that signs a stack's digests attaches their SBOMs too (.github/workflows/deploy-stack.yml).
        images[harness] = built.with_sbom() if config.creates_signing_key else built
    return images


def clanker_roles(config: StackConfig, target: AwsTarget) -> ClankerRoles | None:
    """Every clanker role carries the access project's boundary in its own account: a review stack's
    `viberator-pr-boundary` (and its names `viberator-pr-<n>-…`), any other stack's `viberator-clanker-boundary`;
    the CI roles may create roles with no other (access/). None when no clanker has a role (docker only)."""
    if all(clanker.target == "docker" for clanker in config.clankers):
        return None
    name = CLANKER_BOUNDARY_NAME if config.review is None else BOUNDARY_POLICY_NAME
    account = aws.get_caller_identity_output().account_id
    boundary = pulumi.Output.all(target.partition, account).apply(lambda v: boundary_arn(v[0], v[1], name))
    return ClankerRoles(boundary, None if config.review is None else config.environment)


LONGEST_ROLE_SUFFIX = "execution-role"
"""The longest suffix a clanker's role names get (the ECS execution role's)."""


def check_review_role_names(config: StackConfig) -> None:
    """A review stack's role names must fit IAM's 64 characters: refused before anything is registered."""
    if config.review is None:
        return
    issues = [
        ConfigIssue(
            path=f"viberator:clankers[{index}].name",
            value=clanker.name,
            message=f"in a review stack its role `{name}` would exceed IAM's {ROLE_NAME_LIMIT} characters",
        )
        for index, clanker in enumerate(config.clankers)
        if clanker.target != "docker"
        and len(name := review_role_name(config.environment, clanker.name, LONGEST_ROLE_SUFFIX)) > ROLE_NAME_LIMIT
    ]
    if issues:
        raise ConfigError(issues)


def clanker_stack(config: StackConfig) -> ClankerStack:
    return ClankerStack(
        environment=config.environment,
        region=config.region,
        log_retention_days=config.log_retention_days,
        protect=config.protect_resources,
        tags=resource_tags(config),
        network=config.network,
        roles=clanker_roles(config, aws_target()),
        secret_keys=dict(config.secret_keys),
    )


def deploy_clankers(config: StackConfig, images: Mapping[str, ImageRef]) -> dict[str, ClankerEntry]:
    """Each target deploys its clankers (and what they share), in the registry's order."""
    stack = clanker_stack(config)
    entries: dict[str, ClankerEntry] = {}
    for target in TARGETS:
        placements = [Placement(c, images[c.agent]) for c in config.clankers if c.target == target.name]
        if placements:
            entries |= target.deploy(stack, placements)
    return entries


async def deploy(config: StackConfig) -> dict[str, Any]:
    """Register every resource of the stack and return its outputs."""
    check_review_role_names(config)
    replicated = replication(config) if config.builds_images else None
    key = signing_key(config)
    signing: Signing | None = key.outputs() if key is not None else None
    if config.builds_images:
        images = build_images(config, aws_target(), replicated)
    else:
        images, signing = await referenced_images(config, aws_target().partition, resource_tags(config))

    deployments = deploy_clankers(config, images)
    replicas: pulumi.Input[list[dict[str, Any]]] = replicated.destinations if replicated is not None else []
    return stack_outputs(
        config.environment,
        images,
        deployments,
        replicas,
        exported_lifecycle(config),
        signing,
    )
