"""Least privilege, asserted: each role's permissions in the dev plan, compared exactly (actions and resources).

The expectations are written out literally rather than computed with `components.policies`, so a change to
what a role may do shows up here as a diff someone has to approve.
"""

from __future__ import annotations

import json
from typing import Any

from offline_plan.engine import Plan

ACCOUNT = "123456789012"  # dev's account (aws:allowedAccountIds in Pulumi.dev.yaml)
SECRETS = "arn:aws:secretsmanager:us-east-1:123456789012:secret:viberator/dev"
LOGS = f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group"

Grant = tuple[str, tuple[str, ...], tuple[str, ...]]
"""(Sid, actions, resources) of one Allow statement, sorted."""

EXPECTED: dict[str, set[Grant]] = {
    "multi-agent-role-policy": {
        (
            "WriteLogs",
            ("logs:CreateLogStream", "logs:PutLogEvents"),
            (f"{LOGS}:/aws/lambda/viberator-dev-multi-agent:*",),
        ),
        (
            "ReadListedSecrets",
            ("secretsmanager:GetSecretValue",),
            (f"{SECRETS}/anthropic-AbCdEf", f"{SECRETS}/openai-GhIjKl"),
        ),
    },
    "codex-floating-role-policy": {
        (
            "WriteLogs",
            ("logs:CreateLogStream", "logs:PutLogEvents"),
            (f"{LOGS}:/aws/lambda/viberator-dev-codex-floating:*",),
        ),
        ("ReadListedSecrets", ("secretsmanager:GetSecretValue",), (f"{SECRETS}/openai-GhIjKl",)),
    },
    "claude-ecs-execution-policy": {
        ("RegistryLogin", ("ecr:GetAuthorizationToken",), ("*",)),
        (
            "PullWorkerImage",
            ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
            (f"arn:aws:ecr:us-east-1:{ACCOUNT}:repository/viberator-worker-claude-code-ecs",),
        ),
        ("WriteLogs", ("logs:CreateLogStream", "logs:PutLogEvents"), (f"{LOGS}:/ecs/viberator-dev-claude-ecs:*",)),
        ("ReadListedSecrets", ("secretsmanager:GetSecretValue",), (f"{SECRETS}/anthropic-AbCdEf",)),
    },
}
"""Inline policy name -> its grants. The ECS task role (claude-ecs-task-role) deliberately has none."""

TRUSTED_SERVICE = {
    "multi-agent-role": "lambda.amazonaws.com",
    "codex-floating-role": "lambda.amazonaws.com",
    "claude-ecs-execution-role": "ecs-tasks.amazonaws.com",
    "claude-ecs-task-role": "ecs-tasks.amazonaws.com",
}


def _sorted(value: Any) -> tuple[str, ...]:
    return tuple(sorted([value] if isinstance(value, str) else value))


def grants(policy: str) -> set[Grant]:
    statements = json.loads(policy)["Statement"]
    assert all(s["Effect"] == "Allow" and set(s) == {"Sid", "Effect", "Action", "Resource"} for s in statements), (
        "only plain Allow statements (no conditions, NotAction or NotResource) are expected"
    )
    return {(s["Sid"], _sorted(s["Action"]), _sorted(s["Resource"])) for s in statements}


def test_each_role_policy_grants_exactly_what_its_clanker_needs(dev_plan: Plan) -> None:
    actual = {r.name: grants(r.inputs["policy"]) for r in dev_plan.of_type("aws:iam/rolePolicy:RolePolicy")}
    assert actual == EXPECTED


def test_no_other_permissions_reach_a_role(dev_plan: Plan) -> None:
    # Managed-policy attachments or inline policies on the role would bypass the documents compared above.
    types = {r.type for r in dev_plan.resources if r.type.startswith("aws:iam/")}
    assert types == {"aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"}
    roles = dev_plan.of_type("aws:iam/role:Role")
    assert all(set(r.inputs) == {"assumeRolePolicy", "tags"} for r in roles), (
        "roles carry no inline or managed policies"
    )


def test_each_role_is_assumable_only_by_its_service(dev_plan: Plan) -> None:
    trusted = {}
    for role in dev_plan.of_type("aws:iam/role:Role"):
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert statement["Action"] == "sts:AssumeRole" and set(statement["Principal"]) == {"Service"}
        trusted[role.name] = statement["Principal"]["Service"]
    assert trusted == TRUSTED_SERVICE


def test_each_policy_is_attached_to_its_own_role(dev_plan: Plan) -> None:
    attached = {r.name: r.inputs["role"].rsplit("-", 1)[0] for r in dev_plan.of_type("aws:iam/rolePolicy:RolePolicy")}
    assert attached == {
        "multi-agent-role-policy": "multi-agent-role",
        "codex-floating-role-policy": "codex-floating-role",
        "claude-ecs-execution-policy": "claude-ecs-execution-role",
    }
