"""Credentials anywhere: the one check (components/credentials.py) over every plain value the config carries,
nested or inside other text, and the same check in the policy pack."""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError, parse_pulumi_config
from components.credentials import credential_in, credentials_in
from policy import rules
from tests.agent_secrets import agent_keyed_json

GITHUB = "ghp_" + "Ab3" * 12
HIDDEN = [
    ("a URL's password", f"https://x-access-token:{'q1W2e3R4' * 3}@github.com/org/repo.git"),
    ("a token in a URL's user-info", f"https://{GITHUB}@github.com/org/repo.git"),
    ("a token inside a command line", f"git -c http.extraHeader='Authorization: token {GITHUB}' clone"),
    ("an AWS key after a label", "key=AKIAIOSFODNN7EXAMPLE"),
    ("a JSON web token", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N"),
    ("a private key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\n"),
]
PLAIN = [
    "https://api.example.com/v1",
    "https://user@git.example.com/repo.git",  # a user, no password
    "task-runner-abcdefghijklmnopqrstuvwxyz",  # `sk-` inside a word
    "arn:aws:secretsmanager:us-east-1:123456789012:secret:viberator/dev/anthropic-AbCdEf",
    "debug",
]


@pytest.mark.parametrize(("why", "value"), HIDDEN)
def test_a_credential_is_found_inside_other_text(why: str, value: str) -> None:
    assert credential_in(value) is not None, why


@pytest.mark.parametrize("value", PLAIN)
def test_plain_values_are_not_credentials(value: str) -> None:
    assert credential_in(value) is None


def test_credentials_are_found_at_any_depth() -> None:
    value = {"a": [{"b": "fine"}, {"c": f"x {GITHUB}"}], "d": "AKIAIOSFODNN7EXAMPLE"}
    assert sorted(credentials_in(value, "top")) == [
        ("top.a[1].c", "a GitHub token"),
        ("top.d", "an AWS access key id"),
    ]


def refused(config: dict[str, str], secret_keys: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_pulumi_config({"aws:region": "us-east-1", **config}, stack="qa", secret_keys=secret_keys)
    return [f"{issue.path} = {issue.value}" for issue in raised.value.issues]


@pytest.mark.parametrize(("why", "value"), HIDDEN)
def test_the_config_refuses_a_credential_in_any_value_without_echoing_it(why: str, value: str) -> None:
    clanker: dict[str, Any] = {"name": "w", "agent": "claude", "target": "ecs", "environment": {"REPO": value}}
    issues = refused({"viberator:clankers": agent_keyed_json([clanker])})
    assert issues == ["viberator:clankers[0].environment.REPO = (redacted)"], why


def test_a_credential_in_a_provider_setting_or_a_stack_setting_is_refused() -> None:
    assert refused({"aws:defaultTags": '{"tags": {"owner": "AKIAIOSFODNN7EXAMPLE"}}'}) == [
        "aws:defaultTags.tags.owner = (redacted)"
    ]
    assert refused({"viberator:imageRevision": GITHUB}) == ["viberator:imageRevision = (redacted)"]


def test_a_value_set_as_a_secret_is_not_looked_into() -> None:
    """Under `pulumi up` a secret's value arrives decrypted; it was encrypted in the file, so it is no leak."""
    config = {"aws:region": "us-east-1", "viberator:builder": f'{{"name": "{GITHUB}"}}'}
    assert parse_pulumi_config(config, stack="qa", secret_keys=("viberator:builder",)).builder is not None
    assert refused(config) == ["viberator:builder.name = (redacted)"]


@pytest.mark.parametrize(("why", "value"), HIDDEN)
def test_the_policy_pack_finds_the_same_credentials(why: str, value: str) -> None:
    props = {"environment": {"variables": {"REPO": value}}}
    assert rules.check_plaintext_secrets(rules.FUNCTION, props) == [
        "Lambda environment holds a plaintext credential in REPO: use a Secrets Manager secret"
    ], why


SECRET_PROMPT = "confidential-prompt-" + "y" * 4200
"""A value set with `--secret`, shaped like no credential: only its key says it is secret."""


@pytest.mark.parametrize(
    ("clanker", "issue_key"),
    [
        ({"target": "lambda", "environment": {"SYSTEM_PROMPT": SECRET_PROMPT}}, "environment"),
        ({"target": "lambda", "environment": {"SYSTEM_PROMPT": SECRET_PROMPT}, "memoryMb": "lots"}, "memoryMb"),
        ({"target": "ecs", "environment": {"SYSTEM_PROMPT": SECRET_PROMPT}, "cpu": 3}, "cpu"),
    ],
    ids=["a rule's issue (lambda's 4 KB)", "pydantic's error in a lambda clanker", "pydantic's error in an ecs one"],
)
def test_a_key_set_as_a_secret_never_has_its_value_shown(clanker: dict[str, Any], issue_key: str) -> None:
    """Under `pulumi up` the program reads a `--secret` value decrypted: an issue about it names the key and
    shows (redacted), whatever the value looks like; the same config set in plain text shows the value."""
    clankers = agent_keyed_json([{"name": "w", "agent": "claude", **clanker}])
    config = {"viberator:clankers": clankers}
    shown = [line for line in refused(config) if line.startswith(f"viberator:clankers[0].{issue_key} = ")]
    hidden = refused(config, ("viberator:clankers",))
    assert shown and "(redacted)" not in shown[0]
    assert f"viberator:clankers[0].{issue_key} = (redacted)" in hidden
    assert all(line.endswith(" = (redacted)") for line in hidden), hidden
