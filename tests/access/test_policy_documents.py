"""Every policy the access project writes passes parliament (its IAM service definitions: actions exist, resources
fit the actions, condition types match); `Resource: *` only where IAM has no resource type. The policy pack runs
over the access stacks with the image stacks' (tests/policy/test_policy_rules.py)."""

from __future__ import annotations

import json
import warnings

import pytest

with warnings.catch_warnings():
    # parliament imports pkg_resources, which setuptools deprecates.
    warnings.simplefilter("ignore")
    import parliament

from access.jobs import ROLE_ACCOUNTS, Account, Role
from access.policies import boundary, document, permissions, provider_arn, trust
from policy.rules import WILDCARD_RESOURCE_ACTIONS
from tests.access.evaluator import IDS, REPOSITORY
from tests.conftest import committed_plan

ROLES = [(role, account) for role, accounts in ROLE_ACCOUNTS.items() for account in accounts]
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:viberator/dev/anthropic-AbCdEf"


def findings(policy: dict) -> list[str]:
    return [f"{f.issue}: {f.detail}" for f in parliament.analyze_policy_string(document(policy)).findings]


def trust_findings(role: Role, account: Account) -> list[str]:
    """parliament lints identity policies: a trust policy has no Resource, and its federation check
    (parliament/statement.py, UNKNOWN_FEDERATION_SOURCE) knows SAML and four web identity issuers, not IAM OIDC
    providers. Those two, for this account's GitHub provider, are its limits; anything else is a finding."""
    provider = provider_arn(IDS, account)
    expected = {
        f"UNKNOWN_FEDERATION_SOURCE: {provider}",
        "MALFORMED: Statement contains neither Resource nor NotResource",
    }
    return [f for f in findings(trust(role, account, IDS, REPOSITORY)) if f not in expected]


@pytest.mark.parametrize("role,account", ROLES, ids=lambda v: v.value)
def test_parliament_finds_nothing_in_the_roles_policies(role: Role, account: Account) -> None:
    assert findings(permissions(role, account, IDS)) == []
    assert trust_findings(role, account) == []


def test_parliament_finds_nothing_in_the_boundary() -> None:
    assert findings(boundary(IDS, [SECRET])) == []


def _resource_types(action: str) -> list[str]:
    """Over every definition of the service: parliament 1.6.4 carries IAM twice ("AWS Identity and Access
    Management" and "… (IAM)")."""
    service, name = action.split(":")
    privileges = [
        p
        for s in parliament.iam_definition
        if s["prefix"] == service
        for p in s["privileges"]
        if p["privilege"] == name
    ]
    assert privileges, action
    return [r["resource_type"] for p in privileges for r in p["resource_types"] if r["resource_type"]]


@pytest.mark.parametrize("action", sorted(WILDCARD_RESOURCE_ACTIONS))
def test_wildcard_resources_only_for_actions_without_resource_types(action: str) -> None:
    assert _resource_types(action) == []


def test_the_plan_registers_the_documents_the_tables_make() -> None:
    plan = committed_plan("access/Pulumi.dev.yaml")
    signer = plan.named("dev-signer")
    assert json.loads(signer.inputs["assumeRolePolicy"]) == trust(Role.SIGNER, Account.DEV, IDS, REPOSITORY)
    assert signer.inputs["name"] == "viberator-ci-signer" and signer.inputs["maxSessionDuration"] == 7200
    policy = plan.named("dev-signer-permissions")
    assert json.loads(policy.inputs["policy"]) == permissions(Role.SIGNER, Account.DEV, IDS)
    assert json.loads(plan.named("dev-review-boundary").inputs["policy"]) == boundary(IDS, [SECRET])
