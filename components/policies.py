"""IAM policy documents for clanker roles, built in one place so tests compare them exactly.

Every statement names its resources; the exceptions are `ecr:GetAuthorizationToken` and
`bedrock:ListInferenceProfiles`, which AWS only grants on `*` (the Service Authorization Reference lists no resource
type for either). What a clanker role may be granted at all is CLANKER_GRANTS: the statements below take their
actions from it, and the access project makes the permissions boundaries of clanker roles from it
(access/actions.py), so a grant added here reaches the boundaries, and a statement that bypasses the table fails
tests/access.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from components.aws_ids import whole_secret
from workers.catalog import INVOKE

LAMBDA_SERVICE = "lambda.amazonaws.com"
ECS_TASKS_SERVICE = "ecs-tasks.amazonaws.com"


@dataclass(frozen=True)
class ClankerGrant:
    """One kind of statement a clanker role's inline policy may hold, and the most it can ever name."""

    sid: str
    actions: tuple[str, ...]
    bound: tuple[str, ...]
    """The widest resources the program names with it, as the access project's templates (access/actions.py:
    `{p}` partition, `{account}` the role's account, `{dev}` dev's, `{names}` the stacks' name prefix); empty for
    the grants on the listed secrets, which a boundary bounds by its own allow-list."""
    in_review: bool = True
    """Whether a review stack's roles may have it (their boundary, access/policies.py): not the Bedrock calls, paid
    by the call in dev's account, as the review secrets' allow-list keeps paid API keys from a branch."""

    def statement(self, resource: str | list[str], condition: Mapping[str, object] | None = None) -> dict[str, object]:
        # One action is written as a string, as the deployed documents were: an unchanged document is no update.
        actions: str | list[str] = self.actions[0] if len(self.actions) == 1 else list(self.actions)
        rendered: dict[str, object] = {"Sid": self.sid, "Effect": "Allow", "Action": actions, "Resource": resource}
        if condition:
            rendered["Condition"] = dict(condition)
        return rendered


# Log streams are sub-resources of the group: `<group arn>:*` (the group ARN from the API has no `:*`). The bound
# ends in `*` so that it holds the group, `<group>:*` and `<group>:log-stream:<name>` alike.
WRITE_LOGS = ClankerGrant(
    "WriteLogs",
    ("logs:CreateLogStream", "logs:PutLogEvents"),
    tuple(f"arn:{{p}}:logs:*:{{account}}:log-group:{group}{{names}}-*" for group in ("/aws/lambda/", "/ecs/")),
)
REGISTRY_LOGIN = ClankerGrant("RegistryLogin", ("ecr:GetAuthorizationToken",), ("*",))
# A promoting stack's clankers pull the image stack's digests from dev's registry (components/promotion.py).
PULL_WORKER_IMAGE = ClankerGrant(
    "PullWorkerImage",
    ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
    ("arn:{p}:ecr:*:{account}:repository/viberator-worker-*", "arn:{p}:ecr:*:{dev}:repository/viberator-worker-*"),
)
READ_SECRETS = ClankerGrant("ReadListedSecrets", ("secretsmanager:GetSecretValue",), ())
DECRYPT_SECRETS = ClankerGrant("DecryptListedSecrets", ("kms:Decrypt",), ())

PROFILE_KINDS = ("inference-profile", "application-inference-profile")
"""A cross-Region (system-defined) inference profile and one an account makes: both are in the caller's account
and the region it calls (Service Authorization Reference, Amazon Bedrock's resource types)."""


# An agent calling Amazon Bedrock with its role's credentials: bedrock_statements, which names the region it calls
# where these name `*`.
_MODELS = "arn:{p}:bedrock:*::foundation-model/*"
_PROFILES = tuple(f"arn:{{p}}:bedrock:*:{{account}}:{kind}/*" for kind in PROFILE_KINDS)
INVOKE_BEDROCK_MODELS = ClankerGrant("InvokeBedrockModels", INVOKE, (_MODELS, *_PROFILES), in_review=False)
INVOKE_THROUGH_PROFILES = ClankerGrant(
    "InvokeBedrockModelsThroughProfiles", INVOKE, (_MODELS, "arn:{p}:bedrock:::foundation-model/*"), in_review=False
)
COUNT_BEDROCK_TOKENS = ClankerGrant("CountBedrockTokens", ("bedrock:CountTokens",), (_MODELS,), in_review=False)
READ_INFERENCE_PROFILES = ClankerGrant(
    "ReadBedrockInferenceProfiles", ("bedrock:GetInferenceProfile",), _PROFILES, in_review=False
)
LIST_INFERENCE_PROFILES = ClankerGrant(
    "ListBedrockInferenceProfiles", ("bedrock:ListInferenceProfiles",), ("*",), in_review=False
)
BEDROCK_GRANTS = (
    INVOKE_BEDROCK_MODELS,
    INVOKE_THROUGH_PROFILES,
    COUNT_BEDROCK_TOKENS,
    READ_INFERENCE_PROFILES,
    LIST_INFERENCE_PROFILES,
)
CLANKER_GRANTS = (WRITE_LOGS, REGISTRY_LOGIN, PULL_WORKER_IMAGE, READ_SECRETS, DECRYPT_SECRETS, *BEDROCK_GRANTS)
"""Everything the program may grant a clanker role (execution and task roles alike)."""
SECRET_CONTEXT = "kms:EncryptionContext:SecretARN"
"""The encryption context Secrets Manager decrypts a secret's data key with (see _read_secrets)."""


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
    return WRITE_LOGS.statement(f"{log_group_arn}:*")


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
    statements = [READ_SECRETS.statement(secrets)]
    encrypted = [secret for secret in secrets if secret in secret_keys]
    if encrypted:
        keys = sorted({secret_keys[secret] for secret in encrypted})
        statements.append(DECRYPT_SECRETS.statement(keys, {"StringEquals": {SECRET_CONTEXT: encrypted}}))
    return statements


