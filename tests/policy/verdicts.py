"""The policy pack's verdict on a plan, as `pulumi preview --policy-pack policy` would give it: for the tests of
every layer that check a plan passes the pack (the committed stacks, multi-region and cross-account plans, grants)."""

from __future__ import annotations

from pulumi_policy.proxy import unknown_checking_proxy

from offline_plan.engine import Plan
from policy.rules import RESOURCE_RULES


def resource_violations(plan: Plan) -> list[str]:
    """What the pack's resource rules say of a plan's resources, each after the resource's name; the inputs reach a
    rule as the pack hands them (an unknown value read by a rule is the pack's error, not a pass)."""
    return [
        f"{resource.name}: {message}"
        for rule in RESOURCE_RULES
        for resource in plan.resources
        if resource.type in rule.resource_types
        for message in rule.check(resource.type, unknown_checking_proxy(resource.inputs))
    ]
