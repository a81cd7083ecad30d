"""The offline plan as a Terraform plan JSON document, so Terraform scanners (checkov) can judge a Pulumi stack.

pulumi-aws is bridged from the Terraform AWS provider, so each `aws:` resource is a Terraform resource with the
same attributes in camelCase. The translation undoes the bridge's naming: `aws:ecr/repository:Repository` is
`aws_ecr_repository`; `imageScanningConfiguration: {scanOnPush: true}` is the nested block
`image_scanning_configuration: [{scan_on_push: true}]` (Terraform plans list every block, even a single one);
maps (tags, environment variables, log options) stay maps with their keys untouched; list-valued blocks that the
bridge pluralised (`encryptionConfigurations`) get their Terraform block name back (`encryption_configuration`).
Resources of other providers (docker-build) and components have no Terraform twin and are left out.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from offline_plan.engine import Plan, Registration

FORMAT_VERSION = "1.2"
PROVIDERS = {"aws": "registry.terraform.io/hashicorp/aws", "github": "registry.terraform.io/integrations/github"}
"""pulumi-aws and pulumi-github are bridged from these Terraform providers."""

TYPE_OVERRIDES = {
    # The EC2 module of pulumi-aws holds Terraform resources that have no `ec2_` in their name.
    "aws:ec2/securityGroup:SecurityGroup": "aws_security_group",
}
MAP_ATTRIBUTES = frozenset({"tags", "tagsAll", "variables", "options", "buildArgs"})
"""Object-valued inputs that are Terraform maps, not nested blocks."""
BLOCK_NAMES = {
    "encryptionConfigurations": "encryption_configuration",
    "imageTagMutabilityExclusionFilters": "image_tag_mutability_exclusion_filter",
    "settings": "setting",
    "commands": "command",
}
"""Inputs the bridge renamed (pluralised list blocks and lists); every other key is only snake_cased."""


def snake_case(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def terraform_type(pulumi_type: str) -> str | None:
    """`aws:ecr/repository:Repository` -> `aws_ecr_repository`; None for a type that is not bridged from Terraform."""
    if pulumi_type in TYPE_OVERRIDES:
        return TYPE_OVERRIDES[pulumi_type]
    match = re.fullmatch(
        r"(?P<provider>aws|github):(?P<module>[a-zA-Z0-9]+)/(?P<resource>[a-zA-Z0-9]+):[A-Za-z0-9]+", pulumi_type
    )
    if match is None:
        return None
    # pulumi-github keeps every resource in its `index` module: `github:index/branchProtection` is
    # `github_branch_protection`.
    module = "" if match["module"] == "index" else f"{snake_case(match['module'])}_"
    return f"{match['provider']}_{module}{snake_case(match['resource'])}"


def terraform_values(inputs: Mapping[str, Any]) -> dict[str, Any]:
    """Pulumi inputs (camelCase, single blocks as objects) as Terraform plan `values`."""
    return {BLOCK_NAMES.get(key, snake_case(key)): _value(key, value) for key, value in inputs.items()}


def _value(key: str, value: Any) -> Any:
    if isinstance(value, Mapping):
        return dict(value) if key in MAP_ATTRIBUTES else [terraform_values(value)]
    if isinstance(value, list):
        return [terraform_values(item) if isinstance(item, Mapping) else item for item in value]
    return value


def _address(tf_type: str, registration: Registration) -> str:
    # Logical names are unique per stack (children carry their component's prefix); hyphens are fine in addresses
    # of plan files but not in HCL, so keep the address valid for either.
    return f"{tf_type}.{registration.name.replace('-', '_')}"


def terraform_plan(plan: Plan) -> dict[str, Any]:
    """A Terraform plan document (`planned_values.root_module.resources[]`) of every bridged resource."""
    resources = []
    for registration in plan.resources:
        tf_type = terraform_type(registration.type) if registration.custom else None
        if tf_type is None:
            continue
        resources.append(
            {
                "address": _address(tf_type, registration),
                "mode": "managed",
                "type": tf_type,
                "name": registration.name.replace("-", "_"),
                "provider_name": PROVIDERS[tf_type.split("_", 1)[0]],
                "schema_version": 0,
                "values": terraform_values(registration.inputs),
            }
        )
    return {
        "format_version": FORMAT_VERSION,
        "terraform_version": "1.9.0",
        "planned_values": {"root_module": {"resources": resources}},
        "configuration": {"root_module": {}},
    }
