"""Dev's and prod's clanker roles in a box: the deploy roles create and change roles only with the account's
`viberator-clanker-boundary`, and that boundary holds everything the program grants a clanker role, so whoever
controls a deploy can mint nothing stronger than a clanker (tests/access/evaluator.py: Principal Mapper's local
IAM simulation; the documents are the ones the committed stacks' plans register)."""

from __future__ import annotations

import copy
import json
import warnings
from typing import Any

import pytest
import yaml

with warnings.catch_warnings():
    # parliament imports pkg_resources, which setuptools deprecates.
    warnings.simplefilter("ignore")
    import parliament

from access.actions import GRANTS
from access.config import parse_access_config
from access.jobs import Account, Role
from access.policies import account_boundary, document
from components.config import ConfigError
from components.policies import BEDROCK_GRANTS, DECRYPT_SECRETS, READ_SECRETS, SECRET_CONTEXT
from components.review_iam import BOUNDARY_POLICY_NAME, CLANKER_BOUNDARY_NAME, CLANKER_ROLE_PATH
from offline_plan.engine import Plan
from tests.access.evaluator import IDS, allowed, ci_role, role_node
from tests.access.test_authority import review_plan
from tests.components import test_secret_keys as qa
from tests.conftest import committed_plan
from tests.iam_lint import findings
from workers.catalog import PROJECT_DIR

ACCOUNTS = [Account.DEV, Account.PROD]
LAMBDA = {"iam:PassedToService": "lambda.amazonaws.com"}


def image_plan(account: Account) -> Plan:
    return committed_plan(f"Pulumi.{account.value}.yaml")


def registered_boundary(account: Account) -> dict[str, Any]:
    """The clanker boundary as the account's access stack registers it (its `clankerSecrets` included)."""
    plan = committed_plan(f"access/Pulumi.{account.value}.yaml")
    return json.loads(plan.named(f"{account.value}-clanker-boundary").inputs["policy"])


def arn(account: Account, kind: str, name: str) -> str:
    return f"arn:aws:iam::{IDS.of(account)}:{kind}/{name}"


def test_every_conditioned_iam_action_supports_the_permissions_boundary_key() -> None:
    """A condition on a key the action does not carry never matches (the Allow would grant nothing) or, worse,
    reads as a limit that is not there: each action is checked against AWS's Service Authorization Reference, as
    parliament's IAM definitions carry it."""
    (iam,) = {s["prefix"]: s for s in parliament.iam_definition if s["prefix"] == "iam"}.values()
    supporting = {
        p["privilege"]
        for p in iam["privileges"]
        for r in p["resource_types"]
        if "iam:PermissionsBoundary" in r["condition_keys"]
    }
    conditioned = {
        action.removeprefix("iam:")
        for grants in (GRANTS[Role.DEPLOY]["dev"], GRANTS[Role.DEPLOY]["prod"], GRANTS[Role.REVIEW]["dev"])
        for grant in grants
        if any("iam:PermissionsBoundary" in pairs for pairs in grant.condition.values())
        for action in grant.actions
    }
    assert conditioned == {"CreateRole", "PutRolePolicy", "DeleteRolePolicy"}
    assert conditioned <= supporting


