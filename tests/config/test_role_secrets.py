"""A clanker that grants its agent the credentials of a role that reads the clanker's secrets (lambda's function
role) is refused unless each of its agents sees every one of those secrets anyway
(components/config/rules/role_secrets.py): who is accepted and who is refused, on both targets and with several
agents, and that the rule's "sees" is the worker's: its allow-list (viberator_worker.environment) passes every
secret to an accepted clanker's agents, and withholds what the refusal names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from viberator_worker import JOB_CONTRACT_VERSION
from viberator_worker.agents import agent
from viberator_worker.contract import parse_job
from viberator_worker.environment import agent_environment
from viberator_worker.slate import fresh_slate

from components.config import ConfigError, parse_stack_config
from components.config.rules.role_secrets import unseen_secrets
from components.config_model.clankers import CloudClanker
from components.config_model.issues import ConfigIssue
from components.targets import TARGETS, parse_clanker
from workers.catalog import HARNESS_NAMES, HARNESSES

ACCOUNT = "123456789012"
LAMBDA_CREDENTIALS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]
TASK_CREDENTIALS = ["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"]
ON_BEDROCK = {"CLAUDE_CODE_USE_BEDROCK": "1"}


def arn(name: str) -> str:
    return f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:viberator/qa/{name.lower()}-AbCdEf"


def secrets(*names: str) -> dict[str, str]:
    return {name: arn(name) for name in names}


def lambda_on_bedrock(harness: str = "claude", grants: tuple[str, ...] = (), **fields: Any) -> dict[str, Any]:
    """A Lambda clanker whose agent calls Bedrock with the function role's credentials, granting `grants` too."""
    return {
        "name": "worker",
        "agent": harness,
        "target": "lambda",
        "environment": ON_BEDROCK,
        "agentEnvironment": [*LAMBDA_CREDENTIALS, "AWS_REGION", *grants],
        **fields,
    }


def task_on_bedrock(harness: str = "claude", **fields: Any) -> dict[str, Any]:
    return {
        "name": "worker",
        "agent": harness,
        "target": "ecs",
        "environment": {**ON_BEDROCK, "AWS_REGION": "us-east-1"},
        "agentEnvironment": TASK_CREDENTIALS,
        **fields,
    }


def parse(entry: dict[str, Any]) -> CloudClanker:
    config = parse_stack_config(
        {"harnesses": list(HARNESS_NAMES), "clankers": [entry]}, stack="qa", region="us-east-1", account=ACCOUNT
    )
    (clanker,) = config.clankers
    assert isinstance(clanker, CloudClanker)
    return clanker


def refusal(entry: dict[str, Any]) -> ConfigIssue:
    with pytest.raises(ConfigError) as raised:
        parse(entry)
    (issue,) = raised.value.issues
    return issue


def seen_by(clanker: CloudClanker, cli: str, tmp_path: Path) -> set[str]:
    """The clanker's `secrets` variables the worker passes to `cli` (secrets resolved into its environment)."""
    worker_env = {**clanker.worker_environment, **dict.fromkeys(clanker.secrets, "secret-value")}
    job = parse_job({"contract": JOB_CONTRACT_VERSION, "id": "job-1", "agent": cli, "prompt": "p"})
    with fresh_slate({"VIBERATOR_SCRATCH_DIR": str(tmp_path)}) as slate:
        return set(agent_environment(worker_env, agent(cli), job, slate)) & set(clanker.secrets)


ACCEPTED: list[tuple[str, dict[str, Any]]] = [
    ("lambda, no secrets", lambda_on_bedrock()),
    ("lambda, its one secret granted", lambda_on_bedrock(grants=("GITHUB_TOKEN",), secrets=secrets("GITHUB_TOKEN"))),
    ("lambda, its own CLI's key", lambda_on_bedrock(secrets=secrets("ANTHROPIC_API_KEY"))),
    (
        "lambda, one secret under two names, one granted",
        lambda_on_bedrock(grants=("GH_TOKEN",), secrets={"GH_TOKEN": arn("github"), "GITHUB_TOKEN": arn("github")}),
    ),
    (
        "lambda, several agents, every secret granted",
        lambda_on_bedrock("multi-agent", grants=("MISTRAL_API_KEY",), secrets=secrets("MISTRAL_API_KEY")),
    ),
    (
        "lambda on a Bedrock API key, the role not granted",
        {
            **lambda_on_bedrock(secrets=secrets("AWS_BEARER_TOKEN_BEDROCK", "GITHUB_TOKEN")),
            "agentEnvironment": ["AWS_BEARER_TOKEN_BEDROCK", "AWS_REGION"],
        },
    ),
    ("ecs, a secret not granted", task_on_bedrock(secrets=secrets("GITHUB_TOKEN"))),
    ("ecs, several agents, one's key", task_on_bedrock("multi-agent", secrets=secrets("MISTRAL_API_KEY"))),
]


@pytest.mark.parametrize(("why", "entry"), ACCEPTED, ids=[case[0] for case in ACCEPTED])
def test_accepted_where_no_agent_gains_a_secret_through_the_role(
    why: str, entry: dict[str, Any], tmp_path: Path
) -> None:
    clanker = parse(entry)
    if not clanker.role_reads_secrets or not set(clanker.role_credentials) & set(clanker.agent_environment):
        return  # nothing to hold: the agent gets no credentials of a role that reads secrets
    for cli in HARNESSES[clanker.agent].agents:
        seen = {clanker.secrets[variable] for variable in seen_by(clanker, cli, tmp_path)}
        assert seen == set(clanker.secrets.values()), (why, cli)


