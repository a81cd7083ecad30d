"""One account's side of CI's authority: GitHub's OIDC provider, one role per kind of job, the permissions
boundary of the account's clanker roles and (in dev) that of review stacks' roles. Every document comes from
access/policies.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
from pulumi_aws import iam

from access.jobs import ROLE_ACCOUNTS, Account, session_seconds
from access.policies import (
    AUDIENCE,
    OIDC_URL,
    AccountIds,
    account_boundary,
    boundary,
    document,
    permissions,
    provider_arn,
    trust,
)
from components.review_iam import BOUNDARY_POLICY_NAME, CLANKER_BOUNDARY_NAME


@dataclass(frozen=True)
class AccountAccessArgs:
    account: Account
    ids: AccountIds
    repository: str
    """`owner/name`: every subject names it."""
    review_secrets: tuple[str, ...] = ()
    """Dev: the secrets a review stack's roles may read (the boundary's allow-list)."""
    clanker_secrets: tuple[str, ...] = ()
    """The secrets this account's other clanker roles may read (their boundary's allow-list)."""
    tags: Mapping[str, str] = field(default_factory=dict)


class AccountAccess(pulumi.ComponentResource):
    TYPE = "viberator:access:AccountAccess"

    role_arns: pulumi.Output[dict[str, str]]
    """`viberator-ci-<job>` -> ARN: the workflows' role variables."""
    boundary_arn: pulumi.Output[str] | None
    clanker_boundary_arn: pulumi.Output[str]

    def __init__(self, name: str, args: AccountAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        provider = iam.OpenIdConnectProvider(
            f"{name}-github-oidc", url=OIDC_URL, client_id_lists=[AUDIENCE], tags=dict(args.tags), opts=child
        )
        # The trust policies name the provider by ARN (predictable); depending on it orders the creation.
        after_provider = pulumi.ResourceOptions(parent=self, depends_on=[provider])
        # Before any stack's `up` gives its roles this boundary (the deploy role may create roles with no other).
        self.clanker_boundary_arn = iam.Policy(
            f"{name}-clanker-boundary",
            name=CLANKER_BOUNDARY_NAME,
            description="The most a clanker role of this account may do (access/actions.py clanker_boundary)",
            policy=document(account_boundary(args.ids, args.account, args.clanker_secrets)),
            tags=dict(args.tags),
            opts=child,
        ).arn
        self.boundary_arn = None
        if args.account is Account.DEV:
            policy = iam.Policy(
                f"{name}-review-boundary",
                name=BOUNDARY_POLICY_NAME,
                # As created: a policy's description is ForceNew (internal/service/iam/policy.go), a new text a new
                # policy under every review role.
                description="The most a review stack's role may do (access/actions.py BOUNDARY_GRANTS)",
                policy=document(boundary(args.ids, args.review_secrets)),
                tags=dict(args.tags),
                opts=child,
            )
            self.boundary_arn = policy.arn
        arns: dict[str, pulumi.Output[str]] = {}
        for role, accounts in ROLE_ACCOUNTS.items():
            if args.account not in accounts:
                continue
            created = iam.Role(
                f"{name}-{role.value}",
                name=role.role_name,
                description=f"CI's {role.value} role (access/jobs.py, access/actions.py)",
                assume_role_policy=document(trust(role, args.account, args.ids, args.repository)),
                max_session_duration=session_seconds(role, args.account),
                tags=dict(args.tags),
                opts=after_provider,
            )
            iam.RolePolicy(
                f"{name}-{role.value}-permissions",
                role=created.id,
                policy=document(permissions(role, args.account, args.ids)),
                opts=child,
            )
            arns[role.role_name] = created.arn
        self.provider_arn = provider_arn(args.ids, args.account)
        self.role_arns = pulumi.Output.all(**arns) if arns else pulumi.Output.from_input({})
        self.register_outputs(
            {
                "roleArns": self.role_arns,
                "providerArn": self.provider_arn,
                "clankerBoundaryArn": self.clanker_boundary_arn,
            }
        )