@pytest.mark.parametrize("account", ACCOUNTS, ids=lambda a: a.value)
class TestDeployRoleIsBoxed:
    def test_it_creates_updates_passes_and_deletes_the_programs_roles(self, account: Account) -> None:
        """Each role as the plan registers it (its path and boundary) and as its function or task definition
        names it (the role's ARN, path included, as the recording mocks answer CreateRole)."""
        deploy = ci_role(Role.DEPLOY, account)
        plan = image_plan(account)
        roles = plan.of_type("aws:iam/role:Role")
        assert roles
        bound = arn(account, "policy", CLANKER_BOUNDARY_NAME)
        assert {(r.inputs["permissionsBoundary"], r.inputs["path"]) for r in roles} == {(bound, CLANKER_ROLE_PATH)}
        passed = {(f.inputs["role"], "lambda.amazonaws.com") for f in plan.of_type("aws:lambda/function:Function")}
        passed |= {
            (t.inputs[key], "ecs-tasks.amazonaws.com")
            for t in plan.of_type("aws:ecs/taskDefinition:TaskDefinition")
            for key in ("executionRoleArn", "taskRoleArn")
        }
        assert len(passed) == len(roles)
        for resource, service in passed:
            assert resource.startswith(arn(account, "role", "viberator/clankers/")), resource
            for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy"):
                assert allowed(deploy, action, resource, {"iam:PermissionsBoundary": bound}), (resource, action)
            for action in ("iam:TagRole", "iam:UntagRole", "iam:DeleteRole", "iam:ListInstanceProfilesForRole"):
                assert allowed(deploy, action, resource), (resource, action)
            assert allowed(deploy, "iam:PassRole", resource, {"iam:PassedToService": service}), resource
            assert not allowed(deploy, "iam:PassRole", resource, {"iam:PassedToService": "ec2.amazonaws.com"})

    def test_it_cannot_create_or_change_a_role_without_the_boundary(self, account: Account) -> None:
        deploy = ci_role(Role.DEPLOY, account)
        role = arn(account, "role", "viberator/clankers/admin")
        others = [
            {},
            {"iam:PermissionsBoundary": arn(account, "policy", "Anything")},
            {"iam:PermissionsBoundary": "arn:aws:iam::aws:policy/AdministratorAccess"},
            {"iam:PermissionsBoundary": arn(account, "policy", BOUNDARY_POLICY_NAME)},
        ]
        for context in others:
            for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy"):
                assert not allowed(deploy, action, role, context), (action, context)

    def test_it_sets_no_roles_boundary_anywhere(self, account: Account) -> None:
        """Its roles are created with the boundary (CreateRole); putting one on an existing role would let it
        give a foreign role (OrganizationAccountAccessRole, a vendor's) clanker policies, or cap an admin's."""
        deploy = ci_role(Role.DEPLOY, account)
        boundary = arn(account, "policy", CLANKER_BOUNDARY_NAME)
        for name in ("viberator/clankers/lambda-role-718100e", "OrganizationAccountAccessRole", "lambda-role-718100e"):
            context = {"iam:PermissionsBoundary": boundary}
            assert not allowed(deploy, "iam:PutRolePermissionsBoundary", arn(account, "role", name), context), name

    @pytest.mark.parametrize(
        "name", ["OrganizationAccountAccessRole", "some-admin-lambda", "lambda-role-718100e", "viberator-pr-12-x-role",
                 "viberator/clankers-x/admin", "viberator/admin", "other/viberator/clankers/admin"],
    )  # fmt: skip
    def test_it_cannot_touch_a_role_outside_the_clankers_path(self, account: Account, name: str) -> None:
        """Not even one that carries the clanker boundary (an administrator's `role/some-admin-lambda` trusting
        Lambda, a path-`/` role of before the move): no policy on it, no tag, no delete, no pass."""
        deploy = ci_role(Role.DEPLOY, account)
        role = arn(account, "role", name)
        bounded = {"iam:PermissionsBoundary": arn(account, "policy", CLANKER_BOUNDARY_NAME)}
        for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy"):
            assert not allowed(deploy, action, role, bounded), action
        for action in ("iam:DeleteRole", "iam:TagRole", "iam:UntagRole", "iam:ListInstanceProfilesForRole"):
            assert not allowed(deploy, action, role), action
        for service in ("lambda.amazonaws.com", "ecs-tasks.amazonaws.com"):
            assert not allowed(deploy, "iam:PassRole", role, {"iam:PassedToService": service}), service

    def test_it_cannot_remove_the_boundary_attach_policies_or_rewrite_trust(self, account: Account) -> None:
        deploy = ci_role(Role.DEPLOY, account)
        bounded = {"iam:PermissionsBoundary": arn(account, "policy", CLANKER_BOUNDARY_NAME)}
        role = arn(account, "role", "viberator/clankers/lambda-role-718100e")
        assert not allowed(deploy, "iam:DeleteRolePermissionsBoundary", role, bounded)
        for policy in ("arn:aws:iam::aws:policy/AdministratorAccess", "arn:aws:iam::aws:policy/IAMFullAccess"):
            assert not allowed(deploy, "iam:AttachRolePolicy", role, {**bounded, "iam:PolicyARN": policy})
        for name in ("viberator/clankers/lambda-role-718100e", "viberator-key-admin", "OrganizationAccountAccessRole"):
            assert not allowed(deploy, "iam:UpdateAssumeRolePolicy", arn(account, "role", name)), name
        boundary = arn(account, "policy", CLANKER_BOUNDARY_NAME)
        for action in ("iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy"):
            assert not allowed(deploy, action, boundary), action

    def test_it_cannot_touch_ci_roles_even_with_the_boundary(self, account: Account) -> None:
        deploy = ci_role(Role.DEPLOY, account)
        bounded = {"iam:PermissionsBoundary": arn(account, "policy", CLANKER_BOUNDARY_NAME)}
        for name in ("viberator-ci-deploy", "viberator-ci-read", "viberator-ci-new"):
            role = arn(account, "role", name)
            for action in ("iam:CreateRole", "iam:PutRolePolicy", "iam:PutRolePermissionsBoundary", "iam:DeleteRole"):
                assert not allowed(deploy, action, role, bounded), (name, action)
            assert not allowed(deploy, "iam:PassRole", role, LAMBDA), name

    def test_it_sets_and_removes_its_functions_reserved_concurrency(self, account: Account) -> None:
        """terraform-provider-aws internal/service/lambda/function.go: resourceFunctionCreate calls
        PutFunctionConcurrency when `reserved_concurrent_executions` >= 0 (prod's `reservedConcurrency: 20`),
        resourceFunctionUpdate PutFunctionConcurrency or, once it is removed, DeleteFunctionConcurrency."""
        deploy = ci_role(Role.DEPLOY, account)
        functions = image_plan(account).of_type("aws:lambda/function:Function")
        assert functions
        for function in functions:
            resource = f"arn:aws:lambda:us-east-1:{IDS.of(account)}:function:{function.inputs['name']}"
            for action in ("lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency"):
                assert allowed(deploy, action, resource), (function.name, action)
                other = f"arn:aws:lambda:us-east-1:{IDS.of(account)}:function:someone-elses"
                assert not allowed(deploy, action, other), action


