"""What each CI role may do: the table of actions, per role, each row with the tool that calls them.

Written once: access/policies.py makes the roles' policies and the review boundary from it, access/docs.py the
README's table, and tests/access/ evaluates both. Resources are templates: `{p}` the partition, `{account}` the
role's own account, `{dev}` dev's account, `{names}` the prefix of the stack's physical names
(`viberator-dev`, `viberator-prod`; `viberator-pr` for review stacks). `Resource: *` only for actions IAM
defines no resource type for (policy/rules.py WILDCARD_RESOURCE_ACTIONS; tests/access check them with
parliament's IAM definitions).

Sources: pulumi-aws is bridged from terraform-provider-aws, so `pulumi preview`/`refresh` call each resource's
Read and `pulumi up` its Create/Update/Delete in `internal/service/<service>/<resource>.go` (repository.go,
lifecycle_policy.go, repository_policy.go, registry_policy.go, replication_configuration.go; role.go,
role_policy.go; log_group.go; function.go; cluster.go, task_definition.go; security_group.go; key.go, alias.go),
and the data sources (aws_caller_identity and aws_partition call nothing IAM controls; aws_vpc, aws_subnets,
aws_ecr_repository, aws_kms_public_key). docker-build pushes and checks images through the registry API
(ECR's push and pull actions). cosign signs through sigstore's AWS KMS client: `sign` → `getCMK` →
`fetchCMK` → GetPublicKey and DescribeKey, then Sign (sigstore/sigstore pkg/signature/kms/aws/client.go).
The CI scripts' own calls: ci/record_promotion.py (BatchGetImage, PutImage), ci/wait_for_replicas.py
(DescribeImages), workers/tooling/run_job/cloud.py (Invoke, RunTask, DescribeTaskDefinition, DescribeTasks,
GetLogEvents), the workflows' `aws ecr get-login-password` (GetAuthorizationToken).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from access.jobs import Role
from components.policies import CLANKER_GRANTS, DECRYPT_SECRETS, READ_SECRETS, SECRET_CONTEXT
from components.review_iam import BOUNDARY_POLICY_NAME, CLANKER_BOUNDARY_NAME, CLANKER_ROLE_PATH, REVIEW_NAME_PREFIX
from components.signing import alias_name

ECR_REPOSITORIES = "arn:{p}:ecr:*:{account}:repository/viberator-worker-*"
DEV_REPOSITORIES = "arn:{p}:ecr:*:{dev}:repository/viberator-worker-*"
ROLES = "arn:{p}:iam::{account}:role/*"
"""Any role of the account: only read (`pulumi refresh` of a stack whose roles predate CLANKER_ROLES)."""
CLANKER_ROLES = f"arn:{{p}}:iam::{{account}}:role{CLANKER_ROLE_PATH}*"
"""Dev's and prod's clanker roles: auto-named (`lambda-role-718100e`) under the path CLANKER_ROLE_PATH, so no role
outside it (an administrator's, a vendor's, OrganizationAccountAccessRole) is a deploy's to change, delete or
pass; their boundary (CLANKER_BOUNDARY) bounds what those under it may do."""
NAMED_ROLES = "arn:{p}:iam::{account}:role/{names}-*"
FUNCTIONS = "arn:{p}:lambda:*:{account}:function:{names}-*"
CLUSTERS = "arn:{p}:ecs:*:{account}:cluster/{names}*"
TASK_DEFINITIONS = "arn:{p}:ecs:*:{account}:task-definition/{names}-*:*"
LOG_GROUPS = (
    "arn:{p}:logs:*:{account}:log-group:/aws/lambda/{names}-*",
    "arn:{p}:logs:*:{account}:log-group:/ecs/{names}-*",
)
LOG_STREAMS = tuple(f"{group}:log-stream:*" for group in LOG_GROUPS)
SECURITY_GROUPS = ("arn:{p}:ec2:*:{account}:security-group/*", "arn:{p}:ec2:*:{account}:vpc/*")
KEYS = "arn:{p}:kms:*:{account}:key/*"
ALIASES = "arn:{p}:kms:*:{account}:alias/viberator-*"
CI_ROLES = "arn:{p}:iam::{account}:role/viberator-ci-*"
BOUNDARY = f"arn:{{p}}:iam::{{account}}:policy/{BOUNDARY_POLICY_NAME}"
CLANKER_BOUNDARY = f"arn:{{p}}:iam::{{account}}:policy/{CLANKER_BOUNDARY_NAME}"
OIDC_PROVIDERS = "arn:{p}:iam::{account}:oidc-provider/*"
SIGNING_ALIAS = alias_name("dev")
"""The image stack's signing key; cosign names it by this alias (`awskms:///alias/…`), so the signer's grant is
bound to it (kms:RequestAlias)."""
CLANKER_SERVICES = ("lambda.amazonaws.com", "ecs-tasks.amazonaws.com")


@dataclass(frozen=True)
class Grant:
    """One statement: actions on resources, and where the actions come from."""

    sid: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    source: str
    condition: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    effect: str = "Allow"


def _read() -> tuple[Grant, ...]:
    """What `pulumi preview` and `pulumi refresh` read of a stack (never log events, task overrides or secrets)."""
    return (
        Grant("ReadRepositories", ("ecr:DescribeRepositories", "ecr:ListTagsForResource", "ecr:GetLifecyclePolicy",
              "ecr:GetRepositoryPolicy", "ecr:DescribeImages", "ecr:BatchGetImage"), (ECR_REPOSITORIES,),
              "pulumi-aws ecr repository/lifecycle_policy/repository_policy Read; docker-build Image Read (manifest)"),
        Grant("ReadRegistry", ("ecr:GetAuthorizationToken", "ecr:DescribeRegistry", "ecr:GetRegistryPolicy"), ("*",),
              "docker-build registry login; pulumi-aws ecr replication_configuration and registry_policy Read"),
        Grant("ReadRoles", ("iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies", "iam:GetRolePolicy"),
              (ROLES,), "pulumi-aws iam role and role_policy Read"),
        Grant("ReadLogGroups", ("logs:ListTagsForResource", "logs:ListTagsLogGroup"),
              ("arn:{p}:logs:*:{account}:log-group:*",), "pulumi-aws cloudwatch log_group Read (no log events)"),
        Grant("ReadFunctions", ("lambda:GetFunction", "lambda:GetFunctionCodeSigningConfig",
              "lambda:ListVersionsByFunction", "lambda:GetFunctionConcurrency", "lambda:ListTags"),
              ("arn:{p}:lambda:*:{account}:function:viberator-*",), "pulumi-aws lambda function Read"),
        Grant("ReadClusters", ("ecs:DescribeClusters", "ecs:ListTagsForResource"),
              ("arn:{p}:ecs:*:{account}:cluster/viberator-*", "arn:{p}:ecs:*:{account}:task-definition/viberator-*:*"),
              "pulumi-aws ecs cluster and task_definition Read (tags)"),
        Grant("ReadAccountWide", ("ecs:DescribeTaskDefinition", "logs:DescribeLogGroups", "ec2:DescribeSecurityGroups",
              "ec2:DescribeSecurityGroupRules", "ec2:DescribeVpcs", "ec2:DescribeSubnets", "kms:ListAliases"), ("*",),
              "pulumi-aws ecs task_definition, ec2 security_group, vpc/subnets data sources, kms alias Read"),
        Grant("ReadKeys", ("kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags",
              "kms:GetPublicKey"), (KEYS,), "pulumi-aws kms key Read, aws_kms_public_key"),
    )  # fmt: skip


def _stack_writes(roles: str) -> tuple[Grant, ...]:
    """What `pulumi up` and `destroy` change in a stack (names `{names}-…`), its roles being `roles`."""
    return (
        Grant("WriteLogGroups", ("logs:CreateLogGroup", "logs:DeleteLogGroup", "logs:PutRetentionPolicy",
              "logs:TagResource", "logs:UntagResource", "logs:TagLogGroup", "logs:UntagLogGroup"), LOG_GROUPS,
              "pulumi-aws cloudwatch log_group Create/Update/Delete"),
        Grant("WriteFunctions", ("lambda:CreateFunction", "lambda:DeleteFunction", "lambda:UpdateFunctionCode",
              "lambda:UpdateFunctionConfiguration", "lambda:TagResource", "lambda:UntagResource",
              "lambda:PutFunctionConcurrency", "lambda:DeleteFunctionConcurrency"), (FUNCTIONS,),
              "pulumi-aws lambda function Create/Update/Delete (terraform-provider-aws lambda/function.go: Create "
              "and Update call PutFunctionConcurrency for `reservedConcurrency`, Update DeleteFunctionConcurrency "
              "when it is removed)"),
        Grant("WriteClusters", ("ecs:CreateCluster", "ecs:DeleteCluster", "ecs:UpdateCluster", "ecs:TagResource",
              "ecs:UntagResource", "ecs:RegisterTaskDefinition", "ecs:DeleteTaskDefinitions"),
              (CLUSTERS, TASK_DEFINITIONS), "pulumi-aws ecs cluster and task_definition Create/Update/Delete"),
        Grant("DeregisterTaskDefinitions", ("ecs:DeregisterTaskDefinition",), ("*",),
              "pulumi-aws ecs task_definition Delete"),
        Grant("WriteSecurityGroups", ("ec2:CreateSecurityGroup", "ec2:DeleteSecurityGroup",
              "ec2:AuthorizeSecurityGroupEgress", "ec2:RevokeSecurityGroupEgress", "ec2:RevokeSecurityGroupIngress",
              "ec2:CreateTags", "ec2:DeleteTags"), SECURITY_GROUPS,
              "pulumi-aws ec2 security_group Create/Update/Delete"),
        Grant("PassClankerRoles", ("iam:PassRole",), (roles,),
              "pulumi-aws lambda function and ecs task_definition Create (the execution and task roles)",
              {"StringEquals": {"iam:PassedToService": list(CLANKER_SERVICES)}}),
    )  # fmt: skip


ROLE_GO = "terraform-provider-aws internal/service/iam/role.go"
"""pulumi-aws's Role: resourceRoleCreate calls CreateRole with the path and the boundary in its input (Path,
PermissionsBoundary; `path` is ForceNew); resourceRoleUpdate, when permissions_boundary changed,
PutRolePermissionsBoundary with the new ARN, or DeleteRolePermissionsBoundary when it was removed (the program never
does either: its roles are created with the boundary), UpdateAssumeRolePolicy only when assume_role_policy changed
(the program's trust documents are constants, components/policies.py); tags by TagRole/UntagRole; DeleteRole first
lists the role's instance profiles (ListInstanceProfilesForRole) and deletes its inline policies
(DeleteRolePolicy). role_policy.go puts and deletes the inline policy (PutRolePolicy, DeleteRolePolicy)."""
BOUNDED_ROLE_ACTIONS = ("iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRolePolicy")
"""What a CI role may do to a role only when it carries the right boundary: each of them supports the
`iam:PermissionsBoundary` condition key (AWS's Service Authorization Reference for IAM, as parliament's IAM
definitions carry it; tests/access/test_clanker_boundary.py checks it), which for CreateRole is the boundary in the
request and for the policy calls the boundary the role carries."""


def _bounded_roles(roles: str, boundary: str, where: str, write_sid: str = "WriteRoles") -> tuple[Grant, ...]:
    """The roles a CI role writes: only at `roles`, created and given policies only with `boundary`, never given
    another boundary, a managed policy or a new trust. Dev's and prod's (any name, they are auto-named, under
    CLANKER_ROLES with the clanker boundary) and the review stacks' (NAMED_ROLES, the review boundary). IAM has no
    condition key on a trust document, so a role may still be created there trusting anyone: the boundary is what
    bounds it (docs/ci.md says so)."""
    return (
        Grant("CreateBoundedRoles", BOUNDED_ROLE_ACTIONS, (roles,),
              f"{ROLE_GO}: Create (CreateRole), role_policy Create/Update/Delete; only {where}",
              {"ArnEquals": {"iam:PermissionsBoundary": boundary}}),
        Grant(write_sid, ("iam:DeleteRole", "iam:TagRole", "iam:UntagRole", "iam:ListInstanceProfilesForRole"),
              (roles,), f"{ROLE_GO}: Update (tags), Delete (DeleteRole, after its instance profiles and policies)"),
        Grant("DenyBoundaryChanges", ("iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary",
              "iam:AttachRolePolicy", "iam:UpdateAssumeRolePolicy"), ("*",), "a role is created with its boundary "
              "and keeps it, gets inline policies only, and its trust (one service, components/policies.py) never "
              "changes; no other role's boundary or trust is CI's to set", effect="Deny"),
    )  # fmt: skip


DEPLOYED_ROLES = _bounded_roles(CLANKER_ROLES, CLANKER_BOUNDARY, "under the clankers' path, with the clanker boundary")


def _push(repositories: str) -> Grant:
    return Grant("PushImages", ("ecr:BatchCheckLayerAvailability", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart",
                 "ecr:CompleteLayerUpload", "ecr:PutImage", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"),
                 (repositories,), "docker-build push; cosign's .sig and the SBOM referrers (oras)")  # fmt: skip


def _write_repositories(repositories: str) -> Grant:
    return Grant("WriteRepositories", ("ecr:CreateRepository", "ecr:DeleteRepository", "ecr:TagResource",
                 "ecr:UntagResource", "ecr:PutLifecyclePolicy", "ecr:DeleteLifecyclePolicy", "ecr:SetRepositoryPolicy",
                 "ecr:DeleteRepositoryPolicy", "ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability",
                 "ecr:BatchDeleteImage", "ecr:ListImages"), (repositories,),
                 "pulumi-aws ecr repository, lifecycle_policy, repository_policy Create/Update/Delete")  # fmt: skip


PROTECT_ACCESS = Grant(
    "DenyAccessProjectResources",
    ("iam:CreateRole", "iam:DeleteRole", "iam:UpdateRole", "iam:UpdateAssumeRolePolicy", "iam:PutRolePolicy",
     "iam:DeleteRolePolicy", "iam:AttachRolePolicy", "iam:DetachRolePolicy", "iam:PutRolePermissionsBoundary",
     "iam:DeleteRolePermissionsBoundary", "iam:TagRole", "iam:UntagRole", "iam:CreatePolicyVersion",
     "iam:DeletePolicy", "iam:DeletePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:PassRole",
     "iam:UpdateOpenIDConnectProviderThumbprint", "iam:AddClientIDToOpenIDConnectProvider",
     "iam:DeleteOpenIDConnectProvider"),
    (CI_ROLES, BOUNDARY, CLANKER_BOUNDARY, OIDC_PROVIDERS),
    "the access project owns these: no stack's credentials may change CI's own authority",
    effect="Deny",
)  # fmt: skip
NO_SIGNING = Grant(
    "DenySigning",
    ("kms:Sign",),
    ("*",),
    "only viberator-ci-signer signs; an identity-policy Deny also overrides any key policy grant",
    effect="Deny",
)

DEPLOY_DEV = (
    *_read(),
    *_stack_writes(CLANKER_ROLES),
    _push(ECR_REPOSITORIES),
    _write_repositories(ECR_REPOSITORIES),
    *DEPLOYED_ROLES,
    Grant("WriteRegistry", ("ecr:PutReplicationConfiguration", "ecr:PutRegistryPolicy", "ecr:DeleteRegistryPolicy"),
          ("*",), "pulumi-aws ecr replication_configuration and registry_policy"),
    Grant("CreateKeys", ("kms:CreateKey",), ("*",), "pulumi-aws kms key Create (the image signing key)"),
    # Only what creating the key and its alias takes (kms/key.go resourceKeyCreate: CreateKey with its policy and
    # tags; no rotation for an asymmetric key). Changing or deleting the key is a key admin's `up`: its key policy
    # names no account root, so an identity grant of PutKeyPolicy or ScheduleKeyDeletion would reach nothing of
    # it, only every other key of the account whose policy delegates to IAM (components/signing.py).
    Grant("WriteKeys", ("kms:TagResource", "kms:CreateAlias", "kms:DeleteAlias", "kms:UpdateAlias"),
          (KEYS, ALIASES), "pulumi-aws kms key Create (its tags) and alias Create/Update/Delete"),
    PROTECT_ACCESS,
    NO_SIGNING,
)  # fmt: skip

DEPLOY_PROD = (
    *_read(),
    *_stack_writes(CLANKER_ROLES),
    *DEPLOYED_ROLES,
    Grant("WriteRegistry", ("ecr:PutRegistryPolicy", "ecr:DeleteRegistryPolicy"), ("*",),
          "pulumi-aws ecr registry_policy (a replica region's registry side)"),
    Grant("PullDevImages", ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer", "ecr:DescribeImages"),
          (DEV_REPOSITORIES,), "verify_promotion signatures (skopeo reads dev's .sig tags); StackReference digests"),
    PROTECT_ACCESS,
    NO_SIGNING,
)  # fmt: skip

READ = (
    *_read(),
    Grant("ListClankerRoles", ("iam:ListRoles",), ("*",),
          "ci/clanker_trust.py in drift.yml: each clanker role's trust (under the clankers' path, or a review "
          "stack's); ListRoles has no resource type"),
    PROTECT_ACCESS,
    NO_SIGNING,
)  # fmt: skip

REVIEW = (
    *_read(),
    *_stack_writes(NAMED_ROLES),
    _push("arn:{p}:ecr:*:{account}:repository/viberator-worker-pr-*"),
    _write_repositories("arn:{p}:ecr:*:{account}:repository/viberator-worker-pr-*"),
    Grant("PullDevImages", ("ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"), (ECR_REPOSITORIES,),
          "a promoted review stack runs dev's digests; the docker clanker pulls them"),
    *_bounded_roles(NAMED_ROLES, BOUNDARY, "as `viberator-pr-…`, with the review boundary", "WriteNamedRoles"),
    Grant("SmokeJobs", ("lambda:InvokeFunction", "ecs:RunTask", "ecs:DescribeTasks", "logs:GetLogEvents"),
          (FUNCTIONS, TASK_DEFINITIONS, "arn:{p}:ecs:*:{account}:task/{names}*", *LOG_STREAMS),
          "workers/tooling/run_job/cloud.py (invoke, run_task, describe_tasks, get_log_events)"),
    PROTECT_ACCESS,
    NO_SIGNING,
)  # fmt: skip

RECORD_PROMOTION = (
    Grant("TagPromotedDigests", ("ecr:BatchGetImage", "ecr:PutImage"), (ECR_REPOSITORIES,),
          "ci/record_promotion.py: batch_get_image, put_image of the same manifest"),
)  # fmt: skip

SIGNER = (
    Grant("SignWithTheImageKey", ("kms:DescribeKey", "kms:GetPublicKey", "kms:Sign"), (KEYS,),
          "cosign sign --key awskms:///alias/…: sigstore pkg/signature/kms/aws/client.go sign → getCMK → "
          "fetchCMK: GetPublicKey, DescribeKey (fetchKeyMetadata); then Sign",
          {"StringEquals": {"kms:RequestAlias": SIGNING_ALIAS}}),
)  # fmt: skip


def clanker_boundary(secrets: Sequence[str], review: bool = False) -> tuple[Grant, ...]:
    """The most a clanker role may ever do: each grant the program may give one (components/policies.py
    CLANKER_GRANTS) on the widest resources it names, and the secrets' grants on `secrets` alone, an access stack's
    allow-list that no branch and no deploy can edit (Secrets Manager decrypts with the caller's kms:Decrypt, in
    the secret's encryption context). A grant added there is bounded here without another word; a review stack's
    boundary (`review`) leaves out those a review stack's roles may not have (ClankerGrant.in_review)."""
    listed = tuple(sorted(secrets))
    of_secrets = {
        READ_SECRETS.sid: Grant(READ_SECRETS.sid, READ_SECRETS.actions, listed, "the clankers' listed secrets"),
        DECRYPT_SECRETS.sid: Grant(DECRYPT_SECRETS.sid, DECRYPT_SECRETS.actions, (KEYS,),
                                   "the listed secrets' customer-managed keys, for those secrets only",
                                   {"StringEquals": {SECRET_CONTEXT: list(listed)}}),
    }  # fmt: skip
    return tuple(
        Grant(g.sid, g.actions, g.bound, "the clankers' roles (components/policies.py)")
        if g.bound
        else of_secrets[g.sid]
        for g in CLANKER_GRANTS
        if (g.bound or listed) and (g.in_review or not review)
    )


BOUNDARY_GRANTS = clanker_boundary(())
"""The clanker boundary's statements on resources the templates name; each access stack's list of secrets adds the
rest, and the review boundary leaves out those not `in_review`."""

GRANTS: dict[Role, dict[str, tuple[Grant, ...]]] = {
    Role.READ: {"dev": READ, "prod": READ},
    Role.DEPLOY: {"dev": DEPLOY_DEV, "prod": DEPLOY_PROD},
    Role.REVIEW: {"dev": REVIEW},
    Role.RECORD_PROMOTION: {"dev": RECORD_PROMOTION},
    Role.SIGNER: {"dev": SIGNER},
}
"""Per role and account (`Account.value`), its statements."""


def names_of(role: Role, account: str) -> str:
    """`{names}`: the physical-name prefix of the stacks the role deploys (`viberator-pr` for review stacks)."""
    return REVIEW_NAME_PREFIX.rstrip("-") if role is Role.REVIEW else f"viberator-{account}"
