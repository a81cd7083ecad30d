"""Least privilege, asserted: each role's permissions in every committed stack's plan, compared exactly (actions,
resources and conditions).

The expectations are derived here from the stack's config (its clankers, as the program parses them) by rules
written out in this file, never computed with `components.policies`: a change to what a role may do shows up as
a failure someone has to approve, while adding, removing or changing a clanker in a stack file moves the
expectations with it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config import StackConfig
from components.config_model.clankers import CloudClanker
from components.review_iam import CLANKER_BOUNDARY_NAME, CLANKER_ROLE_PATH
from offline_plan.engine import Plan
from tests.conftest import COMMITTED_STACKS, committed_config, committed_plan

Grant = tuple[str, tuple[str, ...], tuple[str, ...], str]
"""(Sid, actions, resources, condition as canonical JSON or "") of one Allow statement, sorted."""

LAMBDA = "lambda.amazonaws.com"
ECS_TASKS = "ecs-tasks.amazonaws.com"
WRITE_LOGS = ("logs:CreateLogStream", "logs:PutLogEvents")
PULL = ("ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer")


def _sorted(value: Any) -> tuple[str, ...]:
    return tuple(sorted([value] if isinstance(value, str) else value))


def grants(policy: str) -> set[Grant]:
    statements = json.loads(policy)["Statement"]
    assert all(
        s["Effect"] == "Allow" and set(s) <= {"Sid", "Effect", "Action", "Resource", "Condition"} for s in statements
    ), "only Allow statements of Action and Resource (no NotAction or NotResource) are expected"
    return {
        (s["Sid"], _sorted(s["Action"]), _sorted(s["Resource"]), json.dumps(s.get("Condition", ""), sort_keys=True))
        for s in statements
    }


def _log_group(config: StackConfig, account: str, name: str) -> str:
    return f"arn:aws:logs:{config.region}:{account}:log-group:{name}:*"


def _secret_grants(config: StackConfig, clanker: CloudClanker) -> set[Grant]:
    """GetSecretValue on exactly its secrets (an ECS `:json-key:…` selector names the same secret), and kms:Decrypt
    on the customer-managed keys `viberator:secretKeys` names for them, bound to those secrets."""
    secrets = tuple(sorted({":".join(arn.split(":")[:7]) for arn in clanker.secrets.values()}))
    if not secrets:
        return set()
    read: set[Grant] = {("ReadListedSecrets", ("secretsmanager:GetSecretValue",), secrets, '""')}
    encrypted = [secret for secret in secrets if secret in config.secret_keys]
    if encrypted:
        condition = {"StringEquals": {"kms:EncryptionContext:SecretARN": encrypted}}
        keys = tuple(sorted({config.secret_keys[secret] for secret in encrypted}))
        read.add(("DecryptListedSecrets", ("kms:Decrypt",), keys, json.dumps(condition, sort_keys=True)))
    return read


def _repository_arn(plan: Plan, harness: str) -> str:
    """The one repository an ECS clanker pulls from: where its image is (this stack's, or its image stack's copy)."""
    host, _, name = plan.outputs["images"][harness]["repositoryUrl"].partition("/")
    account, _dkr, _ecr, region = host.split(".")[:4]
    return f"arn:aws:ecr:{region}:{account}:repository/{name}"


def expected_policies(file_name: str) -> dict[str, tuple[str, set[Grant]]]:
    """Inline policy name -> (the role it is attached to, its grants), for every cloud clanker of the stack. An
    ECS clanker's task role (what the agent itself may do) deliberately has none."""
    config, plan = committed_config(file_name), committed_plan(file_name)
    expected = {}
    for clanker in config.clankers:
        if not isinstance(clanker, CloudClanker):
            continue
        named = f"viberator-{config.environment}-{clanker.name}"
        if clanker.target == "lambda":
            logs = _log_group(config, plan.account, f"/aws/lambda/{named}")
            policy, role = f"{clanker.name}-role-policy", f"{clanker.name}-role"
            granted = {("WriteLogs", WRITE_LOGS, (logs,), '""')}
        else:
            logs = _log_group(config, plan.account, f"/ecs/{named}")
            policy, role = f"{clanker.name}-execution-policy", f"{clanker.name}-execution-role"
            granted = {
                ("RegistryLogin", ("ecr:GetAuthorizationToken",), ("*",), '""'),
                ("PullWorkerImage", PULL, (_repository_arn(plan, clanker.agent),), '""'),
                ("WriteLogs", WRITE_LOGS, (logs,), '""'),
            }
        expected[policy] = (role, granted | _secret_grants(config, clanker))
    return expected


