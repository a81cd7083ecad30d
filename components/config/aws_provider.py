"""The AWS provider's own settings (`aws:*`) that the program lets through, checked as the provider checks them,
so `make plan` refuses what `pulumi preview` would: pulumi-aws is terraform-provider-aws underneath, and each
rule below cites the schema there (internal/provider/sdkv2/provider.go, its validation functions in
internal/provider/sdkv2/validate.go) that it restates. The roles to assume are also checked as STS's
AssumeRole, which a preview calls first, refuses them (its bounds read from botocore's sts model).

Owns the values' rules. Which keys exist and each one's type are the provider's schema's (provider_schema.py);
a value of the wrong type is reported there, and skipped here.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from collections.abc import Iterator, Mapping
from typing import Any

from components.aws_ids import ACCOUNT_ID_PATTERN, IAM_POLICY_ARN_PATTERN, IAM_ROLE_ARN_PATTERN, SHAPES
from components.config.provider_schema import provider_settings
from components.config_model.issues import MISSING, REDACTED, ConfigIssue, shown

AWS = "aws"

CONFLICTS = (("allowedAccountIds", "forbiddenAccountIds"),)
"""provider.go: `allowed_account_ids` and `forbidden_account_ids` each `ConflictsWith` the other."""

ONE_OF = {
    "retryMode": ("standard", "adaptive"),
    "ec2MetadataServiceEndpointMode": ("IPv4", "IPv6"),
    "tagPolicyCompliance": ("error", "warning", "disabled"),
}
"""provider.go: `retry_mode` is read by aws-sdk-go-v2's `aws.ParseRetryMode` (aws/retry_mode.go: exactly
`standard` or `adaptive`, else "unknown RetryMode"); `ec2_metadata_service_endpoint_mode` "Valid values are
`IPv4` and `IPv6`"; `tag_policy_compliance`: `validateTagPolicySeverity`, "Must be one of "error", "warning",
or "disabled""."""
ANY_CASE_ONE_OF = {"s3UsEast1RegionalEndpoint": ("legacy", "regional")}
"""`s3_us_east_1_regional_endpoint`: internal/conns/config.go `NormalizeS3USEast1RegionalEndpoint` lower-cases the
value and keeps `legacy` or `regional`; anything else it turns into "" without a word, a setting that does nothing."""

ACCOUNT_SETS = ("allowedAccountIds", "forbiddenAccountIds")
"""provider.go: both `schema.TypeSet` of account ids."""

_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1, "m": 60, "h": 3600}
MIN_SECONDS, MAX_SECONDS = 15 * 60, 12 * 3600
"""validate.go `validAssumeRoleDuration`: "between 15 minutes (15m) and 12 hours (12h), inclusive"."""


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
    """An STS parameter's bounds as botocore's sts model states them (AWS's own API definition). Imported here:
    botocore (with urllib3, dateutil, jmespath) costs every plan a fifth of a second, and only a stack whose
    provider assumes a role reads the model."""
    import botocore.session

    model = botocore.session.get_session().get_service_model("sts")
    return dict(model.shape_for(name).metadata)


_UNICODE_CLASS = re.compile(r"\\p\{(\w)\}")


def _fits_pattern(pattern: str, text: str) -> bool:
    """`text` in an STS pattern, one character class like `[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+` (Java's `\\p{L}` is
    Python's Unicode category L*; Python's `re` has no `\\p`), matched whole, as AWS's patterns are."""
    categories = set(_UNICODE_CLASS.findall(pattern))
    rest = re.compile(_UNICODE_CLASS.sub("", pattern).rstrip("+*"))
    return all(unicodedata.category(c)[0] in categories or rest.fullmatch(c) for c in text)


def _sts_text_issue(path: str, value: str, shape: str, what: str, most: int | None = None) -> ConfigIssue | None:
    """`value` against an STS shape's length and characters; `most`: where the provider allows fewer."""
    bounds = _sts_shape(shape)
    longest = min(bounds["max"], most or bounds["max"])
    if bounds.get("min", 0) <= len(value) <= longest and _fits_pattern(bounds["pattern"], value):
        return None
    spaces = ", spaces" if "Z" in _UNICODE_CLASS.findall(bounds["pattern"]) else ""
    symbols = "".join(sorted(set(_UNICODE_CLASS.sub("", bounds["pattern"]).strip("[]+*").replace("\\", "")) - {"w"}))
    return ConfigIssue(
        path=path,
        value=value,
        message=f"STS takes {what} of {bounds.get('min', 0)} to {longest} letters, digits{spaces} and {symbols}",
    )


