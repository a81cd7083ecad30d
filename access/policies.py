"""The access project's policy documents, made from the two tables (access/jobs.py: who; access/actions.py: what).

Pure functions of plain values (partition, account ids, repository), so the Pulumi components, the offline plan,
the README's table and the tests' policy evaluator all read the same documents.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from access.actions import GRANTS, Grant, clanker_boundary, names_of
from access.jobs import Account, Role, subjects_of
from components.policies import policy_document

OIDC_HOST = "token.actions.githubusercontent.com"
OIDC_URL = f"https://{OIDC_HOST}"
AUDIENCE = "sts.amazonaws.com"
"""The audience configure-aws-credentials asks GitHub for (its default `audience`)."""


@dataclass(frozen=True)
class AccountIds:
    """The two accounts' ids (each access stack's config names both) and the partition."""

    dev: str
    prod: str
    partition: str = "aws"

    def of(self, account: Account) -> str:
        return self.dev if account is Account.DEV else self.prod


def _fill(template: str, ids: AccountIds, account: Account, names: str) -> str:
    return template.format(p=ids.partition, account=ids.of(account), dev=ids.dev, names=names)


def _filled(value: Any, ids: AccountIds, account: Account, names: str) -> Any:
    if isinstance(value, str):
        return _fill(value, ids, account, names)
    if isinstance(value, Mapping):
        return {k: _filled(v, ids, account, names) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [_filled(v, ids, account, names) for v in value]
    return value


def statement(grant: Grant, ids: AccountIds, account: Account, role: Role, names: str | None = None) -> dict[str, Any]:
    """`names` fills `{names}` (default: the stacks' prefix the role deploys, access/actions.py names_of)."""
    names = names_of(role, account.value) if names is None else names
    # dict.fromkeys: in dev `{account}` and `{dev}` are one account, and a statement names each resource once.
    resources = list(dict.fromkeys(_fill(r, ids, account, names) for r in grant.resources))
    rendered: dict[str, Any] = {
        "Sid": grant.sid,
        "Effect": grant.effect,
        "Action": sorted(grant.actions),
        "Resource": resources[0] if len(resources) == 1 else resources,
    }
    if grant.condition:
        rendered["Condition"] = _filled(grant.condition, ids, account, names)
    return rendered


def permissions(role: Role, account: Account, ids: AccountIds) -> dict[str, Any]:
    """The role's inline policy: its rows of the actions table."""
    grants = GRANTS[role][account.value]
    return {"Version": "2012-10-17", "Statement": [statement(g, ids, account, role) for g in grants]}


def provider_arn(ids: AccountIds, account: Account) -> str:
    return f"arn:{ids.partition}:iam::{ids.of(account)}:oidc-provider/{OIDC_HOST}"


def trust(role: Role, account: Account, ids: AccountIds, repository: str) -> dict[str, Any]:
    """The role's trust policy: GitHub's OIDC provider, the STS audience, and exactly its jobs' subjects. A subject
    with a wildcard (a pull request's number in its merge ref) needs StringLike; every other is matched exactly."""
    subjects = subjects_of(role, account, repository)
    exact = [s for s in subjects if "*" not in s]
    patterns = [s for s in subjects if "*" in s]
    statements = []
    for sid, operator, matched in (
        ("ExactSubjects", "StringEquals", exact),
        ("PullRequestSubjects", "StringLike", patterns),
    ):
        if not matched:
            continue
        condition: dict[str, Any] = {"StringEquals": {f"{OIDC_HOST}:aud": AUDIENCE}}
        condition.setdefault(operator, {})[f"{OIDC_HOST}:sub"] = matched
        statements.append(
            {
                "Sid": sid,
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn(ids, account)},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": condition,
            }
        )
    return {"Version": "2012-10-17", "Statement": statements}


def boundary(ids: AccountIds, review_secrets: Sequence[str]) -> dict[str, Any]:
    """The permissions boundary of every review stack role: the most a clanker may do, its names `viberator-pr-…`,
    and the only secrets it may read (the access dev stack's allow-list, which no branch can edit)."""
    grants = clanker_boundary(review_secrets, review=True)
    return {"Version": "2012-10-17", "Statement": [statement(g, ids, Account.DEV, Role.REVIEW) for g in grants]}


ACCOUNT_STACKS = "viberator"
"""`{names}` in the clanker boundary: any stack of the account (`viberator-<environment>-…`), not only the one its
deploy role writes, so a stack an administrator runs there (`qa`) is bounded, not broken."""


def account_boundary(ids: AccountIds, account: Account, clanker_secrets: Sequence[str]) -> dict[str, Any]:
    """The permissions boundary of the account's other clanker roles (dev's and prod's stacks), with the access
    stack's `clankerSecrets`."""
    grants = clanker_boundary(clanker_secrets)
    statements = [statement(g, ids, account, Role.DEPLOY, ACCOUNT_STACKS) for g in grants]
    return {"Version": "2012-10-17", "Statement": statements}


def document(policy: Mapping[str, Any]) -> str:
    """As IAM receives it (components/policies.py's layout)."""
    return policy_document(list(policy["Statement"]))
