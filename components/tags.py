"""Resource tags: one definition of what every taggable resource carries, for cost allocation and ownership.

Every taggable resource gets the stack's tags (project, environment, managed-by, stack) plus what it belongs
to (harness or clanker). Passed explicitly to each resource rather than through `aws:defaultTags` or an
explicit provider: default tags live in each stack's config, where a stack can lose them, and moving the
deployed resources to an explicit provider would change every resource's provider reference. The policy pack
(`policy/rules.py`, `tagged-resources`) fails any taggable resource without the required keys.
"""

from __future__ import annotations

PROJECT = "viberator-workers"
REQUIRED_TAG_KEYS = ("Project", "Environment", "ManagedBy")
"""What the policy pack demands of every taggable resource."""


def stack_tags(environment: str, stack: str) -> dict[str, str]:
    return {"Project": PROJECT, "Environment": environment, "ManagedBy": "pulumi", "PulumiStack": stack}
