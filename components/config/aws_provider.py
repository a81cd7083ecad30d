"""The AWS provider's own settings (`aws:*`) that the program lets through, checked as the provider checks them,
so `make plan` refuses what `pulumi preview` would: pulumi-aws is terraform-provider-aws underneath, and each
rule below cites the schema there (internal/provider/provider.go) that it restates.

Owns only these checks; which `aws:` keys exist is read from pulumi-aws itself (pulumi_config.aws_provider_keys).
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from components.config.fields import ACCOUNT_ID_PATTERN
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
