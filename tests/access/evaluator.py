"""A real IAM policy evaluator over the access project's documents: Principal Mapper's local simulation
(principalmapper.querying.query_interface.local_check_authorization_full: explicit denies first, then the
permissions boundary, then the role's policies; conditions with StringEquals/StringLike/ArnEquals and their
operators), not a hand-written matcher.

moto's IAM access control (`INITIAL_NO_AUTH_ACTION_COUNT`) was the first choice and is not enough here: its
moto/iam/access_control.py says "TODO add support for the Resource and Condition parts of IAM policies", its
condition check knows StringEquals on `sts:ExternalId` alone (moto/iam/policy_conditions.py, utils.py
format_incoming_conditional_values), and it never evaluates AssumeRoleWithWebIdentity's trust; every hole these
tests close lives in a condition.
"""

from __future__ import annotations

import collections
import collections.abc
import json
from collections.abc import Mapping
from typing import Any

import yaml

# principalmapper 1.1.5 (its last release) imports Mapping and MutableMapping from `collections`, which Python 3.10
# removed (principalmapper/util/case_insensitive_dict.py); they are the collections.abc classes.
for _name in ("Mapping", "MutableMapping"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

from principalmapper.common import Node, Policy  # noqa: E402
from principalmapper.querying.local_policy_simulation import policy_has_matching_statement  # noqa: E402
from principalmapper.querying.query_interface import local_check_authorization_full  # noqa: E402
from principalmapper.util.case_insensitive_dict import CaseInsensitiveDict  # noqa: E402

from access.jobs import Account, Role  # noqa: E402
from access.policies import AUDIENCE, OIDC_HOST, AccountIds, permissions, provider_arn, trust  # noqa: E402
from workers.catalog import PROJECT_DIR  # noqa: E402


def committed_ids() -> AccountIds:
    """The accounts the committed access stacks name (`viberator-access:accounts`; each stack names both, and
    tests/access/test_clanker_path.py checks they agree), so the evaluated ARNs are the deployed ones."""
    config = yaml.safe_load((PROJECT_DIR / "access" / "Pulumi.dev.yaml").read_text())["config"]
    return AccountIds(**config["viberator-access:accounts"])


IDS = committed_ids()
REPOSITORY = "viberator/viberator-workers"


def role_node(name: str, account: str, document: Mapping[str, Any], boundary: Mapping[str, Any] | None = None) -> Node:
    arn = f"arn:aws:iam::{account}:role/{name}"
    return Node(
        arn,
        f"AROA{name.upper().replace('-', '')[:16]}",
        [Policy(arn, "permissions", json.loads(json.dumps(document)))],
        [],
        {"Version": "2012-10-17", "Statement": []},
        None,
        0,
        False,
        False,
        Policy(f"arn:aws:iam::{account}:policy/boundary", "boundary", dict(boundary)) if boundary else None,
        False,
        None,
    )


def ci_role(role: Role, account: Account) -> Node:
    return role_node(role.role_name, IDS.of(account), permissions(role, account, IDS))


def allowed(node: Node, action: str, resource: str, context: Mapping[str, str] | None = None) -> bool:
    return bool(local_check_authorization_full(node, action, resource, dict(context or {})))


def can_assume(role: Role, account: Account, subject: str, audience: str = AUDIENCE) -> bool:
    """AssumeRoleWithWebIdentity with a GitHub token of `subject`: the trust policy's conditions evaluated by the
    simulator on the token's claims, for statements whose principal is this account's GitHub provider."""
    document = trust(role, account, IDS, REPOSITORY)
    provider = provider_arn(IDS, account)
    ours = {**document, "Statement": [s for s in document["Statement"] if s["Principal"].get("Federated") == provider]}
    claims = CaseInsensitiveDict({f"{OIDC_HOST}:sub": subject, f"{OIDC_HOST}:aud": audience})
    action, resource = "sts:AssumeRoleWithWebIdentity", f"arn:aws:iam::{IDS.of(account)}:role/{role.role_name}"
    if policy_has_matching_statement(ours, "Deny", action, resource, claims):
        return False
    return bool(policy_has_matching_statement(ours, "Allow", action, resource, claims))
