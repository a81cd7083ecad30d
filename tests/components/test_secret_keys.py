"""Secrets under a customer-managed KMS key: `viberator:secretKeys` grants kms:Decrypt on exactly that key to
exactly the roles that read the secret (a Lambda function's role, an ECS task's execution role), for that secret
only; a bad key or secret is a config error naming it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import ConfigError
from offline_plan.engine import run_program
from tests.builders import qa_clankers_config

ACCOUNT = "123456789012"
ANTHROPIC = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:viberator/qa/anthropic-AbCdEf"
OPENAI = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:viberator/qa/openai-GhIjKl"
KEY = f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0b6d1c4e-2f3a-4b5c-8d9e-0f1a2b3c4d5e"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"


def plan(secret_keys: dict[str, str]) -> Any:
    clankers = [
        {"name": "claude-fn", "agent": "claude", "target": "lambda", "secrets": {"ANTHROPIC_API_KEY": ANTHROPIC}},
        {
            "name": "claude-task",
            "agent": "claude",
            "target": "ecs",
            # ECS's json-key selector names the same secret.
            "secrets": {"ANTHROPIC_API_KEY": f"{ANTHROPIC}:api_key::"},
        },
        {"name": "codex-fn", "agent": "codex", "target": "lambda", "secrets": {"OPENAI_API_KEY": OPENAI}},
    ]
    config = qa_clankers_config("us-east-1", ACCOUNT, ["claude", "codex"], clankers, secretKeys=secret_keys)
    return run_program("qa", config)


def decrypt_statements(plan: Any) -> dict[str, list[dict[str, Any]]]:
    """Each clanker role policy's kms statements, by policy name."""
    return {
        r.name: [s for s in json.loads(r.inputs["policy"])["Statement"] if str(s["Action"]).startswith("kms:")]
        for r in plan.of_type(ROLE_POLICY)
    }


def test_exactly_the_roles_reading_the_secret_may_decrypt_with_its_key_for_it_only() -> None:
    statements = decrypt_statements(plan({ANTHROPIC: KEY}))
    decrypt = {
        "Sid": "DecryptListedSecrets",
        "Effect": "Allow",
        "Action": "kms:Decrypt",
        "Resource": [KEY],
        "Condition": {"StringEquals": {"kms:EncryptionContext:SecretARN": [ANTHROPIC]}},
    }
    readers = {name: kms for name, kms in statements.items() if kms}
    assert readers == {"claude-fn-role-policy": [decrypt], "claude-task-execution-policy": [decrypt]}, statements
    assert all(kms == [] for name, kms in statements.items() if name.startswith("codex-fn"))


def test_without_secret_keys_no_role_may_decrypt() -> None:
    assert all(kms == [] for kms in decrypt_statements(plan({})).values())


@pytest.mark.parametrize(
    ("secret_keys", "path", "value"),
    [
        ({ANTHROPIC: "arn:aws:kms:us-east-1:123456789012:alias/viberator"}, f"viberator:secretKeys.{ANTHROPIC}", None),
        ({ANTHROPIC: KEY.replace("us-east-1", "eu-west-1")}, f"viberator:secretKeys.{ANTHROPIC}", None),
        ({ANTHROPIC.replace("anthropic", "gemini"): KEY}, None, KEY),
        ({"arn:aws:secretsmanager:us-east-1:123456789012:secret:partial": KEY}, None, None),
    ],
    ids=["alias-not-a-key", "key-in-another-region", "secret-no-clanker-reads", "partial-secret-arn"],
)
def test_a_bad_secret_key_is_an_error_naming_it(
    secret_keys: dict[str, str], path: str | None, value: str | None
) -> None:
    with pytest.raises(ConfigError) as raised:
        plan(secret_keys)
    (secret, key), *_ = secret_keys.items()
    (issue,) = raised.value.issues
    assert issue.path.startswith("viberator:secretKeys"), issue
    assert (path or issue.path) == issue.path
    assert (value or issue.value) == issue.value
    assert secret in issue.path or key in str(issue.value) or secret in str(issue.value)
