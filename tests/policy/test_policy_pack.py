"""The pulumi_policy adapters: the pack's policies report what the rules find, through pulumi_policy's own API.

The PolicyPack itself is never created here (that starts the analyzer server); `policy/__main__.py` only
wraps `policies()`.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from pulumi_policy import (
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from offline_plan.engine import PROJECT_DIR, Plan, Registration
from policy.pack import policies
from policy.rules import REPOSITORY, RESOURCE_RULES, STACK_RULES

OPTIONS = PolicyResourceOptions(False, [], False, [], None, [], None)


def validate_resource(policy: ResourceValidationPolicy, registration: Registration, props: dict) -> list[str]:
    reported: list[str] = []
    args = ResourceValidationArgs(
        registration.type, unknown_checking_proxy(props), registration.urn, registration.name, OPTIONS, None
    )
    policy.validate(args, lambda message, _urn=None: reported.append(message))
    return reported


def validate_stack(policy: StackValidationPolicy, plan: Plan) -> list[str]:
    reported: list[str] = []
    resources = [
        PolicyResource(r.type, unknown_checking_proxy(r.inputs), r.urn, r.name, OPTIONS, None, None, [], {})
        for r in plan.resources
    ]
    policy.validate(StackValidationArgs(resources), lambda message, _urn=None: reported.append(message))
    return reported


def test_pack_serves_every_rule() -> None:
    assert [p.name for p in policies()] == [r.name for r in RESOURCE_RULES] + [r.name for r in STACK_RULES]


def test_pack_passes_every_committed_stack(stack_plan: Plan) -> None:
    reported = []
    for policy in policies():
        if isinstance(policy, StackValidationPolicy):
            reported += validate_stack(policy, stack_plan)
        else:
            reported += [m for r in stack_plan.resources for m in validate_resource(policy, r, r.inputs)]
    assert reported == []


def test_pack_reports_a_violation(dev_plan: Plan) -> None:
    (policy,) = [p for p in policies() if p.name == "ecr-repository-scanned-and-immutable"]
    repository = dev_plan.of_type(REPOSITORY)[0]
    spoiled = json.loads(json.dumps(repository.inputs)) | {"imageScanningConfiguration": {"scanOnPush": False}}
    assert validate_resource(policy, repository, spoiled) == [
        "ECR repository must scan images on push (imageScanningConfiguration.scanOnPush)"
    ]


def test_pack_project_file_runs_in_the_project_environment() -> None:
    project = yaml.safe_load((PROJECT_DIR / "policy" / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "uv"}}
    assert (Path(PROJECT_DIR) / "policy" / "__main__.py").read_text().count("PolicyPack(") == 1
