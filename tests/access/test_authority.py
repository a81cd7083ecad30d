"""CI's authority, evaluated: each job can do what its steps call and not what would let a branch or a pull
request reach further (tests/access/evaluator.py: Principal Mapper's local IAM simulation)."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path

import pytest

from access.actions import GRANTS, SIGNING_ALIAS, names_of
from access.jobs import JOBS, MAIN, PULL_REQUEST_MERGE, ROLE_ACCOUNTS, Account, Job, Role, session_seconds
from access.policies import boundary, permissions
from ci.review_stack_file import review_stack_yaml
from components.review_iam import BOUNDARY_POLICY_NAME
from offline_plan.engine import Plan
from offline_plan.stacks import plan_stack_file
from tests.access.evaluator import IDS, REPOSITORY, allowed, can_assume, ci_role, role_node
from tests.conftest import committed_plan
from workers.catalog import WORKFLOWS_DIR

DEV, PROD = IDS.dev, IDS.prod
BOUNDARY_ARN = f"arn:aws:iam::{DEV}:policy/{BOUNDARY_POLICY_NAME}"
KEY = f"arn:aws:kms:us-east-1:{DEV}:key/0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
SIGNING = {"kms:RequestAlias": SIGNING_ALIAS}
WORKFLOWS = tuple(sorted(p.name for p in WORKFLOWS_DIR.glob("*.yml")))
"""Every workflow file a branch can run (or rewrite) under its own ref."""
ENVIRONMENTS = ("dev", "prod", "review", "review-sweep")
ALL_ROLES = [(role, account) for role, accounts in ROLE_ACCOUNTS.items() for account in accounts]


def _subject(context: str, workflow: str, ref: str) -> str:
    return f"repo:{REPOSITORY}:{context}:job_workflow_ref:{REPOSITORY}/.github/workflows/{workflow}@{ref}"


def pull_request_subjects() -> list[str]:
    """Every subject a pull request's run can present: its own workflow files (any of them, edited as it likes) at
    its merge ref, with no environment or naming any environment."""
    ref = PULL_REQUEST_MERGE.replace("*", "123")
    contexts = ["pull_request", *(f"environment:{e}" for e in ENVIRONMENTS)]
    return [_subject(c, w, ref) for c in contexts for w in WORKFLOWS]


def branch_subjects() -> list[str]:
    """A pushed branch's runs (push, or a dispatch naming the branch)."""
    ref = "refs/heads/feature"
    contexts = [f"ref:{ref}", *(f"environment:{e}" for e in ENVIRONMENTS)]
    return [_subject(c, w, ref) for c in contexts for w in WORKFLOWS]


def job_subject(job: Job) -> str:
    return job.subject(REPOSITORY).replace("*", "123")


@pytest.mark.parametrize("job", JOBS, ids=lambda job: f"{job.workflow}:{job.job}")
def test_each_job_assumes_its_role_and_no_role_it_does_not_use(job: Job) -> None:
    subject = job_subject(job)
    assert can_assume(job.role, job.account, subject)
    used = {(j.role, j.account) for j in JOBS if job_subject(j) == subject}
    assert [(r.value, a.value) for r, a in ALL_ROLES if (r, a) not in used and can_assume(r, a, subject)] == []


def test_a_token_for_another_audience_is_refused() -> None:
    job = JOBS[0]
    assert not can_assume(job.role, job.account, job_subject(job), audience="https://github.com/viberator")


@pytest.mark.parametrize("account", [Account.PROD])
def test_no_prod_role_trusts_a_pull_request(account: Account) -> None:
    """(a) and (d): pull request -> prod read (or deploy) is closed, whatever the branch's workflows say."""
    reachable = [
        (role.value, subject)
        for role, accounts in ROLE_ACCOUNTS.items()
        if account in accounts
        for subject in pull_request_subjects() + branch_subjects()
        if can_assume(role, account, subject)
    ]
    assert reachable == []


def test_no_pull_request_job_gets_a_prod_pulumi_team() -> None:
    """The Pulumi Cloud side of (d): the issuer policies README lists give prod's teams to main's subjects only."""
    assert [j.job for j in JOBS if j.from_pull_request and "prod" in j.pulumi_team] == []


def test_only_review_and_dev_read_trust_pull_request_runs() -> None:
    reachable = {
        (role.value, account.value)
        for role, account in ALL_ROLES
        for subject in pull_request_subjects()
        if can_assume(role, account, subject)
    }
    assert reachable == {("read", "dev"), ("review", "dev")}


