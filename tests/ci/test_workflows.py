"""Contract checks on .github/workflows: what actionlint and zizmor cannot know about this project.

(`make lint-workflows` runs those two; these tests pin the project's own rules: the dispatch choices follow
the harness catalog and the committed stacks, actions are pinned consistently, no expression is expanded
inside a shell script, credentials and deploy safety are where the issues say.)
"""

from __future__ import annotations

import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline_plan.engine import PROJECT_DIR
from workers.catalog import HARNESS_NAMES

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))
STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in PROJECT_DIR.glob("Pulumi.*.yaml"))
PINNED_USES = re.compile(r"^\s*(?:-\s*)?uses:\s*(?P<action>[\w.-]+/[\w./-]+)@(?P<ref>\S+)(?P<rest>.*)$")


@cache
def workflow(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the bare key `on` as the boolean true.
    document["on"] = document.pop(True, document.get("on"))
    return document


def _steps(name: str) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in workflow(name)["jobs"].items() for step in job.get("steps", [])]


def _uses(step: dict[str, Any]) -> str:
    return str(step.get("uses", "")).split("@")[0]


def test_the_three_workflows_exist():
    assert {p.name for p in WORKFLOW_FILES} >= {"preview.yml", "deploy-viberators.yml", "drift.yml"}


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_action_is_pinned_to_a_commit_with_its_version(path: Path):
    uses = [m for line in path.read_text().splitlines() if (m := PINNED_USES.match(line))]

    assert uses
    for match in uses:
        assert re.fullmatch(r"[0-9a-f]{40}", match["ref"]), f"{match['action']}@{match['ref']} is not a commit SHA"
        assert re.fullmatch(r"\s*# v\d+\.\d+\.\d+", match["rest"]), f"{match['action']}: add `# vX.Y.Z`"


def test_one_action_one_pin_across_workflows():
    pins: dict[str, set[str]] = {}
    for path in WORKFLOW_FILES:
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
        uses_oidc = any(_uses(s) == "aws-actions/configure-aws-credentials" for s in job.get("steps", []))
        assert "permissions" in job, job_id
        assert (job["permissions"].get("id-token") == "write") == uses_oidc, job_id
        assert "write-all" not in str(job["permissions"])


def test_checkouts_do_not_persist_the_token():
    for path in WORKFLOW_FILES:
        for _, step in _steps(path.name):
            if _uses(step) == "actions/checkout":
                assert step["with"]["persist-credentials"] is False


@pytest.mark.parametrize("name", ["preview.yml", "deploy-viberators.yml"])
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
    assert set(push["paths"]) >= {"workers/**", "components/**", "__main__.py", "Pulumi*.yaml", "uv.lock"}


def test_one_deploy_per_stack_never_cancelled_and_prod_protected():
    jobs = workflow("deploy-viberators.yml")["jobs"]

    for stack in ("dev", "prod"):
        job = jobs[stack]
        assert job["environment"] == stack
        assert job["concurrency"] == {"group": f"deploy-{stack}", "cancel-in-progress": False}
        assert job["env"]["STACK"] == stack
    assert all("github.ref == 'refs/heads/main'" in jobs[stack]["if"] for stack in ("dev", "prod"))
    assert jobs["prod"]["needs"] == "dev"
    assert "needs.dev.result == 'success'" in jobs["prod"]["if"]


def test_prod_promotes_and_builds_nothing():
    prod_actions = {_uses(step) for job_id, step in _steps("deploy-viberators.yml") if job_id == "prod"}

    assert not {action for action in prod_actions if action.startswith("docker/")}


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_deploy_targets_up_then_checks_convergence_then_summarises(stack: str):
    runs = [step.get("run", "") for job_id, step in _steps("deploy-viberators.yml") if job_id == stack]
    script = "\n".join(runs)

    order = [
        "python -m ci.deploy_targets",
        "pulumi up --yes",
        "pulumi preview --expect-no-changes",
        "pulumi stack output --json",
        "python -m ci.build_summary",
    ]
    positions = [script.index(command) for command in order]
    assert positions == sorted(positions)
    assert script.count('"${targets[@]}"') == 2, "up and the convergence preview use the same targets"
    assert '>> "$GITHUB_STEP_SUMMARY"' in script


def test_preview_runs_per_stack_with_comments_and_cancels_superseded_runs():
    document = workflow("preview.yml")
    preview = document["jobs"]["preview"]
    (pulumi,) = [step for step in preview["steps"] if _uses(step) == "pulumi/actions"]

    assert "pull_request" in document["on"]
    assert document["concurrency"]["cancel-in-progress"] is True
    assert sorted(entry["stack"] for entry in preview["strategy"]["matrix"]["include"]) == STACKS
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["policyPacks"] == "policy"
    assert preview["permissions"]["pull-requests"] == "write"


def test_fork_pull_requests_get_the_offline_plan_and_no_credentials():
    jobs = workflow("preview.yml")["jobs"]
    fork = jobs["offline-plan"]

    assert jobs["preview"]["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert fork["if"] == "github.event.pull_request.head.repo.full_name != github.repository"
    assert fork["permissions"] == {"contents": "read"}
    assert "secrets." not in yaml.safe_dump(fork)
    assert any("make --no-print-directory plan" in s.get("run", "") for s in fork["steps"])


def test_drift_refresh_previews_every_stack_on_a_schedule():
    document = workflow("drift.yml")
    job = document["jobs"]["refresh-preview"]

    assert document["on"]["schedule"]
    assert sorted(entry["stack"] for entry in job["strategy"]["matrix"]["include"]) == STACKS
    assert job["strategy"]["fail-fast"] is False
    assert any("pulumi refresh --preview-only --expect-no-changes" in s.get("run", "") for s in job["steps"])


def test_prod_promotion_is_recorded_with_dev_credentials_after_prod_deployed():
    jobs = workflow("deploy-viberators.yml")["jobs"]
    job = jobs["record-promotion"]
    steps = job["steps"]
    names = [_uses(step) or step.get("run", "") for step in steps]
    (read,) = [i for i, s in enumerate(steps) if "pulumi stack output --json" in s.get("run", "")]
    (login,) = [i for i, s in enumerate(steps) if _uses(s) == "aws-actions/configure-aws-credentials"]
    (tag,) = [i for i, s in enumerate(steps) if "python -m ci.record_promotion" in s.get("run", "")]

    assert job["needs"] == "prod"
    assert "needs.prod.result == 'success'" in job["if"]
    # The tags go into the image stack's repositories (dev's account): the dev role, whose trust names only
    # the dev environment's subject.
    assert job["environment"] == "dev"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert steps[login]["with"]["role-to-assume"] == "${{ vars.AWS_DEPLOY_ROLE_ARN_DEV }}"
    assert '--stack "$PULUMI_ORG/prod"' in steps[read]["run"]
    assert steps[read]["env"] == {"PULUMI_ACCESS_TOKEN": "${{ secrets.PULUMI_ACCESS_TOKEN }}"}
    assert "--environment prod" in steps[tag]["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in steps[tag]["run"]
    assert read < login < tag, names
    assert not any(_uses(step).startswith("docker/") for step in steps), "recording a promotion builds nothing"
