"""A stack's config values as the config tests write them (viberator's keys without the namespace, a clanker
with its agent's key), parsed or refused: what several config test modules share.
"""

from __future__ import annotations

from typing import Any

import pytest

from components.config import ConfigError, StackConfig, parse_stack_config
from tests.agent_secrets import with_agent_key


def parse(stack: str = "dev", **values: Any) -> StackConfig:
    return parse_stack_config(values, stack=stack, region="us-east-1")


def errors(stack: str = "dev", **values: Any) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse(stack, **values)
    return [str(issue) for issue in raised.value.issues]


def clanker(target: str = "lambda", **fields: Any) -> dict[str, Any]:
    return with_agent_key({"name": "worker", "agent": "claude", "target": target, **fields})
