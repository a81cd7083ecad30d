"""Dev's and prod's clanker roles move under the IAM path `/viberator/clankers/` (components/review_iam.py
CLANKER_ROLE_PATH), the only roles the deploy roles may write or pass: what that move does to a deployed stack,
and the accounts the access tests evaluate against."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from access.jobs import Account
from components import execution_role
from offline_plan.diff import diff_plans
from offline_plan.stacks import plan_stack_file
from tests.access.evaluator import IDS
from tests.conftest import committed_plan
from workers.catalog import PROJECT_DIR


def _before_the_move(stack_file: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The stack's plan as the program registered it before: the same roles at IAM's default path `/`."""
    with monkeypatch.context() as patched:
        patched.setattr(execution_role, "CLANKER_ROLE_PATH", None)
        return plan_stack_file(PROJECT_DIR / stack_file).to_json()


@pytest.mark.parametrize("account", [Account.DEV, Account.PROD], ids=lambda a: a.value)
def test_the_move_replaces_the_roles_under_their_urns_and_updates_the_functions(
    account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`path` is ForceNew (terraform-provider-aws internal/service/iam/role.go, ResourceRole's schema), so each role
    is replaced once under its own URN; the recording mocks answer its ARN with the path in it, as IAM does, so a
    function's `role` changes (an update in place: lambda/function.go resourceFunctionUpdate sends it in
    UpdateFunctionConfiguration) and a task definition registers a new revision, as on every change of it. An
    auto-named role replaced gets a new name, so its inline RolePolicy (`role` ForceNew, iam/role_policy.go) is
    replaced too; the mocks' auto-names are stable, so this diff cannot show that one."""
    stack_file = f"Pulumi.{account.value}.yaml"
    base = _before_the_move(stack_file, monkeypatch)
    head = committed_plan(stack_file).to_json()
    assert {r["urn"] for r in base["resources"]} == {r["urn"] for r in head["resources"]}
    changes = diff_plans(base, head, {"file": "base.json"})["changes"]
    moved = {(c["op"], c["type"], frozenset(c["changedInputs"])) for c in changes}
    # What the move does to each kind of resource that takes a clanker role; the stack may have none of a kind.
    expected = {
        ("replace", "aws:iam/role:Role", frozenset({"path"})),
        ("update", "aws:lambda/function:Function", frozenset({"role"})),
        ("replace", "aws:ecs/taskDefinition:TaskDefinition", frozenset({"executionRoleArn", "taskRoleArn"})),
    }
    present = {r["type"] for r in head["resources"]}
    assert moved == {change for change in expected if change[1] in present}
    assert "aws:iam/role:Role" in present, "a stack without clanker roles tests nothing here"
    assert {c["urn"] for c in changes if c["type"] == "aws:iam/role:Role"} == {
        r["urn"] for r in head["resources"] if r["type"] == "aws:iam/role:Role"
    }


@pytest.mark.parametrize("stack", ["dev", "prod", "github"])
def test_the_evaluated_accounts_are_the_ones_each_access_stack_names(stack: str) -> None:
    config = yaml.safe_load((PROJECT_DIR / "access" / f"Pulumi.{stack}.yaml").read_text())["config"]
    assert config["viberator-access:accounts"] == {"dev": IDS.dev, "prod": IDS.prod}
