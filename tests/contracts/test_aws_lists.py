"""AWS's own lists and limits, read from AWS's service models as botocore ships them, against the config's: a
value AWS adds (a retention period, a Fargate size) fails here until the config takes it."""

from __future__ import annotations

import re
from functools import cache

import botocore.session
import pytest
from botocore.model import ServiceModel

from components.config import parse_stack_config
from components.config_model.fields import LOG_RETENTION_DAYS
from components.config_model.issues import ConfigError
from components.targets.ecs import FARGATE_MEMORY_MB, EcsClankerConfig, fargate_memory_choices
from tests.agent_secrets import with_agent_key


@cache
def model(service: str) -> ServiceModel:
    return botocore.session.get_session().get_service_model(service)


def text(documentation: str) -> str:
    return re.sub(r"<[^>]+>", "", documentation)


def test_log_retention_is_cloudwatch_s() -> None:
    """CloudWatch Logs' PutRetentionPolicy: "Possible values are: 1, 3, 5, ... and 3653"."""
    documented = text(model("logs").shape_for("Days").documentation)
    listed = re.search(r"Possible values are: ([0-9, and]+)\.", documented)
    assert listed is not None, documented
    assert tuple(int(days) for days in re.findall(r"\d+", listed.group(1))) == LOG_RETENTION_DAYS


@pytest.mark.parametrize("days", [1096, 1827, 2192, 2557, 2922, 3288, 3653])
def test_multi_year_retention_parses(days: int) -> None:
    lambda_clanker = with_agent_key({"name": "w", "agent": "claude", "target": "lambda"})  # its log group keeps them
    config = parse_stack_config(
        {"logRetentionDays": str(days), "clankers": [lambda_clanker]}, stack="dev", region="us-east-1"
    )
    assert config.log_retention_days == days


def test_a_retention_cloudwatch_lacks_lists_the_real_values() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config({"logRetentionDays": "1000"}, stack="dev", region="us-east-1")
    (issue,) = raised.value.issues
    assert "731, 1096, 1827, 2192, 2557, 2922, 3288, 3653 days" in issue.message


def _megabytes(amount: str) -> int:
    number, unit = re.fullmatch(r"(\d+) ?(GB)?", amount.strip()).groups()  # type: ignore[union-attr]
    return int(number) * 1024 if unit else int(number)


def fargate_table() -> dict[int, list[int]]:
    """ECS RegisterTaskDefinition's `memory`: for Fargate, each CPU size's memory sizes, as listed or as "Between
    <low> and <high> in increments of <step>" / "in <step> increments"."""
    documented = text(model("ecs").shape_for("RegisterTaskDefinitionRequest").members["memory"].documentation)
    table: dict[int, list[int]] = {}
    for row in re.findall(r"(.+?) - Available cpu values: (\d+)", documented):
        sizes, cpu = row[0].rsplit("  ", 1)[-1].strip(), int(row[1])
        between = re.search(r"Between (\d+(?: ?GB)?)(?: \([^)]*\))? and (\d+(?: ?GB)?)(?: \([^)]*\))? in", sizes)
        if between:
            step = re.search(r"increments of (\d+)|in (\d+ GB) increments", sizes)
            assert step is not None, sizes
            low, high = _megabytes(between.group(1)), _megabytes(between.group(2))
            table[cpu] = list(range(low, high + 1, _megabytes(step.group(1) or step.group(2))))
        else:
            table[cpu] = [int(size) for size in re.findall(r"(\d+) \(", sizes)]
    return table


def test_fargate_sizes_are_ecs_s() -> None:
    table = fargate_table()
    assert set(table) == set(FARGATE_MEMORY_MB) == {256, 512, 1024, 2048, 4096, 8192, 16384}
    for cpu, sizes in table.items():
        assert fargate_memory_choices(cpu) == sizes, cpu


def test_fargate_storage_is_ecs_s() -> None:
    documented = text(model("ecs").shape_for("EphemeralStorage").members["sizeInGiB"].documentation)
    low, high = map(int, re.findall(r"supported value is (\d+) GiB", documented))
    field = EcsClankerConfig.model_fields["ephemeral_storage_gb"]
    bounds = {type(m).__name__: m for m in field.metadata}
    assert (bounds["Ge"].ge, bounds["Le"].le) == (low, high)
