"""The workflows' credentials: every job takes them through the one credentials action, for at least its
timeout, with exactly the role and Pulumi team access/jobs.py gives it; no static secret anywhere; no pull
request job reaches prod.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from access.jobs import JOBS
from tests.ci.workflow_files import (
    ACTION_FILES,
    DEPLOY,
    REVIEW,
    REVIEW_WRITERS,
    STACK_DEPLOY,
    WORKFLOW_FILES,
    _callers,
    _uses,
    local_action,
    workflow,
)


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
        ("drift.yml", "clanker-trust"),
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
