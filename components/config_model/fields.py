"""The facts the config models are built from: key patterns, AWS's limits and tables, and the base model.

Owns what a valid value looks like (names, regions, ARNs, account and network ids, Fargate sizes, log retention,
Lambda's variable rules). Does not own which key takes which value (components/config_model/clankers.py, stack.py) or
the rules that span keys (components/config/rules/).
"""

from __future__ import annotations

import re
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

# AWS's identifier shapes have one home (components/aws_ids.py); the models take them from here.
from components.aws_ids import ACCOUNT_ID_PATTERN as ACCOUNT_ID_PATTERN
from components.aws_ids import IAM_ROLE_ARN_PATTERN as IAM_ROLE_ARN_PATTERN
from components.aws_ids import KMS_KEY_ARN_PATTERN as KMS_KEY_ARN_PATTERN
from components.aws_ids import REGION_PATTERN as REGION_PATTERN
from components.aws_ids import SECRET_ARN_PATTERN, SHAPES
from components.aws_ids import SUBNET_ID_PATTERN as SUBNET_ID_PATTERN
from components.aws_ids import VPC_ID_PATTERN as VPC_ID_PATTERN

# The names and digests the stack outputs carry are the contract's, so a value the config accepts is one the
# outputs can hold.
from viberator_contract.base import DIGEST_PATTERN as DIGEST_PATTERN
from viberator_contract.base import NAME_PATTERN as NAME_PATTERN
from viberator_contract.base import PUBLIC_KEY_PEM_PATTERN as PUBLIC_KEY_PEM_PATTERN

T = TypeVar("T")

# The platforms this program builds and runs: a closed list, where the contract's platforms are open strings of
# the same shape (viberator_contract.base PLATFORM_PATTERN), so tomorrow's outputs may name more.
Platform = Literal["linux/amd64", "linux/arm64"]
Architecture = Literal["x86_64", "arm64"]
ARCHITECTURE_OF_PLATFORM: dict[str, Architecture] = {"linux/amd64": "x86_64", "linux/arm64": "arm64"}
PLATFORM_OF_ARCHITECTURE: dict[str, Platform] = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}

NAMESPACE = "viberator"
LAMBDA_FUNCTION_NAME_MAX = 64

LOG_RETENTION_DAYS = (
    *(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731),
    *(1096, 1827, 2192, 2557, 2922, 3288, 3653),
)
"""CloudWatch Logs' retention periods (PutRetentionPolicy, `retentionInDays`: "Possible values are: 1, 3, ...,
3653"; tests/contracts/test_aws_lists.py reads them from botocore's logs service model, so an AWS addition fails a
test)."""

IMAGE_REVISION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$"
ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")
"""Secrets Manager appends `-` and 6 random characters to a secret's name in its ARN; an ARN without them is
partial, and an IAM policy naming a partial ARN never matches the secret."""
STACK_REFERENCE_PATTERN = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"
REVIEW_EXPIRES_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"

AGENT_ENV_VARIABLE = "VIBERATOR_AGENT_ENV"
"""The variables of the worker's environment its agent may see besides its own API keys, comma-separated: set by
the program from a cloud clanker's `environment` keys and `agentEnvironment` (workers/image/viberator_worker/
environment.py reads it; the agent's environment is an allow-list)."""

CREDENTIAL_ERROR = "plaintext_credential"
"""Error type whose offending value is never echoed back."""


class ConfigModel(BaseModel):
    """camelCase keys as in the YAML, unknown keys rejected, immutable after parsing."""

    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", frozen=True)

    @classmethod
    def yaml_keys(cls) -> list[str]:
        """The keys the model reads as the YAML spells them (not `aws:region`, which is the provider's)."""
        return [
            field.alias or name for name, field in cls.model_fields.items() if ":" not in str(field.validation_alias)
        ]


def no_duplicates(values: list[T]) -> list[T]:
    """For a list that is a set (accounts, subnets, harnesses): each member once."""
    twice = sorted({str(value) for i, value in enumerate(values) if value in values[:i]})
    if twice:
        raise ValueError(f"lists {', '.join(twice)} twice: each once")
    return values


def secret_arn(value: str) -> re.Match[str]:
    """The parts of a complete Secrets Manager secret ARN, or a ValueError saying what is wrong with it."""
    arn = re.match(SECRET_ARN_PATTERN, value)
    if arn is None:
        raise ValueError(SHAPES[SECRET_ARN_PATTERN])
    if not re.match(REGION_PATTERN, arn["region"]):
        raise ValueError(f"{arn['region'] or 'an empty region'} is not an AWS region (like us-east-1)")
    if not SECRET_SUFFIX.search(arn["name"]):
        raise ValueError(
            "a partial ARN: a secret's ARN ends in `-` and 6 random characters (…:secret:name-AbCdEf), and the "
            "role's policy would name an ARN that never matches; copy the full ARN from the console"
        )
    return arn
