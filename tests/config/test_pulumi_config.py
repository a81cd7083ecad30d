"""The config map as the Pulumi CLI passes it (every namespace, values as text): text coerced where a model
types it, keys the program never reads named with the command that sets them, the providers' settings checked as
the providers check them.
"""

from __future__ import annotations

import pytest

from components.config import ConfigError, parse_pulumi_config
from tests.agent_secrets import agent_keyed_json


def cli(stack: str = "dev", **config: str) -> list[str]:
    """Issues of a config map as the Pulumi CLI passes it (every namespace, values as text)."""
    with pytest.raises(ConfigError) as raised:
        parse_pulumi_config({"aws:region": "us-east-1", **config}, stack=stack)
    return [str(issue) for issue in raised.value.issues]


def test_text_values_reach_the_models_as_text_and_are_coerced_where_typed() -> None:
    config = parse_pulumi_config(
        {
            "aws:region": "us-east-1",
            "aws:profile": "viberator-dev",  # the provider's: allowed, not read here
            "viberator:environment": "2024",
            "viberator:imageRevision": "20240601",
            "viberator:keepImages": "10",
            "viberator:logRetentionDays": "90",
            "viberator:pushLatest": "false",
            "viberator:harnesses": '["claude"]',
            "viberator:clankers": agent_keyed_json([{"name": "w", "agent": "claude", "target": "lambda"}]),  # has logs
        },
        stack="dev",
    )
    assert (config.environment, config.image_revision) == ("2024", "20240601")
    assert (config.keep_images, config.log_retention_days, config.push_latest) == (10, 90, False)
    assert config.harnesses == ["claude"]


def test_keys_the_program_never_reads_are_named_with_the_command_that_sets_them() -> None:
    assert cli(**{"viberator-workers:keepImages": "10", "keepImages": "10"}) == [
        "viberator-workers:keepImages = 10: the namespace viberator-workers, which this program never reads: did "
        "you mean viberator:keepImages? `pulumi config set viberator:keepImages 10`",
        "keepImages = 10: no namespace, which this program never reads: did you mean viberator:keepImages? "
        "`pulumi config set viberator:keepImages 10`",
    ]
    (message,) = cli(**{"acme:colour": "blue"})
    assert message.startswith('acme:colour = "blue": this program reads only viberator:* and its providers')


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"aws:ec2MetadataServiceEndpointMode": "ipv4"}, 'aws:ec2MetadataServiceEndpointMode = "ipv4": the AWS'),
        ({"aws:retryMode": "Standard"}, 'aws:retryMode = "Standard": the AWS provider takes standard or adaptive'),
        ({"aws:forbiddenAccountIds": '["210987654321", "210987654321"]'}, "aws:forbiddenAccountIds[1] = "),
        ({"aws:forbiddenAccountIds": "[210987654321]"}, "aws:forbiddenAccountIds[0] = 210987654321: the provider"),
        ({"aws:token": "IQoJb3JpZ2luX2VjEJr"}, "aws:token = '(redacted)': a credential in plain text"),
    ],
)
def test_provider_settings_are_checked_as_the_provider_checks_them(config: dict[str, str], expected: str) -> None:
    (message,) = cli(**config)
    assert message.startswith(expected)


def test_a_provider_credential_set_as_a_secret_passes() -> None:
    config = {"aws:region": "us-east-1", "aws:secretKey": "[secret]", "aws:accessKey": "[secret]"}
    assert parse_pulumi_config(config, stack="dev", secret_keys=["aws:secretKey", "aws:accessKey"]).region