def expected_roles(file_name: str) -> dict[str, str]:
    """Role name -> the one service that may assume it: a Lambda clanker's role, an ECS clanker's two."""
    roles = {}
    for clanker in committed_config(file_name).clankers:
        if clanker.target == "lambda":
            roles[f"{clanker.name}-role"] = LAMBDA
        elif clanker.target == "ecs":
            roles |= {f"{clanker.name}-execution-role": ECS_TASKS, f"{clanker.name}-task-role": ECS_TASKS}
    return roles


@pytest.mark.parametrize("file_name", COMMITTED_STACKS)
def test_each_role_policy_grants_exactly_what_its_clanker_needs(file_name: str) -> None:
    plan = committed_plan(file_name)
    actual = {r.name: grants(r.inputs["policy"]) for r in plan.of_type("aws:iam/rolePolicy:RolePolicy")}
    assert actual == {policy: granted for policy, (_role, granted) in expected_policies(file_name).items()}


@pytest.mark.parametrize("file_name", COMMITTED_STACKS)
def test_no_other_permissions_reach_a_role(file_name: str) -> None:
    # Managed-policy attachments or inline policies on the role would bypass the documents compared above.
    plan = committed_plan(file_name)
    types = {r.type for r in plan.resources if r.type.startswith("aws:iam/")}
    assert types <= {"aws:iam/role:Role", "aws:iam/rolePolicy:RolePolicy"}
    roles = plan.of_type("aws:iam/role:Role")
    assert all(set(r.inputs) == {"assumeRolePolicy", "tags", "permissionsBoundary", "path"} for r in roles), (
        "roles carry no inline or managed policies"
    )
    # And each is bounded by the access project's clanker boundary of its account (tests/access/).
    boundary = f"arn:aws:iam::{plan.account}:policy/{CLANKER_BOUNDARY_NAME}"
    assert {r.inputs["permissionsBoundary"] for r in roles} == {boundary}
    assert {r.inputs["path"] for r in roles} == {CLANKER_ROLE_PATH}


@pytest.mark.parametrize("file_name", COMMITTED_STACKS)
def test_each_role_is_assumable_only_by_its_service(file_name: str) -> None:
    trusted = {}
    for role in committed_plan(file_name).of_type("aws:iam/role:Role"):
        (statement,) = json.loads(role.inputs["assumeRolePolicy"])["Statement"]
        assert statement["Action"] == "sts:AssumeRole" and set(statement["Principal"]) == {"Service"}
        trusted[role.name] = statement["Principal"]["Service"]
    assert trusted == expected_roles(file_name)


@pytest.mark.parametrize("file_name", COMMITTED_STACKS)
def test_each_policy_is_attached_to_its_own_role(file_name: str) -> None:
    plan = committed_plan(file_name)
    attached = {r.name: r.inputs["role"].rsplit("-", 1)[0] for r in plan.of_type("aws:iam/rolePolicy:RolePolicy")}
    assert attached == {policy: role for policy, (role, _granted) in expected_policies(file_name).items()}


def test_the_committed_stacks_have_clanker_roles_to_judge() -> None:
    # The checks above compare the plans with what their configs imply: they judge something only while the
    # committed stacks deploy cloud clankers (each target at least once over them).
    targets = {c.target for name in COMMITTED_STACKS for c in committed_config(name).clankers}
    assert {"lambda", "ecs"} <= targets
