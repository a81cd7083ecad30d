"""The IAM names a review stack's roles are made with, and the permissions boundary each carries.

One home for what both projects must agree on: the image program names a review stack's roles
`viberator-pr-<number>-<clanker>-<role>` and gives each the boundary `viberator-pr-boundary`; the access project
(access/) declares that boundary and lets the review role create and change roles only under that name prefix and
only with that boundary (`iam:PermissionsBoundary`). Dev's and prod's roles keep Pulumi's auto-names (their URNs
and physical names are state), so this applies to review stacks alone.
"""

from __future__ import annotations

REVIEW_NAME_PREFIX = "viberator-pr-"
"""Every IAM role a review stack creates is named so; the review role may create no other."""
BOUNDARY_POLICY_NAME = "viberator-pr-boundary"
"""The managed policy (declared in access/) every review stack role carries as its permissions boundary."""
ROLE_NAME_LIMIT = 64
"""IAM's limit on role names (CreateRole, RoleName: 1-64 characters)."""


def review_role_name(environment: str, clanker: str, role_suffix: str) -> str:
    """`pr-12`, `lambda`, `role` -> `viberator-pr-12-lambda-role`."""
    return f"viberator-{environment}-{clanker}-{role_suffix}"


def boundary_arn(partition: str, account: str) -> str:
    return f"arn:{partition}:iam::{account}:policy/{BOUNDARY_POLICY_NAME}"
