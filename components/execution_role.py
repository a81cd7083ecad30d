"""What every cloud clanker starts with: its log group, and the role its service assumes with an inline policy
scoped to that log group.

One function for the Lambda and the ECS clanker: the resources keep their owners' names (`<clanker>-logs`,
`<clanker>-<role>`, `<clanker>-<policy>`) and parent, so their URNs are the ones the stacks were created with.
The log group is created first, so the clanker never writes into a group its service would create with
infinite retention.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pulumi
from pulumi_aws import cloudwatch, iam

from components.policies import assume_role_policy


@dataclass(frozen=True)
class ExecutionRoleArgs:
    log_group_name: str
    log_retention_days: int
    service: str
    """The AWS service principal that assumes the role (components/policies.py)."""
    role_suffix: str
    policy_suffix: str
    policy: Callable[[pulumi.Output[str]], pulumi.Input[str]]
    """The inline policy, from the log group's ARN."""
    tags: Mapping[str, str]


@dataclass(frozen=True)
class ExecutionRole:
    log_group: cloudwatch.LogGroup
    role: iam.Role
    policy: iam.RolePolicy


def execution_role(clanker: str, args: ExecutionRoleArgs, opts: pulumi.ResourceOptions) -> ExecutionRole:
    """Registers the three resources with `opts` (the owning clanker as parent, its protection)."""
    log_group = cloudwatch.LogGroup(
        f"{clanker}-logs",
        name=args.log_group_name,
        retention_in_days=args.log_retention_days,
        tags=dict(args.tags),
        opts=opts,
    )
    role = iam.Role(
        f"{clanker}-{args.role_suffix}",
        assume_role_policy=assume_role_policy(args.service),
        tags=dict(args.tags),
        opts=opts,
    )
    policy = iam.RolePolicy(
        f"{clanker}-{args.policy_suffix}", role=role.id, policy=args.policy(log_group.arn), opts=opts
    )
    return ExecutionRole(log_group, role, policy)
