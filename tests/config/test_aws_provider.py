"""The providers' settings, checked as the providers check them: every key and its type from the provider's own
schema (components/config/provider_schema.py), the AWS provider's validation functions and STS's bounds
(components/config/aws_provider.py). What they take passes, what they refuse is named."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import pytest
from pulumi._types import output_type_types
from pulumi_aws.config.outputs import AssumeRoles, Endpoints, IgnoreTags

from components.config import ConfigError, parse_pulumi_config
from components.config.aws_provider import go_duration_seconds, provider_issues
from components.config.provider_schema import provider_settings, settings_issues


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900), ("12h", 43200), ("1h30m", 5400), ("3600s", 3600), ("0.5h", 1800), ("0", 0)],
)
def test_durations_read_as_go_reads_them(text: str, seconds: float) -> None:
    assert go_duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["3600", "", "1 h", "1d", "h", ".m"])
def test_what_go_refuses_is_no_duration(text: str) -> None:
    assert go_duration_seconds(text) is None


VALID_ROLE: dict[str, Any] = {
    "roleArn": "arn:aws:iam::123456789012:role/viberator-ci-deploy",
    "sessionName": "viberator-nightly@ci",
    "externalId": "acme:viberator/1",
    "duration": "1h",
    "policy": json.dumps({"Version": "2012-10-17", "Statement": []}),
    "policyArns": ["arn:aws:iam::aws:policy/ReadOnlyAccess", "arn:aws:iam::123456789012:policy/ci/deploy"],
    "sourceIdentity": "alice@example.com",
    "tags": {"Team": "platform", "Cost Center": "42/a"},
    "transitiveTagKeys": ["Team"],
}

EVERY_SETTING: dict[str, Any] = {
    "accessKey": "[secret]",
    "allowedAccountIds": ["123456789012"],
    "assumeRoleWithWebIdentity": {
        "roleArn": VALID_ROLE["roleArn"],
        "duration": "45m",
        "sessionName": "gha",
        "policy": VALID_ROLE["policy"],
        "policyArns": VALID_ROLE["policyArns"],
        "webIdentityTokenFile": "/var/run/token",
    },
    "assumeRoles": [VALID_ROLE, {**VALID_ROLE, "duration": "15m"}, {**VALID_ROLE, "duration": "12h"}],
    "customCaBundle": "/etc/ssl/ca.pem",
    "defaultTags": {"tags": {"Project": "viberator", "Build": "7"}},
    "ec2MetadataServiceEndpoint": "http://169.254.169.254",
    "ec2MetadataServiceEndpointMode": "IPv4",
    "endpoints": [{"ecr": "http://localhost:4566", "lambda": "http://localhost:4566", "sts": "http://localhost:4566"}],
    "forbiddenAccountIds": None,  # refused together with allowedAccountIds: checked on its own below
    "httpProxy": "http://proxy:3128",
    "httpsProxy": "http://proxy:3128",
    "ignoreTags": {"keys": ["LastScanned"], "keyPrefixes": ["kubernetes.io/"]},
    "insecure": False,
    "maxRetries": 5,
    "noProxy": "localhost,169.254.169.254",
    "profile": "viberator-dev",
    "region": "us-east-1",
    "retryMode": "adaptive",
    "s3UsEast1RegionalEndpoint": "Regional",
    "s3UsePathStyle": True,
    "secretKey": "[secret]",
    "sharedConfigFiles": ["~/.aws/config"],
    "sharedCredentialsFiles": ["~/.aws/credentials"],
    "skipCredentialsValidation": True,
    "skipMetadataApiCheck": True,
    "skipRegionValidation": False,
    "skipRequestingAccountId": False,
    "stsRegion": "us-east-1",
    "tagPolicyCompliance": "warning",
    "token": "[secret]",
    "tokenBucketRateLimiterCapacity": 10000,
    "useDualstackEndpoint": False,
    "useFipsEndpoint": False,
    "userAgents": ["viberator/1.0"],
}
SECRETS = ("aws:accessKey", "aws:secretKey", "aws:token")


def as_cli(settings: dict[str, Any]) -> dict[str, str]:
    """Settings as the Pulumi CLI passes them: text, objects and lists as JSON, bools and numbers as YAML wrote."""
    return {
        f"aws:{key}": value if isinstance(value, str) else json.dumps(value)
        for key, value in settings.items()
        if value is not None
    }


def issues(secret_keys: tuple[str, ...] = (), **settings: Any) -> list[str]:
    config = as_cli(settings)
    found = [*settings_issues(config, secret_keys), *provider_issues(config)]
    return [issue.path for issue in found]


def messages(**config: str) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_pulumi_config({"aws:region": "us-east-1", **config}, stack="dev")
    return [str(issue) for issue in raised.value.issues]


def test_every_setting_the_provider_declares_passes_when_valid() -> None:
    # The example names every key pulumi-aws declares: a provider upgrade that adds one fails here until the
    # key has a valid example (and, where the provider validates it, a rule).
    assert set(EVERY_SETTING) == set(provider_settings("aws"))
    assert issues(SECRETS, **EVERY_SETTING) == []
    assert issues(forbiddenAccountIds=["210987654321"]) == []


def test_the_sdk_config_module_and_the_provider_args_agree() -> None:
    # Two declarations in the same SDK: pulumi_aws/config/vars.py (what `aws.config` reads) and the Provider's
    # ProviderArgs (typed, which provider_schema reads). A key in one only would be a setting checked wrongly.
    spec = importlib.util.find_spec("pulumi_aws.config.vars")
    assert spec is not None and spec.origin is not None
    declared = set(re.findall(r"__config__\.get(?:_bool|_int)?\('(\w+)'\)", Path(spec.origin).read_text()))
    assert declared == set(provider_settings("aws"))
    # And its config blocks' types (pulumi_aws/config/outputs.py) hold the same keys as the Provider's inputs.
    for setting, block in (("endpoints", Endpoints), ("assumeRoles", AssumeRoles), ("ignoreTags", IgnoreTags)):
        shape = provider_settings("aws")[setting]
        fields = (shape.item or shape).fields
        assert fields is not None and set(output_type_types(block)) == set(fields)


def test_just_outside_the_bounds_is_refused() -> None:
    assert issues(
        assumeRoles=[
            {**VALID_ROLE, "duration": "14m59s"},
            {**VALID_ROLE, "duration": "12h0m1s", "sessionName": "x"},
            {**VALID_ROLE, "externalId": "a" * 1225, "policy": "{not json"},
            {
                **VALID_ROLE,
                "sourceIdentity": "a" * 65,
                "policyArns": [f"{VALID_ROLE['policyArns'][1]}{i}" for i in range(11)],
            },
            {**VALID_ROLE, "tags": {f"k{i}": "v" for i in range(51)}, "transitiveTagKeys": ["Team", "Team"]},
            {**VALID_ROLE, "tags": {"Team": "a" * 257, "bad#key": "x"}, "policyArns": [VALID_ROLE["roleArn"]]},
            {"sessionName": "no-role"},
        ],
        sharedConfigFiles=[1],
        profile=["dev"],
        endpoints=[{"ecr": 4566, "lamda": "http://localhost:4566"}],
        maxRetries="5.5",
        insecure="yes",
        assumeRoleWithWebIdentity={
            "roleArn": VALID_ROLE["roleArn"],
            "webIdentityToken": "eyJhbGciOi.x.y",
            "webIdentityTokenFile": "/t",
        },
    ) == [
        "aws:sharedConfigFiles[0]",
        "aws:profile",
        "aws:endpoints[0].ecr",
        "aws:endpoints[0].lamda",
        "aws:maxRetries",
        "aws:insecure",
        "aws:assumeRoleWithWebIdentity.webIdentityToken",  # a credential in plain text
        "aws:assumeRoles[0].duration",
        "aws:assumeRoles[1].duration",
        "aws:assumeRoles[1].sessionName",
        "aws:assumeRoles[2].externalId",
        "aws:assumeRoles[2].policy",
        "aws:assumeRoles[3].sourceIdentity",
        "aws:assumeRoles[3].policyArns",
        "aws:assumeRoles[4].tags",
        "aws:assumeRoles[4].transitiveTagKeys[1]",
        "aws:assumeRoles[5].policyArns[0]",
        "aws:assumeRoles[5].tags.Team",
        "aws:assumeRoles[5].tags.bad#key",
        "aws:assumeRoles[6].roleArn",
        "aws:assumeRoleWithWebIdentity.webIdentityTokenFile",
    ]


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        # A typo'd endpoint service: the services are pulumi-aws's (ProviderEndpointArgs), all 300 and more.
        ({"aws:endpoints": '[{"lamda": "http://localhost:4566"}]'}, "aws:endpoints[0].lamda = "),
        ({"aws:endpoints": '[{"lamda": "http://localhost:4566"}]'}, "did you mean lambda?"),
        ({"aws:endpoints": '[{"cloudwatchlog": "http://localhost:4566"}]'}, None),  # an alias the provider takes
        # Terraform's spelling, copied from its docs, and the singular of a list.
        ({"aws:assume_role": '[{"role_arn": "arn:aws:iam::123456789012:role/x"}]'}, "did you mean aws:assumeRoles?"),
        ({"aws:assumeRole": '{"roleArn": "arn:aws:iam::123456789012:role/x"}'}, "did you mean aws:assumeRoles?"),
        ({"aws:skip_credentials_validation": "true"}, "did you mean aws:skipCredentialsValidation?"),
        ({"aws:assumeRoles": '[{"role_arn": "arn:aws:iam::123456789012:role/x"}]'}, "did you mean roleArn?"),
        ({"aws:assumeRoles": '[{"RoleArn": "arn:aws:iam::123456789012:role/x"}]'}, "did you mean roleArn?"),
        (
            {
                "aws:assumeRoles": '[{"roleArn": "arn:aws:iam::123456789012:role/x", '
                '"policyArns": "arn:aws:iam::aws:policy/ReadOnlyAccess"}]'
            },
            'aws:assumeRoles[0].policyArns = "arn:aws:iam::aws:policy/ReadOnlyAccess": the provider takes a list',
        ),
        ({"aws:s3UsEast1RegionalEndpoint": "global"}, "ignores anything else"),
        ({"aws:tagPolicyCompliance": "strict"}, "error or warning or disabled"),
        ({"aws:ignoreTags": '{"keys": ["a", "a"]}'}, "aws:ignoreTags.keys[1] = "),
        ({"aws:maxRetries": "five"}, 'aws:maxRetries = "five": the provider takes a whole number'),
        # Another provider's settings, and a provider's setting under a namespace no provider reads.
        (
            {"docker-build:registry": '[{"address": "123456789012.dkr.ecr.us-east-1.amazonaws.com"}]'},
            "did you mean docker-build:registries?",
        ),
        ({"docker-build:registries": '[{"adress": "ghcr.io"}]'}, "did you mean address?"),
        ({"docker:host": "unix:///var/run/docker.sock"}, "did you mean docker-build:host?"),
        ({"AWS:profile": "viberator-dev"}, "did you mean aws:profile?"),
    ],
)
def test_each_mistake_is_named_with_the_close_name(config: dict[str, str], expected: str | None) -> None:
    if expected is None:
        parse_pulumi_config({"aws:region": "us-east-1", **config}, stack="dev")
        return
    # One message names the mistake (a misspelt roleArn is also reported as the role's missing ARN).
    assert [message for message in messages(**config) if expected in message]


def test_a_plain_web_identity_token_is_a_credential() -> None:
    token = {"roleArn": VALID_ROLE["roleArn"], "webIdentityToken": "a-jwt-from-the-ci"}
    config = {"aws:assumeRoleWithWebIdentity": json.dumps(token)}
    (message,) = messages(**config)
    assert "a-jwt-from-the-ci" not in message
    assert message.startswith("aws:assumeRoleWithWebIdentity.webIdentityToken = '(redacted)': a credential")
    secret = ["aws:assumeRoleWithWebIdentity"]
    assert parse_pulumi_config({"aws:region": "us-east-1", **config}, stack="dev", secret_keys=secret).region


def test_a_plain_registry_password_is_a_credential_and_a_tag_named_token_is_not() -> None:
    registry = {"address": "ghcr.io", "username": "ci", "password": "hunter2-but-longer"}
    (message,) = messages(**{"docker-build:registries": json.dumps([registry])})
    assert message.startswith("docker-build:registries[0].password = '(redacted)': a credential in plain text")
    assert "hunter2" not in message
    tags = {"tags": {"token": "rotated-monthly", "password": "none"}}
    assert parse_pulumi_config({"aws:region": "us-east-1", "aws:defaultTags": json.dumps(tags)}, stack="dev")


def test_an_encrypted_block_the_plan_cannot_read_is_left_to_the_provider() -> None:
    # The offline plan sees a `secure:` value as text it cannot decrypt; `pulumi up` passes it decrypted.
    config = {"aws:region": "us-east-1", "aws:assumeRoleWithWebIdentity": "[secret]", "aws:maxRetries": "[secret]"}
    secret = ["aws:assumeRoleWithWebIdentity", "aws:maxRetries"]
    assert parse_pulumi_config(config, stack="dev", secret_keys=secret).region
