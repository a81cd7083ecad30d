"""A clanker's secrets and environment, without Pulumi: secrets are complete Secrets Manager ARNs of the stack's
partition (or a sharing account's, once listed), credentials never travel as plain environment values and are
never echoed, and Lambda's 4 KB and reserved variables are enforced where they apply.
"""

from __future__ import annotations

import pytest

from components.config import ConfigError, parse_stack_config
from components.config_model.fields import AGENT_ENV_VARIABLE
from components.targets.lambda_ import (
    LAMBDA_ENVIRONMENT_MAX_BYTES,
    LAMBDA_RESERVED_VARIABLES,
    lambda_environment_bytes,
    lambda_variables,
)
from tests.config.stack_values import clanker, errors, parse

SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:viberator/dev/anthropic-AbCdEf"


def test_secrets_must_be_secrets_manager_arns() -> None:
    parse(clankers=[clanker(secrets={"ANTHROPIC_API_KEY": SECRET})])
    (message,) = errors(clankers=[clanker(secrets={"ANTHROPIC_API_KEY": "sk-plaintext"})])
    assert message.startswith('viberator:clankers[0].secrets.ANTHROPIC_API_KEY = "sk-plaintext": must be a Secrets')


@pytest.mark.parametrize(
    "value",
    ["sk-ant-api03-abcdefghijklmnopqrstuvwxyz", "AKIAIOSFODNN7EXAMPLE", "ghp_" + "a" * 36],
)
def test_plaintext_credentials_are_refused_without_echoing_them(value: str) -> None:
    (message,) = errors(clankers=[clanker(environment={"HELPER": value})])
    assert message.startswith("viberator:clankers[0].environment.HELPER = '(redacted)': holds ")
    assert value not in message


def test_credential_names_must_use_secrets() -> None:
    (message,) = errors(clankers=[clanker(environment={"OPENAI_API_KEY": "hunter2"})])
    assert "OPENAI_API_KEY name credentials" in message
    assert "hunter2" not in message


def test_env_and_secrets_must_not_overlap() -> None:
    secrets = {"TOKEN_LIMIT": SECRET, "ANTHROPIC_API_KEY": SECRET}
    (message,) = errors(clankers=[clanker(environment={"TOKEN_LIMIT": ""}, secrets=secrets)])
    assert "TOKEN_LIMIT set in both environment and secrets" in message


def test_lambda_counts_every_variable_it_gets_against_4_kb() -> None:
    secrets = {"ANTHROPIC_API_KEY": SECRET}
    arns = lambda_environment_bytes(lambda_variables({}, secrets))
    # The program also names the variables the agent may see (PROMPT) in VIBERATOR_AGENT_ENV.
    injected = lambda_environment_bytes(lambda_variables({AGENT_ENV_VARIABLE: "PROMPT"}, secrets))
    room = LAMBDA_ENVIRONMENT_MAX_BYTES - injected - len("PROMPT")
    parse(clankers=[clanker(environment={"PROMPT": "x" * room}, secrets=secrets)])
    (message,) = errors(clankers=[clanker(environment={"PROMPT": "x" * (room + 1)}, secrets=secrets)])
    assert message.startswith('viberator:clankers[0].environment = {"PROMPT": "xxx')
    assert f"would total {LAMBDA_ENVIRONMENT_MAX_BYTES + 1} bytes" in message
    assert f"the largest: PROMPT {room + 1 + len('PROMPT')} bytes, VIBERATOR_SECRET_ARNS {arns} bytes" in message
    # ECS has no such limit here: the same variables go into its task definition.
    parse(clankers=[clanker("ecs", environment={"PROMPT": "x" * 5000}, secrets=secrets)])


@pytest.mark.parametrize("name", sorted(LAMBDA_RESERVED_VARIABLES))
def test_lambda_reserves_its_runtime_variables_and_ecs_none(name: str) -> None:
    # As a secret, so that credential-named ones (AWS_SESSION_TOKEN) meet only the reserved-name rule.
    secrets = {name: SECRET, "ANTHROPIC_API_KEY": SECRET}
    (message,) = errors(clankers=[clanker(secrets=secrets)])
    expected = "one of Lambda's reserved runtime variables" if name[0].isalpha() else "a Lambda variable name"
    assert expected in message
    parse(clankers=[clanker("ecs", secrets=secrets)])


@pytest.mark.parametrize(
    ("arn", "target", "complaint"),
    [
        (SECRET.removesuffix("-AbCdEf"), "lambda", "a partial ARN"),
        (SECRET.replace("us-east-1", "us-east1"), "ecs", "us-east1 is not an AWS region"),
        (SECRET + ":anthropic::", "lambda", "works only on ecs"),
        (SECRET + ":anthropic", "ecs", "must be a Secrets Manager secret ARN"),
    ],
)
def test_secret_arns_are_complete(arn: str, target: str, complaint: str) -> None:
    (message,) = errors(clankers=[clanker(target, secrets={"ANTHROPIC_API_KEY": arn})])
    assert complaint in message


def test_secrets_are_in_the_stack_partition_and_ecs_takes_selectors() -> None:
    parse(clankers=[clanker("ecs", secrets={"ANTHROPIC_API_KEY": SECRET + ":anthropic:AWSCURRENT:"})])
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(
            {"clankers": [clanker(secrets={"ANTHROPIC_API_KEY": SECRET})]}, stack="gov", region="us-gov-west-1"
        )
    (issue,) = raised.value.issues
    assert issue.message.startswith("partition aws, but this stack's region us-gov-west-1 is in aws-us-gov")


def test_a_secret_from_a_sharing_account_is_accepted_once_listed() -> None:
    other = SECRET.replace("123456789012", "210987654321")
    values = {"clankers": [clanker(secrets={"ANTHROPIC_API_KEY": other})]}
    with pytest.raises(ConfigError):
        parse_stack_config(values, stack="dev", region="us-east-1", account="123456789012")
    shared = parse_stack_config(
        {**values, "secretAccounts": ["210987654321"]}, stack="dev", region="us-east-1", account="123456789012"
    )
    assert shared.secret_accounts == ["210987654321"]