def test_a_pushed_branch_assumes_nothing() -> None:
    assert [(r.value, a.value, s) for r, a in ALL_ROLES for s in branch_subjects() if can_assume(r, a, s)] == []


def main_subjects() -> list[str]:
    """Every subject a run on main can present: any workflow file, with main's ref or any environment."""
    contexts = [f"ref:{MAIN}", *(f"environment:{e}" for e in ENVIRONMENTS)]
    return [_subject(c, w, MAIN) for c in contexts for w in WORKFLOWS]


def test_on_main_a_role_trusts_exactly_the_subjects_of_its_jobs() -> None:
    """No workflow file or environment on main reaches a role the table does not give it: a row that widened its
    workflow, environment or ref (a wildcard, say) would let another job of main in."""
    reachable = {(r, a, s) for r, a in ALL_ROLES for s in main_subjects() if can_assume(r, a, s)}
    expected = {(j.role, j.account, job_subject(j)) for j in JOBS if j.ref == MAIN}
    assert reachable == expected


def test_sessions_last_the_jobs_timeouts() -> None:
    assert [j.job for j in JOBS if session_seconds(j.role, j.account) < j.timeout_minutes * 60] == []


@cache
def review_plan() -> Plan:
    """What a review stack registers (the template, as CI writes it)."""
    with tempfile.TemporaryDirectory() as scratch:
        rendered = Path(scratch) / "Pulumi.pr-12.yaml"
        rendered.write_text(review_stack_yaml(12, "2026-12-08T00:00:00Z", builds_images=False))
        return plan_stack_file(rendered)


class TestReviewRoleIsBoxed:
    """(b): branch push -> review role -> dev admin is closed."""

    review = ci_role(Role.REVIEW, Account.DEV)

    def role(self, name: str) -> str:
        return f"arn:aws:iam::{DEV}:role/{name}"

    def test_it_creates_the_review_stacks_roles_with_the_boundary(self) -> None:
        roles = review_plan().of_type("aws:iam/role:Role")
        assert roles
        for role in roles:
            name, bound = role.inputs["name"], role.inputs["permissionsBoundary"]
            assert bound == BOUNDARY_ARN
            assert allowed(self.review, "iam:CreateRole", self.role(name), {"iam:PermissionsBoundary": bound})
            assert allowed(self.review, "iam:PutRolePolicy", self.role(name), {"iam:PermissionsBoundary": bound})
            assert allowed(
                self.review, "iam:PassRole", self.role(name), {"iam:PassedToService": "lambda.amazonaws.com"}
            )

    def test_it_cannot_create_a_role_without_the_boundary(self) -> None:
        name = self.role("viberator-pr-12-lambda-role")
        assert not allowed(self.review, "iam:CreateRole", name)
        assert not allowed(
            self.review, "iam:CreateRole", name, {"iam:PermissionsBoundary": f"arn:aws:iam::{DEV}:policy/Anything"}
        )
        assert not allowed(
            self.review,
            "iam:CreateRole",
            name,
            {"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"},
        )
        assert not allowed(self.review, "iam:DeleteRolePermissionsBoundary", name)
        assert not allowed(
            self.review, "iam:PutRolePermissionsBoundary", name, {"iam:PermissionsBoundary": BOUNDARY_ARN}
        )
        # A review stack's trust documents are constants (components/policies.py): the program never rewrites one
        # (terraform-provider-aws iam/role.go calls UpdateAssumeRolePolicy only when assume_role_policy changed).
        assert not allowed(self.review, "iam:UpdateAssumeRolePolicy", name)

    def test_it_cannot_name_roles_outside_viberator_pr(self) -> None:
        bound = {"iam:PermissionsBoundary": BOUNDARY_ARN}
        for name in ("admin", "viberator-ci-deploy", "lambda-role-718100e", "viberator-dev-x"):
            assert not allowed(self.review, "iam:CreateRole", self.role(name), bound), name
            assert not allowed(self.review, "iam:PutRolePolicy", self.role(name), bound), name

    def test_it_cannot_attach_admin_policies(self) -> None:
        for policy in ("arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/IAMFullAccess"):
            context = {"iam:PolicyARN": policy, "iam:PermissionsBoundary": BOUNDARY_ARN}
            assert not allowed(self.review, "iam:AttachRolePolicy", self.role("viberator-pr-12-lambda-role"), context)
        assert not allowed(self.review, "iam:CreatePolicyVersion", BOUNDARY_ARN)
        assert not allowed(self.review, "iam:CreatePolicy", f"arn:aws:iam::{DEV}:policy/viberator-pr-x")

    def test_it_cannot_pass_roles_outside_viberator_pr(self) -> None:
        service = {"iam:PassedToService": "lambda.amazonaws.com"}
        for name in ("viberator-ci-deploy", "lambda-role-718100e", "OrganizationAccountAccessRole"):
            assert not allowed(self.review, "iam:PassRole", self.role(name), service), name
        ec2 = {"iam:PassedToService": "ec2.amazonaws.com"}
        assert not allowed(self.review, "iam:PassRole", self.role("viberator-pr-12-lambda-role"), ec2)

    def test_it_reaches_no_dev_stack_resource(self) -> None:
        assert not allowed(
            self.review, "lambda:UpdateFunctionCode", f"arn:aws:lambda:us-east-1:{DEV}:function:viberator-dev-claude"
        )
        assert not allowed(
            self.review, "lambda:InvokeFunction", f"arn:aws:lambda:us-east-1:{DEV}:function:viberator-dev-claude"
        )
        assert not allowed(
            self.review, "ecr:PutImage", f"arn:aws:ecr:us-east-1:{DEV}:repository/viberator-worker-claude"
        )
        assert not allowed(self.review, "secretsmanager:GetSecretValue", "*")
        assert not allowed(self.review, "kms:Sign", KEY, SIGNING)

    def test_a_review_stack_role_reads_only_allow_listed_secrets(self) -> None:
        listed = "arn:aws:secretsmanager:us-east-1:123456789012:secret:viberator/dev/anthropic-AbCdEf"
        other = "arn:aws:secretsmanager:us-east-1:123456789012:secret:viberator/prod-copy/anthropic-XyZ123"
        # The branch's template names both; its role's inline policy grants both; the boundary admits one.
        inline = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": [listed, other]},
            {"Effect": "Allow", "Action": "iam:CreateRole", "Resource": "*"},
        ]}  # fmt: skip
        node = role_node("viberator-pr-12-lambda-role", DEV, inline, boundary(IDS, [listed]))
        assert allowed(node, "secretsmanager:GetSecretValue", listed)
        assert not allowed(node, "secretsmanager:GetSecretValue", other)
        assert not allowed(node, "iam:CreateRole", f"arn:aws:iam::{DEV}:role/anything")


