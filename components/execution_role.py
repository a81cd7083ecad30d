"""What every cloud clanker starts with: its log group, and the role its service assumes with an inline policy
scoped to that log group.

One function for the Lambda and the ECS clanker: the resources keep their owners' names (`<clanker>-logs`,
`<clanker>-<role>`, `<clanker>-<policy>`) and parent, so their URNs are the ones the stacks were created with.
The log group is created first, so the clanker never writes into a group its service would create with
infinite retention.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import cloudwatch, iam

from components.policies import BedrockUse, assume_role_policy
from components.review_iam import CLANKER_ROLE_PATH, review_role_name


@dataclass(frozen=True)
class ClankerRoles:
    """How a stack's clanker roles are made: each carries `boundary`, the access project's permissions boundary in
    the stack's account (the only boundary the deploy and review roles may create roles with). A review stack's
    roles are also named `viberator-pr-<n>-<clanker>-<role>` (`review_environment`); every other stack's are
    auto-named under the IAM path CLANKER_ROLE_PATH (components/review_iam.py). `path` is ForceNew
    (terraform-provider-aws internal/service/iam/role.go), so moving a role there replaces it once under the same
    URN (docs/ci.md: the rollout)."""

    boundary: pulumi.Input[str]
    """The permissions boundary's ARN: `viberator-pr-boundary` in a review stack, else `viberator-clanker-boundary`
    (components/review_iam.py)."""
    review_environment: str | None = None


@dataclass(frozen=True)
class RoleNaming:
    """A clanker role's physical name (None: auto-named) and boundary (None only where no stack set one)."""

    name: str | None = None
    boundary: pulumi.Input[str] | None = None
    path: str | None = None
    """None: IAM's default `/` (review stacks' roles, named by prefix instead)."""


def role_naming(roles: ClankerRoles | None, clanker: str, role_suffix: str) -> RoleNaming:
    if roles is None:
        return RoleNaming()
    if roles.review_environment is None:
        return RoleNaming(boundary=roles.boundary, path=CLANKER_ROLE_PATH)
    return RoleNaming(review_role_name(roles.review_environment, clanker, role_suffix), roles.boundary)


@dataclass(frozen=True)
class CloudSettings:
    """What every cloud clanker's agent runs with and its resources carry, whatever the target."""

    environment: Mapping[str, str] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict)
    """Env var name -> Secrets Manager ARN; the execution role may read exactly these."""
    secret_keys: Mapping[str, str] = field(default_factory=dict)
    """Whole secret ARN -> its customer-managed KMS key, for the secrets above that have one
    (`viberator:secretKeys`): the execution role may decrypt them with it."""
    log_retention_days: int = 30
    resource_tags: Mapping[str, str] = field(default_factory=dict)
    """The stack's tags; the clanker tag is added to each resource."""
    protect: bool = False
    """Protect what outlives a deploy (production); each clanker component says what that is."""
    roles: ClankerRoles | None = None
    """The roles' boundary (and names, in a review stack); the program always sets it."""
    bedrock: BedrockUse | None = None
    """What its agent calls of Amazon Bedrock with the credentials of its role (the function's, the task's): the
    role is allowed exactly that (components/policies.py, bedrock_statements). None: nothing."""


@dataclass(frozen=True)
class ServiceRole:
    """Which service assumes a clanker's execution role, and the names its role and policy were created with."""

    principal: str
    """The AWS service principal (components/policies.py)."""
    role_suffix: str
    policy_suffix: str


@dataclass(frozen=True)
class ExecutionRole:
    log_group: cloudwatch.LogGroup
    role: iam.Role
    policy: iam.RolePolicy


def execution_role(
    clanker: str,
    service: ServiceRole,
    log_group: tuple[str, int],
    policy: Callable[[pulumi.Output[str]], pulumi.Input[str]],
    tags: Mapping[str, str],
    opts: pulumi.ResourceOptions,
    roles: ClankerRoles | None = None,
) -> ExecutionRole:
    """Registers the three resources with `opts` (the owning clanker as parent, its protection): the log group
    `(name, retention in days)`, and the role with its inline `policy` made from the log group's ARN, bounded (and
    in a review stack named) as `roles` says."""
    name, retention_days = log_group
    group = cloudwatch.LogGroup(
        f"{clanker}-logs", name=name, retention_in_days=retention_days, tags=dict(tags), opts=opts
    )
    naming = role_naming(roles, clanker, service.role_suffix)
    role = iam.Role(
        f"{clanker}-{service.role_suffix}",
        assume_role_policy=assume_role_policy(service.principal),
        tags=dict(tags),
        opts=opts,
        name=naming.name,
        permissions_boundary=naming.boundary,
        path=naming.path,
    )
    inline = iam.RolePolicy(f"{clanker}-{service.policy_suffix}", role=role.id, policy=policy(group.arn), opts=opts)
    return ExecutionRole(group, role, inline)
