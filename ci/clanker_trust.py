"""Check that every clanker role (under the clankers' IAM path, or a review stack's) trusts exactly one clanker
service, as the program makes them.

The deploy roles may create roles only under `/viberator/clankers/` and only with the clanker boundary, but IAM has
no condition key on a role's trust document: a deploy could create a role there that trusts another account or a
federated identity, which would then hold a clanker's permissions (docs/ci.md). This is the detective control the
drift workflow runs with the read role: `iam:ListRoles` (its answer carries each role's trust document, URL-decoded
by botocore; the review role's `viberator-pr-*` roles are at the path `/`, so every role is listed and those two
kinds kept) and every trust compared with the program's own
(components/policies.py `assume_role_policy` of `lambda.amazonaws.com` or `ecs-tasks.amazonaws.com`).

    python -m ci.clanker_trust

Exit codes: 0 every role trusts one clanker service; 1 a role trusts anything else (its ARN and trust printed);
2 IAM could not be asked (credentials, permissions).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping
from fnmatch import fnmatchcase
from typing import Any

import botocore.session
from botocore.exceptions import BotoCoreError, ClientError

from access.actions import CLANKER_ROLES, NAMED_ROLES
from ci.script import script_parser, unusable
from components.policies import ECS_TASKS_SERVICE, LAMBDA_SERVICE, assume_role_policy
from components.review_iam import REVIEW_NAME_PREFIX

EXIT_FOREIGN_TRUST = 1
CLANKER_TRUSTS = tuple(json.loads(assume_role_policy(service)) for service in (LAMBDA_SERVICE, ECS_TASKS_SERVICE))
"""The only trust documents the program gives a clanker role."""
WRITABLE_ROLES = tuple(
    template.format(p="*", account="*", names=REVIEW_NAME_PREFIX.removesuffix("-"))
    for template in (CLANKER_ROLES, NAMED_ROLES)
)
"""The ARNs the deploy and review roles may create roles at, as their grants name them (access/actions.py): IAM's `*`
matches `/` too, so `role/viberator-pr-*` is also a role at the path `/viberator-pr-x/`."""


def foreign_trusts(roles: Iterable[Mapping[str, Any]]) -> list[tuple[str, Any]]:
    """(ARN, trust document) of each role (ListRoles' `Roles` entries) whose trust is not one of CLANKER_TRUSTS."""
    return [(role["Arn"], role.get("AssumeRolePolicyDocument")) for role in roles if not _is_clankers(role)]


def _is_clankers(role: Mapping[str, Any]) -> bool:
    # botocore decodes the API's URL-encoded JSON (botocore/handlers.py json_decode_policies, after ListRoles).
    document = role.get("AssumeRolePolicyDocument")
    return isinstance(document, Mapping) and _normalised(document) in _NORMALISED_CLANKER_TRUSTS


def _normalised(document: Mapping[str, Any]) -> Any:
    """A trust document with IAM's one-element lists as scalars (IAM may answer either for the same policy)."""

    def scalar(value: Any) -> Any:
        if isinstance(value, list) and len(value) == 1:
            return scalar(value[0])
        if isinstance(value, dict):
            return {key: scalar(item) for key, item in value.items()}
        return value

    return scalar(dict(document))


_NORMALISED_CLANKER_TRUSTS = [_normalised(trust) for trust in CLANKER_TRUSTS]


def clanker_roles(iam: Any) -> list[dict[str, Any]]:
    """Every role at an ARN the deploy or review roles may create one at (WRITABLE_ROLES; the review role may give
    its roles any trust too, bounded by the review boundary): ListRoles, every page."""
    pages = iam.get_paginator("list_roles").paginate()
    return [
        role
        for page in pages
        for role in page["Roles"]
        if any(fnmatchcase(str(role.get("Arn", "")), pattern) for pattern in WRITABLE_ROLES)
    ]


def main(argv: list[str] | None = None, iam: Any = None) -> int:
    script_parser(__name__, __doc__).parse_args(argv)
    try:
        client = iam or botocore.session.get_session().create_client("iam")
        roles = clanker_roles(client)
    except (BotoCoreError, ClientError) as error:
        return unusable(f"could not list the account's roles: {error}")
    foreign = foreign_trusts(roles)
    for arn, trust in foreign:
        print(f"::error title=Clanker role with a foreign trust::{arn} trusts {json.dumps(trust, sort_keys=True)}")
    print(f"{len(roles)} clanker roles, {len(foreign)} trusting anything but a clanker service")
    return EXIT_FOREIGN_TRUST if foreign else 0


if __name__ == "__main__":
    sys.exit(main())
