"""Clankers as a working stack holds them: a cloud clanker's `secrets` hold its agent's API key, which the config
requires (components/config/rules/agent_keys.py). A fixture about something else builds its clankers through
`with_agent_key`, so that it stays valid without spelling a secret out, and the rule never bends to fixtures.
Tests of the rule itself build their clankers by hand."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from components.config_model.clankers import CloudClanker
from components.targets import CLANKER_MODELS
from workers.catalog import HARNESSES
from workers.ecr_url import partition_of_region

ACCOUNT = "123456789012"
REGION = "us-east-1"


def agent_key_secret(agent: str, *, account: str = ACCOUNT, region: str = REGION) -> dict[str, str]:
    """{the harness's first API-key variable: a Secrets Manager ARN of `account` and `region`}."""
    name = HARNESSES[agent].key_variables[0]
    secret = f"viberator/fixture/{name.lower().replace('_', '-')}-AbCdEf"
    return {name: f"arn:{partition_of_region(region)}:secretsmanager:{region}:{account}:secret:{secret}"}


def with_agent_key(clanker: Mapping[str, Any], *, account: str = ACCOUNT, region: str = REGION) -> dict[str, Any]:
    """`clanker`, plus its agent's key under `secrets` when it is a cloud clanker of a known harness whose secrets
    hold none of its keys (anything else is returned as it is, for the config to judge)."""
    model = CLANKER_MODELS.get(str(clanker.get("target")))
    harness = HARNESSES.get(str(clanker.get("agent")))
    secrets = clanker.get("secrets") or {}
    if model is None or not issubclass(model, CloudClanker) or harness is None or not isinstance(secrets, dict):
        return dict(clanker)
    if set(secrets) & set(harness.key_variables):
        return dict(clanker)
    return {**clanker, "secrets": {**agent_key_secret(harness.name, account=account, region=region), **secrets}}


def with_agent_keys(
    clankers: Iterable[Mapping[str, Any]], *, account: str = ACCOUNT, region: str = REGION
) -> list[dict[str, Any]]:
    return [with_agent_key(clanker, account=account, region=region) for clanker in clankers]


def agent_keyed_json(clankers: Iterable[Mapping[str, Any]], *, account: str = ACCOUNT, region: str = REGION) -> str:
    """`viberator:clankers` as the Pulumi CLI passes it (JSON text), each clanker `with_agent_key`."""
    return json.dumps(with_agent_keys(clankers, account=account, region=region))
