"""prod protections: guarded resources protected, repositories never force-deleted, and no change that would
delete or replace a Lambda function, repository or cluster of a prod stack.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config import ConfigError
from offline_plan.diff import base_plan
from offline_plan.engine import Plan, run_program
from offline_plan.stacks import plan_stack_file
from policy.rules import FUNCTION, REPOSITORY
from tests.agent_secrets import agent_keyed_json
from tests.policy.prod_changes import destructive_changes, unprotected
from workers.catalog import PROJECT_DIR

IMAGE_STACK = "viberator/viberator-workers/dev"
DEFAULT_BASE_REF = "HEAD~1"
BASE_REF = os.environ.get("GUARDRAILS_BASE_REF") or DEFAULT_BASE_REF
"""What Pulumi.prod.yaml (as checked out) is compared with. The test workflow sets a pull request's base (or,
on a push, main before it); unset, the parent of HEAD, so a clean clone still checks the latest commit rather
than comparing HEAD with itself. `GUARDRAILS_BASE_REF=HEAD` checks uncommitted edits alone."""


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=PROJECT_DIR, capture_output=True, text=True, check=False)


def base_prod_plan(ref: str) -> dict[str, Any]:
    """Pulumi.prod.yaml planned at `ref` by `ref`'s own program (offline_plan/diff.py plans it in a temporary
    worktree): a change to the code (a renamed resource, a ForceNew input) is compared too, not only a change
    to the config. A ref that does not resolve fails: the check would otherwise compare nothing and pass."""
    try:
        with base_plan(ref, "prod", PROJECT_DIR / "Pulumi.prod.yaml", ["--format", "json"]) as pending:
            return pending.result()
    except ConfigError as refused:
        pytest.fail(
            f"GUARDRAILS_BASE_REF={ref!r} does not resolve to a commit here (a shallow clone, or the first "
            f"commit?): fetch the history (`fetch-depth: 0`) or set GUARDRAILS_BASE_REF ({refused})"
        )


def assert_no_destructive_change(before: Plan | dict[str, Any], after: Plan) -> None:
    document = before.to_json() if isinstance(before, Plan) else before
    changes = destructive_changes(document, after.to_json())
    assert not changes, "this change would destroy prod resources (protected: `pulumi up` would stop half-way):\n" + (
        "\n".join(f"  - {change}" for change in changes)
    )


def plan_prod_config(tmp_path: Path, config: dict, dev_outputs: dict) -> Plan:
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return plan_stack_file(path, stack_outputs={IMAGE_STACK: dev_outputs})


def committed_prod_config() -> dict:
    return yaml.safe_load((PROJECT_DIR / "Pulumi.prod.yaml").read_text())["config"]


def test_committed_prod_stack_is_protected(prod_plan: Plan) -> None:
    assert {r.type for r in prod_plan.resources} >= {FUNCTION, "aws:ecs/cluster:Cluster"}
    assert unprotected(prod_plan) == []


def test_prod_image_stack_protects_its_repositories(prod_image_plan: Plan) -> None:
    assert len(prod_image_plan.of_type(REPOSITORY)) == 4, "two harnesses' image and build cache repositories"
    assert unprotected(prod_image_plan) == []


def test_a_scratch_stack_is_not_held_to_prod_rules() -> None:
    # The check must be able to fail: a stack whose images nobody else runs may force-delete its repositories.
    scratch = {
        "aws:region": "us-east-1",
        "viberator:harnesses": '["claude"]',
        "viberator:forceDelete": "true",
        "viberator:clankers": agent_keyed_json([{"name": "claude", "agent": "claude", "target": "lambda"}]),
    }
    problems = unprotected(run_program("scratch", scratch))
    assert "claude-repository has forceDelete" in problems
    assert f"{REPOSITORY} claude-repository is not protected" in problems


def test_the_image_stack_prod_runs_from_protects_and_retains_its_repositories(dev_plan: Plan) -> None:
    """dev builds what prod runs (sharedEnvironments, consumerAccounts): deleting a dev repository would delete
    the digests prod pins, so dev's repositories are held to prod's rule (issue 12)."""
    repositories = dev_plan.of_type(REPOSITORY)
    assert len(repositories) == 18, "nine harnesses' image and build cache repositories"
    assert all(r.protect and r.retain_on_delete and r.inputs["forceDelete"] is False for r in repositories)


def test_committed_prod_change_destroys_nothing(prod_plan: Plan) -> None:
    # A prod stack the base does not have yet had nothing to destroy: the base plan is then empty.
    assert_no_destructive_change(base_prod_plan(BASE_REF), prod_plan)


def test_a_base_ref_that_does_not_resolve_fails_loudly() -> None:
    with pytest.raises(pytest.fail.Exception, match="does not resolve to a commit"):
        base_prod_plan("0" * 40)


def test_the_default_base_is_a_real_commit_not_head_itself() -> None:
    head = _git("rev-parse", "HEAD").stdout.strip()
    base = _git("rev-parse", "--verify", "--quiet", f"{DEFAULT_BASE_REF}^{{commit}}").stdout.strip()
    assert base and base != head, f"{DEFAULT_BASE_REF} must name HEAD's parent: is this a shallow clone?"


def test_a_safe_change_passes(prod_plan: Plan, tmp_path: Path, dev_plan: Plan) -> None:
    config = committed_prod_config()
    config["viberator:clankers"][0]["memoryMb"] = 10240
    config["viberator:clankers"][0]["agent"] = "claude"  # a new image is an update, never a replacement
    assert_no_destructive_change(prod_plan, plan_prod_config(tmp_path, config, dev_plan.outputs))


def test_renaming_a_prod_function_fails_clearly(prod_plan: Plan, tmp_path: Path, dev_plan: Plan) -> None:
    config = committed_prod_config()
    renamed = next(c for c in config["viberator:clankers"] if c["target"] == "lambda")
    name, renamed["name"] = renamed["name"], renamed["name"] + "-v2"
    with pytest.raises(AssertionError) as failure:
        assert_no_destructive_change(prod_plan, plan_prod_config(tmp_path, config, dev_plan.outputs))
    assert f"{FUNCTION} {name}-function would be deleted" in str(failure.value)


def test_a_replace_triggering_input_fails_clearly(prod_plan: Plan) -> None:
    function = prod_plan.of_type(FUNCTION)[0]
    after = Plan(prod_plan.project, prod_plan.stack, False)
    after.resources = [
        r if r is not function else dataclasses.replace(r, inputs={**r.inputs, "packageType": "Zip"})
        for r in prod_plan.resources
    ]
    with pytest.raises(AssertionError, match=rf"{function.name} would be replaced \(packageType: 'Image' -> 'Zip'\)"):
        assert_no_destructive_change(prod_plan, after)


def test_dropping_a_harness_from_a_prod_image_stack_fails_clearly(
    prod_image_plan: Plan, prod_image_config: dict[str, str]
) -> None:
    config = {
        **{key: value for key, value in prod_image_config.items() if key != "viberator:network"},  # no ecs clanker
        "viberator:harnesses": '["claude"]',
        "viberator:clankers": agent_keyed_json([{"name": "claude", "agent": "claude", "target": "lambda"}]),
    }
    with pytest.raises(AssertionError) as failure:
        assert_no_destructive_change(prod_image_plan, run_program("prod", config))
    message = str(failure.value)
    assert f"{REPOSITORY} claude-code-ecs-repository would be deleted" in message
    assert "aws:ecs/cluster:Cluster workers-cluster would be deleted" in message
