"""The AWS provider's own settings (`aws:*`) that the program lets through, checked as the provider checks them,
so `make plan` refuses what `pulumi preview` would: pulumi-aws is terraform-provider-aws underneath, and each
rule below cites the schema there (internal/provider/sdkv2/provider.go, formerly internal/provider/provider.go)
that it restates. The roles to assume are also checked as STS's AssumeRole, which a preview calls first, refuses
them (its bounds read from botocore's sts model).

Owns only these checks; which `aws:` keys exist is read from pulumi-aws itself (pulumi_config.aws_provider_keys).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any

import botocore.session

from components.aws_ids import ACCOUNT_ID_PATTERN, IAM_ROLE_ARN_PATTERN, SHAPES
from components.config.issues import ConfigIssue, shown

AWS = "aws"

CONFLICTS = (("allowedAccountIds", "forbiddenAccountIds"),)
"""provider.go: `allowed_account_ids` and `forbidden_account_ids` each `ConflictsWith` the other."""

ONE_OF = {
    "retryMode": ("standard", "adaptive"),
    "ec2MetadataServiceEndpointMode": ("IPv4", "IPv6"),
}
"""provider.go: `retry_mode` "Valid values are `standard` and `adaptive`"; `ec2_metadata_service_endpoint_mode`
"Valid values are `IPv4` and `IPv6`"."""

ACCOUNT_SETS = ("allowedAccountIds", "forbiddenAccountIds")
"""provider.go: both `schema.TypeSet` of account ids."""

CREDENTIAL_KEYS = ("accessKey", "secretKey", "token")
"""provider.go `access_key`, `secret_key`, `token`: credentials, which belong in the file only encrypted."""


def _decoded(raw: str) -> Any:
    try:
        return json.loads(raw) if raw.lstrip().startswith(("[", "{")) else raw
    except ValueError:
        return raw


ROLE_KEYS = {"assumeRoles": list, "assumeRoleWithWebIdentity": dict}
"""provider.go: `assume_role` is a TypeList of role blocks (chained in order, pulumi-aws's `aws:assumeRoles`);
`assume_role_with_web_identity` one block (MaxItems 1, an object in Pulumi config)."""
PATH_LISTS = ("sharedCredentialsFiles", "sharedConfigFiles")
"""provider.go: `shared_credentials_files`, `shared_config_files`: TypeList of TypeString, a list even of one."""
TEXT_KEYS = ("profile",)
"""provider.go: `profile`: TypeString."""

_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
MIN_SECONDS, MAX_SECONDS = 15 * 60, 12 * 3600
"""provider.go `validAssumeRoleDuration`: "between 15 minutes (15m) and 12 hours (12h), inclusive"."""


def go_duration_seconds(text: str) -> float | None:
    """`text` as Go's time.ParseDuration reads it (the provider's parser: `1h`, `45m`, `1h30m`, `0`; a number
    without its unit is refused), in seconds, or None where Go refuses it."""
    body = text.lstrip("+-")
    if body == "0":
        return 0.0
    total, position = 0.0, 0
    while position < len(body):
        part = _DURATION_PART.match(body, position)
        if part is None or part[1] in ("", "."):
            return None
        total += float(part[1]) * _SECONDS[part[2]]
        position = part.end()
    if not body:
        return None
    return -total if text.startswith("-") else total


@functools.cache
def _sts_shape(name: str) -> dict[str, Any]:
    """An STS AssumeRole parameter's bounds as botocore's sts model states them (AWS's own API definition)."""
    model = botocore.session.get_session().get_service_model("sts")
    return dict(model.shape_for(name).metadata)


def _sts_text_issue(path: str, value: Any, shape: str, what: str, symbols: str) -> ConfigIssue | None:
    bounds = _sts_shape(shape)
    fits = isinstance(value, str) and bounds["min"] <= len(value) <= bounds["max"]
    if fits and re.fullmatch(bounds["pattern"], str(value)):
        return None
    return ConfigIssue(
        path=path,
        value=value,
        message=f"STS AssumeRole takes {what} of {bounds['min']} to {bounds['max']} letters, digits and {symbols}, "
        "no spaces",
    )


def _role_issues(path: str, role: Any) -> Iterator[ConfigIssue]:
    if not isinstance(role, dict):
        yield ConfigIssue(path=path, value=shown(role), message="a role: roleArn, and optionally sessionName, duration")
        return
    arn = role.get("roleArn")
    if arn is not None and not (isinstance(arn, str) and re.fullmatch(IAM_ROLE_ARN_PATTERN, arn)):
        # The provider checks an ARN (internal/verify ValidARN); STS AssumeRole takes only a role's.
        yield ConfigIssue(path=f"{path}.roleArn", value=arn, message=SHAPES[IAM_ROLE_ARN_PATTERN])
    duration = role.get("duration")
    if duration is not None:
        seconds = go_duration_seconds(duration) if isinstance(duration, str) else None
        if seconds is None or not MIN_SECONDS <= seconds <= MAX_SECONDS:
            yield ConfigIssue(
                path=f"{path}.duration",
                value=duration,
                message="the AWS provider takes a duration with its unit between 15m and 12h, inclusive "
                '(like "1h" or "45m"; seconds are "3600s")',
            )
    for key, shape, what, symbols in (
        ("sessionName", "roleSessionNameType", "a session name", "+=,.@-"),
        ("externalId", "externalIdType", "an external id", "+=,.@:/-"),
    ):
        if key in role:
            issue = _sts_text_issue(f"{path}.{key}", role[key], shape, what, symbols)
            if issue is not None:
                yield issue
    policy = role.get("policy")
    if isinstance(policy, str):
        try:
            json.loads(policy)
        except ValueError:
            yield ConfigIssue(
                path=f"{path}.policy", value=policy, message="the AWS provider takes a JSON policy (StringIsJSON)"
            )


def role_and_file_issues(config: Mapping[str, Any]) -> Iterator[ConfigIssue]:
    """Each issue of the role and file settings in `config`, the `aws:` values decoded (lists and objects)."""
    for key, kind in ROLE_KEYS.items():
        value = config.get(f"{AWS}:{key}")
        if value is None:
            continue
        if not isinstance(value, kind):
            shape = "a list of roles, assumed in order (`- roleArn: …`)" if kind is list else "one role (`roleArn: …`)"
            yield ConfigIssue(path=f"{AWS}:{key}", value=shown(value), message=f"the AWS provider takes {shape}")
            continue
        roles = value if isinstance(value, list) else [value]
        for i, role in enumerate(roles):
            yield from _role_issues(f"{AWS}:{key}[{i}]" if kind is list else f"{AWS}:{key}", role)
    for key in PATH_LISTS:
        value = config.get(f"{AWS}:{key}")
        if value is not None and not (isinstance(value, list) and all(isinstance(path, str) for path in value)):
            example = value if isinstance(value, str) else "~/.aws/credentials"
            yield ConfigIssue(
                path=f"{AWS}:{key}",
                value=shown(value),
                message=f"the AWS provider takes a list of paths, even of one: [{example}]",
            )
    for key in TEXT_KEYS:
        value = config.get(f"{AWS}:{key}")
        if value is not None and not isinstance(value, str):
            yield ConfigIssue(path=f"{AWS}:{key}", value=shown(value), message="the AWS provider takes one name")
    endpoints = config.get(f"{AWS}:endpoints")
    if endpoints is not None and not (
        isinstance(endpoints, list)
        and all(isinstance(block, dict) and all(isinstance(url, str) for url in block.values()) for block in endpoints)
    ):
        yield ConfigIssue(
            path=f"{AWS}:endpoints",
            value=shown(endpoints),
            message="the AWS provider takes a list of blocks of service: URL (`- s3: http://localhost:4566`)",
        )


def provider_issues(config: Mapping[str, str], secret_keys: Collection[str]) -> Iterator[ConfigIssue]:
    """Each `aws:` setting the provider would refuse, or that would put a credential in the file in plain text."""
    for first, second in CONFLICTS:
        if f"{AWS}:{first}" in config and f"{AWS}:{second}" in config:
            yield ConfigIssue(
                path=f"{AWS}:{second}",
                value=shown(_decoded(config[f"{AWS}:{second}"])),
                message=f"the AWS provider refuses {AWS}:{first} and {AWS}:{second} together (ConflictsWith): "
                f"keep {AWS}:{first}, which already refuses every other account",
            )
    for key, allowed in ONE_OF.items():
        raw = config.get(f"{AWS}:{key}")
        if raw is not None and raw not in allowed:
            yield ConfigIssue(path=f"{AWS}:{key}", value=raw, message=f"the AWS provider takes {' or '.join(allowed)}")
    for key in ACCOUNT_SETS:
        accounts = _decoded(config.get(f"{AWS}:{key}", "[]"))
        if not isinstance(accounts, list):
            continue  # the shape is reported by pulumi_config
        seen: set[Any] = set()
        for i, account in enumerate(accounts):
            if key != "allowedAccountIds" and not (
                isinstance(account, str) and re.fullmatch(ACCOUNT_ID_PATTERN, account)
            ):
                yield ConfigIssue(
                    path=f"{AWS}:{key}[{i}]", value=account, message="must be a quoted 12-digit account id"
                )
            elif account in seen:
                yield ConfigIssue(path=f"{AWS}:{key}[{i}]", value=account, message="listed twice: it is a set")
            seen.add(account)
    for key in CREDENTIAL_KEYS:
        if f"{AWS}:{key}" in config and f"{AWS}:{key}" not in secret_keys:
            yield ConfigIssue(
                path=f"{AWS}:{key}",
                value="(redacted)",
                message="a credential in plain text: `pulumi config set --secret "
                f"{AWS}:{key} …` (better: a profile, `aws:profile`, or the CI's OIDC role)",
            )
    yield from role_and_file_issues({key: _decoded(raw) for key, raw in config.items() if key.startswith(f"{AWS}:")})
