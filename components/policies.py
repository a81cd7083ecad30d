"""IAM policy documents for clanker roles, built in one place so tests compare them exactly.

Every statement names its resources; the one exception is `ecr:GetAuthorizationToken`, which AWS only grants
on `*`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from components.aws_ids import whole_secret

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


def _read_secrets(secret_arns: Sequence[str], secret_keys: Mapping[str, str]) -> list[dict[str, object]]:
    """GetSecretValue on exactly the listed secrets, and kms:Decrypt on the customer-managed keys of those of them
    `secret_keys` (whole secret ARN -> key ARN) names, only for decrypting those secrets.

    Secrets Manager decrypts a secret's data key with the secret's KMS key on behalf of the caller, so a role
    reading a secret under a customer-managed key also needs kms:Decrypt on it (ECS Developer Guide, "Amazon ECS
    task execution IAM role", Required IAM permissions for Secrets Manager secrets: "kms:Decrypt — Required only
    if your key uses a custom KMS key"; Lambda reads the secrets in the worker's runtime with the function's
    role, the same GetSecretValue call). It passes the encryption context `SecretARN` (Secrets Manager User
    Guide, "Secret encryption and decryption": encryption context), which the condition pins."""
    if not secret_arns:
        return []
    secrets = sorted({whole_secret(arn) for arn in secret_arns})
    statements: list[dict[str, object]] = [
        {
            "Sid": "ReadListedSecrets",
            "Effect": "Allow",
            "Action": "secretsmanager:GetSecretValue",
            "Resource": secrets,
        }
    ]
    encrypted = [secret for secret in secrets if secret in secret_keys]
    if encrypted:
        statements.append(
            {
                "Sid": "DecryptListedSecrets",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": sorted({secret_keys[secret] for secret in encrypted}),
                "Condition": {"StringEquals": {"kms:EncryptionContext:SecretARN": encrypted}},
            }
        )
    return statements


def lambda_execution_policy(
    log_group_arn: str, secret_arns: Sequence[str], secret_keys: Mapping[str, str] | None = None
) -> str:
    """Basic execution scoped to the function's own log group, plus read of exactly the listed secrets."""
    return policy_document([_write_logs(log_group_arn), *_read_secrets(secret_arns, secret_keys or {})])


def ecs_execution_policy(
    repository_arn: str, log_group_arn: str, secret_arns: Sequence[str], secret_keys: Mapping[str, str] | None = None
) -> str:
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
            *_read_secrets(secret_arns, secret_keys or {}),
        ]
    )
