"""The guardrail rules, as plain functions over a resource's type and its inputs (camelCase, as the engine has them).

Owns: what each guardrail demands. Does not own how rules run: `policy/pack.py` adapts them to pulumi_policy
for `pulumi preview --policy-pack policy`, and the tests run them over the offline plan's registrations. Kept
free of pulumi_policy so both callers share one definition.

Each check returns the violations it found, as messages; an empty list is a pass. Inputs may be
pulumi_policy's read-only proxies, so containers are tested against `Mapping`/`Sequence`, never dict/list.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from components.aws_ids import SECRET_ARN_PATTERN
from components.credentials import SECRET_LOOKING_NAME, credential_in
from components.tags import REQUIRED_TAG_KEYS

REPOSITORY = "aws:ecr/repository:Repository"
LIFECYCLE_POLICY = "aws:ecr/lifecyclePolicy:LifecyclePolicy"
IMAGE = "docker-build:index:Image"
FUNCTION = "aws:lambda/function:Function"
TASK_DEFINITION = "aws:ecs/taskDefinition:TaskDefinition"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
CLUSTER = "aws:ecs/cluster:Cluster"
SECURITY_GROUP = "aws:ec2/securityGroup:SecurityGroup"
KMS_KEY = "aws:kms/key:Key"
TAGGABLE = frozenset(
    {REPOSITORY, FUNCTION, TASK_DEFINITION, LOG_GROUP, ROLE, MANAGED_POLICY, CLUSTER, SECURITY_GROUP, KMS_KEY}
)
"""Every resource type the program registers that takes `tags` (lifecycle, repository and role policies and KMS
aliases don't)."""

PINNED_IMAGE = re.compile(r"@sha256:[0-9a-f]{64}$")
FLOATING_IMAGE = re.compile(r":[a-z0-9]([a-z0-9-]*[a-z0-9])?-latest$")
"""The one floating tag a clanker may choose: `<env>-latest`, never the global `latest` another stack moves."""
WILDCARD_RESOURCE_ACTIONS = frozenset(
    {
        "ecr:GetAuthorizationToken",
        # A clanker's role whose Claude Code calls Bedrock (components/policies.py, bedrock_statements).
        "bedrock:ListInferenceProfiles",
        # CI's roles (access/actions.py): registry-wide settings, account-wide describes and creates.
        "ecr:DescribeRegistry",
        "iam:ListRoles",  # the read role's check of the clanker roles' trust (ci/clanker_trust.py)
        "ecr:GetRegistryPolicy",
        "ecr:PutReplicationConfiguration",
        "ecr:PutRegistryPolicy",
        "ecr:DeleteRegistryPolicy",
        "ecs:DescribeTaskDefinition",
        "ecs:DeregisterTaskDefinition",
        "logs:DescribeLogGroups",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSecurityGroupRules",
        "ec2:DescribeVpcs",
        "ec2:DescribeSubnets",
        "kms:ListAliases",
        "kms:CreateKey",
    }
)
"""Actions IAM defines no resource type for, so only Resource `*` grants them (tests/access checks each against
parliament's copy of the IAM service definitions)."""
IMMUTABLE = ("IMMUTABLE", "IMMUTABLE_WITH_EXCLUSION")

Props = Mapping[str, Any]


@dataclass(frozen=True)
class ResourceRule:
    name: str
    """The policy's name in `pulumi preview` output (kebab-case)."""
    description: str
    resource_types: frozenset[str]
    check: Callable[[str, Props], list[str]]
    """(resource type, inputs) -> violations."""


@dataclass(frozen=True)
class StackResource:
    """One resource as a stack-level rule sees it."""

    type: str
    name: str
    props: Props


@dataclass(frozen=True)
class StackRule:
    name: str
    description: str
    check: Callable[[Sequence[StackResource]], list[str]]


def _json(value: Any) -> Any:
    """A JSON-string input (policies, container definitions) decoded; unparseable text is returned as is."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, Sequence):
        return [value]
    return list(value)


def check_repository(_type: str, props: Props) -> list[str]:
    violations = []
    scanning = props.get("imageScanningConfiguration")
    if not (isinstance(scanning, Mapping) and scanning.get("scanOnPush") is True):
        violations.append("ECR repository must scan images on push (imageScanningConfiguration.scanOnPush)")
    mutability = props.get("imageTagMutability", "MUTABLE")
    if mutability not in IMMUTABLE:
        violations.append(f"ECR repository tags must be immutable (IMMUTABLE_WITH_EXCLUSION), not {mutability}")
    filters = [f.get("filter") for f in _as_list(props.get("imageTagMutabilityExclusionFilters"))]
    if mutability == "IMMUTABLE_WITH_EXCLUSION" and (not filters or "*" in filters):
        violations.append("ECR repository exclusions must name the floating tags only, not every tag (`*`)")
    return violations


def check_image_retained(_type: str, retain_on_delete: bool) -> list[str]:
    """The engine does not pass resource options to a policy pack: only the offline plan can check this one."""
    if retain_on_delete:
        return []
    return ["docker-build Image must set retain_on_delete: deleting it would delete a digest a clanker runs"]


def _image_reference_violation(image: Any, what: str) -> list[str]:
    if not isinstance(image, str) or PINNED_IMAGE.search(image) or FLOATING_IMAGE.search(image):
        return []
    return [f"{what} must run its image by digest (`repo@sha256:…`) or the floating `<env>-latest` tag, not {image}"]


def check_image_reference(resource_type: str, props: Props) -> list[str]:
    if resource_type == FUNCTION:
        if props.get("packageType") != "Image":
            return ["Lambda function must be an Image function (packageType Image)"]
        return _image_reference_violation(props.get("imageUri"), "Lambda function")
    violations = []
    for container in _as_list(_json(props.get("containerDefinitions"))):
        if isinstance(container, Mapping):
            violations += _image_reference_violation(container.get("image"), f"container {container.get('name')!r}")
    return violations


def check_log_retention(_type: str, props: Props) -> list[str]:
    retention = props.get("retentionInDays")
    # The engine sends every number as a protobuf double: 30 arrives as 30.0.
    if isinstance(retention, int | float) and not isinstance(retention, bool) and retention > 0:
        return []
    return ["log group must set retentionInDays: unset keeps logs (and any secret a worker logged) forever"]


def _statements(document: Any) -> list[Mapping[str, Any]]:
    document = _json(document)
    if not isinstance(document, Mapping):
        return []
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, Mapping)]


def statement_violations(statement: Mapping[str, Any]) -> list[str]:
    """An Allow statement may not grant every action, or act on every resource (bar AWS's own exceptions)."""
    if statement.get("Effect") != "Allow":
        return []
    sid = statement.get("Sid", "(no Sid)")
    actions = [str(a) for a in _as_list(statement.get("Action"))]
    violations = []
    if "NotAction" in statement or "NotResource" in statement:
        violations.append(f"statement {sid}: NotAction/NotResource in an Allow grants everything else")
    wide = [a for a in actions if a == "*" or a.endswith(":*")]
    if wide:
        violations.append(f"statement {sid}: wildcard action {', '.join(wide)}")
    resources = _as_list(statement.get("Resource"))
    if "*" in resources and not set(actions) <= WILDCARD_RESOURCE_ACTIONS:
        others = sorted(set(actions) - WILDCARD_RESOURCE_ACTIONS)
        violations.append(f"statement {sid}: Resource `*` for {', '.join(others)}")
    return violations


def check_iam_policy(resource_type: str, props: Props) -> list[str]:
    if resource_type == ROLE:
        documents = [p.get("policy") for p in _as_list(props.get("inlinePolicies")) if isinstance(p, Mapping)]
    else:
        documents = [props.get("policy")]
    return [v for document in documents for s in _statements(document) for v in statement_violations(s)]


def _plaintext_credentials(variables: Iterable[tuple[str, Any]]) -> list[str]:
    found = []
    for name, value in variables:
        if not isinstance(value, str) or not value or re.match(SECRET_ARN_PATTERN, value):
            continue
        if credential_in(value) is not None or SECRET_LOOKING_NAME.search(name):
            found.append(name)  # the name only: a violation message must not leak the value
    return found


def check_plaintext_secrets(resource_type: str, props: Props) -> list[str]:
    if resource_type == FUNCTION:
        environment = props.get("environment")
        variables = environment.get("variables") if isinstance(environment, Mapping) else None
        pairs = list(variables.items()) if isinstance(variables, Mapping) else []
        where = "Lambda environment"
    else:
        pairs = [
            (str(entry.get("name")), entry.get("value"))
            for container in _as_list(_json(props.get("containerDefinitions")))
            if isinstance(container, Mapping)
            for entry in _as_list(container.get("environment"))
            if isinstance(entry, Mapping)
        ]
        where = "container environment"
    return [
        f"{where} holds a plaintext credential in {name}: use a Secrets Manager secret"
        for name in _plaintext_credentials(pairs)
    ]


def check_tags(_type: str, props: Props) -> list[str]:
    tags = props.get("tags")
    present = set(tags) if isinstance(tags, Mapping) else set()
    missing = [key for key in REQUIRED_TAG_KEYS if key not in present]
    return [f"missing tags {', '.join(missing)} (cost allocation and ownership)"] if missing else []


def _expires_images(policy: Any) -> bool:
    document = _json(policy)
    rules = _as_list(document.get("rules")) if isinstance(document, Mapping) else []
    return any(
        isinstance(rule, Mapping) and isinstance(rule.get("action"), Mapping) and rule["action"].get("type") == "expire"
        for rule in rules
    )


def check_repositories_have_lifecycle(resources: Sequence[StackResource]) -> list[str]:
    """Stack-level: each repository this stack creates has a lifecycle policy that expires images."""
    expiring = {
        r.props.get("repository")
        for r in resources
        if r.type == LIFECYCLE_POLICY and _expires_images(r.props.get("policy"))
    }
    return [
        f"ECR repository {r.props.get('name')} ({r.name}) has no lifecycle policy that expires images"
        for r in resources
        if r.type == REPOSITORY and r.props.get("name") not in expiring
    ]


RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule(
        "tagged-resources",
        f"Every taggable resource carries the tags {', '.join(REQUIRED_TAG_KEYS)}.",
        TAGGABLE,
        check_tags,
    ),
    ResourceRule(
        "ecr-repository-scanned-and-immutable",
        "ECR repositories scan on push and keep tags immutable, excluding only the floating tags.",
        frozenset({REPOSITORY}),
        check_repository,
    ),
    ResourceRule(
        "clanker-image-by-digest",
        "Lambda functions and task definitions run images by digest, or by `<env>-latest` when floating.",
        frozenset({FUNCTION, TASK_DEFINITION}),
        check_image_reference,
    ),
    ResourceRule(
        "log-group-retention",
        "Log groups expire their events.",
        frozenset({LOG_GROUP}),
        check_log_retention,
    ),
    ResourceRule(
        "iam-no-wildcards",
        "No IAM statement allows Action `*`, or Resource `*` for an action that has resource types.",
        frozenset({ROLE, ROLE_POLICY, MANAGED_POLICY}),
        check_iam_policy,
    ),
    ResourceRule(
        "no-plaintext-secrets",
        "No credential in a Lambda environment or a container `environment`: secrets come from Secrets Manager.",
        frozenset({FUNCTION, TASK_DEFINITION}),
        check_plaintext_secrets,
    ),
)

STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        "ecr-repository-lifecycle",
        "Every ECR repository the stack creates has a lifecycle policy that expires images.",
        check_repositories_have_lifecycle,
    ),
)
