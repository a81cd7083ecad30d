"""Where AWS things live, by name alone: the partition a region belongs to, its DNS suffix, an ECR registry's host
and the grammar of a repository URL. Pulumi-free, so the program, the plan engine, the tooling and the CI scripts
read one definition (the program asks the provider for its own partition: components/aws_target.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_PARTITION_OF_REGION = (
    (re.compile(r"^cn-"), "aws-cn"),
    (re.compile(r"^us-gov-"), "aws-us-gov"),
    (re.compile(r"^us-isob-"), "aws-iso-b"),
    (re.compile(r"^us-iso-"), "aws-iso"),
    (re.compile(r"^eu-isoe-"), "aws-iso-e"),
    (re.compile(r"^us-isof-"), "aws-iso-f"),
)
_DNS_SUFFIX_OF_PARTITION = {"aws-cn": "amazonaws.com.cn"}
"""Endpoints outside these are `amazonaws.com` (the ISO partitions have their own, never used here)."""

REPOSITORY_URL = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<name>[a-z0-9/_.-]+)$"
)
"""`<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<name>`: an ECR repository's URL, as ECR returns it."""


def partition_of_region(region: str) -> str:
    """The partition a region belongs to, as AWS names it in ARNs (`us-gov-west-1` -> `aws-us-gov`).

    For what can't ask the provider: config checks of pasted ARNs, a promoted repository's ARN, the mocks."""
    for pattern, partition in _PARTITION_OF_REGION:
        if pattern.match(region):
            return partition
    return "aws"


def dns_suffix(partition: str) -> str:
    return _DNS_SUFFIX_OF_PARTITION.get(partition, "amazonaws.com")


def registry_host(account: str, region: str) -> str:
    """`<account>.dkr.ecr.<region>.<the region's partition's DNS suffix>`."""
    return f"{account}.dkr.ecr.{region}.{dns_suffix(partition_of_region(region))}"


@dataclass(frozen=True)
class RepositoryUrl:
    account: str
    region: str
    name: str

    @property
    def arn(self) -> str:
        """The repository's ARN, in its region's partition."""
        return f"arn:{partition_of_region(self.region)}:ecr:{self.region}:{self.account}:repository/{self.name}"


def parse_repository_url(url: str) -> RepositoryUrl | None:
    """Its parts, or None for a URL outside ECR's grammar."""
    match = REPOSITORY_URL.match(url)
    return None if match is None else RepositoryUrl(match["account"], match["region"], match["name"])