def _set_issues(path: str, values: list[Any], most: int | None, what: str) -> Iterator[ConfigIssue]:
    """A provider `TypeSet`: each value once (a repeat is a mistake the set hides), and at most `most` of them."""
    if most is not None and len(values) > most:
        yield ConfigIssue(path=path, value=values, message=f"STS takes at most {most} {what}, not {len(values)}")
    for i, value in enumerate(values):
        if value in values[:i]:
            yield ConfigIssue(path=f"{path}[{i}]", value=value, message="listed twice: it is a set")


MAX_POLICY_ARNS = 10
"""botocore's sts model, AssumeRole `PolicyArns`: "You can provide up to 10 managed policy ARNs"."""
SOURCE_IDENTITY_MAX = 64
"""validate.go `validAssumeRoleSourceIdentity`: StringLenBetween(2, 64), fewer than STS's sourceIdentityType (256)."""


def _tag_issues(path: str, role: Mapping[str, Any]) -> Iterator[ConfigIssue]:
    """Session tags (`tags`, `transitiveTagKeys`) as STS AssumeRole bounds them: tagListType, tagKeyListType."""
    tags = role.get("tags")
    if isinstance(tags, dict):
        most = _sts_shape("tagListType")["max"]
        if len(tags) > most:
            yield ConfigIssue(path=f"{path}.tags", value=shown(tags), message=f"STS takes at most {most} session tags")
        for key, value in tags.items():
            issue = _sts_text_issue(f"{path}.tags.{key}", key, "tagKeyType", "a tag key")
            if issue is not None:
                yield issue
            if isinstance(value, str):
                issue = _sts_text_issue(f"{path}.tags.{key}", value, "tagValueType", "a tag value")
                if issue is not None:
                    yield issue
    keys = role.get("transitiveTagKeys")
    if isinstance(keys, list):
        yield from _set_issues(f"{path}.transitiveTagKeys", keys, _sts_shape("tagKeyListType")["max"], "tag keys")
        for i, key in enumerate(keys):
            if isinstance(key, str):
                issue = _sts_text_issue(f"{path}.transitiveTagKeys[{i}]", key, "tagKeyType", "a tag key")
                if issue is not None:
                    yield issue


def _role_issues(path: str, role: Mapping[str, Any]) -> Iterator[ConfigIssue]:
    arn = role.get("roleArn")
    if isinstance(arn, str) and not re.fullmatch(IAM_ROLE_ARN_PATTERN, arn):
        # The provider checks an ARN (internal/verify ValidARN); STS AssumeRole takes only a role's.
        yield ConfigIssue(path=f"{path}.roleArn", value=arn, message=SHAPES[IAM_ROLE_ARN_PATTERN])
    duration = role.get("duration")
    if isinstance(duration, str):
        seconds = go_duration_seconds(duration)
        if seconds is None or not MIN_SECONDS <= seconds <= MAX_SECONDS:
            yield ConfigIssue(
                path=f"{path}.duration",
                value=duration,
                message="the AWS provider takes a duration with its unit between 15m and 12h, inclusive "
                '(like "1h" or "45m"; seconds are "3600s")',
            )
    for key, shape, what, most in (
        ("sessionName", "roleSessionNameType", "a session name", None),  # validate.go validAssumeRoleSessionName
        ("externalId", "externalIdType", "an external id", None),  # provider.go external_id: StringLenBetween(2, 1224)
        ("sourceIdentity", "sourceIdentityType", "a source identity", SOURCE_IDENTITY_MAX),
    ):
        if isinstance(role.get(key), str):
            issue = _sts_text_issue(f"{path}.{key}", role[key], shape, what, most)
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
    arns = role.get("policyArns")
    if isinstance(arns, list):
        # provider.go `policy_arns`: a TypeSet of verify.ValidARN; STS takes managed policies' ARNs, 10 at most.
        yield from _set_issues(f"{path}.policyArns", arns, MAX_POLICY_ARNS, "policy ARNs")
        for i, policy_arn in enumerate(arns):
            if isinstance(policy_arn, str) and not re.fullmatch(IAM_POLICY_ARN_PATTERN, policy_arn):
                yield ConfigIssue(
                    path=f"{path}.policyArns[{i}]", value=policy_arn, message=SHAPES[IAM_POLICY_ARN_PATTERN]
                )
    yield from _tag_issues(path, role)


