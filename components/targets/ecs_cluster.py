"""ClankerCluster: the ECS cluster and the network every ECS clanker's tasks run in (one per stack).

Owns: the cluster (container insights on), an egress-only security group, and the subnet choice (the
configured subnets, or the default VPC's when none are configured). Does not own task definitions: each
EcsClanker registers its own. The backend passes `subnets` and `security_groups` to RunTask.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import ec2, ecs


@dataclass(frozen=True)
class ClankerClusterArgs:
    cluster_name: str
    """Physical name, `viberator-<env>`."""
    vpc_id: str | None = None
    """None: the account's default VPC, with its subnets."""
    subnet_ids: tuple[str, ...] = ()
    """Required when `vpc_id` is set."""
    assign_public_ip: bool = False
    """Tasks in public subnets without NAT need a public IP to reach ECR and the agents' APIs."""
    protect: bool = False
    """Protect the cluster from deletion (production)."""
    resource_tags: Mapping[str, str] = field(default_factory=dict)


class ClankerCluster(pulumi.ComponentResource):
    TYPE = "viberator:workers:ClankerCluster"

    cluster_arn: pulumi.Output[str]
    cluster_name: pulumi.Output[str]
    subnet_ids: pulumi.Output[list[str]]
    security_group_ids: pulumi.Output[list[str]]
    assign_public_ip: bool

    def __init__(self, name: str, args: ClankerClusterArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)

        if args.vpc_id is None:
            vpc_id: pulumi.Output[str] = ec2.get_vpc_output(default=True, opts=invoke).id
            subnet_ids = ec2.get_subnets_output(
                filters=vpc_id.apply(lambda vpc: [ec2.GetSubnetsFilterArgs(name="vpc-id", values=[vpc])]),
                opts=invoke,
            ).ids
        else:
            vpc_id = pulumi.Output.from_input(args.vpc_id)
            subnet_ids = pulumi.Output.from_input(list(args.subnet_ids))

        cluster = ecs.Cluster(
            f"{name}-cluster",
            name=args.cluster_name,
            settings=[ecs.ClusterSettingArgs(name="containerInsights", value="enabled")],
            tags=dict(args.resource_tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
        )
        # Workers call out (registry, agent APIs, git hosts) and accept nothing in.
        security_group = ec2.SecurityGroup(
            f"{name}-egress-only",
            # A prefix, not a name: a replacement is created before the old group is deleted, and two groups
            # can't share a name in a VPC.
            name_prefix=f"{args.cluster_name}-workers-",
            description="viberator workers: outbound only",
            vpc_id=vpc_id,
            egress=[
                ec2.SecurityGroupEgressArgs(
                    description="Outbound to registries and agent APIs",
                    protocol="-1",
                    from_port=0,
                    to_port=0,
                    cidr_blocks=["0.0.0.0/0"],
                    ipv6_cidr_blocks=["::/0"],
                )
            ],
            tags=dict(args.resource_tags),
            opts=child,
        )

        self.cluster_arn = cluster.arn
        self.cluster_name = cluster.name
        self.subnet_ids = subnet_ids
        self.security_group_ids = pulumi.Output.all(security_group.id)
        self.assign_public_ip = args.assign_public_ip
        self.register_outputs({"clusterArn": self.cluster_arn, "subnetIds": self.subnet_ids})
