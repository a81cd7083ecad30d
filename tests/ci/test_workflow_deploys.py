"""The deploy workflows (deploy-viberators.yml calling deploy-stack.yml): every `up` and preview runs the
policy pack; dev and prod deploy through one definition; prod promotes only approved, signed digests, after
replication, and the promotion is recorded (issue 14).
"""

from __future__ import annotations

import re
import typing
from pathlib import Path
from typing import Any

import pytest

from components.config import Platform
from tests.ci.workflow_files import (
    DEPLOY,
    STACK_DEPLOY,
    WORKFLOW_FILES,
    _callers,
    _job_steps,
    _runs,
    _step,
    _steps,
    _uses,
    expanded,
    workflow,
)

PULUMI_COMMAND = re.compile(r"\bpulumi (up|preview)\b[^\n]*")
"""One `pulumi up`/`pulumi preview` invocation, in a script whose continued lines were joined (`_joined`)."""


def _joined(step: dict[str, Any]) -> str:
    return str(step.get("run", "")).replace("\\\n", " ")


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

    assert [c.split()[1] for c in commands] == ["preview", "up", "preview"], "else the test would pass vacuously"


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
        "pulumi preview --json",
        "python -m ci.deploy_targets",
        "pulumi up --yes",
        "pulumi preview --expect-no-changes",
        "python -m ci.build_summary",
    ]
    positions = [script.index(command) for command in order]
    assert positions == sorted(positions)
    assert script.count('"${targets[@]}"') == 2, "up and the convergence preview use the same targets"
    assert '--before "$RUNNER_TEMP/before.json"' in script
    assert '>> "$GITHUB_STEP_SUMMARY"' in script


def test_the_targets_come_from_the_engines_preview_of_the_stack_as_the_up_will_run_it():
    names = [step.get("name") for step in workflow(STACK_DEPLOY)["jobs"]["deploy"]["steps"]]
    resolve = _step(STACK_DEPLOY, "deploy", "Resolve the deploy targets")
    preview, targets = (line for line in _joined(resolve).splitlines() if line.strip())

    # The whole stack's digest (no --target), unchanged resources included: pulumi/pulumi
    # pkg/backend/display/display.go `shouldShow` leaves `same` steps out of it without --show-sames.
    assert " ".join(preview.split()) == (
        'pulumi preview --json --show-sames --non-interactive --stack "$PULUMI_ORG/$STACK" --policy-pack policy'
        ' > "$RUNNER_TEMP/preview.json"'
    )
    assert " ".join(targets.split()) == (
        'uv run --frozen python -m ci.deploy_targets --stack "$STACK" --harness "$HARNESS"'
        ' "$RUNNER_TEMP/preview.json" > "$RUNNER_TEMP/targets"'
    )
    # With credentials, and after a promoting stack pinned the approved digests its up runs with.
    for earlier in (
        "Credentials (OIDC)",
        "Pin the approved digests for the up",
        "Wait for the images in this stack's region",
    ):
        assert names.index(earlier) < names.index(resolve["name"]) < names.index("pulumi up"), earlier
    assert "if" not in resolve, "every deploy, dev and prod, resolves its targets"


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
