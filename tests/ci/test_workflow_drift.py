"""The drift workflow (drift.yml): a scheduled refresh preview of every stack, in its deploy's concurrency group
and only while no deploy runs, that tells drift from a failed refresh.
"""

from __future__ import annotations

from typing import Any

from tests.ci.workflow_files import STACK_DEPLOY, STACKS, _runs, workflow


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
