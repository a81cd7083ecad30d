"""The guardrail rules pass on every committed stack and each one fails on a crafted violation."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from offline_plan.engine import Plan, Registration
from policy import rules
from policy.rules import RESOURCE_RULES, STACK_RULES, StackResource
from tests.conftest import ACCESS_STACKS, COMMITTED_STACKS, committed_plan, sample_plan
from tests.policy.verdicts import resource_violations


def stack_resources(plan: Plan) -> list[StackResource]:
    return [StackResource(r.type, r.name, r.inputs) for r in plan.resources]


def first(plan: Plan, type_: str, where: Callable[[Registration], bool] = lambda _: True) -> dict[str, Any]:
    """A deep copy of the inputs of the first registration of `type_`, ready to be spoiled."""
    return copy.deepcopy(next(r.inputs for r in plan.of_type(type_) if where(r)))


@pytest.mark.parametrize("file_name", COMMITTED_STACKS + ACCESS_STACKS)
def test_resource_rules_pass_on_every_committed_stack(file_name: str) -> None:
    """The image stacks and the access project's (CI's roles, the review boundary)."""
    assert resource_violations(committed_plan(file_name)) == []


@pytest.mark.parametrize("file_name", COMMITTED_STACKS + ACCESS_STACKS)
def test_stack_rules_pass_on_every_committed_stack(file_name: str) -> None:
    stack_plan = committed_plan(file_name)
    assert [m for rule in STACK_RULES for m in rule.check(stack_resources(stack_plan))] == []


def test_every_image_is_retained_on_delete(stack_plan: Plan) -> None:
    assert [
        r.name for r in stack_plan.of_type(rules.IMAGE) if rules.check_image_retained(r.type, r.retain_on_delete)
    ] == []


def test_every_rule_judges_something_in_the_dev_stack(dev_plan: Plan) -> None:
    # A rule whose resource types never occur would pass vacuously.
    types = {r.type for r in dev_plan.resources}
    assert [rule.name for rule in RESOURCE_RULES if not rule.resource_types & types] == []
    assert {rules.REPOSITORY, rules.LIFECYCLE_POLICY, rules.IMAGE} <= types


def _spoil_container(inputs: dict[str, Any], change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    containers = json.loads(inputs["containerDefinitions"])
    change(containers[0])
    inputs["containerDefinitions"] = json.dumps(containers)
    return inputs


def _spoil_role_policy(inputs: dict[str, Any], statement: dict[str, Any]) -> dict[str, Any]:
    document = json.loads(inputs["policy"])
    document["Statement"].append(statement)
    inputs["policy"] = json.dumps(document)
    return inputs


SPOILERS: dict[str, tuple[str, Callable[[dict[str, Any]], dict[str, Any]], str]] = {
    "scan-on-push-off": (
        rules.REPOSITORY,
        lambda i: {**i, "imageScanningConfiguration": {"scanOnPush": False}},
        "scan images on push",
    ),
    "mutable-tags": (rules.REPOSITORY, lambda i: {**i, "imageTagMutability": "MUTABLE"}, "not MUTABLE"),
    "untagged-function": (rules.FUNCTION, lambda i: {k: v for k, v in i.items() if k != "tags"}, "missing tags"),
    "role-without-environment-tag": (
        rules.ROLE,
        lambda i: {**i, "tags": {k: v for k, v in i["tags"].items() if k != "Environment"}},
        "missing tags Environment",
    ),
    "exclude-every-tag": (
        rules.REPOSITORY,
        lambda i: {**i, "imageTagMutabilityExclusionFilters": [{"filter": "*", "filterType": "WILDCARD"}]},
        "not every tag",
    ),
    "lambda-by-global-latest": (
        rules.FUNCTION,
        lambda i: {**i, "imageUri": i["imageUri"].split("@")[0] + ":latest"},
        "by digest",
    ),
    "lambda-by-revision-tag": (
        rules.FUNCTION,
        lambda i: {**i, "imageUri": i["imageUri"].split("@")[0] + ":dev-abc123"},
        "by digest",
    ),
    "task-by-tag": (
        rules.TASK_DEFINITION,
        lambda i: _spoil_container(i, lambda c: c.update(image=c["image"].split("@")[0] + ":v1")),
        "container 'worker' must run its image by digest",
    ),
    "log-group-forever": (
        rules.LOG_GROUP,
        lambda i: {k: v for k, v in i.items() if k != "retentionInDays"},
        "retentionInDays",
    ),
    "iam-wildcard-action": (
        rules.ROLE_POLICY,
        lambda i: _spoil_role_policy(
            i, {"Sid": "All", "Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::b"}
        ),
        "statement All: wildcard action s3:*",
    ),
    "iam-wildcard-resource": (
        rules.ROLE_POLICY,
        lambda i: _spoil_role_policy(
            i, {"Sid": "AnySecret", "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": "*"}
        ),
        "statement AnySecret: Resource `*` for secretsmanager:GetSecretValue",
    ),
    "lambda-plaintext-key": (
        rules.FUNCTION,
        lambda i: {**i, "environment": {"variables": {"HELPER": "sk-ant-api03-abcdefghijklmnopqrstuv"}}},
        "plaintext credential in HELPER",
    ),
    "container-plaintext-token": (
        rules.TASK_DEFINITION,
        lambda i: _spoil_container(i, lambda c: c["environment"].append({"name": "GITHUB_TOKEN", "value": "x1"})),
        "plaintext credential in GITHUB_TOKEN",
    ),
}


@pytest.mark.parametrize("case", sorted(SPOILERS))
def test_each_resource_rule_fails_on_a_crafted_violation(case: str, dev_plan: Plan) -> None:
    type_, spoil, expected = SPOILERS[case]
    pinned = (lambda r: "@sha256:" in r.inputs.get("imageUri", "")) if type_ == rules.FUNCTION else (lambda _: True)
    inputs = spoil(first(dev_plan, type_, pinned))
    violations = [m for rule in RESOURCE_RULES if type_ in rule.resource_types for m in rule.check(type_, inputs)]
    assert any(expected in message for message in violations), violations
    assert "sk-ant-api03" not in " ".join(violations), "a violation message leaked the credential"


def test_the_floating_tag_is_only_env_latest() -> None:
    floating = first(sample_plan("dev"), rules.FUNCTION, lambda r: r.inputs["imageUri"].endswith(":dev-latest"))
    assert rules.check_image_reference(rules.FUNCTION, floating) == []
    assert rules.check_image_reference(rules.FUNCTION, {**floating, "imageUri": "repo:latest"}) != []


def test_only_the_registry_login_may_use_resource_wildcard() -> None:
    login = {"Sid": "RegistryLogin", "Effect": "Allow", "Action": "ecr:GetAuthorizationToken", "Resource": "*"}
    assert rules.statement_violations(login) == []
    mixed = {**login, "Action": ["ecr:GetAuthorizationToken", "ecr:BatchGetImage"]}
    assert rules.statement_violations(mixed) == ["statement RegistryLogin: Resource `*` for ecr:BatchGetImage"]
    assert rules.statement_violations({**login, "Effect": "Deny", "Action": "*"}) == []


def test_image_not_retained_fails() -> None:
    assert rules.check_image_retained(rules.IMAGE, retain_on_delete=False) != []


def test_repository_without_lifecycle_fails(dev_plan: Plan) -> None:
    resources = [
        r for r in stack_resources(dev_plan) if not (r.type == rules.LIFECYCLE_POLICY and r.name == "claude-lifecycle")
    ]
    assert rules.check_repositories_have_lifecycle(resources) == [
        "ECR repository viberator-worker-claude (claude-repository) has no lifecycle policy that expires images"
    ]
