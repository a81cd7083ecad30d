"""Where a stack deploys: the AWS partition, asked of the provider, never assumed.

ARNs that the program writes itself (repository policies naming Lambda functions and consumer accounts) carry
the partition `aws.get_partition` answers, so a GovCloud (`aws-us-gov`) or China (`aws-cn`) stack gets
policies that match; the accounts in them are the repository's own (`registry_id`) and the configured
consumers'. The offline plan's mocks answer for the stack's own region, and for its pinned account
(`aws:allowedAccountIds`) wherever the provider reports one.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws


@dataclass(frozen=True)
class AwsTarget:
    partition: pulumi.Output[str]
    """`aws`, `aws-us-gov`, `aws-cn`, …: what the provider's region belongs to."""


def aws_target() -> AwsTarget:
    return AwsTarget(partition=aws.get_partition_output().partition)