def test_the_review_environments_wait_for_a_reviewer() -> None:
    """(b), GitHub's side: every run in `review` (each push is a new run) waits for a reviewer who did not push."""
    environments = {
        r.inputs["environment"]: r.inputs
        for r in committed_plan("access/Pulumi.github.yaml").of_type(
            "github:index/repositoryEnvironment:RepositoryEnvironment"
        )
    }
    for name in ("review", "prod"):
        assert environments[name]["reviewers"], name
        assert environments[name]["preventSelfReview"] is True, name
        assert environments[name]["canAdminsBypass"] is False, name
    assert "reviewers" not in environments["review-sweep"] or not environments["review-sweep"]["reviewers"]
    review_contexts = {str(j.context) for j in JOBS if j.role is Role.REVIEW}
    assert review_contexts == {"environment:review", "environment:review-sweep"}
    sweep = [j for j in JOBS if str(j.context) == "environment:review-sweep"]
    assert all(not j.from_pull_request for j in sweep)


class TestSigning:
    """(c): the signer has what cosign calls; no other CI role may sign."""

    def test_the_signer_has_every_action_cosign_calls(self) -> None:
        signer = ci_role(Role.SIGNER, Account.DEV)
        for action in ("kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"):
            assert allowed(signer, action, KEY, SIGNING), action
        assert not allowed(signer, "kms:Sign", KEY, {"kms:RequestAlias": "alias/other"})
        assert not allowed(signer, "kms:PutKeyPolicy", KEY, SIGNING)
        assert not allowed(signer, "ecr:PutImage", f"arn:aws:ecr:us-east-1:{DEV}:repository/viberator-worker-claude")

    @pytest.mark.parametrize("action", ["kms:PutKeyPolicy", "kms:ScheduleKeyDeletion", "kms:UpdateKeyDescription",
                                        "kms:EnableKeyRotation", "kms:UntagResource"])  # fmt: skip
    def test_no_ci_role_changes_or_deletes_a_key(self, action: str) -> None:
        """A key whose policy delegates to IAM (the default: another team's, or the listed secrets' own) would obey
        such a grant; the signing key's changes are its key admins' alone."""
        for role, account in ALL_ROLES:
            assert not allowed(ci_role(role, account), action, KEY.replace(DEV, IDS.of(account))), (role, account)

    @pytest.mark.parametrize("role,account", [ra for ra in ALL_ROLES if ra != (Role.SIGNER, Account.DEV)])
    def test_no_other_role_signs(self, role: Role, account: Account) -> None:
        key = KEY.replace(DEV, IDS.of(account))
        assert not allowed(ci_role(role, account), "kms:Sign", key, SIGNING)
        assert not allowed(ci_role(role, account), "kms:Sign", key)


