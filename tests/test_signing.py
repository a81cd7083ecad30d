"""The image stack's signing key (components/signing.py): what it is, who may sign with it, and what the stack
outputs say about it, checked against the committed stacks' plans."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import committed_plan

from components.signing import SIGNER_ACTIONS, alias_name
from components.tags import REQUIRED_TAG_KEYS
from offline_plan.engine import UNKNOWN_TEXT
from offline_plan.review_stack import review_stack_yaml
from offline_plan.stacks import plan_stack_file

KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
DEPLOY_ROLE = "arn:aws:iam::123456789012:role/offline-plan"
"""The role behind the offline plan's caller session (`assumed-role/offline-plan/session`)."""


def test_the_image_stack_creates_one_asymmetric_signing_key_and_its_alias() -> None:
    plan = committed_plan("Pulumi.dev.yaml")
    (key,) = plan.of_type(KEY)
    assert (key.inputs["keyUsage"], key.inputs["customerMasterKeySpec"]) == ("SIGN_VERIFY", "ECC_NIST_P256")
    assert set(REQUIRED_TAG_KEYS) <= set(key.inputs["tags"])
    # dev's images are prod's: losing the key would leave every signature unverifiable.
    assert key.protect and key.retain_on_delete
    (alias,) = plan.of_type(ALIAS)
    assert alias.inputs["name"] == alias_name("dev") == plan.outputs["signing"]["alias"]


def test_the_key_policy_lets_the_root_manage_and_the_deploy_role_only_sign() -> None:
    (key,) = committed_plan("Pulumi.dev.yaml").of_type(KEY)
    statements = {s["Sid"]: s for s in json.loads(key.inputs["policy"])["Statement"]}
    assert statements["AccountRoot"]["Principal"] == {"AWS": "arn:aws:iam::123456789012:root"}
    assert statements["DeployRoleSigns"]["Principal"] == {"AWS": DEPLOY_ROLE}
    assert sorted(statements["DeployRoleSigns"]["Action"]) == sorted(SIGNER_ACTIONS)


def test_the_outputs_carry_the_key_the_public_key_and_each_images_sbom() -> None:
    outputs = committed_plan("Pulumi.dev.yaml").outputs
    assert outputs["signing"]["keyArn"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert outputs["signing"]["publicKey"].startswith("-----BEGIN PUBLIC KEY-----\n")
    for image in outputs["images"].values():
        assert image["sbom"] == f"{image['repositoryUrl']}:{image['digest'].replace(':', '-')}.sbom"


def test_a_first_preview_does_not_know_the_key() -> None:
    signing = committed_plan("Pulumi.dev.yaml", first_preview=True).outputs["signing"]
    assert signing["keyArn"] == signing["publicKey"] == UNKNOWN_TEXT


def test_a_promoting_stack_creates_no_key() -> None:
    plan = committed_plan("Pulumi.prod.yaml")
    assert not plan.of_type(KEY) and "signing" not in plan.outputs
    assert not any("sbom" in image for image in plan.outputs["images"].values())


@pytest.mark.parametrize("builds_images", [False, True], ids=["promoted", "built"])
def test_a_review_stack_creates_no_key(tmp_path: Path, builds_images: bool) -> None:
    path = tmp_path / "Pulumi.pr-7.yaml"
    path.write_text(review_stack_yaml(7, "2026-12-08T00:00:00Z", builds_images=builds_images))
    plan = plan_stack_file(path)
    assert not plan.of_type(KEY) and "signing" not in plan.outputs
