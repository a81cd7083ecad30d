"""Which changes between two plans of a production stack would destroy something that must outlive a deploy.

Owns the list of resources a prod deploy may neither delete nor replace. What is a replacement is the plan
diff's to say (offline_plan/diff.py: the inputs terraform-provider-aws marks ForceNew); `protect` stops the
real engine too, but only at `up`, after the change was merged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from offline_plan.diff import diff_plans
from offline_plan.engine import Plan
from policy.rules import CLUSTER, FUNCTION, REPOSITORY

GUARDED = frozenset({FUNCTION, REPOSITORY, CLUSTER})
"""A Lambda replacement changes its ARN and drops its concurrency and permissions; a repository replacement
deletes every image in it; a cluster replacement stops every task in it."""


def destructive_changes(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """Guarded resources that the plan `after` deletes (URN gone) or replaces (a ForceNew input changed), each as
    `<type> <name> would be deleted` or `… would be replaced (<input>: <before> -> <after>, …)`; both plans as
    `make plan FORMAT=json` documents, so a base planned by its own code compares too."""
    changes = []
    for change in diff_plans(before, after, base_label=None)["changes"]:
        if change["type"] not in GUARDED or change["op"] not in ("delete", "replace"):
            continue
        what = "deleted"
        if change["op"] == "replace":
            what = (
                "replaced ("
                + ", ".join(
                    f"{key}: {change['before'].get(key)!r} -> {change['after'].get(key)!r}"
                    for key in change["changedInputs"]
                )
                + ")"
            )
        changes.append(f"{change['type']} {change['name']} would be {what}")
    return changes


def unprotected(plan: Plan) -> list[str]:
    """Guarded resources of a production plan that lack `protect`, or a repository that may be force-deleted."""
    problems = [f"{r.type} {r.name} is not protected" for r in plan.resources if r.type in GUARDED and not r.protect]
    problems += [f"{r.name} has forceDelete" for r in plan.of_type(REPOSITORY) if r.inputs.get("forceDelete")]
    return problems
