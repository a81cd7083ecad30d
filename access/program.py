"""The access program: from the parsed config to one account's roles or GitHub's settings, and the outputs."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_aws as aws

from access.aws_access import AccountAccess, AccountAccessArgs
from access.config import AccessConfig
from access.github import RepositoryAccess, RepositoryAccessArgs

TAGS = {"Project": "viberator-access", "ManagedBy": "pulumi"}


async def deploy(config: AccessConfig) -> dict[str, Any]:
    """Register the stack's side and return its outputs (the role ARNs are the workflows' variables)."""
    if config.account is not None:
        partition = aws.get_partition().partition
        access = AccountAccess(
            config.account.value,
            AccountAccessArgs(
                account=config.account,
                ids=config.ids(partition),
                repository=config.repository,
                review_secrets=tuple(config.review_secrets),
                clanker_secrets=tuple(config.clanker_secrets),
                tags={**TAGS, "Environment": config.account.value, "PulumiStack": pulumi.get_stack()},
            ),
        )
        return {
            "roleArns": access.role_arns,
            "providerArn": access.provider_arn,
            "boundaryArn": access.boundary_arn,
            "clankerBoundaryArn": access.clanker_boundary_arn,
        }
    assert config.github is not None  # AccessConfig allows exactly one side
    RepositoryAccess("repository", RepositoryAccessArgs(repository=config.repository, settings=config.github))
    return {"repository": config.repository}
