"""ImageReplication: the registry-level ECR replication configuration of an image stack (`viberator:replicas`);
ReplicaRegistry: the destination side of a replica in another account, which that account's promoting stack owns.

Owns: the one `aws.ecr.ReplicationConfiguration` of this account's registry in the stack's region, with one
rule that copies this stack's repositories (a PREFIX_MATCH filter each) to each listed region (and
account). ECR keeps a single replication configuration per registry and region (PutReplicationConfiguration
replaces the whole document), so exactly one stack may own it: the one that owns this account's repositories
(`repositories: create`); components/config/rules/replicas.py refuses it anywhere else.
Does not own: the replica repositories of this account's other regions (HarnessImage creates them with the
source's lifecycle, tag immutability and encryption, before the first push), nor another account's side of a
cross-account replica: ReplicaRegistry, created by the promoting stack in that account and region.

Replication is asynchronous: a pushed digest appears in each destination some time after the push (usually
within minutes), with the same digest, and only images pushed after the configuration exists are replicated.
`ci/wait_for_replicas.py` waits for the digests before a consumer stack's `up`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi_aws import ecr

from components.policies import policy_document
from components.repository import RepositorySettings, owned_repository
from viberator_contract import Replica


@dataclass(frozen=True)
class ReplicaDestination:
    region: str
    account: str | None = None
    """Another account's registry; None: this stack's own (as `aws.get_caller_identity` answers)."""


@dataclass(frozen=True)
class ImageReplicationArgs:
    destinations: tuple[ReplicaDestination, ...]
    """At most 25 (ECR's limit per rule, checked in components/config_model/stack.py)."""
    repository_names: tuple[str, ...]
    """The repositories this stack owns, each its own PREFIX_MATCH filter (ECR allows 100 per rule): a bare
    `viberator-worker-` prefix would also copy repositories other stacks own in this registry (a review
    stack's `viberator-worker-pr-<n>-…`), which ECR would then create in each destination with its defaults."""


class ImageReplication(pulumi.ComponentResource):
    destinations: pulumi.Output[list[dict[str, Any]]]
    """`[{region, registryId}]`: the `replicas` stack output, from which consumer stacks find their copy."""

    def __init__(self, name: str, args: ImageReplicationArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("viberator:workers:ImageReplication", name, None, opts)
        own_account = aws.get_caller_identity_output(opts=pulumi.InvokeOutputOptions(parent=self)).account_id
        registry_ids = [destination.account or own_account for destination in args.destinations]
        ecr.ReplicationConfiguration(
            f"{name}-configuration",
            replication_configuration=ecr.ReplicationConfigurationReplicationConfigurationArgs(
                rules=[
                    ecr.ReplicationConfigurationReplicationConfigurationRuleArgs(
                        destinations=[
                            ecr.ReplicationConfigurationReplicationConfigurationRuleDestinationArgs(
                                region=destination.region, registry_id=registry_id
                            )
                            for destination, registry_id in zip(args.destinations, registry_ids, strict=True)
                        ],
                        # Only this stack's repositories: other repositories of the account are not its own.
                        repository_filters=[
                            ecr.ReplicationConfigurationReplicationConfigurationRuleRepositoryFilterArgs(
                                filter=name, filter_type="PREFIX_MATCH"
                            )
                            for name in args.repository_names
                        ],
                    )
                ]
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        # Written from the config and the account, not read back from the configuration: a consumer's plan (and
        # a first preview) knows where the copies will be before the configuration exists.
        self.destinations = pulumi.Output.all(*registry_ids).apply(
            lambda ids: [
                Replica(region=destination.region, registry_id=registry_id).model_dump()
                for destination, registry_id in zip(args.destinations, ids, strict=True)
            ]
        )
        self.register_outputs({"destinations": self.destinations})


def replication_policy(partition: str, source_account: str, repository_arns: list[str]) -> str:
    """The registry policy letting `source_account` replicate into exactly these repositories.

    ECR User Guide, "Private registry permissions for replication" (registry-permissions-create-replication):
    a cross-account destination's registry policy must allow `ecr:ReplicateImage`; `ecr:CreateRepository` is
    needed only for repositories that don't exist, and without it "a repository with the same name as the source
    repository must be created manually". It is left out on purpose: every repository this stack runs is created
    here with the source's settings, and ECR would create any other (a harness this stack does not promote, a
    review stack's `viberator-worker-pr-<n>-…`) with its defaults (mutable tags, no lifecycle), never deleted.
    """
    return policy_document(
        [
            {
                "Sid": "ReplicationFromImageStack",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{source_account}:root"},
                "Action": ["ecr:ReplicateImage"],
                "Resource": sorted(repository_arns),
            }
        ]
    )


@dataclass(frozen=True)
class ReplicaRegistryArgs:
    source_account: str
    """The image stack's account, whose replication configuration names this registry."""
    repositories: Mapping[str, str]
    """Harness -> repository name: one replica repository per promoted harness, named as the source's (ECR
    replicates into the repository of the same name)."""
    settings: RepositorySettings
    """The source's lifecycle (its `lifecycle` output), and this stack's protection and Lambda functions."""
    manifests_per_build: Mapping[str, int] = field(default_factory=dict)
    """Harness -> manifests one of its builds tags (its platforms, and its index: `repository.manifests_per_build`),
    so that a replica keeps as many builds as its source; 1 where unlisted."""
    resource_tags: Mapping[str, str] = field(default_factory=dict)
    """The stack's tags (`components.tags`); the harness tag is added per repository."""


class ReplicaRegistry(pulumi.ComponentResource):
    """The destination side of another account's replication into this account's registry in this region.

    Owns: the registry policy, which ECR keeps one of per registry and region (PutRegistryPolicy replaces it
    whole), so exactly one stack may own it: the promoting stack that owns this registry's replicas
    (`viberator:images.replicaRepositories: create`, the default); and a replica repository per promoted
    harness with the source's settings (`owned_repository`, the image stack's own code), before anything is
    replicated into it, so that ECR never creates one with its defaults.

    Only images the source pushes after the registry policy exists are replicated: this stack goes first
    (docs/promotion.md "Multi-region", rollout order).
    """

    ready: dict[str, pulumi.Output[str]]
    """Harness -> its replica's repository URL, known once the repository, its policies and the registry policy
    exist: what this stack's clankers pin, so that each waits for them."""

    def __init__(self, name: str, args: ReplicaRegistryArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("viberator:workers:ReplicaRegistry", name, None, opts)
        owned = {
            harness: owned_repository(
                f"{harness}-replica",
                repository_name,
                replace(args.settings, manifests_per_build=args.manifests_per_build.get(harness, 1)),
                {**args.resource_tags, "Harness": harness},
                parent=self,
            )
            for harness, repository_name in sorted(args.repositories.items())
        }
        # After the repositories (the policy names their ARNs): replication is never allowed into a registry
        # whose repositories are not there yet.
        policy = ecr.RegistryPolicy(
            f"{name}-policy",
            policy=pulumi.Output.all(args.settings.partition, *(o.repository.arn for o in owned.values())).apply(
                lambda values: replication_policy(values[0], args.source_account, list(values[1:]))
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.ready = {
            harness: pulumi.Output.all(o.repository.repository_url, policy.id, *(p.id for p in o.policies)).apply(
                lambda values: str(values[0])
            )
            for harness, o in owned.items()
        }
        self.register_outputs({"ready": self.ready})
