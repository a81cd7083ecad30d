"""The facts the config models are built from: key patterns, AWS's limits and tables, and the base model.

Owns what a valid value looks like (names, regions, ARNs, account and network ids, Fargate sizes, log retention,
Lambda's variable rules). Does not own which key takes which value (components/config/clankers.py, stack.py) or
the rules that span keys (components/config/rules/).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import TypeVar

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

# The names, digests and platforms the stack outputs carry are the contract's, so a value the config accepts is
# one the outputs can hold.
from viberator_contract.base import ARCHITECTURE_OF_PLATFORM as ARCHITECTURE_OF_PLATFORM
from viberator_contract.base import DIGEST_PATTERN as DIGEST_PATTERN
from viberator_contract.base import NAME_PATTERN as NAME_PATTERN
from viberator_contract.base import PLATFORM_OF_ARCHITECTURE as PLATFORM_OF_ARCHITECTURE
from viberator_contract.base import PUBLIC_KEY_PEM_PATTERN as PUBLIC_KEY_PEM_PATTERN
from viberator_contract.base import Architecture as Architecture
from viberator_contract.base import Platform as Platform

T = TypeVar("T")

NAMESPACE = "viberator"
LAMBDA_FUNCTION_NAME_MAX = 64

LOG_RETENTION_DAYS = (
    *(1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731),
    *(1096, 1827, 2192, 2557, 2922, 3288, 3653),
)
"""CloudWatch Logs' retention periods (PutRetentionPolicy, `retentionInDays`: "Possible values are: 1, 3, ...,
3653"; tests/test_config.py reads them from botocore's logs service model, so an AWS addition fails a test)."""

FARGATE_MEMORY_MB: dict[int, range] = {
    256: range(512, 2048 + 1, 512),  # 512, 1024, 2048; 1536 is rejected below
    512: range(1024, 4096 + 1, 1024),
    1024: range(2048, 8192 + 1, 1024),
    2048: range(4096, 16384 + 1, 1024),
    4096: range(8192, 30720 + 1, 1024),
    8192: range(16384, 61440 + 1, 4096),
    16384: range(32768, 122880 + 1, 8192),
}
"""Fargate's valid memory sizes (MiB) for each CPU size (units): ECS RegisterTaskDefinition, `memory` ("If using
the Fargate launch type ... one of the following values"); tests/test_config.py reads the table from botocore's
ecs service model."""


def fargate_memory_choices(cpu: int) -> list[int]:
    if cpu == 256:
        return [512, 1024, 2048]
    return list(FARGATE_MEMORY_MB[cpu])


IMAGE_REVISION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$"
ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
LAMBDA_ENV_VAR_PATTERN = r"^[a-zA-Z][a-zA-Z0-9_]+$"
"""Lambda's Environment.Variables key pattern, `[a-zA-Z]([a-zA-Z0-9_])+` (Lambda API reference, Environment)."""
SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")
"""Secrets Manager appends `-` and 6 random characters to a secret's name in its ARN; an ARN without them is
partial, and an IAM policy naming a partial ARN never matches the secret."""
STACK_REFERENCE_PATTERN = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"
REVIEW_EXPIRES_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"

LAMBDA_RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "TZ",
    }
)
"""Lambda's reserved keys ("Defined runtime environment variables", Lambda Developer Guide): the runtime sets
them and the API refuses them. Others with AWS_ prefixes (AWS_LAMBDA_EXEC_WRAPPER, AWS_XRAY_*) may be set.
ECS reserves none: an ECS clanker may set AWS_REGION (Claude Code on Bedrock reads it)."""
SECRET_ARNS_VARIABLE = "VIBERATOR_SECRET_ARNS"
"""Lambda cannot inject secrets as env vars: the program passes the ARNs in this one and the worker's runtime
resolves them at cold start (workers/image/viberator_worker/secret_env.py), whole secrets only."""
AGENT_ENV_VARIABLE = "VIBERATOR_AGENT_ENV"
"""The variables of the worker's environment its agent may see besides its own API keys, comma-separated: set by
the program from a cloud clanker's `environment` keys and `agentEnvironment` (workers/image/viberator_worker/
environment.py reads it; the agent's environment is an allow-list)."""
LAMBDA_ENVIRONMENT_MAX_BYTES = 4096
"""Lambda: "The total size of all environment variables doesn't exceed 4 KB"; the size counted is the bytes of
every key and value (Lambda Developer Guide, "Working with Lambda environment variables")."""

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


def lambda_variables(environment: Mapping[str, str], secrets: Mapping[str, str]) -> dict[str, str]:
    """The environment variables a Lambda clanker's function gets: its own and the one carrying its secrets."""
    variables = dict(environment)
    if secrets:
        variables[SECRET_ARNS_VARIABLE] = json.dumps(dict(secrets), sort_keys=True)
    return variables


def lambda_environment_bytes(variables: Mapping[str, str]) -> int:
    return sum(len(name.encode()) + len(value.encode()) for name, value in variables.items())