READ_DENIED = (
    ("logs:GetLogEvents", "arn:aws:logs:us-east-1:{a}:log-group:/aws/lambda/viberator-{e}-claude:log-stream:x"),
    ("logs:FilterLogEvents", "arn:aws:logs:us-east-1:{a}:log-group:/aws/lambda/viberator-{e}-claude"),
    ("ecs:DescribeTasks", "arn:aws:ecs:us-east-1:{a}:task/viberator-{e}/0123"),
    ("secretsmanager:GetSecretValue", "arn:aws:secretsmanager:us-east-1:{a}:secret:viberator/{e}/anthropic-AbCdEf"),
    ("lambda:InvokeFunction", "arn:aws:lambda:us-east-1:{a}:function:viberator-{e}-claude"),
    ("iam:PutRolePolicy", "arn:aws:iam::{a}:role/lambda-role-718100e"),
    ("ecr:PutImage", "arn:aws:ecr:us-east-1:{a}:repository/viberator-worker-claude"),
)
"""What a preview must never read or do: agent transcripts, job prompts (task overrides), secrets, writes."""


@pytest.mark.parametrize("account", [Account.DEV, Account.PROD])
def test_the_read_role_reads_state_but_no_transcripts_prompts_or_secrets(account: Account) -> None:
    read = ci_role(Role.READ, account)
    a, e = IDS.of(account), account.value
    assert allowed(read, "lambda:GetFunction", f"arn:aws:lambda:us-east-1:{a}:function:viberator-{e}-claude")
    assert allowed(read, "iam:GetRole", f"arn:aws:iam::{a}:role/lambda-role-718100e")
    assert allowed(read, "ecs:DescribeTaskDefinition", "*")
    for action, resource in READ_DENIED:
        assert not allowed(read, action, resource.format(a=a, e=e)), action


@pytest.mark.parametrize("role,account", ALL_ROLES)
def test_every_grant_of_the_table_is_allowed_and_ci_roles_are_untouchable(role: Role, account: Account) -> None:
    """Each action the table gives a role is allowed on a resource its rows name (conditions met); none may change
    CI's own roles, the boundary or the OIDC provider."""
    node = ci_role(role, account)
    names = names_of(role, account.value)
    for grant in (g for g in GRANTS[role][account.value] if g.effect == "Allow"):
        resource = grant.resources[0].format(p="aws", account=IDS.of(account), dev=DEV, names=names)
        resource = resource.replace("*", "x1")
        context = {
            key: (value[0] if isinstance(value, list) else value).format(p="aws", account=IDS.of(account))
            for operator in grant.condition.values()
            for key, value in operator.items()
        }
        for action in grant.actions:
            assert allowed(node, action, resource, context), (grant.sid, action, resource)
    a = IDS.of(account)
    for action in ("iam:PutRolePolicy", "iam:UpdateAssumeRolePolicy", "iam:AttachRolePolicy", "iam:DeleteRole"):
        assert not allowed(node, action, f"arn:aws:iam::{a}:role/viberator-ci-deploy"), action
    assert not allowed(node, "iam:CreatePolicyVersion", f"arn:aws:iam::{a}:policy/{BOUNDARY_POLICY_NAME}")
    assert not allowed(node, "iam:DeleteOpenIDConnectProvider", f"arn:aws:iam::{a}:oidc-provider/x")


def test_record_promotion_may_only_read_and_tag_images() -> None:
    node = ci_role(Role.RECORD_PROMOTION, Account.DEV)
    repository = f"arn:aws:ecr:us-east-1:{DEV}:repository/viberator-worker-claude"
    assert allowed(node, "ecr:BatchGetImage", repository) and allowed(node, "ecr:PutImage", repository)
    document = permissions(Role.RECORD_PROMOTION, Account.DEV, IDS)
    assert sorted(a for s in document["Statement"] for a in s["Action"]) == ["ecr:BatchGetImage", "ecr:PutImage"]
    assert not allowed(node, "ecr:BatchDeleteImage", repository)
