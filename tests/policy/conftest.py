"""Plans the guardrail tests judge: the committed stacks (tests/conftest.py's, planned once per run for every
test layer) and a prod image stack (repositories created).
"""

from __future__ import annotations

from functools import cache

import pytest

from offline_plan.engine import Plan, run_program
from tests.agent_secrets import agent_keyed_json
from tests.conftest import committed_plan

PROD_IMAGE_STACK = {
    "aws:region": "us-east-1",
    "viberator:harnesses": '["claude", "claude-code-ecs"]',
    "viberator:imageRevision": "abc123",
    "viberator:network": '{"vpcId": "vpc-0123456789abcdef0", "subnetIds": ["subnet-0123456789abcdef0"]}',
    "viberator:clankers": agent_keyed_json(
        [
            {"name": "claude", "agent": "claude", "target": "lambda"},
            {"name": "claude-ecs", "agent": "claude-code-ecs", "target": "ecs", "cpu": 1024, "memoryMb": 4096},
        ]
    ),
}
"""An image stack whose environment is prod: the one shape in which prod owns repositories."""


@cache
def prod_image_plan() -> Plan:
    return run_program("prod", PROD_IMAGE_STACK)


@pytest.fixture
def dev_plan() -> Plan:
    return committed_plan("Pulumi.dev.yaml")


@pytest.fixture
def prod_plan() -> Plan:
    return committed_plan("Pulumi.prod.yaml")


@pytest.fixture(name="prod_image_plan")
def prod_image_plan_fixture() -> Plan:
    return prod_image_plan()


@pytest.fixture
def prod_image_config() -> dict[str, str]:
    return dict(PROD_IMAGE_STACK)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "checkov: runs checkov from guardrails/checkov (make test-checkov, not make test); about 40 s in all"
    )
