"""ImageReplication: the registry-level ECR replication configuration of an image stack (`viberator:replicas`).

Owns: the one `aws.ecr.ReplicationConfiguration` of this account's registry in the stack's region, with one
rule that copies every `viberator-worker-*` repository (a PREFIX_MATCH filter) to each listed region (and
account). ECR keeps a single replication configuration per registry and region (PutReplicationConfiguration
replaces the whole document), so exactly one stack may own it: the one that owns this account's repositories
(`repositories: create`); components/config.py refuses it anywhere else.
Does not own: the replica repositories of this account's other regions (HarnessImage creates them with the
source's lifecycle, tag immutability and encryption, before the first push), nor another account's side of a
cross-account replica (that account's registry policy allowing `ecr:ReplicateImage`, README "Multi-region").

Replication is asynchronous: a pushed digest appears in each destination some time after the push (usually
within minutes), with the same digest, and only images pushed after the configuration exists are replicated.
`ci/wait_for_replicas.py` waits for the digests before a consumer stack's `up`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi_aws import ecr

from workers.catalog import REPOSITORY_PREFIX


@dataclass(frozen=True)
class ReplicaDestination:
    region: str
    account: str | None = None
    """Another account's registry; None: this stack's own (as `aws.get_caller_identity` answers)."""


@dataclass(frozen=True)
class ImageReplicationArgs:
    destinations: tuple[ReplicaDestination, ...]
    """At most 25 (ECR's limit per rule, checked in components/config.py)."""


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
                        # Only the worker repositories: other repositories of the account are not this stack's.
                        repository_filters=[
                            ecr.ReplicationConfigurationReplicationConfigurationRuleRepositoryFilterArgs(
                                filter=REPOSITORY_PREFIX, filter_type="PREFIX_MATCH"
                            )
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
                {"region": destination.region, "registryId": registry_id}
                for destination, registry_id in zip(args.destinations, ids, strict=True)
            ]
        )
        self.register_outputs({"destinations": self.destinations})
