"""Each cloud target's `role_reads_secrets` is what its components deploy: whether the role whose credentials reach
the clanker's container (the function's `role`; the task definition's `taskRoleArn`, not its execution role) may
read the clanker's secret, evaluated on the planned policies by a real IAM simulator (Principal Mapper,
tests/access/evaluator.py). The config rule components/config/rules/role_secrets.py trusts the property; this
keeps it true when the roles' grants change."""

from __future__ import annotations

import json
from typing import Any

import pytest
from principalmapper.common import Node

from components.config_model.clankers import CloudClanker
from components.targets import TARGET_BY_NAME
from offline_plan.engine import Plan, run_program
from tests.access.evaluator import allowed, role_node
from tests.builders import qa_clankers_config

ACCOUNT = "123456789012"
REGION = "eu-central-1"
SECRET = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:viberator/qa/github-AbCdEf"
KEY = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0f8a3c1e-4b7d-4e2a-9c6f-1d2e3f4a5b6c"
# Each agent is granted the token and runs on Bedrock with its role's credentials: what the rule lets through.
CLANKERS: list[dict[str, Any]] = [
    {
        "name": "fn",
        "agent": "claude",
        "target": "lambda",
        "environment": {"CLAUDE_CODE_USE_BEDROCK": "1"},
        "agentEnvironment": [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "AWS_REGION",
            "GITHUB_TOKEN",
        ],
        "secrets": {"GITHUB_TOKEN": SECRET},
    },
    {
        "name": "task",
        "agent": "claude",
        "target": "ecs",
        "environment": {"CLAUDE_CODE_USE_BEDROCK": "1", "AWS_REGION": REGION},
        "agentEnvironment": ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "GITHUB_TOKEN"],
        "secrets": {"GITHUB_TOKEN": SECRET},
    },
]
CREDENTIALS_OF = {
    "lambda": ("aws:lambda/function:Function", "role"),
    "ecs": ("aws:ecs/taskDefinition:TaskDefinition", "taskRoleArn"),
}
"""Where each target's planned resource names the role whose credentials its container gets."""


@pytest.fixture(scope="module")
def plan() -> Plan:
    config = qa_clankers_config(REGION, ACCOUNT, ["claude"], CLANKERS, secretKeys={SECRET: KEY})
    return run_program("qa", config)


def role(plan: Plan, name: str) -> Node:
    """The role `name` (physical) with every inline policy the plan gives it."""
    statements = [
        statement
        for policy in plan.of_type("aws:iam/rolePolicy:RolePolicy")
        if policy.inputs["role"] == name
        for statement in json.loads(policy.inputs["policy"])["Statement"]
    ]
    return role_node(name, ACCOUNT, {"Version": "2012-10-17", "Statement": statements})


def reads_the_secret(node: Node) -> bool:
    return allowed(node, "secretsmanager:GetSecretValue", SECRET) and allowed(
        node, "kms:Decrypt", KEY, {"kms:EncryptionContext:SecretARN": SECRET}
    )


@pytest.mark.parametrize("target", ["lambda", "ecs"])
def test_the_agent_s_role_reads_the_secrets_exactly_where_the_target_says(plan: Plan, target: str) -> None:
    model = TARGET_BY_NAME[target].config_model
    assert issubclass(model, CloudClanker)
    resource_type, role_input = CREDENTIALS_OF[target]
    (resource,) = plan.of_type(resource_type)
    assert reads_the_secret(role(plan, resource.inputs[role_input].split("/")[-1])) is model.role_reads_secrets
    # Whichever role it is, the worker gets the secret: on ecs the execution role reads it.
    roles = {policy.inputs["role"] for policy in plan.of_type("aws:iam/rolePolicy:RolePolicy")}
    clanker = resource.name.rsplit("-", 1)[0]
    assert any(reads_the_secret(role(plan, name)) for name in roles if name.startswith(f"{clanker}-"))
