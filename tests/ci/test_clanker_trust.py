"""ci/clanker_trust.py, the drift workflow's check that every role under the clankers' path trusts one clanker
service: against moto's IAM (every role listed, paging, the trust document as IAM answers it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from access.jobs import Account, Role
from ci import clanker_trust
from ci.script import EXIT_UNUSABLE
from components.policies import ECS_TASKS_SERVICE, LAMBDA_SERVICE, assume_role_policy
from components.review_iam import CLANKER_ROLE_PATH
from tests.access.evaluator import allowed, ci_role
from tests.ci.workflow_files import _step, workflow

FOREIGN = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"}, "Action": "sts:AssumeRole"}
        ],
    }
)


@pytest.fixture
def iam(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        client = botocore.session.get_session().create_client("iam", region_name="us-east-1")
        # The program's roles, as it creates them (its trust documents), and roles outside the path.
        client.create_role(RoleName="claude-role-1", Path=CLANKER_ROLE_PATH,
                           AssumeRolePolicyDocument=assume_role_policy(LAMBDA_SERVICE))  # fmt: skip
        for n in range(2, 120):  # more than one page of ListRoles (100 roles)
            client.create_role(RoleName=f"codex-ecs-task-role-{n}", Path=CLANKER_ROLE_PATH,
                               AssumeRolePolicyDocument=assume_role_policy(ECS_TASKS_SERVICE))  # fmt: skip
        client.create_role(RoleName="viberator-pr-12-claude-role",
                           AssumeRolePolicyDocument=assume_role_policy(LAMBDA_SERVICE))  # fmt: skip
        client.create_role(RoleName="OrganizationAccountAccessRole", AssumeRolePolicyDocument=FOREIGN)
        client.create_role(RoleName="other", Path="/viberator/clankers-other/", AssumeRolePolicyDocument=FOREIGN)
        yield client


def test_the_programs_roles_pass_and_roles_outside_the_path_are_not_read(
    iam: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert clanker_trust.main([], iam=iam) == 0
    assert "120 clanker roles, 0 trusting" in capsys.readouterr().out


@pytest.mark.parametrize(
    "trust",
    [
        FOREIGN,
        # The service plus another principal, or a federated identity: anything but exactly one clanker service.
        json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": [LAMBDA_SERVICE, "ec2.amazonaws.com"]},
             "Action": "sts:AssumeRole"}]}),
        json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Federated": "arn:aws:iam::123456789012:oidc-provider/x"},
             "Action": "sts:AssumeRoleWithWebIdentity"}]}),
        json.dumps({"Version": "2012-10-17", "Statement": [
            json.loads(assume_role_policy(LAMBDA_SERVICE))["Statement"][0],
            {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}),
    ],
)  # fmt: skip
@pytest.mark.parametrize(
    "path,name",
    [
        (CLANKER_ROLE_PATH, "minted"),
        ("/", "viberator-pr-12-minted"),
        # The review role's grant, role/viberator-pr-*, names this role too: IAM's `*` matches `/`.
        ("/viberator-pr-evil/", "innocent"),
    ],
)
def test_a_clanker_role_trusting_anything_else_fails_the_check(
    iam: Any, capsys: pytest.CaptureFixture[str], trust: str, path: str, name: str
) -> None:
    iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=trust)
    assert clanker_trust.main([], iam=iam) == clanker_trust.EXIT_FOREIGN_TRUST
    out = capsys.readouterr().out
    minted = f"arn:aws:iam::123456789012:role{path}{name}"  # moto's account
    assert f"::error title=Clanker role with a foreign trust::{minted} trusts" in out
    assert "1 trusting anything but a clanker service" in out


def test_a_refused_list_is_unusable_not_a_finding(capsys: pytest.CaptureFixture[str]) -> None:
    client = botocore.session.get_session().create_client(
        "iam", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stub:
        stub.add_client_error("list_roles", "AccessDenied", "not authorized to perform: iam:ListRoles")
        assert clanker_trust.main([], iam=client) == EXIT_UNUSABLE
    assert "AccessDenied" in capsys.readouterr().err


@pytest.mark.parametrize("account", [Account.DEV, Account.PROD], ids=lambda a: a.value)
def test_the_drift_workflow_runs_it_daily_with_the_read_role_whatever_deploys_do(account: Account) -> None:
    """Its own job: not in a deploy group, never skipped while a deploy runs (a deploy is what could mint a
    role), and a finding (exit 1) opens the drift issue as drift does."""
    document = workflow("drift.yml")
    job = document["jobs"]["clanker-trust"]
    assert "needs" not in job and "if" not in job and "concurrency" not in job
    assert (
        "uv run --frozen python -m ci.clanker_trust"
        in _step("drift.yml", "clanker-trust", "Clanker roles trust only their service")["run"]
    )
    assert "1) result=foreign" in _step("drift.yml", "clanker-trust", "Clanker roles trust only their service")["run"]
    assert all(entry["role"].endswith(f":role/{Role.READ.role_name}") for entry in job["strategy"]["matrix"]["include"])
    assert {entry["stack"] for entry in job["strategy"]["matrix"]["include"]} == {"dev", "prod"}
    assert all(
        f"needs.clanker-trust.outputs.{stack} == 'foreign'" in document["jobs"]["report"]["if"]
        for stack in ("dev", "prod")
    )
    read = ci_role(Role.READ, account)
    assert allowed(read, "iam:ListRoles", "*")


def test_a_role_entry_without_a_trust_document_counts_as_foreign(capsys: pytest.CaptureFixture[str]) -> None:
    """An answer IAM never gives, but the check must not pass it, nor end in a traceback."""
    client = botocore.session.get_session().create_client("iam", region_name="us-east-1")
    arn = f"arn:aws:iam::123456789012:role{CLANKER_ROLE_PATH}odd"
    role = {"Path": CLANKER_ROLE_PATH, "RoleName": "odd", "RoleId": "AROAODD0000000000000", "Arn": arn,
            "CreateDate": "2026-12-07T00:00:00Z"}  # fmt: skip
    with Stubber(client) as stubber:
        stubber.add_response("list_roles", {"Roles": [role], "IsTruncated": False})
        assert clanker_trust.main([], iam=client) == clanker_trust.EXIT_FOREIGN_TRUST
    assert f"{arn} trusts null" in capsys.readouterr().out
