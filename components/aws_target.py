"""Where a stack deploys: the AWS partition, asked of the provider, never assumed.

ARNs that the program writes itself (repository policies naming Lambda functions and consumer accounts) carry
the partition `aws.get_partition` answers, so a GovCloud (`aws-us-gov`) or China (`aws-cn`) stack gets
policies that match; the accounts in them are the repository's own (`registry_id`) and the configured
consumers'. The offline plan's mocks answer for the stack's own region, and for its pinned account
(`aws:allowedAccountIds`) wherever the provider reports one.
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
    partition: pulumi.Output[str]
    """`aws`, `aws-us-gov`, `aws-cn`, …: what the provider's region belongs to."""


def aws_target() -> AwsTarget:
    return AwsTarget(partition=aws.get_partition_output().partition)
