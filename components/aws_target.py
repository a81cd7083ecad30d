"""Where a stack deploys: the AWS account and partition, asked of the provider, never assumed.

ARNs that the program writes itself (repository policies naming Lambda functions and consumer accounts) carry
the partition `aws.get_partition` answers, so a GovCloud (`aws-us-gov`) or China (`aws-cn`) stack gets
policies that match. The offline plan's mocks answer both invokes for the stack's own region and account.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

_PARTITION_OF_REGION = (
    (re.compile(r"^cn-"), "aws-cn"),
    (re.compile(r"^us-gov-"), "aws-us-gov"),
    (re.compile(r"^us-isob-"), "aws-iso-b"),
    (re.compile(r"^us-iso-"), "aws-iso"),
    (re.compile(r"^eu-isoe-"), "aws-iso-e"),
    (re.compile(r"^us-isof-"), "aws-iso-f"),
)
DNS_SUFFIX_OF_PARTITION = {"aws-cn": "amazonaws.com.cn"}
"""Endpoints outside these are `amazonaws.com` (the ISO partitions have their own, never used here)."""


def partition_of_region(region: str) -> str:
    """The partition a region belongs to, as AWS names it in ARNs (`us-gov-west-1` -> `aws-us-gov`).

    For what can't ask the provider: config checks of pasted ARNs, a promoted repository's ARN, the mocks."""
    for pattern, partition in _PARTITION_OF_REGION:
        if pattern.match(region):
            return partition
    return "aws"


@dataclass(frozen=True)
class AwsTarget:
    account_id: pulumi.Output[str]
    """The account the provider's credentials are in (`aws:allowedAccountIds` pins which that may be)."""
    partition: pulumi.Output[str]


def aws_target() -> AwsTarget:
    return AwsTarget(
        account_id=aws.get_caller_identity_output().account_id,
        partition=aws.get_partition_output().partition,
    )
