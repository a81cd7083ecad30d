"""What the multi-region test modules share: the committed stacks' accounts, the repository type token, and the
policy pack's verdict on a plan's resources.
"""

from __future__ import annotations

from offline_plan.engine import Plan

REPOSITORY = "aws:ecr/repository:Repository"
DEV_ACCOUNT, PROD_ACCOUNT = "123456789012", "210987654321"


def _policy_violations(plan: Plan) -> list[str]:
    from pulumi_policy.proxy import unknown_checking_proxy

    from policy.rules import RESOURCE_RULES

    return [
        f"{resource.name}: {message}"
        for rule in RESOURCE_RULES
        for resource in plan.resources
        if resource.type in rule.resource_types
        for message in rule.check(resource.type, unknown_checking_proxy(resource.inputs))
    ]
