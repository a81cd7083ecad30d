"""The guardrail rules as pulumi_policy policies; `policy/__main__.py` serves them as a PolicyPack.

Built here rather than in `__main__` so tests can call each policy's `validate` without starting a server.
"""

from __future__ import annotations

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy.rules import RESOURCE_RULES, STACK_RULES, ResourceRule, StackResource, StackRule

PACK_NAME = "viberator-guardrails"


def resource_policy(rule: ResourceRule) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        if args.resource_type in rule.resource_types:
            for message in rule.check(args.resource_type, args.props):
                report_violation(message, args.urn)

    return ResourceValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def stack_policy(rule: StackRule) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [StackResource(r.resource_type, r.name, r.props) for r in args.resources]
        for message in rule.check(resources):
            report_violation(message, None)

    return StackValidationPolicy(
        name=rule.name,
        description=rule.description,
        validate=validate,
        enforcement_level=EnforcementLevel.MANDATORY,
    )


def policies() -> list[Policy]:
    return [*map(resource_policy, RESOURCE_RULES), *map(stack_policy, STACK_RULES)]
