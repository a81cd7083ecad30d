"""A cloud clanker's agent can authenticate, or the stack config is refused before anything registers
(components/config/rules/agent_keys.py): who can and who cannot, on each target and in each kind of stack, and that
what the rule accepts does reach the agent through the worker's allow-list (viberator_worker.environment)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from viberator_worker import JOB_CONTRACT_VERSION
from viberator_worker.agents import agent
from viberator_worker.contract import parse_job
from viberator_worker.environment import agent_environment
from viberator_worker.slate import fresh_slate

from components.config import ConfigError, StackConfig, parse_stack_config
from components.config_model.clankers import CloudClanker
from components.config_model.issues import MISSING
from workers.catalog import HARNESS_NAMES

ACCOUNT = "123456789012"
LAMBDA_CREDENTIALS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
TASK_CREDENTIALS = ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]
BEDROCK = {"CLAUDE_CODE_USE_BEDROCK": "1"}
STACKS: dict[str, tuple[str, dict[str, Any]]] = {
    "image": ("qa", {"harnesses": list(HARNESS_NAMES)}),
    "promoting": ("stage", {"images": {"from": "viberator/viberator-workers/dev"}}),
    "review": (
        "pr-7",
        {
            "harnesses": list(HARNESS_NAMES),
            "forceDelete": True,
            "review": {"pullRequest": 7, "expires": "2026-12-08T00:00:00Z"},
        },
    ),
}


def secrets(*names: str) -> dict[str, str]:
    return {
        name: f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:viberator/qa/{name.lower()}-AbCdEf" for name in names
    }


def clanker(target: str, harness: str, **fields: Any) -> dict[str, Any]:
    return {"name": "worker", "agent": harness, "target": target, **fields}


def parse(entry: dict[str, Any], stack: str = "image") -> StackConfig:
    name, values = STACKS[stack]
    return parse_stack_config({**values, "clankers": [entry]}, stack=name, region="us-east-1", account=ACCOUNT)


def refusal(entry: dict[str, Any], stack: str = "image") -> tuple[str, Any, str]:
    """The one issue's key path, the value it shows, and its message."""
    with pytest.raises(ConfigError) as raised:
        parse(entry, stack)
    (issue,) = raised.value.issues
    return issue.path, issue.value, issue.message


PLATFORM = {
    "lambda": {**dict.fromkeys(LAMBDA_CREDENTIALS, "role-credential"), "AWS_REGION": "us-east-1"},
    "ecs": {**dict.fromkeys(TASK_CREDENTIALS, "/v2/credentials/0f8a"), "AWS_REGION": "us-east-1"},
}
"""What each target sets in the worker's environment of the role (Lambda: "Defined runtime environment variables";
ECS: "Amazon ECS environment variables"), besides the clanker's `environment` and `secrets`."""

