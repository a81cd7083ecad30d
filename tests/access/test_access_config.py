"""The access stacks' config refuses, before anything registers, what IAM would refuse in the middle of an `up`."""

from __future__ import annotations

import json

import pytest

from access.config import MANAGED_POLICY_CHARACTERS, parse_access_config
from components.config import ConfigError

ACCOUNTS = {"dev": "123456789012", "prod": "210987654321"}


def secrets(account: str, count: int) -> str:
    return json.dumps(
        [f"arn:aws:secretsmanager:us-east-1:{account}:secret:viberator/key-{i:02d}-AbCdEf" for i in range(count)]
    )


def access_config(**values: str) -> dict[str, str]:
    return {
        "viberator-access:repository": "viberator/viberator-workers",
        "viberator-access:accounts": json.dumps(ACCOUNTS),
        **{f"viberator-access:{key}": value for key, value in values.items()},
    }


@pytest.mark.parametrize(
    ("account", "key"), [("prod", "clankerSecrets"), ("dev", "clankerSecrets"), ("dev", "reviewSecrets")]
)
def test_a_secrets_list_longer_than_its_boundary_policy_can_hold_is_refused_by_name(account: str, key: str) -> None:
    listed = secrets(ACCOUNTS[account], 40)
    with pytest.raises(ConfigError) as refused:
        parse_access_config(access_config(account=account, **{key: listed}))
    message = str(refused.value)
    assert f"viberator-access.{key} = " in message  # the key and its own value, not the whole config
    assert ": 40 secrets make the boundary policy " in message
    assert f"at most {MANAGED_POLICY_CHARACTERS} in a managed policy: list fewer" in message


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        ({"account": "prod", "reviewSecrets": secrets(ACCOUNTS["dev"], 1)}, "it belongs to the dev account's stack"),
        ({"account": "dev", "reviewSecrets": secrets(ACCOUNTS["prod"], 1)}, "not a Secrets Manager secret ARN in dev"),
        (
            {"account": "prod", "clankerSecrets": '["x"]'},
            'viberator-access.clankerSecrets = "x": not a Secrets Manager',
        ),
    ],
)
def test_a_secret_of_another_account_or_stack_is_refused_by_key_and_value(values: dict[str, str], shown: str) -> None:
    with pytest.raises(ConfigError, match=shown):
        parse_access_config(access_config(**values))


@pytest.mark.parametrize("key", ["clankerSecrets", "reviewSecrets"])
def test_a_list_that_fits_is_taken(key: str) -> None:
    parsed = parse_access_config(access_config(account="dev", **{key: secrets(ACCOUNTS["dev"], 10)}))
    assert len(parsed.clanker_secrets if key == "clankerSecrets" else parsed.review_secrets) == 10
