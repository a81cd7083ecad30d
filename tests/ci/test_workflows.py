"""Contract checks on .github/workflows: what actionlint and zizmor cannot know about this project.

(`make lint-workflows` runs those two; these tests pin the project's own rules: actions are pinned consistently,
no expression is expanded inside a shell script, permissions are per job, the dispatch choices follow the harness
catalog and the committed stacks, and tests gate every pull request.) The local composite actions
(`.github/actions/`) are read as the steps they expand to (tests/ci/workflow_files.py). Credentials, deploys,
pull requests and drift have modules of their own (tests/ci/test_workflow_*.py).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import yaml

from tests.ci.workflow_files import (
    ACTION_FILES,
    STACK_DEPLOY,
    STACKS,
    WORKFLOW_FILES,
    _steps,
    _uses,
    expanded,
    workflow,
)
from workers.catalog import HARNESS_NAMES, PROJECT_DIR

PINNED_USES = re.compile(r"^\s*(?:-\s*)?uses:\s*(?P<action>[\w.-]+/[\w./-]+)@(?P<ref>\S+)(?P<rest>.*)$")


def test_the_three_workflows_exist():
    assert {p.name for p in WORKFLOW_FILES} >= {"preview.yml", "deploy-viberators.yml", "drift.yml"}


@pytest.mark.parametrize("path", WORKFLOW_FILES + ACTION_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_action_is_pinned_to_a_commit_with_its_version(path: Path):
    uses = [m for line in path.read_text().splitlines() if (m := PINNED_USES.match(line))]

    composite_of_run_steps = path.name == "action.yml" and "uses:" not in path.read_text()
    assert uses or "workflow_call" in path.read_text() or composite_of_run_steps, (
        "only a reusable workflow may use local actions alone"
    )
    for match in uses:
        assert re.fullmatch(r"[0-9a-f]{40}", match["ref"]), f"{match['action']}@{match['ref']} is not a commit SHA"
        assert re.fullmatch(r"\s*# v\d+\.\d+\.\d+", match["rest"]), f"{match['action']}: add `# vX.Y.Z`"


def test_one_action_one_pin_across_workflows():
    pins: dict[str, set[str]] = {}
    for path in WORKFLOW_FILES + ACTION_FILES:
        for line in path.read_text().splitlines():
            if match := PINNED_USES.match(line):
                pins.setdefault(match["action"], set()).add(f"{match['ref']}{match['rest']}")
    assert {action: refs for action, refs in pins.items() if len(refs) > 1} == {}


def test_the_pulumi_cli_matches_the_locked_sdk():
    lock = tomllib.loads((PROJECT_DIR / "uv.lock").read_text())
    (sdk,) = [p["version"] for p in lock["package"] if p["name"] == "pulumi"]
    pins = {
        str(step["with"]["pulumi-version"])
        for path in WORKFLOW_FILES
        for _, step in _steps(path.name)
        if _uses(step) == "pulumi/actions"
    }
    assert pins == {sdk}


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_no_expression_is_expanded_inside_a_script(path: Path):
    # Values reach scripts through `env:` only, so no input, branch name or title can become shell code.
    for job_id, step in _steps(path.name):
        assert "${{" not in step.get("run", ""), f"{path.name}: {job_id}: {step.get('name')}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_permissions_are_granted_per_job_and_oidc_only_where_used(path: Path):
    document = workflow(path.name)
    assert document["permissions"] == {}, "the workflow default grants nothing"
    for job_id, job in document["jobs"].items():
        uses_oidc = any(_uses(s) == "aws-actions/configure-aws-credentials" for s in expanded(job.get("steps", [])))
        uses_oidc |= str(job.get("uses", "")).startswith("./.github/workflows/deploy-stack.yml")
        assert "permissions" in job, job_id
        assert (job["permissions"].get("id-token") == "write") == uses_oidc, job_id
        assert "write-all" not in str(job["permissions"])


def test_checkouts_do_not_persist_the_token():
    for path in WORKFLOW_FILES:
        for _, step in _steps(path.name):
            if _uses(step) == "actions/checkout":
                assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize(
    "name", ["preview.yml", "deploy-viberators.yml", "deploy-stack.yml", "test.yml", "drift.yml", "review-stack.yml"]
)
def test_jobs_that_run_the_program_check_out_full_history(name: str):
    # workers/revision.py tags images with the last commit touching workers/image; a shallow clone says HEAD.
    checkouts = [step for _, step in _steps(name) if _uses(step) == "actions/checkout"]
    assert checkouts
    assert all(step["with"].get("fetch-depth") == 0 for step in checkouts)


def test_deploy_dispatch_choices_follow_the_catalog_and_the_stacks():
    inputs = workflow("deploy-viberators.yml")["on"]["workflow_dispatch"]["inputs"]

    assert inputs["harness"]["options"] == [*HARNESS_NAMES, "all"]
    assert sorted(inputs["environment"]["options"]) == STACKS


def test_deploy_runs_on_pushes_that_change_the_program_or_the_images():
    push = workflow("deploy-viberators.yml")["on"]["push"]

    assert push["branches"] == ["main"]
    assert set(push["paths"]) >= {
        "workers/**",
        "components/**",
        "viberator_contract/**",
        "__main__.py",
        "Pulumi*.yaml",
        "uv.lock",
    }


# Tests gate every pull request -------------------------------------------------------------------------------


def test_every_pull_request_and_push_to_main_runs_make_test_as_the_readme_does():
    document = workflow("test.yml")
    job = document["jobs"]["test"]
    (make,) = [step for step in job["steps"] if "make test" in step.get("run", "")]

    assert document["on"]["pull_request"] is None, "no branch or path filter: every pull request"
    assert document["on"]["push"] == {"branches": ["main"]}
    assert make["run"] == "make test", "the README's command, nothing added or skipped"
    assert "github.event.pull_request.base.sha" in make["env"]["GUARDRAILS_BASE_REF"]
    assert "github.event.before" in make["env"]["GUARDRAILS_BASE_REF"], "a push compares with main before it"
    assert "if" not in job and "if" not in make
    assert job["permissions"] == {"contents": "read"}
    assert "secrets." not in yaml.safe_dump(document)


def test_every_buildx_builder_runs_a_buildkit_pinned_by_digest():
    """setup-buildx-action's default driver image is the moving tag moby/buildkit:buildx-stable-1."""
    steps = [
        (path.name, step)
        for path in WORKFLOW_FILES
        for _, step in _steps(path.name)
        if _uses(step) == "docker/setup-buildx-action"
    ]
    assert {name for name, _ in steps} >= {STACK_DEPLOY, "review-stack.yml"}
    for _, step in steps:
        assert re.fullmatch(r"image=moby/buildkit:v[\d.]+@sha256:[0-9a-f]{64}", step["with"]["driver-opts"])


def test_pull_requests_touching_the_build_context_run_the_real_build_tier_with_official_bases():
    job = workflow("test.yml")["jobs"]["images"]
    detect, build = [step for step in job["steps"] if "id" in step or "make test-images" in step.get("run", "")]

    assert job["if"] == "github.event_name == 'pull_request'"
    assert 'git diff --quiet "$BASE"...HEAD -- workers/image/' in detect["run"]
    assert build["if"] == f"steps.{detect['id']}.outputs.build == 'true'"
    assert build["run"].endswith("make test-images IMAGE_BASES=hub")