@dataclass(frozen=True)
class BedrockUse:
    """What a clanker's agents call of Amazon Bedrock with its role's credentials
    (components/config_model/bedrock.py decides it from the config)."""

    regions: tuple[str, ...]
    """The regions the agents send their requests to (AWS_REGION, else the CLI's own default)."""
    calls: tuple[str, ...]
    """The IAM actions of those requests (workers/catalog.py, BEDROCK_ROUTES)."""


def bedrock_statements(log_group_arn: str, use: BedrockUse | None) -> list[dict[str, object]]:
    """Exactly the Bedrock calls `use` names, on the models and inference profiles of its regions, in the account
    and partition of the clanker's log group (the role's own).

    Invoking an inference profile is authorized on the profile and then on the foundation model in whichever
    region it routes the request to: a geographic profile's destination regions, or any commercial region for a
    global one, whose model ARN names no region (Bedrock User Guide, "Geographic cross-Region inference" and
    "Global cross-Region inference", IAM policy requirements). So models elsewhere are granted only through the
    clanker's own profiles: the condition key bedrock:InferenceProfileArn, as "Prerequisites for inference
    profiles" advises to restrict a role to invoking a model only through an inference profile."""
    if use is None:
        return []
    partition, account = log_group_arn.split(":")[1], log_group_arn.split(":")[4]
    profiles = [
        f"arn:{partition}:bedrock:{region}:{account}:{kind}/*" for region in use.regions for kind in PROFILE_KINDS
    ]
    models = [f"arn:{partition}:bedrock:{region}::foundation-model/*" for region in use.regions]
    elsewhere = [f"arn:{partition}:bedrock:*::foundation-model/*", f"arn:{partition}:bedrock:::foundation-model/*"]
    resources: dict[ClankerGrant, tuple[str | list[str], Mapping[str, object] | None]] = {
        INVOKE_BEDROCK_MODELS: ([*models, *profiles], None),
        INVOKE_THROUGH_PROFILES: (elsewhere, {"ArnLike": {"bedrock:InferenceProfileArn": profiles}}),
        # Claude Code counts tokens on the model a profile resolves to, in the region it calls.
        COUNT_BEDROCK_TOKENS: (models, None),
        READ_INFERENCE_PROFILES: (profiles, None),
        LIST_INFERENCE_PROFILES: ("*", None),
    }
    grants = [grant for grant in BEDROCK_GRANTS if set(grant.actions) <= set(use.calls)]
    unplaced = sorted(set(use.calls) - {action for grant in grants for action in grant.actions})
    if unplaced:
        raise ValueError(f"no grant in BEDROCK_GRANTS for the Bedrock calls {', '.join(unplaced)}: add one")
    return [grant.statement(*resources[grant]) for grant in grants]


def bedrock_policy(log_group_arn: str, use: BedrockUse) -> str:
    """An ECS task role's own policy: what its agent calls of Bedrock, and nothing else."""
    return policy_document(bedrock_statements(log_group_arn, use))


def lambda_execution_policy(
    log_group_arn: str,
    secret_arns: Sequence[str],
    secret_keys: Mapping[str, str] | None = None,
    bedrock: BedrockUse | None = None,
) -> str:
    """Basic execution scoped to the function's own log group, read of exactly the listed secrets, and the Bedrock
    calls of an agent using the function's credentials (the role is the agent's too)."""
    return policy_document(
        [
            _write_logs(log_group_arn),
            *_read_secrets(secret_arns, secret_keys or {}),
            *bedrock_statements(log_group_arn, bedrock),
        ]
    )


def ecs_execution_policy(
    repository_arn: str, log_group_arn: str, secret_arns: Sequence[str], secret_keys: Mapping[str, str] | None = None
) -> str:
    """What the ECS agent needs to start the task: pull from one repository, write logs, inject secrets."""
    return policy_document(
        [
            REGISTRY_LOGIN.statement("*"),
            PULL_WORKER_IMAGE.statement(repository_arn),
            _write_logs(log_group_arn),
            *_read_secrets(secret_arns, secret_keys or {}),
        ]
    )
