"""The harness -> `pulumi up --target` mapping, read from preview digests: the committed stacks' real plans in Pulumi's
digest shape (tests/ci/preview_digests.py) and one digest written by hand from Pulumi's source
(tests/ci/preview-digest.json)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ci.deploy_targets import (
    ALL,
    CLANKER_TYPES,
    NothingToDeploy,
    PreviewDigest,
    deploy_scope,
    main,
    read_digest,
)
from components.config import ClankerBase
from components.harness_image import HarnessImage
from offline_plan.engine import Plan, Registration
from tests.ci.conftest import PLAN_MODES
from tests.ci.preview_digests import engine_urn, preview_digest
from tests.conftest import committed_config, committed_plan
from workers.catalog import HARNESS_NAMES

DEV = "urn:pulumi:dev::viberator-workers::"
PROD = "urn:pulumi:prod::viberator-workers::"
NOT_IN_PROD = next(
    h for h in HARNESS_NAMES if h not in {c.agent for c in committed_config("Pulumi.prod.yaml").clankers}
)
"""A harness no clanker of the committed prod runs."""
SHARED_TOP_LEVEL_TYPES = {"viberator:workers:ClankerCluster", "viberator:workers:SigningKey"}
"""Top-level components no single harness owns; a whole-stack deploy (harness `all`) updates them."""
HAND_WRITTEN = Path(__file__).with_name("preview-digest.json")


def _digest(plan: Plan) -> PreviewDigest:
    return PreviewDigest.model_validate(preview_digest(plan, f"Pulumi.{plan.stack}.yaml"))


def _targets(plan: Plan, harness: str) -> list[str]:
    args = deploy_scope(_digest(plan), plan.stack, harness).cli_args()
    assert args[-1] == "--target-dependents"
    assert all(arg.startswith("--target=urn:pulumi:") for arg in args[:-1])
    return [arg.removeprefix("--target=") for arg in args[:-1]]


def _registration(type_: str, name: str, parent: str | None) -> Registration:
    return Registration(f"urn:x::{name}", type_, name, parent, True, {}, False, False)


def _engine_urns_of(plan: Plan) -> set[str]:
    by_key = {f"{r.type}::{r.name}": r for r in plan.resources}
    return {engine_urn(r, by_key, stack=plan.stack, project=plan.project) for r in plan.resources}


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


def _ancestry(resource: Registration, by_key: dict[str, Registration]) -> Iterator[Registration]:
    owner: Registration | None = resource
    while owner is not None:
        yield owner
        owner = by_key.get(owner.parent or "")


def _owned_by(plan: Plan, harness: str) -> list[str]:
    """The selection rule, said once more in other words over the offline plan: every resource that is, or is under,
    the harness's image or a clanker of the committed config whose agent is the harness; in plan order."""
    agents = {c.name: c.agent for c in committed_config(f"Pulumi.{plan.stack}.yaml").clankers}
    by_key = {f"{r.type}::{r.name}": r for r in plan.resources}

    def owns(r: Registration) -> bool:
        return (r.type == HarnessImage.TYPE and r.name == harness) or (
            r.type in CLANKER_TYPES and agents.get(r.name) == harness
        )

    return [
        engine_urn(r, by_key, stack=plan.stack, project=plan.project)
        for r in plan.resources
        if any(owns(owner) for owner in _ancestry(r, by_key))
    ]


@pytest.mark.parametrize("mode", PLAN_MODES)
@pytest.mark.parametrize("file_name", ["Pulumi.dev.yaml", "Pulumi.prod.yaml"])
def test_every_harness_of_every_stack_deploys_exactly_what_it_owns(file_name: str, mode: str):
    plan = committed_plan(file_name, preview=mode == "preview", first_preview=mode == "first-preview")
    for harness in HARNESS_NAMES:
        expected = _owned_by(plan, harness)
        if expected:
            assert _targets(plan, harness) == expected, harness
        else:
            with pytest.raises(NothingToDeploy, match=f"'{harness}'"):
                deploy_scope(_digest(plan), plan.stack, harness)


@pytest.mark.parametrize("harness", HARNESS_NAMES)
def test_every_harness_deploys_its_image_in_the_image_stack(dev_plan_any_mode: Plan, harness: str):
    targets = _targets(dev_plan_any_mode, harness)

    assert f"{DEV}viberator:workers:HarnessImage::{harness}" in targets
    for child in ("aws:ecr/repository:Repository::{}-repository", "docker-build:index:Image::{}-image"):
        assert f"{DEV}viberator:workers:HarnessImage${child.format(harness)}" in targets
    assert set(targets) <= _engine_urns_of(dev_plan_any_mode), "every target must be a resource the program registers"
    other_images = {f"{DEV}viberator:workers:HarnessImage::{h}" for h in HARNESS_NAMES if h != harness}
    assert not other_images & set(targets)


