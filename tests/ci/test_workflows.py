"""Contract checks on .github/workflows: what actionlint and zizmor cannot know about this project.

(`make lint-workflows` runs those two; these tests pin the project's own rules: the dispatch choices follow
the harness catalog and the committed stacks, actions are pinned consistently, no expression is expanded
inside a shell script, credentials and deploy safety are where the issues say: tests gate every pull request,
credentials outlast their jobs, every `up` and preview runs the policy pack, prod promotes only approved
digests (issue 14).) The local composite actions (`.github/actions/`) are read as the steps they expand to.
"""

from __future__ import annotations

import re
import tomllib
import typing
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from access.jobs import JOBS
from components.config import Platform
from offline_plan.engine import PROJECT_DIR
from workers.catalog import HARNESS_NAMES

WORKFLOWS = PROJECT_DIR / ".github" / "workflows"
WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))
ACTION_FILES = sorted((PROJECT_DIR / ".github" / "actions").glob("*/action.yml"))
STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in PROJECT_DIR.glob("Pulumi.*.yaml"))
PINNED_USES = re.compile(r"^\s*(?:-\s*)?uses:\s*(?P<action>[\w.-]+/[\w./-]+)@(?P<ref>\S+)(?P<rest>.*)$")


@cache
def workflow(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    # YAML 1.1 reads the bare key `on` as the boolean true.
    document["on"] = document.pop(True, document.get("on"))
    return document


def _uses(step: dict[str, Any]) -> str:
    return str(step.get("uses", "")).split("@")[0]


@cache
def local_action(uses: str) -> dict[str, Any]:
    return yaml.safe_load((PROJECT_DIR / uses.removeprefix("./") / "action.yml").read_text())


def expanded(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A job's steps with each local composite action replaced by its own steps."""
    result = []
    for step in steps:
        if _uses(step).startswith("./.github/actions/"):
            result += expanded(local_action(_uses(step))["runs"]["steps"])
        else:
            result.append(step)
    return result


def _steps(name: str) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in workflow(name)["jobs"].items() for step in expanded(job.get("steps", []))]


def _job_steps(name: str, job_id: str) -> list[dict[str, Any]]:
    return expanded(workflow(name)["jobs"][job_id]["steps"])


def _runs(name: str, job_id: str) -> str:
    return "\n".join(step.get("run", "") for step in _job_steps(name, job_id))


def _step(name: str, job_id: str, step_name: str) -> dict[str, Any]:
    (found,) = [step for step in workflow(name)["jobs"][job_id]["steps"] if step.get("name") == step_name]
    return found


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


DEPLOY = "deploy-viberators.yml"
STACK_DEPLOY = "deploy-stack.yml"
PULUMI_COMMAND = re.compile(r"\bpulumi (up|preview)\b[^\n]*")
"""One `pulumi up`/`pulumi preview` invocation, in a script whose continued lines were joined (`_joined`)."""


def _joined(step: dict[str, Any]) -> str:
    return str(step.get("run", "")).replace("\\\n", " ")


def _callers(stack: str) -> dict[str, Any]:
    (job,) = [job for job in workflow(DEPLOY)["jobs"].values() if job.get("with", {}).get("stack") == stack]
    return job


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


# Credentials outlast their jobs ------------------------------------------------------------------------------


def _credential_calls() -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(workflow, job id, job, `with` of its credentials step) for every job that takes credentials."""
    calls = []
    for path in WORKFLOW_FILES:
        for job_id, job in workflow(path.name)["jobs"].items():
            for step in job.get("steps", []):
                if _uses(step) == "./.github/actions/credentials":
                    calls.append((path.name, job_id, job, step["with"]))
                assert _uses(step) != "aws-actions/configure-aws-credentials", "through the credentials action"
    return calls


def test_credentials_last_at_least_as_long_as_their_job():
    calls = _credential_calls()

    assert {(name, job_id) for name, job_id, _, _ in calls} >= {
        (STACK_DEPLOY, "deploy"),
        ("preview.yml", "preview"),
        ("preview.yml", "preview-prod"),
        ("drift.yml", "refresh-preview"),
        (DEPLOY, "candidate"),
        (DEPLOY, "record-promotion"),
    }
    for name, job_id, job, inputs in calls:
        assert int(inputs["duration-seconds"]) >= int(job["timeout-minutes"]) * 60, f"{name}: {job_id}"


def test_the_credentials_action_applies_the_duration_to_both_tokens():
    steps = {_uses(step): step for step in local_action("./.github/actions/credentials")["runs"]["steps"]}
    aws = steps["aws-actions/configure-aws-credentials"]["with"]
    pulumi = steps["pulumi/auth-actions"]

    # configure-aws-credentials defaults to 3600 s (src/index.ts, DEFAULT_ROLE_DURATION).
    assert aws["role-duration-seconds"] == "${{ inputs.duration-seconds }}"
    assert pulumi["with"]["token-expiration"] == "${{ inputs.duration-seconds }}"
    assert pulumi["with"]["requested-token-type"] == "urn:pulumi:token-type:access_token:team"
    # A self-managed backend needs no Pulumi token; nor does the signer's step (AWS alone, the deploy team's token
    # from the job's first credentials stays).
    assert pulumi["if"] == "env.PULUMI_BACKEND_URL == '' && inputs.pulumi-team != ''"


@pytest.mark.parametrize("path", WORKFLOW_FILES + ACTION_FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_no_static_secret_anywhere(path: Path):
    # Pulumi and AWS credentials come from OIDC; a static token in a pull request's reach could write state.
    assert "secrets." not in path.read_text()


REVIEW = "review-stack.yml"
REVIEW_WRITERS = {"up", "destroy"}
"""The review stack's jobs that write: `viberator-review`'s token writes only `pr-*` stacks."""


def _legs(name: str, job_id: str, job: dict[str, Any], inputs: dict[str, Any]) -> list[dict[str, str]]:
    """The credentials one job asks for, per matrix leg (`${{ matrix.x }}` and `${{ inputs.stack }}` filled in)."""
    legs = job.get("strategy", {}).get("matrix", {}).get("include") or [{}]
    if name == STACK_DEPLOY:
        legs = [{"stack": "dev"}, {"stack": "prod"}]
    filled = []
    for leg in legs:
        values = {}
        for key in ("aws-role", "pulumi-team", "duration-seconds"):
            value = str(inputs[key])
            for var, sub in leg.items():
                value = value.replace(f"${{{{ matrix.{var} }}}}", str(sub)).replace("${{ inputs.stack }}", leg["stack"])
            values[key] = value
        values["leg"] = leg.get("stack", "")
        filled.append(values)
    return filled


ROLE_ARN = re.compile(r"^arn:aws:iam::\$\{\{ vars\.AWS_ACCOUNT_ID_(DEV|PROD) \}\}:role/(viberator-ci-[a-z-]+)$")


def test_every_credentials_call_is_a_job_of_the_access_table():
    """The workflows ask for exactly the role, account and Pulumi team access/jobs.py gives each job, for at least
    its timeout (the role's MaxSessionDuration is made from the same table)."""
    seen = set()
    for name, job_id, job, inputs in _credential_calls():
        for leg in _legs(name, job_id, job, inputs):
            role_arn = leg["aws-role"]
            if name == STACK_DEPLOY and "${{ inputs.aws-role }}" in role_arn:
                role_arn = _callers(leg["leg"])["with"]["aws-role"]
            match = ROLE_ARN.match(role_arn)
            assert match, f"{name}: {job_id}: {role_arn}"
            account, role_name = match[1].lower(), match[2]
            table = [
                j
                for j in JOBS
                if j.workflow == name
                and j.job.split(" (")[0] == job_id
                and j.account.value == account
                and j.role.role_name == role_name
            ]
            assert table, f"{name}: {job_id} ({leg['leg']}) assumes {role_name} in {account}: not in access/jobs.py"
            (entry, *_) = table
            seen.add(entry)
            if leg["pulumi-team"]:
                assert leg["pulumi-team"] == entry.pulumi_team, f"{name}: {job_id}"
            assert int(job["timeout-minutes"]) == entry.timeout_minutes, f"{name}: {job_id}"
            assert int(leg["duration-seconds"]) >= entry.timeout_minutes * 60
    assert {(j.workflow, j.job.split(" (")[0], j.role) for j in JOBS} == {
        (j.workflow, j.job.split(" (")[0], j.role) for j in seen
    }, "every job of the table has its credentials step"


def test_only_deploy_jobs_get_a_write_team_token():
    for name, job_id, _, inputs in _credential_calls():
        team = str(inputs["pulumi-team"])
        if name == STACK_DEPLOY:
            assert team in ("viberator-deploy-${{ inputs.stack }}", ""), job_id
        elif name == REVIEW and job_id in REVIEW_WRITERS:
            assert team == "viberator-review"
        else:
            assert team.startswith("viberator-read-"), f"{name}: {job_id}"


def test_no_pull_request_job_asks_for_prod():
    """Nothing a pull request controls runs with prod credentials: a job that can run on a pull_request event names
    no prod account or prod team (the prod roles and teams also refuse its subject: tests/access)."""
    for name, job_id, job, inputs in _credential_calls():
        on = workflow(name)["on"]
        if "pull_request" not in on:
            continue
        condition = str(job.get("if", ""))
        if "github.event_name != 'pull_request'" in condition:
            continue
        for leg in _legs(name, job_id, job, inputs):
            assert "PROD" not in leg["aws-role"] and "prod" not in leg["pulumi-team"], f"{name}: {job_id}"


# The policy pack judges every up and preview -----------------------------------------------------------------


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_pulumi_up_and_preview_runs_the_policy_pack(path: Path):
    for job_id, step in _steps(path.name):
        for command in PULUMI_COMMAND.finditer(_joined(step)):
            assert "--policy-pack policy" in command[0], f"{path.name}: {job_id}: {command[0]}"
        if _uses(step) == "pulumi/actions" and step["with"].get("command") in {"up", "update", "preview"}:
            assert step["with"]["policyPacks"] == "policy", f"{path.name}: {job_id}"


def test_the_policy_pack_check_finds_the_deploy_commands():
    commands = [c[0] for _, step in _steps(STACK_DEPLOY) for c in PULUMI_COMMAND.finditer(_joined(step))]

    assert [c.split()[1] for c in commands] == ["up", "preview"], "the test would pass vacuously otherwise"


# Deploys: one definition for dev and prod, prod promotes only approved digests --------------------------------


def test_dev_and_prod_deploy_through_the_one_stack_workflow():
    dev, prod = _callers("dev"), _callers("prod")

    for job, stack in ((dev, "dev"), (prod, "prod")):
        assert job["uses"] == "./.github/workflows/deploy-stack.yml"
        assert job["with"]["aws-role"] == (
            f"arn:aws:iam::${{{{ vars.AWS_ACCOUNT_ID_{stack.upper()} }}}}:role/viberator-ci-deploy"
        )
        assert "github.ref == 'refs/heads/main'" in job["if"]
    assert dev["with"]["builds-images"] is True
    assert prod["with"]["builds-images"] is False


def test_one_deploy_per_stack_never_cancelled_in_its_environment():
    job = workflow(STACK_DEPLOY)["jobs"]["deploy"]

    assert job["environment"] == "${{ inputs.stack }}"
    assert job["concurrency"] == {"group": "deploy-${{ inputs.stack }}", "cancel-in-progress": False}
    assert workflow(STACK_DEPLOY)["env"]["STACK"] == "${{ inputs.stack }}"


def test_the_promoting_stack_builds_nothing():
    for step in _job_steps(STACK_DEPLOY, "deploy"):
        if _uses(step).startswith("docker/"):
            assert step["if"] == "inputs.builds-images"


def test_deploy_targets_up_then_checks_convergence_then_summarises():
    script = _runs(STACK_DEPLOY, "deploy")

    order = [
        "python -m ci.deploy_targets",
        "pulumi stack output --json",
        "pulumi up --yes",
        "pulumi preview --expect-no-changes",
        "python -m ci.build_summary",
    ]
    positions = [script.index(command) for command in order]
    assert positions == sorted(positions)
    assert script.count('"${targets[@]}"') == 2, "up and the convergence preview use the same targets"
    assert '--before "$RUNNER_TEMP/before.json"' in script
    assert '>> "$GITHUB_STEP_SUMMARY"' in script


def test_prod_checks_the_approved_digests_before_and_after_its_up():
    steps = workflow(STACK_DEPLOY)["jobs"]["deploy"]["steps"]
    names = [step.get("name") for step in steps]
    before = _step(STACK_DEPLOY, "deploy", "Check the image stack still holds the approved digests")
    after = _step(STACK_DEPLOY, "deploy", "Check the stack runs only approved digests")

    pinned = _step(STACK_DEPLOY, "deploy", "Pin the approved digests for the up")

    assert names.index(before["name"]) < names.index(pinned["name"]) < names.index("pulumi up")
    assert names.index("pulumi up") < names.index(after["name"])
    assert names.index("Credentials (OIDC)") < names.index(before["name"]), "after approval, with credentials"
    for step in (before, pinned, after):
        assert step["if"] == "${{ !inputs.builds-images }}"
        assert step["env"] == {"APPROVED": "${{ inputs.approved-digests }}"}
    assert "python -m ci.verify_promotion source" in before["run"]
    assert 'ci.verify_promotion check --approved "$APPROVED"' in before["run"]
    assert 'ci.verify_promotion pin --approved "$APPROVED" --stack "$STACK"' in pinned["run"]
    assert "ci.verify_promotion check --promoted" in after["run"]


def test_prod_checks_the_approved_digests_signatures_before_its_up():
    names = [step.get("name") for step in workflow(STACK_DEPLOY)["jobs"]["deploy"]["steps"]]
    check = _step(STACK_DEPLOY, "deploy", "Check the image stack still holds the approved digests")
    signed = _step(STACK_DEPLOY, "deploy", "Check the approved digests are signed by the image stack's key")

    assert names.index(check["name"]) < names.index(signed["name"]) < names.index("pulumi up")
    assert signed["if"] == "${{ !inputs.builds-images }}"
    assert signed["env"] == {"APPROVED": "${{ inputs.approved-digests }}"}
    script = _joined(signed)
    assert script.index(".ci/docker-engine.sh skopeo-image") < script.index("ci.verify_promotion signatures")
    # The digests of the outputs `check` read, verified with the key this stack's own config pins, signed in this
    # run at this commit on a push (dev deployed in the same run), at a commit of main's history on a dispatch.
    command = 'signatures --approved "$APPROVED" --stack "$STACK" "${signed_in[@]}" "$RUNNER_TEMP/image-stack.json"'
    assert command in " ".join(script.split())
    assert 'signed_in=(--run "$GITHUB_RUN_ID" --commit "$GITHUB_SHA")' in script
    assert "signed_in=(--in-history)" in script


def test_the_image_stack_signs_and_attaches_sboms_after_its_up_before_publishing():
    names = [step.get("name") for step in workflow(STACK_DEPLOY)["jobs"]["deploy"]["steps"]]
    install = _step(STACK_DEPLOY, "deploy", "Install cosign")
    sign = _step(STACK_DEPLOY, "deploy", "Sign the pushed digests and attach their SBOMs")

    assert names.index("pulumi up") < names.index("Build summary") < names.index(install["name"])
    assert names.index(install["name"]) < names.index(sign["name"]) < names.index("Publish the deployed digests")
    assert _uses(install) == "sigstore/cosign-installer"
    for step in (install, sign):
        assert step["if"] == "inputs.builds-images", "a promoting stack pushes nothing to sign"
    script = _joined(sign)
    assert 'key="awskms:///$(jq -r .signing.alias "$RUNNER_TEMP/outputs.json")"' in script, "the stack's KMS key"
    assert 'pushed --indexes "$RUNNER_TEMP/outputs.json" > "$RUNNER_TEMP/signed"' in script
    sign_command = re.search(r"cosign sign [^\n]*", script)
    assert sign_command is not None
    # cosign 3's defaults store a bundle referrer skopeo does not read, and publish to the public Rekor.
    for flag in (
        "--yes",
        '--key "$key"',
        "--new-bundle-format=false",
        "--use-signing-config=false",
        "--tlog-upload=false",
        '-a "commit=$GITHUB_SHA"',  # what prod's check requires of every signature (ci/signed_annotations.py)
        '-a "run=$GITHUB_RUN_ID"',
    ):
        assert flag in sign_command[0]
    assert 'python -m workers.tooling.sbom "$image" --output' in script and '--attach "$image"' in script
    assert script.index("cosign sign") < script.index("workers.tooling.sbom")


def test_a_promoting_stack_waits_for_replication_of_the_checked_outputs_before_its_up():
    names = [step.get("name") for step in workflow(STACK_DEPLOY)["jobs"]["deploy"]["steps"]]
    check = "Check the image stack still holds the approved digests"
    wait = _step(STACK_DEPLOY, "deploy", "Wait for the images in this stack's region")
    assert names.index(check) < names.index(wait["name"]) < names.index("pulumi up")
    assert wait["if"] == "${{ !inputs.builds-images }}"
    assert wait["run"].endswith('ci.wait_for_replicas --stack "$STACK" "$RUNNER_TEMP/image-stack.json"')


def test_the_image_stack_publishes_what_it_deployed_and_prod_receives_it():
    document = workflow(STACK_DEPLOY)
    publish = _step(STACK_DEPLOY, "deploy", "Publish the deployed digests")
    prod = _callers("prod")

    assert publish["if"] == "inputs.builds-images"
    assert 'ci.verify_promotion digests "$RUNNER_TEMP/outputs.json" >> "$GITHUB_OUTPUT"' in publish["run"]
    assert document["jobs"]["deploy"]["outputs"]["digests"] == "${{ steps.publish.outputs.digests }}"
    assert document["on"]["workflow_call"]["outputs"]["digests"]["value"] == "${{ jobs.deploy.outputs.digests }}"
    assert prod["needs"] == ["dev", "candidate"]
    assert prod["with"]["approved-digests"] == "${{ needs.dev.outputs.digests || needs.candidate.outputs.digests }}"
    assert "needs.dev.result == 'success'" in prod["if"]
    assert "needs.candidate.result == 'success'" in prod["if"]


def test_a_prod_dispatch_approves_what_dev_holds_read_only():
    job = workflow(DEPLOY)["jobs"]["candidate"]
    (credentials,) = [s for s in job["steps"] if _uses(s) == "./.github/actions/credentials"]

    assert "inputs.environment == 'prod'" in job["if"]
    assert "environment" not in job, "a read, before the approval"
    assert credentials["with"]["aws-role"] == "arn:aws:iam::${{ vars.AWS_ACCOUNT_ID_DEV }}:role/viberator-ci-read"
    assert job["outputs"]["digests"] == "${{ steps.publish.outputs.digests }}"
    assert '"$GITHUB_STEP_SUMMARY"' in _runs(DEPLOY, "candidate"), "the reviewer sees what they approve"


def test_qemu_is_pinned_and_installs_only_what_the_runner_cannot_run():
    (qemu,) = [s for s in _job_steps(STACK_DEPLOY, "deploy") if _uses(s) == "docker/setup-qemu-action"]
    platforms = set(typing.get_args(Platform)) - {"linux/amd64"}  # the runner's own (runs-on: ubuntu-24.04)

    assert re.fullmatch(r"docker\.io/tonistiigi/binfmt:qemu-v[\d.]+@sha256:[0-9a-f]{64}", qemu["with"]["image"])
    assert qemu["with"]["platforms"] == ",".join(sorted(p.removeprefix("linux/") for p in platforms))


# Pull requests -----------------------------------------------------------------------------------------------


def test_pull_requests_preview_dev_and_main_previews_prod():
    document = workflow("preview.yml")
    preview, prod = document["jobs"]["preview"], document["jobs"]["preview-prod"]
    (pulumi,) = [step for step in preview["steps"] if _uses(step) == "pulumi/actions"]
    (prod_pulumi,) = [step for step in prod["steps"] if _uses(step) == "pulumi/actions"]

    assert "pull_request" in document["on"] and document["on"]["push"]["branches"] == ["main"]
    assert document["concurrency"]["cancel-in-progress"] is True
    assert "github.event_name == 'pull_request'" in preview["if"] and preview["env"]["STACK"] == "dev"
    assert prod["if"] == "github.event_name != 'pull_request' && github.ref == 'refs/heads/main'"
    assert prod_pulumi["with"]["stack-name"] == "${{ env.PULUMI_ORG }}/prod"
    assert prod_pulumi["with"]["policyPacks"] == "policy"
    assert pulumi["with"]["command"] == "preview"
    assert pulumi["with"]["comment-on-pr"] is True
    assert pulumi["with"]["edit-pr-comment"] is True
    assert pulumi["with"]["policyPacks"] == "policy"
    assert preview["permissions"]["pull-requests"] == "write"


def test_a_failed_preview_replaces_the_green_comment():
    preview = workflow("preview.yml")["jobs"]["preview"]
    (pulumi,) = [step for step in preview["steps"] if _uses(step) == "pulumi/actions"]
    mark = _step("preview.yml", "preview", "Mark the preview comment failed")

    assert mark["if"] == f"failure() && steps.{pulumi['id']}.outcome == 'failure'"
    assert mark["env"]["STACK_NAME"] == pulumi["with"]["stack-name"], "the heading pulumi/actions wrote"
    assert "python -m ci.preview_comment --project viberator-workers" in mark["run"]
    assert yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["name"] == "viberator-workers"
    assert "--method PATCH" in mark["run"]


def test_every_pull_request_gets_prods_offline_plan_and_forks_dev_s_too_without_credentials():
    jobs = workflow("preview.yml")["jobs"]
    fork = jobs["offline-plan"]
    dependabot = "github.event.pull_request.user.login"  # the PR's author; github.actor is spoofable
    stacks = fork["strategy"]["matrix"]["stack"]

    assert "github.event.pull_request.head.repo.full_name == github.repository" in jobs["preview"]["if"]
    assert f"{dependabot} != 'dependabot[bot]'" in jobs["preview"]["if"]
    assert fork["if"] == "github.event_name == 'pull_request'"
    assert "github.event.pull_request.head.repo.full_name != github.repository" in stacks
    assert f"{dependabot} == 'dependabot[bot]'" in stacks
    assert """'["dev", "prod"]' || '["prod"]'""" in stacks, "prod's diff for every pull request"
    assert fork["permissions"] == {"contents": "read"}
    assert any("make --no-print-directory plan" in s.get("run", "") for s in fork["steps"])


# Drift -------------------------------------------------------------------------------------------------------


def test_drift_refresh_previews_every_stack_in_its_deploy_group():
    document = workflow("drift.yml")
    job = document["jobs"]["refresh-preview"]

    assert document["on"]["schedule"]
    assert sorted(entry["stack"] for entry in job["strategy"]["matrix"]["include"]) == STACKS
    assert job["strategy"]["fail-fast"] is False
    assert job["concurrency"] == _deploy_group("${{ matrix.stack }}")
    assert job["needs"] == "deploys-idle"
    assert job["if"] == "needs.deploys-idle.outputs.unfinished == '0'"
    assert "gh run list --workflow deploy-viberators.yml" in _runs("drift.yml", "deploys-idle")


def _deploy_group(stack: str) -> dict[str, Any]:
    group = workflow(STACK_DEPLOY)["jobs"]["deploy"]["concurrency"]
    return {**group, "group": group["group"].replace("${{ inputs.stack }}", stack)}


def test_drift_tells_drift_from_a_failed_refresh():
    job = workflow("drift.yml")["jobs"]["refresh-preview"]
    script = _runs("drift.yml", "refresh-preview")
    report = workflow("drift.yml")["jobs"]["report"]

    assert "pulumi refresh --preview-only --expect-no-changes" in script
    # pulumi's exit code for changes under --expect-no-changes (pulumi/pulumi#5144); anything else failed.
    assert "0) result=clean" in script and "7) result=drift" in script and "*) result=failed" in script
    assert set(job["outputs"]) == set(STACKS)
    assert all(f"needs.refresh-preview.outputs.{stack} == 'drift'" in report["if"] for stack in STACKS)
    assert "failure()" not in report["if"], "a failed refresh opens no drift issue"


def test_prod_promotion_is_recorded_with_dev_credentials_after_prod_deployed():
    job = workflow(DEPLOY)["jobs"]["record-promotion"]
    steps = job["steps"]
    (read,) = [i for i, s in enumerate(steps) if "pulumi stack output --json" in s.get("run", "")]
    (login,) = [i for i, s in enumerate(steps) if _uses(s) == "./.github/actions/credentials"]
    (tag,) = [i for i, s in enumerate(steps) if "python -m ci.record_promotion" in s.get("run", "")]

    assert job["needs"] == "prod"
    assert "needs.prod.result == 'success'" in job["if"]
    # The tags go into the image stack's repositories (dev's account): the record-promotion role (two ECR
    # actions), whose trust names only this job's subject (the dev environment, this file on main).
    assert job["environment"] == "dev"
    assert job["permissions"] == {"contents": "read", "id-token": "write"}
    assert steps[login]["with"]["aws-role"] == (
        "arn:aws:iam::${{ vars.AWS_ACCOUNT_ID_DEV }}:role/viberator-ci-record-promotion"
    )
    assert '--stack "$PULUMI_ORG/prod"' in steps[read]["run"]
    assert "--environment prod" in steps[tag]["run"]
    assert '>> "$GITHUB_STEP_SUMMARY"' in steps[tag]["run"]
    assert login < read < tag
    assert not any(_uses(step).startswith("docker/") for step in expanded(steps)), "recording builds nothing"


# Review stacks (issue 18) ------------------------------------------------------------------------------------


def test_review_stacks_follow_the_label_the_pushes_the_close_and_a_daily_sweep():
    on = workflow(REVIEW)["on"]

    assert set(on["pull_request"]["types"]) == {"opened", "reopened", "synchronize", "labeled", "unlabeled", "closed"}
    assert on["schedule"] and "workflow_dispatch" in on


def test_the_base_branch_decides_and_the_decision_gates_every_job():
    jobs = workflow(REVIEW)["jobs"]
    (checkout,) = [s for s in jobs["decide"]["steps"] if _uses(s) == "actions/checkout"]

    assert checkout["with"]["ref"] == "${{ github.event.pull_request.base.ref }}"
    assert "python -m ci.review_stacks event" in _runs(REVIEW, "decide")
    assert jobs["decide"]["permissions"] == {"contents": "read"}, "deciding needs no credentials"
    assert jobs["up"]["if"] == "needs.decide.outputs.action == 'up'"
    assert "needs.decide.outputs.action == 'destroy'" in jobs["destroy"]["if"]
    assert "python -m ci.review_stacks sweep" in _runs(REVIEW, "select")
    assert jobs["destroy"]["strategy"]["matrix"]["stack"] == (
        "${{ fromJSON(needs.decide.outputs.destroy || needs.select.outputs.destroy) }}"
    )


def test_review_jobs_share_one_group_per_stack_in_the_review_environment():
    jobs = workflow(REVIEW)["jobs"]

    assert jobs["up"]["environment"] == "review", "a reviewer approves every run a pull request starts"
    assert jobs["destroy"]["environment"] == (
        "${{ github.event_name == 'pull_request' && 'review' || 'review-sweep' }}"
    ), "a pull request's destroy is approved too; the sweep runs main's file"
    for job_id in REVIEW_WRITERS:
        assert jobs[job_id]["concurrency"]["cancel-in-progress"] is False
    assert jobs["up"]["concurrency"]["group"] == "review-${{ needs.decide.outputs.stack }}"
    assert jobs["destroy"]["concurrency"]["group"] == "review-pr-${{ matrix.stack.number }}"
    assert (
        {_step(REVIEW, "up", "Credentials (OIDC)")["with"]["aws-role"]}
        == {_step(REVIEW, "destroy", "Credentials (OIDC)")["with"]["aws-role"]}
        == {"arn:aws:iam::${{ vars.AWS_ACCOUNT_ID_DEV }}:role/viberator-ci-review"}
    )


def test_a_review_stack_is_deployed_then_every_clanker_runs_the_example_job_then_the_pr_is_told():
    script = _runs(REVIEW, "up")
    names = [step.get("name") for step in workflow(REVIEW)["jobs"]["up"]["steps"]]

    order = ["python -m ci.review_stacks stack-file", "pulumi stack tag set viberator:expires", "pulumi up --yes"]
    order += ["python -m workers run-job", "python -m ci.review_stacks comment"]
    positions = [script.index(command) for command in order]
    assert positions == sorted(positions)
    assert "--job examples/bootstrap/job.json" in script
    assert ".clankers | to_entries[]" in script, "each clanker of the outputs"
    assert names.index("Comment on the pull request") < names.index("Every job succeeded")


def test_a_destroy_removes_the_stack_and_never_runs_the_pull_requests_code():
    script = _runs(REVIEW, "destroy")
    (checkout,) = [s for s in workflow(REVIEW)["jobs"]["destroy"]["steps"] if _uses(s) == "actions/checkout"]

    assert script.index("pulumi destroy --yes") < script.index("pulumi stack rm --yes")
    assert checkout["with"]["ref"] == "${{ github.event.repository.default_branch }}"
    assert "--policy-pack" not in script and "run-job" not in script
