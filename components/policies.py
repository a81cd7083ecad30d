"""IAM policy documents for clanker roles, built in one place so tests compare them exactly.

Every statement names its resources; the one exception is `ecr:GetAuthorizationToken`, which AWS only grants
on `*`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

LAMBDA_SERVICE = "lambda.amazonaws.com"
ECS_TASKS_SERVICE = "ecs-tasks.amazonaws.com"


def assume_role_policy(service: str) -> str:
    """The trust policy that lets one AWS service assume a clanker's role. Compact JSON, as the roles were created
    with: the provider compares policies by meaning, but the plan shows the string."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}],
        }
    )


def policy_document(statements: list[dict[str, object]]) -> str:
    """An IAM (or resource, or key) policy document: the one place its version and layout are written."""
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


def _write_logs(log_group_arn: str) -> dict[str, object]:
    # Log streams are sub-resources of the group: `<group arn>:*` (the group ARN from the API has no `:*`).
    return {
        "Sid": "WriteLogs",
        "Effect": "Allow",
        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "Resource": f"{log_group_arn}:*",
    }


def _secret(arn: str) -> str:
    """The secret an ARN names: ECS's `:json-key:version-stage:version-id` selector is not part of it."""
    return ":".join(arn.split(":")[:7])  # arn:<partition>:secretsmanager:<region>:<account>:secret:<name>


def _read_secrets(secret_arns: Sequence[str]) -> list[dict[str, object]]:
    if not secret_arns:
        return []
    return [
        {
            "Sid": "ReadListedSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": sorted({_secret(arn) for arn in secret_arns}),
        }
    ]


def lambda_execution_policy(log_group_arn: str, secret_arns: Sequence[str]) -> str:
    """Basic execution scoped to the function's own log group, plus read of exactly the listed secrets."""
    return policy_document([_write_logs(log_group_arn), *_read_secrets(secret_arns)])


def ecs_execution_policy(repository_arn: str, log_group_arn: str, secret_arns: Sequence[str]) -> str:
    """What the ECS agent needs to start the task: pull from one repository, write logs, inject secrets."""
    return policy_document(
        [
            {
                "Sid": "RegistryLogin",
                "Effect": "Allow",
                "Action": "ecr:GetAuthorizationToken",
                "Resource": "*",
            },
            {
                "Sid": "PullWorkerImage",
                "Effect": "Allow",
                "Action": [
                    "ecr:BatchCheckLayerAvailability",
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                ],
                "Resource": repository_arn,
            },
            _write_logs(log_group_arn),
            *_read_secrets(secret_arns),
        ]
    )
