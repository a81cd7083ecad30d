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
from components.config import ClankerBase
from components.harness_image import HarnessImage
from offline_plan.engine import Plan, Registration
from tests.conftest import committed_config
from workers.catalog import HARNESS_NAMES

DEV = "urn:pulumi:dev::viberator-workers::"
PROD = "urn:pulumi:prod::viberator-workers::"
NOT_IN_PROD = next(
    h for h in HARNESS_NAMES if h not in {c.agent for c in committed_config("Pulumi.prod.yaml").clankers}
)
"""A harness no clanker of the committed prod runs."""
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


def _engine_urn(resource: Registration) -> str:
    return resource.urn.replace("::pulumi:pulumi:Stack$", "::")


def _clanker_resources(plan: Plan) -> dict[str, str]:
    """Engine URN -> the clanker it belongs to (its own component, or a resource under it)."""
    by_key = {f"{r.type}::{r.name}": r for r in plan.resources}
    owned = {}
    for resource in plan.resources:
        owner: Registration | None = resource
        while owner is not None and owner.type not in CLANKER_TYPES:
            owner = by_key.get(owner.parent or "")
        if owner is not None:
            owned[_engine_urn(resource)] = owner.name
    return owned


MAIN_RESOURCE = {
    "lambda": "LambdaClanker$aws:lambda/function:Function::{}-function",
    "ecs": "EcsClanker$aws:ecs/taskDefinition:TaskDefinition::{}-task",
}
"""What runs a cloud clanker's jobs, by target: the resource a deploy of its harness must update."""


def _runners(file_name: str) -> dict[str, list[ClankerBase]]:
    """Harness -> the stack's clankers that run it, from the committed stack's config."""
    runners: dict[str, list[ClankerBase]] = {}
    for clanker in committed_config(file_name).clankers:
        runners.setdefault(clanker.agent, []).append(clanker)
    return runners


def test_a_harness_deploys_exactly_its_image_and_the_clankers_that_run_it(dev_plan_any_mode: Plan):
    owned = _clanker_resources(dev_plan_any_mode)
    agent_of = {c.name: c.agent for c in committed_config("Pulumi.dev.yaml").clankers}
    for harness, clankers in _runners("Pulumi.dev.yaml").items():
        targets = set(_targets(dev_plan_any_mode, harness))

        assert {urn for urn, clanker in owned.items() if agent_of[clanker] == harness} <= targets, harness
        assert not {urn for urn, clanker in owned.items() if agent_of[clanker] != harness} & targets, harness
        for clanker in clankers:
            if clanker.target in MAIN_RESOURCE:
                assert f"{DEV}viberator:workers:{MAIN_RESOURCE[clanker.target].format(clanker.name)}" in targets
        assert not {urn for urn in targets if "ClankerCluster" in urn}, "the shared cluster is not one harness's"


def test_a_harness_no_clanker_runs_deploys_only_its_image(dev_plan_any_mode: Plan):
    unrun = [harness for harness in HARNESS_NAMES if harness not in _runners("Pulumi.dev.yaml")]
    assert unrun, "dev builds every harness and runs a few"
    for harness in unrun:
        targets = _targets(dev_plan_any_mode, harness)
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
    for harness, clankers in _runners("Pulumi.prod.yaml").items():
        targets = _targets(prod_plan_any_mode, harness)

        for clanker in clankers:
            if clanker.target in MAIN_RESOURCE:
                assert f"{PROD}viberator:workers:{MAIN_RESOURCE[clanker.target].format(clanker.name)}" in targets
        assert all(urn.startswith(PROD) for urn in targets)
        assert not [urn for urn in targets if "HarnessImage" in urn or "docker-build" in urn]
        assert set(targets) <= _engine_urns_of(prod_plan_any_mode)


def test_a_harness_the_stack_does_not_run_is_an_error_not_a_silent_no_op(prod_plan_any_mode: Plan):
    with pytest.raises(NothingToDeploy, match=f"'{NOT_IN_PROD}'"):
        deploy_scope(prod_plan_any_mode, NOT_IN_PROD)


def test_an_unknown_harness_is_rejected(dev_plan_any_mode: Plan):
    with pytest.raises(ValueError, match="unknown harness 'cladue'"):
        deploy_scope(dev_plan_any_mode, "cladue")


def test_cli_prints_one_argument_per_line(capsys: pytest.CaptureFixture[str]):
    clanker = next(c for c in committed_config("Pulumi.dev.yaml").clankers if c.target in MAIN_RESOURCE)
    assert main(["--stack", "dev", "--harness", clanker.agent]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "--target-dependents"
    assert f"--target={DEV}viberator:workers:{MAIN_RESOURCE[clanker.target].format(clanker.name)}" in lines


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--stack", "staging", "--harness", "claude"], "no stack config Pulumi.staging.yaml"),
        (["--stack", "prod", "--harness", NOT_IN_PROD], "nothing to deploy"),
    ],
)
def test_cli_exits_2_with_a_message(capsys: pytest.CaptureFixture[str], argv: list[str], message: str):
    assert main(argv) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