REFUSED: list[tuple[str, dict[str, Any], list[str]]] = [
    (
        "the reviewer's: another provider's key and a token for the worker",
        lambda_on_bedrock(secrets=secrets("OPENAI_API_KEY", "GITHUB_TOKEN")),
        ["its agent claude could read OPENAI_API_KEY, GITHUB_TOKEN, which it is not granted"],
    ),
    (
        "opencode (no switch) and an ungranted token",
        {**lambda_on_bedrock("opencode", secrets=secrets("GITHUB_TOKEN")), "environment": {}},
        ["its agent opencode could read GITHUB_TOKEN"],
    ),
    (
        "several agents, one's key",
        lambda_on_bedrock("multi-agent", secrets=secrets("MISTRAL_API_KEY")),
        ["its agents could read secrets they are not granted: MISTRAL_API_KEY (all but mistral)"],
    ),
    (
        "several agents, a token none is granted",
        lambda_on_bedrock("multi-agent", secrets=secrets("MISTRAL_API_KEY", "GITHUB_TOKEN")),
        ["MISTRAL_API_KEY (all but mistral), GITHUB_TOKEN (every agent)"],
    ),
    (
        "a part of the credentials granted",
        {
            "name": "worker",
            "agent": "claude",
            "target": "lambda",
            "secrets": secrets("ANTHROPIC_API_KEY", "GITHUB_TOKEN"),
            "agentEnvironment": ["AWS_SESSION_TOKEN"],
        },
        ["grants its agent AWS_SESSION_TOKEN, the credentials of its lambda role", "could read GITHUB_TOKEN"],
    ),
    (
        "a Bedrock API key, and the role's credentials as well",
        lambda_on_bedrock(
            grants=("AWS_BEARER_TOKEN_BEDROCK",), secrets=secrets("AWS_BEARER_TOKEN_BEDROCK", "GITHUB_TOKEN")
        ),
        ["could read GITHUB_TOKEN, which"],
    ),
]


@pytest.mark.parametrize(("why", "entry", "says"), REFUSED, ids=[case[0] for case in REFUSED])
def test_refused_where_an_agent_would_read_a_secret_it_is_not_granted(
    why: str, entry: dict[str, Any], says: list[str], tmp_path: Path
) -> None:
    issue = refusal(entry)
    assert (issue.path, issue.value) == ("viberator:clankers[0].agentEnvironment", entry["agentEnvironment"]), why
    for words in [*says, "every such secret knowingly", "`target: ecs`", "AWS_BEARER_TOKEN_BEDROCK"]:
        assert words in issue.message, (why, issue.message)
    # What the refusal names is withheld by the worker from at least one agent, which the role would hand it.
    clanker = parse_clanker(entry)  # the clanker alone, without the stack's rules
    assert isinstance(clanker, CloudClanker)
    withheld = {
        variable
        for cli in HARNESSES[entry["agent"]].agents
        for variable in set(entry["secrets"]) - seen_by(clanker, cli, tmp_path)
    }
    assert withheld and all(variable in issue.message for variable in withheld), why


def test_the_refusal_says_what_leaks_and_the_three_ways_out() -> None:
    """The whole message, once (the cases above check its parts)."""
    issue = refusal(lambda_on_bedrock(secrets=secrets("OPENAI_API_KEY", "GITHUB_TOKEN")))
    assert str(issue) == (
        'viberator:clankers[0].agentEnvironment = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", '
        '"AWS_SESSION_TOKEN", "AWS_REGI...: clanker \'worker\' grants its agent AWS_ACCESS_KEY_ID, '
        "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, the credentials of its lambda role, and that role also reads "
        "every one of the clanker's `secrets` (secretsmanager:GetSecretValue), so its agent claude could read "
        "OPENAI_API_KEY, GITHUB_TOKEN, which it is not granted. Grant its agent every such secret knowingly (add "
        "OPENAI_API_KEY, GITHUB_TOKEN to `agentEnvironment`), or move the clanker to `target: ecs` (there another "
        "role reads the secrets), or call Amazon Bedrock with an API key instead of the role: an "
        "`AWS_BEARER_TOKEN_BEDROCK` secret, listed in `agentEnvironment` in place of AWS_ACCESS_KEY_ID, "
        "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN"
    )


def test_every_cloud_target_says_whether_its_role_reads_the_secrets() -> None:
    """A new target must decide (a ClassVar without a value would pass every clanker of it silently)."""
    reads = {
        target.name: target.config_model.role_reads_secrets
        for target in TARGETS
        if issubclass(target.config_model, CloudClanker)
    }
    assert reads == {"lambda": True, "ecs": False}


def test_a_secret_seen_only_by_a_json_key_is_unseen() -> None:
    """The role reads a secret whole: a target that took ECS's json-key selector would hand the agent all of it.
    Only ECS takes one today, and its role reads none, so this asks the rule's own measure directly."""
    whole, one_key = arn("github"), f"{arn('github')}:token::"
    clanker = parse_clanker(task_on_bedrock(secrets={"GH_TOKEN": one_key}, agentEnvironment=["GH_TOKEN"]))
    assert isinstance(clanker, CloudClanker)
    assert unseen_secrets(clanker, ["claude"]) == {"GH_TOKEN": ["claude"]}
    clanker = parse_clanker(
        task_on_bedrock(secrets={"GH_TOKEN": one_key, "GITHUB_TOKEN": whole}, agentEnvironment=["GITHUB_TOKEN"])
    )
    assert isinstance(clanker, CloudClanker)
    assert unseen_secrets(clanker, ["claude"]) == {}
