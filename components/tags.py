"""Resource tags: one definition of what every taggable resource carries, for cost allocation and ownership.

Every taggable resource gets the stack's tags (project, environment, managed-by, stack) plus what it belongs
to (harness or clanker). Passed explicitly to each resource rather than through `aws:defaultTags` or an
explicit provider: default tags live in each stack's config, where a stack can lose them, and moving the
deployed resources to an explicit provider would change every resource's provider reference. The policy pack
(`policy/rules.py`, `tagged-resources`) fails any taggable resource without the required keys.
"""

from __future__ import annotations

from collections.abc import Mapping

from workers.catalog import PROJECT_NAME

REQUIRED_TAG_KEYS = ("Project", "Environment", "ManagedBy")
"""What the policy pack demands of every taggable resource."""
REVIEW_TAG_KEYS = ("Ephemeral", "PullRequest", "Expires")
"""What marks a review stack's resources (docs/review-stacks.md "Review stacks"): in the account, anyone can tell a pull
request's leftovers, and when they were due to go, without Pulumi."""


def stack_tags(
    environment: str, stack: str, *, pull_request: int | None = None, expires: str | None = None
) -> dict[str, str]:
    tags = {"Project": PROJECT_NAME, "Environment": environment, "ManagedBy": "pulumi", "PulumiStack": stack}
    if pull_request is not None and expires is not None:
        tags |= dict(zip(REVIEW_TAG_KEYS, ("true", str(pull_request), expires), strict=True))
    return tags


def clanker_tags(stack: Mapping[str, str], clanker: str) -> dict[str, str]:
    """What each of a clanker's resources carries: the stack's tags and the clanker's name."""
    return {**stack, "Clanker": clanker}