def _requests(policy: dict[str, Any]) -> list[tuple[str, str, dict[str, str]]]:
    """Each (action, resource, context) a statement allows: wildcards filled in, each condition value in turn."""
    requests = []
    for statement in policy["Statement"]:
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        resources = statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]
        pairs = [(k, v) for values in statement.get("Condition", {}).values() for k, v in values.items()]
        contexts = (
            [{}] if not pairs else [{k: value} for k, v in pairs for value in (v if isinstance(v, list) else [v])]
        )
        requests += [(a, r.replace("*", "x1"), c) for a in actions for r in resources for c in contexts]
    return requests


def _outside(plan: Plan, account: Account, boundary: dict[str, Any]) -> list[tuple[str, str, str]]:
    """What a role's inline policy in the plan grants and its boundary refuses."""
    refused = []
    for inline in plan.of_type("aws:iam/rolePolicy:RolePolicy"):
        policy = json.loads(inline.inputs["policy"])
        node = role_node(inline.inputs["role"], IDS.of(account), policy, boundary)
        refused += [(inline.name, a, r) for a, r, c in _requests(policy) if not allowed(node, a, r, c)]
    return refused


@pytest.mark.parametrize("account", ACCOUNTS, ids=lambda a: a.value)
def test_every_grant_of_the_program_lies_within_the_registered_boundary(account: Account) -> None:
    """A grant (a new action, a secret not in the access stack's `clankerSecrets`) added to a clanker role
    without the boundary's fails here: the role would be refused it at run time."""
    plan = image_plan(account)
    assert plan.of_type("aws:iam/rolePolicy:RolePolicy")
    assert _outside(plan, account, registered_boundary(account)) == []


def test_every_grant_of_a_review_stack_lies_within_the_review_boundary() -> None:
    boundary = json.loads(committed_plan("access/Pulumi.dev.yaml").named("dev-review-boundary").inputs["policy"])
    assert _outside(review_plan(), Account.DEV, boundary) == []