def _role_arn_required(path: str, role: Mapping[str, Any]) -> Iterator[ConfigIssue]:
    """provider.go `expandAssumeRole`: a role block without `role_arn` is refused ("The argument "role_arn" is
    required"; one such block alone is a warning that says it will be an error). Not where the block has a key
    the provider lacks (`role_arn:`): that issue already names the fix."""
    fields = provider_settings(AWS)["assumeRoles"].item
    if not role.get("roleArn") and fields is not None and set(role) <= set(fields.fields or ()):
        yield ConfigIssue(
            path=f"{path}.roleArn",
            value=role.get("roleArn", MISSING),
            message="each role block needs the role to assume: roleArn: arn:aws:iam::<account>:role/<name>",
        )


def _web_identity_issues(path: str, role: Mapping[str, Any]) -> Iterator[ConfigIssue]:
    """provider.go `assume_role_with_web_identity`: `web_identity_token` StringLenBetween(4, 20000) and
    ConflictsWith `web_identity_token_file` (and `expandAssumeRoleWithWebIdentity`: "Exactly one of")."""
    token, token_file = role.get("webIdentityToken"), role.get("webIdentityTokenFile")
    if token and token_file:
        yield ConfigIssue(
            path=f"{path}.webIdentityTokenFile",
            value=shown(token_file),
            message="the AWS provider refuses webIdentityToken and webIdentityTokenFile together (ConflictsWith): "
            "keep the file, which the CI refreshes",
        )
    if isinstance(token, str) and not 4 <= len(token) <= 20000:
        yield ConfigIssue(
            path=f"{path}.webIdentityToken", value=REDACTED, message="the provider takes 4 to 20000 characters"
        )


def _decoded(raw: str) -> Any:
    try:
        return json.loads(raw) if raw.lstrip().startswith(("[", "{")) else raw
    except ValueError:
        return raw


def provider_issues(config: Mapping[str, str]) -> Iterator[ConfigIssue]:
    """Each `aws:` setting the provider would refuse (a credential in plain text is provider_schema's)."""
    values = {key.removeprefix(f"{AWS}:"): _decoded(raw) for key, raw in config.items() if key.startswith(f"{AWS}:")}
    for first, second in CONFLICTS:
        if first in values and second in values:
            yield ConfigIssue(
                path=f"{AWS}:{second}",
                value=shown(values[second]),
                message=f"the AWS provider refuses {AWS}:{first} and {AWS}:{second} together (ConflictsWith): "
                f"keep {AWS}:{first}, which already refuses every other account",
            )
    for key, allowed in ONE_OF.items():
        if isinstance(values.get(key), str) and values[key] not in allowed:
            yield ConfigIssue(
                path=f"{AWS}:{key}", value=values[key], message=f"the AWS provider takes {' or '.join(allowed)}"
            )
    for key, allowed in ANY_CASE_ONE_OF.items():
        if isinstance(values.get(key), str) and values[key].lower() not in allowed:
            yield ConfigIssue(
                path=f"{AWS}:{key}",
                value=values[key],
                message=f"the AWS provider reads only {' or '.join(allowed)} and ignores anything else",
            )
    for key in ACCOUNT_SETS:
        accounts = values.get(key)
        if not isinstance(accounts, list):
            continue  # unset, or not a list: the shape is provider_schema's to report
        for i, account in enumerate(accounts):
            if isinstance(account, str) and not re.fullmatch(ACCOUNT_ID_PATTERN, account):
                yield ConfigIssue(path=f"{AWS}:{key}[{i}]", value=account, message=SHAPES[ACCOUNT_ID_PATTERN])
        yield from _set_issues(f"{AWS}:{key}", accounts, None, "accounts")
    roles = values.get("assumeRoles")
    for i, role in enumerate(roles if isinstance(roles, list) else []):
        if isinstance(role, dict):
            yield from _role_arn_required(f"{AWS}:assumeRoles[{i}]", role)
            yield from _role_issues(f"{AWS}:assumeRoles[{i}]", role)
    web = values.get("assumeRoleWithWebIdentity")
    if isinstance(web, dict):
        yield from _role_issues(f"{AWS}:assumeRoleWithWebIdentity", web)
        yield from _web_identity_issues(f"{AWS}:assumeRoleWithWebIdentity", web)
    ignore = values.get("ignoreTags")
    for key in ("keys", "keyPrefixes"):  # provider.go `ignore_tags`: both TypeSet
        if isinstance(ignore, dict) and isinstance(ignore.get(key), list):
            yield from _set_issues(f"{AWS}:ignoreTags.{key}", ignore[key], None, "tag keys")
