"""Checkov over the plan: the Terraform-plan translation, and checkov's verdict on it and on the repo files.

The translation is tested on its own first (pure); the `checkov` tests run the pinned checkov that
`make scan-deps` installs, and fail rather than skip when it is missing, so CI cannot pass without the scan.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from guardrails.scan import CHECKOV, judge, load_skips, run_checkov, scan
from guardrails.tfplan import terraform_plan, terraform_type, terraform_values
from offline_plan.engine import Plan, Registration
from workers.catalog import PROJECT_DIR


def tf_resources(plan: Plan) -> dict[str, dict]:
    return {r["address"]: r for r in terraform_plan(plan)["planned_values"]["root_module"]["resources"]}


@pytest.mark.parametrize(
    ("pulumi_type", "expected"),
    [
        ("aws:ecr/repository:Repository", "aws_ecr_repository"),
        ("aws:ecr/lifecyclePolicy:LifecyclePolicy", "aws_ecr_lifecycle_policy"),
        ("aws:lambda/function:Function", "aws_lambda_function"),
        ("aws:cloudwatch/logGroup:LogGroup", "aws_cloudwatch_log_group"),
        ("aws:iam/rolePolicy:RolePolicy", "aws_iam_role_policy"),
        ("aws:ecs/taskDefinition:TaskDefinition", "aws_ecs_task_definition"),
        ("aws:ec2/securityGroup:SecurityGroup", "aws_security_group"),
        ("docker-build:index:Image", None),
        ("viberator:workers:HarnessImage", None),
    ],
)
def test_type_tokens_map_to_terraform_types(pulumi_type: str, expected: str | None) -> None:
    assert terraform_type(pulumi_type) == expected


def test_blocks_become_lists_and_maps_stay_maps() -> None:
    values = terraform_values(
        {
            "imageScanningConfiguration": {"scanOnPush": True},
            "encryptionConfigurations": [{"encryptionType": "KMS"}],
            "environment": {"variables": {"LOG_LEVEL": "debug", "camelKey": "kept"}},
            "architectures": ["x86_64"],
        }
    )
    assert values == {
        "image_scanning_configuration": [{"scan_on_push": True}],
        "encryption_configuration": [{"encryption_type": "KMS"}],
        "environment": [{"variables": {"LOG_LEVEL": "debug", "camelKey": "kept"}}],
        "architectures": ["x86_64"],
    }


def test_plan_document_holds_every_bridged_resource(dev_plan: Plan) -> None:
    resources = tf_resources(dev_plan)
    bridged = [r for r in dev_plan.resources if r.custom and r.type.startswith("aws:")]
    assert len(resources) == len(bridged) and len(resources) > 0
    repository = resources["aws_ecr_repository.claude_repository"]
    assert repository["values"]["image_scanning_configuration"] == [{"scan_on_push": True}]
    assert repository["values"]["name"] == "viberator-worker-claude"


def spoil(plan: Plan, name: str, **inputs: object) -> Plan:
    spoiled = dataclasses.replace(plan, resources=[])
    spoiled.resources = [
        dataclasses.replace(r, inputs={**r.inputs, **inputs}) if r.name == name else r for r in plan.resources
    ]
    return spoiled


def wildcard_policy(registration: Registration) -> str:
    document = json.loads(registration.inputs["policy"])
    document["Statement"].append({"Sid": "Everything", "Effect": "Allow", "Action": "*", "Resource": "*"})
    return json.dumps(document)


def checkov_command() -> list[str]:
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: run `make scan-deps`")
    return [str(CHECKOV)]


@pytest.mark.checkov
def test_checkov_reports_a_crafted_misconfiguration(dev_plan: Plan, tmp_path: Path) -> None:
    plan = spoil(dev_plan, "claude-repository", imageScanningConfiguration={"scanOnPush": False})
    plan = spoil(plan, "multi-agent-role-policy", policy=wildcard_policy(dev_plan.named("multi-agent-role-policy")))
    document = tmp_path / "spoiled.tfplan.json"
    document.write_text(json.dumps(terraform_plan(plan)))
    failed = {
        (f.check_id, f.resource) for f in run_checkov(checkov_command(), "terraform_plan", document, "x").failures
    }
    assert ("CKV_AWS_163", "aws_ecr_repository.claude_repository") in failed  # scan on push
    assert ("CKV_AWS_63", "aws_iam_role_policy.multi_agent_role_policy") in failed  # Action "*"
    assert ("CKV_AWS_163", "aws_ecr_repository.codex_repository") not in failed  # only what was spoiled


@pytest.mark.checkov
def test_every_committed_stack_and_repo_file_passes_checkov(tmp_path: Path) -> None:
    stacks = [path.name.split(".")[1] for path in PROJECT_DIR.glob("Pulumi.*.yaml")]
    stacks += [f"access/{path.name.split('.')[1]}" for path in (PROJECT_DIR / "access").glob("Pulumi.*.yaml")]
    reports = scan(checkov_command(), stacks, repo_files=True, out_dir=tmp_path)
    assert judge(reports, load_skips(), strict_skips=True) == []
