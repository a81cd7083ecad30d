"""The IAM names a review stack's roles are made with, and the permissions boundaries clanker roles carry.

One home for what both projects must agree on: the image program names a review stack's roles
`viberator-pr-<number>-<clanker>-<role>` and gives each the boundary `viberator-pr-boundary`; the access project
(access/) declares that boundary and lets the review role create and change roles only under that name prefix and
only with that boundary (`iam:PermissionsBoundary`). Dev's and prod's roles keep Pulumi's auto-names (their URNs
and physical names are state): they carry `viberator-clanker-boundary`, which the access project declares in each
account and sit under the IAM path CLANKER_ROLE_PATH, and the deploy roles may create, change, pass and delete
roles only under that path (and only with that boundary where IAM has the condition key).
"""

from __future__ import annotations

REVIEW_NAME_PREFIX = "viberator-pr-"
"""Every IAM role a review stack creates is named so; the review role may create no other."""
BOUNDARY_POLICY_NAME = "viberator-pr-boundary"
"""The managed policy (declared in access/) every review stack role carries as its permissions boundary."""
CLANKER_BOUNDARY_NAME = "viberator-clanker-boundary"
"""The managed policy (declared in access/, one per account) every other stack's clanker role carries."""
CLANKER_ROLE_PATH = "/viberator/clankers/"
"""The IAM path of every non-review stack's clanker role (its ARN is `role/viberator/clankers/<name>`): the deploy
roles' role writes and PassRole are scoped to it, so no role outside it (an administrator's, a vendor's) is theirs
to change, delete or pass."""
ROLE_NAME_LIMIT = 64
"""IAM's limit on role names (CreateRole, RoleName: 1-64 characters)."""


def review_role_name(environment: str, clanker: str, role_suffix: str) -> str:
    """`pr-12`, `lambda`, `role` -> `viberator-pr-12-lambda-role`."""
    return f"viberator-{environment}-{clanker}-{role_suffix}"


def boundary_arn(partition: str, account: str, name: str = BOUNDARY_POLICY_NAME) -> str:
    return f"arn:{partition}:iam::{account}:policy/{name}"
