"""A clanker whose agent calls Amazon Bedrock with its role's credentials gets exactly the pinned CLI's calls on that
role (the function's role, an ECS task's task role), on the models and inference profiles of the region the agent
calls; every other clanker gets nothing of Bedrock, and no new resource. The documents are evaluated by a real IAM
simulator (Principal Mapper, tests/access/evaluator.py): who can AND cannot."""

from __future__ import annotations

import json
from typing import Any

import pytest

from access.jobs import Account
from access.policies import account_boundary, boundary
from components.policies import BedrockUse, bedrock_statements
from offline_plan.engine import Plan, run_program
from tests.access.evaluator import IDS, allowed, role_node
from tests.builders import qa_clankers_config
from tests.iam_lint import findings
from tests.policy.verdicts import resource_violations
from workers.catalog import BEDROCK_ROUTES

ACCOUNT = "123456789012"
REGION = "eu-central-1"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
LAMBDA_CREDENTIALS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
TASK_CREDENTIALS = ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]
SWITCH = {"CLAUDE_CODE_USE_BEDROCK": "1"}
MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"


def secret(name: str) -> dict[str, str]:
    return {name: f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:viberator/qa/{name.lower()}-AbCdEf"}


CLANKERS: list[dict[str, Any]] = [
    {
        "name": "claude-fn",
        "agent": "claude",
        "target": "lambda",
        "environment": SWITCH,
        "agentEnvironment": [*LAMBDA_CREDENTIALS, "AWS_REGION"],
    },
    {
        "name": "claude-task",
        "agent": "claude",
        "target": "ecs",
        "environment": {**SWITCH, "AWS_REGION": "eu-west-1"},
        "agentEnvironment": TASK_CREDENTIALS,
    },
    # opencode sees no AWS_REGION: it calls us-east-1, its default.
    {"name": "opencode-fn", "agent": "opencode", "target": "lambda", "agentEnvironment": LAMBDA_CREDENTIALS},
    {"name": "key-fn", "agent": "claude", "target": "lambda", "secrets": secret("ANTHROPIC_API_KEY")},
    {
        "name": "apikey-fn",
        "agent": "claude",
        "target": "lambda",
        "environment": SWITCH,
        "secrets": secret("AWS_BEARER_TOKEN_BEDROCK"),
        "agentEnvironment": ["AWS_BEARER_TOKEN_BEDROCK", "AWS_REGION"],
    },
    {"name": "key-task", "agent": "claude", "target": "ecs", "secrets": secret("ANTHROPIC_API_KEY")},
]


@pytest.fixture(scope="module")
def plan() -> Plan:
    return run_program("qa", qa_clankers_config(REGION, ACCOUNT, ["claude", "opencode"], CLANKERS))


@pytest.fixture(scope="module")
def policies(plan: Plan) -> dict[str, dict[str, Any]]:
    return {r.name: json.loads(r.inputs["policy"]) for r in plan.of_type(ROLE_POLICY)}


def bedrock(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in document["Statement"] if "bedrock:" in json.dumps(s["Action"])]


def profile(region: str, name: str = f"eu.{MODEL}", account: str = ACCOUNT) -> str:
    return f"arn:aws:bedrock:{region}:{account}:inference-profile/{name}"


def model(region: str) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{MODEL}"


def test_claude_on_the_function_s_role_gets_exactly_its_calls_in_the_function_s_region(
    policies: dict[str, dict[str, Any]],
) -> None:
    here = f"arn:aws:bedrock:{REGION}"
    profiles = [f"{here}:{ACCOUNT}:inference-profile/*", f"{here}:{ACCOUNT}:application-inference-profile/*"]
    invoke = ["bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream"]
    assert bedrock(policies["claude-fn-role-policy"]) == [
        {
            "Sid": "InvokeBedrockModels",
            "Effect": "Allow",
            "Action": invoke,
            "Resource": [f"{here}::foundation-model/*", *profiles],
        },
        {
            "Sid": "InvokeBedrockModelsThroughProfiles",
            "Effect": "Allow",
            "Action": invoke,
            "Resource": ["arn:aws:bedrock:*::foundation-model/*", "arn:aws:bedrock:::foundation-model/*"],
            "Condition": {"ArnLike": {"bedrock:InferenceProfileArn": profiles}},
        },
        {
            "Sid": "CountBedrockTokens",
            "Effect": "Allow",
            "Action": "bedrock:CountTokens",
            "Resource": [f"{here}::foundation-model/*"],
        },
        {
            "Sid": "ReadBedrockInferenceProfiles",
            "Effect": "Allow",
            "Action": "bedrock:GetInferenceProfile",
            "Resource": profiles,
        },
        {
            "Sid": "ListBedrockInferenceProfiles",
            "Effect": "Allow",
            "Action": "bedrock:ListInferenceProfiles",
            "Resource": "*",
        },
    ]
    # Added to the function role's one inline policy, after what it had.
    sids = [s["Sid"] for s in policies["claude-fn-role-policy"]["Statement"]]
    assert sids == ["WriteLogs", *(s["Sid"] for s in bedrock(policies["claude-fn-role-policy"]))]


def test_who_can_and_cannot_call_bedrock_with_the_function_s_role(policies: dict[str, dict[str, Any]]) -> None:
    role = role_node("claude-fn-role", ACCOUNT, policies["claude-fn-role-policy"])
    through = {"bedrock:InferenceProfileArn": profile(REGION)}
    assert allowed(role, "bedrock:InvokeModelWithResponseStream", profile(REGION))
    assert allowed(role, "bedrock:InvokeModel", model(REGION))
    # A geographic profile routes to the model in another region of its geography; a global one to the
    # region-less model ARN.
    assert allowed(role, "bedrock:InvokeModelWithResponseStream", model("eu-west-3"), through)
    assert allowed(role, "bedrock:InvokeModel", f"arn:aws:bedrock:::foundation-model/{MODEL}", through)
    assert allowed(role, "bedrock:CountTokens", model(REGION))
    assert allowed(role, "bedrock:GetInferenceProfile", profile(REGION))
    assert allowed(role, "bedrock:ListInferenceProfiles", "*")
    # Not a model elsewhere directly, nor through another account's or another region's profile.
    assert not allowed(role, "bedrock:InvokeModel", model("eu-west-3"))
    assert not allowed(
        role,
        "bedrock:InvokeModel",
        model("eu-west-3"),
        {"bedrock:InferenceProfileArn": profile(REGION, account="210987654321")},
    )
    assert not allowed(
        role, "bedrock:InvokeModel", model("us-east-1"), {"bedrock:InferenceProfileArn": profile("us-east-1")}
    )
    assert not allowed(role, "bedrock:InvokeModel", profile("us-east-1", f"us.{MODEL}"))
    assert not allowed(role, "bedrock:CountTokens", model("eu-west-3"))
    for action in (
        "bedrock:CreateInferenceProfile",
        "bedrock:DeleteInferenceProfile",
        "bedrock:CreateModelInvocationJob",
    ):
        assert not allowed(role, action, profile(REGION)), action


def test_an_ecs_clanker_s_agent_calls_with_the_task_role_which_gets_its_own_policy_in_the_region_it_sees(
    policies: dict[str, dict[str, Any]],
) -> None:
    task = policies["claude-task-task-policy"]
    assert [s["Sid"] for s in task["Statement"]] == [s["Sid"] for s in bedrock(policies["claude-fn-role-policy"])]
    role = role_node("claude-task-task-role", ACCOUNT, task)
    assert allowed(role, "bedrock:InvokeModel", profile("eu-west-1"))
    assert not allowed(role, "bedrock:InvokeModel", profile(REGION))
    assert bedrock(policies["claude-task-execution-policy"]) == []  # ECS's agent, not the job's


def test_opencode_without_a_region_gets_only_invocation_in_its_default_region(
    policies: dict[str, dict[str, Any]],
) -> None:
    role = role_node("opencode-fn-role", ACCOUNT, policies["opencode-fn-role-policy"])
    assert allowed(role, "bedrock:InvokeModelWithResponseStream", profile("us-east-1", f"us.{MODEL}"))
    assert not allowed(role, "bedrock:InvokeModel", profile(REGION))
    for action in ("bedrock:ListInferenceProfiles", "bedrock:GetInferenceProfile", "bedrock:CountTokens"):
        assert not allowed(role, action, "*"), action


def test_clankers_not_on_bedrock_with_their_role_get_nothing_of_it_and_no_new_resource(
    policies: dict[str, dict[str, Any]],
) -> None:
    for name in ("key-fn-role-policy", "apikey-fn-role-policy", "key-task-execution-policy"):
        assert bedrock(policies[name]) == [], name
    assert "key-task-task-policy" not in policies
    assert {name for name in policies if name.endswith("-task-policy")} == {"claude-task-task-policy"}


def test_the_clanker_boundary_holds_the_bedrock_grants_and_the_review_boundary_none(
    policies: dict[str, dict[str, Any]],
) -> None:
    """Dev's and prod's clanker roles carry viberator-clanker-boundary, made from the same grants; a review
    stack's roles carry viberator-pr-boundary, which leaves Bedrock out (paid per call in dev's account)."""
    document = policies["claude-fn-role-policy"]
    through = {"bedrock:InferenceProfileArn": profile(REGION)}
    calls = [
        ("bedrock:InvokeModelWithResponseStream", profile(REGION), {}),
        ("bedrock:InvokeModel", model("eu-west-3"), through),
        ("bedrock:InvokeModel", f"arn:aws:bedrock:::foundation-model/{MODEL}", through),
        ("bedrock:CountTokens", model(REGION), {}),
        ("bedrock:GetInferenceProfile", profile(REGION), {}),
        ("bedrock:ListInferenceProfiles", "*", {}),
    ]
    bounded = role_node("claude-fn-role", ACCOUNT, document, account_boundary(IDS, Account.DEV, []))
    reviewed = role_node("claude-fn-role", ACCOUNT, document, boundary(IDS, []))
    for action, resource, context in calls:
        assert allowed(bounded, action, resource, context), action
        assert not allowed(reviewed, action, resource, context), action


def test_the_bedrock_policies_pass_parliament(policies: dict[str, dict[str, Any]]) -> None:
    for name in ("claude-fn-role-policy", "claude-task-task-policy", "opencode-fn-role-policy"):
        assert findings(json.dumps(policies[name])) == [], name


def test_the_policy_pack_passes_the_bedrock_clankers_plan(plan: Plan) -> None:
    """Its one Resource `*`, bedrock:ListInferenceProfiles, is one IAM defines no resource type for."""
    assert resource_violations(plan) == []


def test_every_call_a_cli_makes_has_its_resources() -> None:
    log_group = f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/x"
    for agent, route in BEDROCK_ROUTES.items():
        granted = {
            action
            for statement in bedrock_statements(log_group, BedrockUse((REGION,), route.calls))
            for action in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
        }
        assert granted == set(route.calls), agent
    with pytest.raises(ValueError, match="bedrock:CreateModelInvocationJob"):
        bedrock_statements(log_group, BedrockUse((REGION,), ("bedrock:CreateModelInvocationJob",)))