ACCEPTED: list[tuple[str, dict[str, Any], str, set[str]]] = [
    ("an API key", clanker("lambda", "claude", secrets=secrets("ANTHROPIC_API_KEY")), "claude", {"ANTHROPIC_API_KEY"}),
    (
        "an OAuth token",
        clanker("lambda", "claude", secrets=secrets("CLAUDE_CODE_OAUTH_TOKEN")),
        "claude",
        {"CLAUDE_CODE_OAUTH_TOKEN"},
    ),
    ("codex's own key on ecs", clanker("ecs", "codex", secrets=secrets("CODEX_API_KEY")), "codex", {"CODEX_API_KEY"}),
    (
        "codex's access token alone",
        clanker("lambda", "codex", secrets=secrets("CODEX_ACCESS_TOKEN")),
        "codex",
        {"CODEX_ACCESS_TOKEN"},
    ),
    (
        "one agent's key of several",
        clanker("lambda", "multi-agent", secrets=secrets("MISTRAL_API_KEY")),
        "mistral",
        {"MISTRAL_API_KEY"},
    ),
    (
        "a switch set off",
        clanker("lambda", "claude", environment={"CLAUDE_CODE_USE_BEDROCK": "0"}, secrets=secrets("ANTHROPIC_API_KEY")),
        "claude",
        {"ANTHROPIC_API_KEY"},
    ),
    (
        "Bedrock with the function's role",
        clanker("lambda", "claude", environment=BEDROCK, agentEnvironment=[*LAMBDA_CREDENTIALS, "AWS_REGION"]),
        "claude",
        {"CLAUDE_CODE_USE_BEDROCK", "AWS_REGION", *LAMBDA_CREDENTIALS},
    ),
    (
        "Bedrock with an API key",
        clanker(
            "lambda",
            "claude",
            environment={"CLAUDE_CODE_USE_BEDROCK": "true"},
            secrets=secrets("AWS_BEARER_TOKEN_BEDROCK"),
            agentEnvironment=["AWS_BEARER_TOKEN_BEDROCK", "AWS_REGION"],
        ),
        "claude",
        {"CLAUDE_CODE_USE_BEDROCK", "AWS_REGION", "AWS_BEARER_TOKEN_BEDROCK"},
    ),
    (
        "Bedrock with the task's role, its region set",
        clanker(
            "ecs",
            "claude-code-ecs",
            environment={**BEDROCK, "AWS_REGION": "us-west-2"},
            agentEnvironment=TASK_CREDENTIALS,
        ),
        "claude",
        {"CLAUDE_CODE_USE_BEDROCK", "AWS_REGION", *TASK_CREDENTIALS},
    ),
    (
        "Bedrock with the task's role, its region granted",
        clanker("ecs", "claude", environment=BEDROCK, agentEnvironment=[*TASK_CREDENTIALS, "AWS_REGION"]),
        "claude",
        {"CLAUDE_CODE_USE_BEDROCK", "AWS_REGION", *TASK_CREDENTIALS},
    ),
    (
        "opencode on Bedrock (it needs no switch)",
        clanker("lambda", "opencode", agentEnvironment=LAMBDA_CREDENTIALS),
        "opencode",
        set(LAMBDA_CREDENTIALS),
    ),
    (
        "opencode on Bedrock from ecs",
        clanker("ecs", "opencode", agentEnvironment=TASK_CREDENTIALS),
        "opencode",
        set(TASK_CREDENTIALS),
    ),
]


@pytest.mark.parametrize("stack", sorted(STACKS))
@pytest.mark.parametrize(("why", "entry", "cli", "seen"), ACCEPTED, ids=[case[0] for case in ACCEPTED])
def test_a_clanker_whose_agent_can_authenticate_plans_and_its_agent_sees_what_it_needs(
    why: str, entry: dict[str, Any], cli: str, seen: set[str], stack: str, tmp_path: Path
) -> None:
    (parsed,) = parse(entry, stack).clankers
    assert isinstance(parsed, CloudClanker)
    # The worker's environment on its target, secrets resolved; then what the runtime lets the agent see.
    worker_env = {
        **PLATFORM[parsed.target],
        **parsed.worker_environment,
        **dict.fromkeys(parsed.secrets, "secret-value"),
    }
    job = parse_job({"contract": JOB_CONTRACT_VERSION, "id": "job-1", "agent": cli, "prompt": "p"})
    with fresh_slate({"VIBERATOR_SCRATCH_DIR": str(tmp_path)}) as slate:
        sees = agent_environment(worker_env, agent(cli), job, slate)
    assert seen <= set(sees), why


def test_a_docker_clanker_needs_nothing_of_the_config() -> None:
    """Whoever starts the container passes the key (`run-job`, docker-compose)."""
    parse(clanker("docker", "kimi"))


