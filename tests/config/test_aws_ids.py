"""AWS's identifier shapes (components/aws_ids.py): each accepts what AWS names, refuses a near miss, and its
error names the key, the value and the shape expected."""

from __future__ import annotations

import re

import pytest

from components.aws_ids import (
    ACCOUNT_ID_PATTERN,
    IAM_POLICY_ARN_PATTERN,
    IAM_ROLE_ARN_PATTERN,
    KMS_KEY_ARN_PATTERN,
    REGION_PATTERN,
    SECRET_ARN_PATTERN,
    SHAPES,
    SUBNET_ID_PATTERN,
    VPC_ID_PATTERN,
)
from components.config import ConfigError, parse_stack_config

CASES = {
    ACCOUNT_ID_PATTERN: ("123456789012", "12345678901"),
    REGION_PATTERN: ("eu-west-3", "eu-west"),
    VPC_ID_PATTERN: ("vpc-0a1b2c3d4e5f67890", "vpc-0a1b2c3d4e5f6789"),
    SUBNET_ID_PATTERN: ("subnet-0a1b2c3d", "subnet-0a1b2c3"),
    IAM_ROLE_ARN_PATTERN: (
        "arn:aws:iam::123456789012:role/ci/viberator-ci-signer",
        "arn:aws:sts::123456789012:assumed-role/viberator-ci-signer/run",
    ),
    IAM_POLICY_ARN_PATTERN: (
        "arn:aws:iam::aws:policy/job-function/ViewOnlyAccess",
        "arn:aws:iam::123456789012:role/viberator-ci-deploy",
    ),
    KMS_KEY_ARN_PATTERN: (
        "arn:aws:kms:us-east-1:123456789012:key/c2fe43ce-cb05-62e9-8f53-bff95ecf6846",
        "arn:aws:kms:us-east-1:123456789012:alias/viberator-signing",
    ),
    SECRET_ARN_PATTERN: (
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:viberator/dev/anthropic-AbCdEf",
        "arn:aws:secretsmanager:us-east-1:12345678901:secret:viberator/dev/anthropic-AbCdEf",
    ),
}


def test_every_shape_has_a_case_and_a_message() -> None:
    assert set(CASES) == set(SHAPES)


@pytest.mark.parametrize("pattern", list(CASES))
def test_shape_accepts_aws_s_value_and_refuses_a_near_miss(pattern: str) -> None:
    valid, near_miss = CASES[pattern]
    assert re.match(pattern, valid)
    assert not re.match(pattern, near_miss)


ADMIN = "arn:aws:iam::123456789012:role/viberator-key-admin"
DEPLOY = "arn:aws:iam::123456789012:role/viberator-ci-deploy"


def test_a_field_s_error_names_key_value_and_shape() -> None:
    role = CASES[IAM_ROLE_ARN_PATTERN][1]
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(
            {"signing": {"signerRole": role, "keyAdmins": [ADMIN], "programRoles": [DEPLOY]}, "clankers": []},
            stack="dev",
            region="us-east-1",
        )
    (issue,) = raised.value.issues
    assert str(issue) == f'viberator:signing.signerRole = "{role}": {SHAPES[IAM_ROLE_ARN_PATTERN]}'
