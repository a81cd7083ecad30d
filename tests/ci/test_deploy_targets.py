"""The harness -> `pulumi up --target` mapping, checked against the real plans of the committed stacks."""

from __future__ import annotations

import pytest

from ci.deploy_targets import (
    ALL,
    CLANKER_TYPES,
    NothingToDeploy,
    deploy_scope,
    engine_urn,
    main,
)
from components.harness_image import HarnessImage
from offline_plan.engine import Plan, Registration
from workers.catalog import HARNESS_NAMES

DEV = "urn:pulumi:dev::viberator-workers::"
PROD = "urn:pulumi:prod::viberator-workers::"
SHARED_TOP_LEVEL_TYPES = {"viberator:workers:ClankerCluster", "viberator:workers:SigningKey"}
"""Top-level components no single harness owns; a whole-stack deploy (harness `all`) updates them."""


def _targets(plan: Plan, harness: str) -> list[str]:
    args = deploy_scope(plan, harness).cli_args()
    assert args[-1] == "--target-dependents"
    assert all(arg.startswith("--target=urn:pulumi:") for arg in args[:-1])
    return [arg.removeprefix("--target=") for arg in args[:-1]]


def _registration(type_: str, name: str, parent: str | None) -> Registration:
    return Registration(f"urn:x::{name}", type_, name, parent, True, {}, False, False)


def _engine_urns_of(plan: Plan) -> set[str]:
    # The mock monitor prefixes top-level types with the root stack's type; the engine does not. The committed
    # stacks nest at most one level deep, where that is the only difference (deeper nesting: see below).
    return {r.urn.replace("::pulumi:pulumi:Stack$", "::") for r in plan.resources}


def test_engine_urns_prefix_every_ancestor_but_the_root_stack():
    stack = _registration("pulumi:pulumi:Stack", "viberator-workers-dev", None)
    outer = _registration("viberator:workers:Outer", "outer", "pulumi:pulumi:Stack::viberator-workers-dev")
    inner = _registration("viberator:workers:Inner", "inner", "viberator:workers:Outer::outer")
    leaf = _registration("aws:s3/bucket:Bucket", "leaf", "viberator:workers:Inner::inner")
    by_key = {f"{r.type}::{r.name}": r for r in (stack, outer, inner, leaf)}

    assert engine_urn(outer, by_key, stack="dev", project="p") == "urn:pulumi:dev::p::viberator:workers:Outer::outer"
    assert engine_urn(leaf, by_key, stack="dev", project="p") == (
        "urn:pulumi:dev::p::viberator:workers:Outer$viberator:workers:Inner$aws:s3/bucket:Bucket::leaf"
    )


@pytest.mark.parametrize("harness", HARNESS_NAMES)
def test_every_harness_deploys_its_image_in_the_image_stack(dev_plan_any_mode: Plan, harness: str):
    targets = _targets(dev_plan_any_mode, harness)

    assert f"{DEV}viberator:workers:HarnessImage::{harness}" in targets
    for child in ("aws:ecr/repository:Repository::{}-repository", "docker-build:index:Image::{}-image"):
        assert f"{DEV}viberator:workers:HarnessImage${child.format(harness)}" in targets
    assert set(targets) <= _engine_urns_of(dev_plan_any_mode), "every target must be a resource the program registers"
    other_images = {f"{DEV}viberator:workers:HarnessImage::{h}" for h in HARNESS_NAMES if h != harness}
    assert not other_images & set(targets)


def test_a_harness_deploys_exactly_its_image_and_the_clankers_that_run_it(dev_plan_any_mode: Plan):
    targets = set(_targets(dev_plan_any_mode, "multi-agent"))

    assert f"{DEV}viberator:workers:LambdaClanker::multi-agent" in targets
    assert f"{DEV}viberator:workers:LambdaClanker$aws:lambda/function:Function::multi-agent-function" in targets
    assert f"{DEV}viberator:workers:LambdaClanker$aws:iam/role:Role::multi-agent-role" in targets
    assert not {urn for urn in targets if "codex-floating" in urn or "claude-ecs" in urn}
    assert not {urn for urn in targets if "ClankerCluster" in urn}, "the shared cluster is not one harness's"


def test_the_ecs_harness_deploys_its_task_definition(dev_plan_any_mode: Plan):
    targets = _targets(dev_plan_any_mode, "claude-code-ecs")

    assert f"{DEV}viberator:workers:EcsClanker$aws:ecs/taskDefinition:TaskDefinition::claude-ecs-task" in targets


def test_a_harness_no_clanker_runs_deploys_only_its_image(dev_plan_any_mode: Plan):
    targets = _targets(dev_plan_any_mode, "claude")

    assert targets and all("HarnessImage" in urn for urn in targets)


def test_single_harness_deploys_together_cover_every_resource_but_the_shared_ones(dev_plan_any_mode: Plan):
    covered = {urn for harness in HARNESS_NAMES for urn in _targets(dev_plan_any_mode, harness)}
    owned_types = {HarnessImage.TYPE, *CLANKER_TYPES, *SHARED_TOP_LEVEL_TYPES}
    top_level = [r for r in dev_plan_any_mode.resources if r.parent is None]

    # A new top-level resource must be owned by a harness (or declared shared here), or a single-harness
    # deploy would silently skip it.
    assert {r.type for r in top_level} <= owned_types
    uncovered = _engine_urns_of(dev_plan_any_mode) - covered
    assert all(
        any(f"{shared}$" in urn or f"{shared}::" in urn for shared in SHARED_TOP_LEVEL_TYPES) for urn in uncovered
    ), sorted(uncovered)


def test_all_deploys_the_whole_stack(dev_plan_any_mode: Plan, prod_plan_any_mode: Plan):
    assert deploy_scope(dev_plan_any_mode, ALL).cli_args() == []
    assert deploy_scope(prod_plan_any_mode, ALL).cli_args() == []


def test_the_promoting_stack_deploys_clankers_and_builds_nothing(prod_plan_any_mode: Plan):
    targets = _targets(prod_plan_any_mode, "multi-agent")

    assert f"{PROD}viberator:workers:LambdaClanker$aws:lambda/function:Function::multi-agent-function" in targets
    assert all(urn.startswith(PROD) for urn in targets)
    assert not [urn for urn in targets if "HarnessImage" in urn or "docker-build" in urn]
    assert set(targets) <= _engine_urns_of(prod_plan_any_mode)


def test_a_harness_the_stack_does_not_run_is_an_error_not_a_silent_no_op(prod_plan_any_mode: Plan):
    with pytest.raises(NothingToDeploy, match="'qwen'"):
        deploy_scope(prod_plan_any_mode, "qwen")


def test_an_unknown_harness_is_rejected(dev_plan_any_mode: Plan):
    with pytest.raises(ValueError, match="unknown harness 'cladue'"):
        deploy_scope(dev_plan_any_mode, "cladue")


def test_cli_prints_one_argument_per_line(capsys: pytest.CaptureFixture[str]):
    assert main(["--stack", "dev", "--harness", "codex"]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "--target-dependents"
    assert f"--target={DEV}viberator:workers:LambdaClanker::codex-floating" in lines


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stack", "staging", "--harness", "claude"], "no stack config Pulumi.staging.yaml"),
        (["--stack", "prod", "--harness", "kimi"], "nothing to deploy"),
    ],
)
def test_cli_exits_2_with_a_message(capsys: pytest.CaptureFixture[str], argv: list[str], message: str):
    assert main(argv) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