REFUSED: list[tuple[str, dict[str, Any], str, Any, list[str]]] = [
    ("no secrets at all", clanker("lambda", "claude"), "secrets", MISSING, ["it declares no secrets"]),
    ("an empty secrets", clanker("ecs", "claude", secrets={}), "secrets", {}, ["it declares no secrets"]),
    (
        "switched from gemini to codex",
        clanker("lambda", "codex", secrets=secrets("GEMINI_API_KEY")),
        "secrets",
        secrets("GEMINI_API_KEY"),
        ["OPENAI_API_KEY, CODEX_API_KEY, CODEX_ACCESS_TOKEN", "none of its secrets is one"],
    ),
    (
        "a key granted, never set",
        clanker("ecs", "codex", agentEnvironment=["OPENAI_API_KEY"]),
        "secrets",
        MISSING,
        ["grants OPENAI_API_KEY, but nothing sets it"],
    ),
    (
        "multi-agent without a key",
        clanker("lambda", "multi-agent", secrets=secrets("GITHUB_TOKEN"), agentEnvironment=["GITHUB_TOKEN"]),
        "secrets",
        secrets("GITHUB_TOKEN"),
        ["or run claude on Amazon Bedrock", "or run opencode on Amazon Bedrock"],
    ),
    (
        "codex given the role's credentials (it cannot use Bedrock from a clanker)",
        clanker("lambda", "codex", agentEnvironment=[*LAMBDA_CREDENTIALS, "AWS_REGION"]),
        "secrets",
        MISSING,
        ["OPENAI_API_KEY"],
    ),
    (
        "claude given the role's credentials without its switch",
        clanker("lambda", "claude", agentEnvironment=[*LAMBDA_CREDENTIALS, "AWS_REGION"]),
        "secrets",
        MISSING,
        ['`environment: {CLAUDE_CODE_USE_BEDROCK: "1"}`'],
    ),
    (
        "opencode given a part of the role's credentials",
        clanker("lambda", "opencode", agentEnvironment=["AWS_SECRET_ACCESS_KEY"]),
        "secrets",
        MISSING,
        ["`agentEnvironment: [AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN]`"],
    ),
    (
        "Bedrock switched on, nothing granted (its API key is then unused)",
        clanker("lambda", "claude", environment=BEDROCK, secrets=secrets("ANTHROPIC_API_KEY")),
        "agentEnvironment",
        MISSING,
        ["lacks AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION"],
    ),
    (
        "Bedrock with only the secret key granted",
        clanker("lambda", "claude", environment=BEDROCK, agentEnvironment=["AWS_SECRET_ACCESS_KEY", "AWS_REGION"]),
        "agentEnvironment",
        ["AWS_SECRET_ACCESS_KEY", "AWS_REGION"],
        ["lacks AWS_ACCESS_KEY_ID, AWS_SESSION_TOKEN:"],
    ),
    (
        "Bedrock without a region",
        clanker("lambda", "claude", environment=BEDROCK, agentEnvironment=LAMBDA_CREDENTIALS),
        "agentEnvironment",
        ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"],
        ["lacks AWS_REGION:"],
    ),
    (
        "Bedrock on ecs granting Lambda's variables",
        clanker(
            "ecs", "claude", environment={**BEDROCK, "AWS_REGION": "us-east-1"}, agentEnvironment=LAMBDA_CREDENTIALS
        ),
        "agentEnvironment",
        ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"],
        ["lacks AWS_CONTAINER_CREDENTIALS_RELATIVE_URI:", "(its role's credentials on ecs, and the region)"],
    ),
    (
        "a Bedrock API key secret, not granted",
        clanker(
            "lambda",
            "claude",
            environment=BEDROCK,
            secrets=secrets("AWS_BEARER_TOKEN_BEDROCK"),
            agentEnvironment=["AWS_REGION"],
        ),
        "agentEnvironment",
        ["AWS_REGION"],
        ["listed in `agentEnvironment` too"],
    ),
]


@pytest.mark.parametrize("stack", sorted(STACKS))
@pytest.mark.parametrize(("why", "entry", "key", "value", "says"), REFUSED, ids=[case[0] for case in REFUSED])
def test_a_clanker_whose_agent_cannot_authenticate_is_refused_naming_the_key_and_the_fix(
    why: str, entry: dict[str, Any], key: str, value: Any, says: list[str], stack: str
) -> None:
    path, shown, message = refusal(entry, stack)
    assert (path, shown) == (f"viberator:clankers[0].{key}", value), why  # as the stack file has it
    assert message.startswith("clanker 'worker'")
    for words in says:
        assert words in message, (why, message)
