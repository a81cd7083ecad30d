"""AWS's identifier shapes, once: accounts, regions, VPCs, subnets, and the ARN of each service the config names
(Secrets Manager secrets, IAM roles, KMS keys), each with the words an error says when a value is not in it.

Accounts, regions and KMS keys are the outputs contract's (viberator_contract/base.py), so a value the config
accepts is one the stack outputs can hold. The config models (components/config/), the AWS provider's settings
(components/config/aws_provider.py) and the policy pack (policy/rules.py) all take their shapes from here.
"""

from __future__ import annotations

from viberator_contract.base import ACCOUNT_ID_PATTERN as ACCOUNT_ID_PATTERN
from viberator_contract.base import KMS_KEY_ARN_PATTERN as KMS_KEY_ARN_PATTERN
from viberator_contract.base import REGION_PATTERN as REGION_PATTERN

VPC_ID_PATTERN = r"^vpc-(?:[0-9a-f]{8}|[0-9a-f]{17})$"
SUBNET_ID_PATTERN = r"^subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})$"
"""EC2's resource ids: the prefix and 8 hex digits (older resources) or 17 (every one since 2018, EC2 User Guide,
"Resource IDs"); one with a digit lost or added names nothing."""
IAM_ROLE_ARN_PATTERN = r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,64}$"
"""A role's ARN (its path included), never an assumed-role session's (`arn:aws:sts::…:assumed-role/…`), which
sts:AssumeRole and a key policy's principal both refuse."""
IAM_POLICY_ARN_PATTERN = (
    r"^arn:aws[a-z-]*:iam::(?:[0-9]{12}|aws):policy/(?:[A-Za-z0-9.,+@=_-]+/)*[A-Za-z0-9+=,.@_-]{1,128}$"
)
"""A managed policy's ARN, a customer's (its account) or AWS's (`iam::aws:policy/…`): what sts:AssumeRole's
PolicyArns take ("the IAM managed policies that you want to use as managed session policies", botocore's sts
model); its path and name as botocore's iam model shapes them (policyPathType, policyNameType: 1 to 128)."""
SECRET_ARN_PATTERN = (
    r"^arn:(?P<partition>[^:]+):secretsmanager:(?P<region>[^:]*):(?P<account>\d{12}):secret:"
    r"(?P<name>[A-Za-z0-9/_+=.@-]+)(?P<selector>:[^:]*:[^:]*:[^:]*)?$"
)
"""A Secrets Manager secret ARN, optionally with ECS's `:json-key:version-stage:version-id` selector (ECS
Developer Guide, "Pass Secrets Manager secrets through Amazon ECS environment variables")."""


def whole_secret(arn: str) -> str:
    """The secret an ARN names: ECS's `:json-key:version-stage:version-id` selector is not part of it."""
    return ":".join(arn.split(":")[:7])  # arn:<partition>:secretsmanager:<region>:<account>:secret:<name>


SHAPES = {
    ACCOUNT_ID_PATTERN: "must be a 12-digit AWS account id",
    REGION_PATTERN: "must be an AWS region, like us-east-1",
    VPC_ID_PATTERN: "must be a VPC id (vpc- and 8 or 17 hex digits)",
    SUBNET_ID_PATTERN: "must be a subnet id (subnet- and 8 or 17 hex digits)",
    IAM_ROLE_ARN_PATTERN: "must be an IAM role's ARN, arn:aws:iam::<12-digit account>:role/<name> "
    "(not an assumed-role session's, arn:aws:sts::…:assumed-role/…)",
    IAM_POLICY_ARN_PATTERN: "must be an IAM managed policy's ARN, arn:aws:iam::<12-digit account>:policy/<name> "
    "or arn:aws:iam::aws:policy/<name>",
    KMS_KEY_ARN_PATTERN: "must be a KMS key's ARN, arn:aws:kms:<region>:<12-digit account>:key/<key id> "
    "(the key id, not an alias)",
    SECRET_ARN_PATTERN: "must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:"
    "<name>-<6 characters>): copy it from the secret's page in the console",
}
"""What each shape's error says, after the key and the value (components/config/validation_errors.py)."""
