"""Who a KMS key policy lets call which action, as AWS KMS decides it, for the statement shapes our key policies
use (components/signing.py); any other shape raises, so a policy that outgrows this reading fails its tests.

No offline evaluator of key policies exists to use instead: moto's KMS checks only Deny statements on DescribeKey
(moto/kms/policy_validator.py `validate_policy`), and its IAMPolicyStatement (moto/iam/access_control.py
`is_action_permitted`) returns DENIED for an Allow statement naming another principal. The actions are IAM's own
list as parliament ships it (`parliament.expand_action`), so a wildcard expands to exactly what AWS defines.

AWS KMS Developer Guide, "Determining access to an AWS KMS key" (policy-evaluation): an explicit Deny in the key
policy wins; else the key policy must allow the call, either naming the principal, or naming the account
(`arn:aws:iam::<account>:root`), which then lets that account's IAM policies allow it ("Allows access to the
AWS account and enables IAM policies", "Default key policy").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from parliament import expand_action

KMS_ACTIONS = frozenset(f"kms:{a['action']}" for a in expand_action("kms:*"))
CRYPTOGRAPHIC_ACTIONS = frozenset(
    f"kms:{name}"
    for name in (
        "Decrypt", "DeriveSharedSecret", "Encrypt", "GenerateDataKey", "GenerateDataKeyPair",
        "GenerateDataKeyPairWithoutPlaintext", "GenerateDataKeyWithoutPlaintext", "GenerateMac", "ReEncryptFrom",
        "ReEncryptTo", "Sign", "Verify", "VerifyMac",
    )
)  # fmt: skip
"""AWS KMS Developer Guide, "Cryptographic operations"."""


@dataclass(frozen=True)
class Caller:
    arn: str
    """The principal's ARN as aws:PrincipalArn carries it (a role's, for each of its sessions)."""
    iam_allows_kms: bool = False
    """Its IAM policies allow kms:* (an administrator): effective only where the key policy names its account."""

    @property
    def account(self) -> str:
        return self.arn.split(":")[4]


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def _actions(statement: Mapping[str, Any]) -> set[str]:
    if "NotAction" in statement:
        raise ValueError(f"statement {statement.get('Sid')}: NotAction is not read here")
    return {f"kms:{a['action']}" for pattern in _listed(statement["Action"]) for a in expand_action(pattern)}


def _conditions_hold(statement: Mapping[str, Any], caller: Caller) -> bool:
    for operator, keys in statement.get("Condition", {}).items():
        for key, values in keys.items():
            if key != "aws:PrincipalArn" or operator not in ("ArnEquals", "ArnNotEquals"):
                raise ValueError(f"statement {statement.get('Sid')}: condition {operator} {key} is not read here")
            equal = caller.arn in _listed(values)
            if equal != (operator == "ArnEquals"):
                return False
    return True


def _names(statement: Mapping[str, Any], caller: Caller) -> str | None:
    """How the statement's Principal covers the caller: "direct", "account" (through IAM), or None."""
    principals = statement["Principal"]
    if set(principals) != {"AWS"}:
        raise ValueError(f"statement {statement.get('Sid')}: only AWS principals are read here")
    for principal in _listed(principals["AWS"]):
        if principal == "*" or principal == caller.arn:
            return "direct"
        if principal == f"arn:aws:iam::{caller.account}:root":
            return "account"
    return None


def allowed(policy: str, action: str, caller: Caller) -> bool:
    """Whether the key policy lets `caller` call `action` on the key."""
    assert action in KMS_ACTIONS, action
    allow = False
    for statement in json.loads(policy)["Statement"]:
        if _listed(statement["Resource"]) != ["*"]:
            raise ValueError("a key policy's Resource is the key itself: *")
        covered = _names(statement, caller)
        if covered is None or action not in _actions(statement) or not _conditions_hold(statement, caller):
            continue
        if statement["Effect"] == "Deny":
            return False
        allow = allow or covered == "direct" or caller.iam_allows_kms
    return allow


def allowed_actions(policy: str, caller: Caller) -> set[str]:
    return {action for action in KMS_ACTIONS if allowed(policy, action, caller)}
