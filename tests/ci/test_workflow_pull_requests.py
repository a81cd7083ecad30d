"""What a pull request runs: dev's preview (prod's on main), its failed preview marked, the offline plan for
forks and dependabot, and its review stack (review-stack.yml, issue 18).
"""

from __future__ import annotations

from tests.ci.workflow_files import REVIEW, REVIEW_WRITERS, _runs, _step, _uses, workflow

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
    assert 'python -m ci.preview_comment --stack-name "$STACK_NAME"' in mark["run"], "the project is Pulumi.yaml's"
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
