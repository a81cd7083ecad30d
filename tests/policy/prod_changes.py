"""Which changes between two plans of a production stack would destroy something that must outlive a deploy.

Owns the list of resources a prod deploy may neither delete nor replace, and the inputs that force a
replacement (pulumi-aws marks them ForceNew: changing them deletes the resource and creates a new one).
Compares the offline plans of the same stack before and after a change; `protect` stops the real engine too,
but only at `up`, after the change was merged.
"""

from __future__ import annotations

from dataclasses import dataclass

from offline_plan.engine import Plan, Registration
from policy.rules import FUNCTION, REPOSITORY

CLUSTER = "aws:ecs/cluster:Cluster"

REPLACE_TRIGGERS: dict[str, tuple[str, ...]] = {
    FUNCTION: ("name", "packageType"),
    REPOSITORY: ("name", "encryptionConfigurations"),
    CLUSTER: ("name",),
}
"""Guarded resource type -> the inputs whose change replaces it (a Lambda replacement changes its ARN and drops
its concurrency and permissions; a repository replacement deletes every image in it)."""


@dataclass(frozen=True)
class DestructiveChange:
    type: str
    name: str
    what: str

    def __str__(self) -> str:
        return f"{self.type} {self.name} would be {self.what}"


def destructive_changes(before: Plan, after: Plan) -> list[DestructiveChange]:
    """Guarded resources that `after` deletes (URN gone) or replaces (a replace-triggering input changed)."""
    remaining: dict[str, Registration] = {r.urn: r for r in after.resources}
    changes = []
    for old in before.resources:
        if old.type not in REPLACE_TRIGGERS:
            continue
        new = remaining.get(old.urn)
        if new is None:
            changes.append(DestructiveChange(old.type, old.name, "deleted"))
            continue
        for key in REPLACE_TRIGGERS[old.type]:
            if old.inputs.get(key) != new.inputs.get(key):
                changes.append(
                    DestructiveChange(
                        old.type, old.name, f"replaced ({key}: {old.inputs.get(key)!r} -> {new.inputs.get(key)!r})"
                    )
                )
    return changes


def unprotected(plan: Plan) -> list[str]:
    """Guarded resources of a production plan that lack `protect`, or a repository that may be force-deleted."""
    problems = [
        f"{r.type} {r.name} is not protected" for r in plan.resources if r.type in REPLACE_TRIGGERS and not r.protect
    ]
    problems += [f"{r.name} has forceDelete" for r in plan.of_type(REPOSITORY) if r.inputs.get("forceDelete")]
    return problems
