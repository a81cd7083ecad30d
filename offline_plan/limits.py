"""What IAM and GitHub refuse, checked on the inputs the mocks receive: the offline plan is no kinder than they are.

IAM (IAM User Guide, "IAM and AWS STS quotas"; the CreateRole, PutRolePolicy, CreatePolicy and
CreateOpenIDConnectProvider API references): role names 1-64 characters of `[\\w+=,.@-]`; MaxSessionDuration
3600-43200 s; a role trust policy at most 2,048 characters, a role's inline policies together at most 10,240 and
a managed policy at most 6,144 (whitespace not counted); an OIDC provider's URL is https and lists at most 100
client ids. GitHub (REST "Create or update an environment"): at most 6 required reviewers, a wait timer of at
most 43,200 minutes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
TRUST_POLICY_CHARS = 2048
ROLE_INLINE_POLICY_CHARS = 10240
MANAGED_POLICY_CHARS = 6144


class RefusedByService(ValueError):
    """What the real API would answer with an error (ValidationError, LimitExceeded, 422)."""


def _chars(document: Any) -> int:
    """Non-whitespace characters of a policy document; 0 while it is unknown (a preview computes it later)."""
    if not isinstance(document, str):
        return 0
    json.loads(document)  # MalformedPolicyDocument
    return len("".join(document.split()))


def _role(name: str, inputs: Mapping[str, Any]) -> None:
    physical = inputs.get("name")
    if physical is not None and not ROLE_NAME.match(str(physical)):
        raise RefusedByService(f"{name}: role name {physical!r} is not 1-64 characters of [\\w+=,.@-]")
    duration = inputs.get("maxSessionDuration")
    if isinstance(duration, int | float) and not 3600 <= int(duration) <= 43200:
        raise RefusedByService(f"{name}: MaxSessionDuration {duration} is outside 3600-43200 seconds")
    if (size := _chars(inputs["assumeRolePolicy"])) > TRUST_POLICY_CHARS:
        raise RefusedByService(f"{name}: trust policy of {size} characters exceeds IAM's {TRUST_POLICY_CHARS}")
    boundary = inputs.get("permissionsBoundary")
    if isinstance(boundary, str) and ":policy/" not in boundary:
        raise RefusedByService(f"{name}: permissions boundary {boundary!r} is not a managed policy ARN")


def _role_policy(name: str, inputs: Mapping[str, Any]) -> None:
    if (size := _chars(inputs["policy"])) > ROLE_INLINE_POLICY_CHARS:
        raise RefusedByService(f"{name}: inline policy of {size} characters exceeds IAM's {ROLE_INLINE_POLICY_CHARS}")


def _policy(name: str, inputs: Mapping[str, Any]) -> None:
    if (size := _chars(inputs["policy"])) > MANAGED_POLICY_CHARS:
        raise RefusedByService(f"{name}: managed policy of {size} characters exceeds IAM's {MANAGED_POLICY_CHARS}")


def _oidc_provider(name: str, inputs: Mapping[str, Any]) -> None:
    if not str(inputs["url"]).startswith("https://"):
        raise RefusedByService(f"{name}: an OIDC provider's URL must start with https://")
    if not 1 <= len(inputs.get("clientIdLists") or []) <= 100:
        raise RefusedByService(f"{name}: an OIDC provider lists 1-100 client ids (audiences)")


def _environment(name: str, inputs: Mapping[str, Any]) -> None:
    reviewers = inputs.get("reviewers") or []
    count = sum(len(r.get("teams") or []) + len(r.get("users") or []) for r in reviewers)
    if count > 6:
        raise RefusedByService(f"{name}: {count} required reviewers; GitHub allows at most 6")
    if inputs.get("preventSelfReview") and not count:
        raise RefusedByService(f"{name}: prevent_self_review without reviewers protects nothing")
    if int(inputs.get("waitTimer") or 0) > 43200:
        raise RefusedByService(f"{name}: wait timer above 43,200 minutes")


CHECKS: dict[str, Callable[[str, Mapping[str, Any]], None]] = {
    "aws:iam/role:Role": _role,
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:iam/policy:Policy": _policy,
    "aws:iam/openIdConnectProvider:OpenIdConnectProvider": _oidc_provider,
    "github:index/repositoryEnvironment:RepositoryEnvironment": _environment,
}


def check(resource_type: str, name: str, inputs: Mapping[str, Any]) -> None:
    """Raise RefusedByService for inputs the service would refuse; unknown (computed) values pass."""
    checker = CHECKS.get(resource_type)
    if checker is not None:
        checker(name, inputs)