def test_secrets_under_their_own_keys_and_any_stack_of_the_account_lie_within_the_boundary() -> None:
    """The committed stacks read no secret under a customer-managed key: a `qa` stack of dev's account that does
    (tests/components/test_secret_keys.py) is bounded too, its kms:Decrypt for the listed secrets only."""
    plan = qa.plan({qa.ANTHROPIC: qa.KEY, qa.OPENAI: qa.KEY})
    assert _outside(plan, Account.DEV, account_boundary(IDS, Account.DEV, [qa.ANTHROPIC, qa.OPENAI])) == []
    refused = {a for _, a, _ in _outside(plan, Account.DEV, account_boundary(IDS, Account.DEV, [qa.ANTHROPIC]))}
    assert refused == {"secretsmanager:GetSecretValue", "kms:Decrypt"}


def test_the_check_refuses_a_grant_the_boundary_lacks() -> None:
    """The control: the same check on a stack whose role reads an unlisted secret and invokes a model."""
    plan = copy.deepcopy(image_plan(Account.DEV))
    inline = plan.of_type("aws:iam/rolePolicy:RolePolicy")[0]
    policy = json.loads(inline.inputs["policy"])
    unlisted = "arn:aws:secretsmanager:us-east-1:123456789012:secret:viberator/prod-copy/anthropic-XyZ123"
    policy["Statement"] += [
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": unlisted},
        {"Effect": "Allow", "Action": "bedrock:InvokeModel", "Resource": "*"},
    ]
    inline.inputs["policy"] = json.dumps(policy)
    refused = {
        (action, resource) for _, action, resource in _outside(plan, Account.DEV, registered_boundary(Account.DEV))
    }
    assert refused == {("secretsmanager:GetSecretValue", unlisted), ("bedrock:InvokeModel", "x1")}


@pytest.mark.parametrize("account", ACCOUNTS, ids=lambda a: a.value)
def test_each_access_stack_registers_its_accounts_boundary_with_its_listed_secrets(account: Account) -> None:
    config = yaml.safe_load((PROJECT_DIR / "access" / f"Pulumi.{account.value}.yaml").read_text())["config"]
    listed = config["viberator-access:clankerSecrets"]
    assert listed and all(f":{IDS.of(account)}:secret:" in arn for arn in listed)
    statements = {s["Sid"]: s for s in registered_boundary(account)["Statement"]}
    assert sorted(statements[READ_SECRETS.sid]["Resource"]) == sorted(listed)
    decrypt = statements[DECRYPT_SECRETS.sid]
    assert sorted(decrypt["Condition"]["StringEquals"][SECRET_CONTEXT]) == sorted(listed)
    assert decrypt["Resource"] == f"arn:aws:kms:*:{IDS.of(account)}:key/*"


def test_the_boundary_passes_parliament() -> None:
    secret = "arn:aws:secretsmanager:us-east-1:210987654321:secret:viberator/prod/anthropic-MnOpQr"
    assert findings(document(account_boundary(IDS, Account.PROD, [secret]))) == []


def test_without_listed_secrets_the_boundary_grants_no_secret() -> None:
    sids = {s["Sid"] for s in account_boundary(IDS, Account.PROD, [])["Statement"]}
    assert sids == {"WriteLogs", "RegistryLogin", "PullWorkerImage", *(grant.sid for grant in BEDROCK_GRANTS)}


@pytest.mark.parametrize(
    "extra,message",
    [
        ({"account": "prod", "clankerSecrets": '["arn:aws:secretsmanager:us-east-1:123456789012:secret:x-AbCdEf"]'},
         "not a Secrets Manager secret ARN in this account"),
        ({"account": "dev", "clankerSecrets": '["not-an-arn"]'}, "not a Secrets Manager secret ARN in this account"),
    ],
)  # fmt: skip
def test_clanker_secrets_must_be_secrets_of_the_stacks_account(extra: dict[str, str], message: str) -> None:
    config = {
        "viberator-access:repository": "viberator/viberator-workers",
        "viberator-access:accounts": '{"dev": "123456789012", "prod": "210987654321"}',
        **{f"viberator-access:{k}": v for k, v in extra.items()},
    }
    with pytest.raises(ConfigError, match=message):
        parse_access_config(config)