def _clanker_resources(plan: Plan) -> dict[str, str]:
    """Engine URN -> the clanker it belongs to (its own component, or a resource under it)."""
    by_key = {f"{r.type}::{r.name}": r for r in plan.resources}
    owned = {}
    for resource in plan.resources:
        owner = next((o for o in _ancestry(resource, by_key) if o.type in CLANKER_TYPES), None)
        if owner is not None:
            owned[engine_urn(resource, by_key, stack=plan.stack, project=plan.project)] = owner.name
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
    assert deploy_scope(_digest(dev_plan_any_mode), "dev", ALL).cli_args() == []
    assert deploy_scope(_digest(prod_plan_any_mode), "prod", ALL).cli_args() == []


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
        deploy_scope(_digest(prod_plan_any_mode), "prod", NOT_IN_PROD)


def test_an_unknown_harness_is_rejected(dev_plan_any_mode: Plan):
    with pytest.raises(ValueError, match="unknown harness 'cladue'"):
        deploy_scope(_digest(dev_plan_any_mode), "dev", "cladue")


HAND_DEV = "urn:pulumi:dev::viberator-workers::viberator:workers:"


def test_a_hand_written_digest_of_pulumis_shape_selects_the_harness_components_and_their_descendants():
    digest = read_digest(HAND_WRITTEN)

    assert deploy_scope(digest, "dev", "claude").targets == (
        f"{HAND_DEV}HarnessImage::claude",  # unchanged: a `same` step, there because of --show-sames
        f"{HAND_DEV}HarnessImage$aws:ecr/repository:Repository::claude-repository",  # update
        f"{HAND_DEV}HarnessImage$docker-build:index:Image::claude-image",  # create: only a newState
        f"{HAND_DEV}LambdaClanker::claude-fn",  # a new clanker: its component is a `create` step too
        f"{HAND_DEV}LambdaClanker$aws:iam/role:Role::claude-fn-role",
        f"{HAND_DEV}LambdaClanker$aws:lambda/function:Function::claude-fn-function",
    ), "neither the read (external) repository nor the deleted policy is a target"
    assert deploy_scope(digest, "dev", "codex").targets == (
        f"{HAND_DEV}HarnessImage::codex",
        f"{HAND_DEV}HarnessImage$aws:ecr/repository:Repository::codex-repository",
        f"{HAND_DEV}LambdaClanker::codex-fn",
        f"{HAND_DEV}LambdaClanker$aws:lambda/function:Function::codex-fn-function",  # replace
    )
    with pytest.raises(NothingToDeploy, match="'kimi'"):
        deploy_scope(digest, "dev", "kimi")


def test_a_preview_of_another_stack_is_refused():
    with pytest.raises(ValueError, match="the preview is not of stack 'prod'"):
        deploy_scope(read_digest(HAND_WRITTEN), "prod", "claude")


def test_clankers_that_are_not_a_list_are_named():
    digest = read_digest(HAND_WRITTEN)
    broken = digest.model_copy(update={"config": {"viberator:clankers": '{"name": "claude-fn"}'}})

    with pytest.raises(ValueError, match="viberator:clankers is not a list of clankers"):
        deploy_scope(broken, "dev", "claude")


@pytest.fixture
def dev_preview(tmp_path: Path) -> Path:
    path = tmp_path / "preview.json"
    path.write_text(json.dumps(preview_digest(committed_plan("Pulumi.dev.yaml"), "Pulumi.dev.yaml"), indent=4))
    return path


def test_cli_prints_one_argument_per_line(capsys: pytest.CaptureFixture[str], dev_preview: Path):
    clanker = next(c for c in committed_config("Pulumi.dev.yaml").clankers if c.target in MAIN_RESOURCE)
    assert main(["--stack", "dev", "--harness", clanker.agent, str(dev_preview)]) == 0

    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == "--target-dependents"
    assert f"--target={DEV}viberator:workers:{MAIN_RESOURCE[clanker.target].format(clanker.name)}" in lines


@pytest.mark.parametrize(
    ("stack", "harness", "document", "message"),
    [
        ("dev", "cladue", "preview.json", "unknown harness 'cladue'"),
        ("prod", "claude", "preview.json", "the preview is not of stack 'prod'"),
        ("dev", "claude", "absent.json", "cannot read the preview"),
        ("dev", "claude", "events.jsonl", "is not the digest of `pulumi preview --json --show-sames`"),
    ],
)
def test_cli_exits_2_with_a_message(
    capsys: pytest.CaptureFixture[str], dev_preview: Path, stack: str, harness: str, document: str, message: str
):
    # PULUMI_ENABLE_STREAMING_JSON_PREVIEW makes `preview --json` print one engine event per line instead of the
    # digest (pkg/backend/display/display.go; pkg/backend/display/json.go `ShowJSONEvents`).
    dev_preview.with_name("events.jsonl").write_text(
        '{"sequence": 0, "preludeEvent": {"config": {}}}\n{"sequence": 1}\n'
    )

    assert main(["--stack", stack, "--harness", harness, str(dev_preview.with_name(document))]) == 2

    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err


def test_cli_exits_2_when_the_stack_runs_nothing_of_the_harness(capsys: pytest.CaptureFixture[str], tmp_path: Path):
    path = tmp_path / "prod.json"
    path.write_text(json.dumps(preview_digest(committed_plan("Pulumi.prod.yaml"), "Pulumi.prod.yaml")))

    assert main(["--stack", "prod", "--harness", NOT_IN_PROD, str(path)]) == 2
    assert f"'{NOT_IN_PROD}': nothing to deploy" in capsys.readouterr().err
