"""The AWS provider's role and file settings, checked as terraform-provider-aws and STS check them
(components/config/aws_provider.py): what they take passes, what they refuse is named."""

from __future__ import annotations

import json

import pytest

from components.config.aws_provider import go_duration_seconds, provider_issues


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("15m", 900), ("12h", 43200), ("1h30m", 5400), ("3600s", 3600), ("0.5h", 1800), ("0", 0)],
)
def test_durations_read_as_go_reads_them(text: str, seconds: float) -> None:
    assert go_duration_seconds(text) == seconds


@pytest.mark.parametrize("text", ["3600", "", "1 h", "1d", "h", ".m"])
def test_what_go_refuses_is_no_duration(text: str) -> None:
    assert go_duration_seconds(text) is None


VALID_ROLE = {
    "roleArn": "arn:aws:iam::123456789012:role/viberator-ci-deploy",
    "sessionName": "viberator-nightly@ci",
    "externalId": "acme:viberator/1",
    "duration": "1h",
    "policy": json.dumps({"Version": "2012-10-17", "Statement": []}),
}


def issues(**settings: object) -> list[str]:
    config = {f"aws:{key}": value if isinstance(value, str) else json.dumps(value) for key, value in settings.items()}
    return [f"{issue.path}" for issue in provider_issues(config, secret_keys=())]


def test_what_the_provider_takes_passes() -> None:
    assert (
        issues(
            assumeRoles=[VALID_ROLE, {**VALID_ROLE, "duration": "15m"}, {**VALID_ROLE, "duration": "12h"}],
            assumeRoleWithWebIdentity={"roleArn": VALID_ROLE["roleArn"], "duration": "45m"},
            sharedCredentialsFiles=["~/.aws/credentials"],
            sharedConfigFiles=["~/.aws/config"],
            profile="viberator-dev",
            endpoints=[{"ecr": "http://localhost:4566"}],
        )
        == []
    )


def test_just_outside_the_bounds_is_refused() -> None:
    assert issues(
        assumeRoles=[
            {**VALID_ROLE, "duration": "14m59s"},
            {**VALID_ROLE, "duration": "12h0m1s", "sessionName": "x"},
            {**VALID_ROLE, "externalId": "a" * 1225, "policy": "{not json"},
        ],
        sharedConfigFiles=[1],
        profile=["dev"],
        endpoints=[{"ecr": 4566}],
    ) == [
        "aws:assumeRoles[0].duration",
        "aws:assumeRoles[1].duration",
        "aws:assumeRoles[1].sessionName",
        "aws:assumeRoles[2].externalId",
        "aws:assumeRoles[2].policy",
        "aws:sharedConfigFiles",
        "aws:profile",
        "aws:endpoints",
    ]
