"""The image stack's signing key (components/signing.py): what it is, who may sign with it, and what the stack
outputs say about it, checked against the committed stacks' plans."""

from __future__ import annotations

import json
from pathlib import Path

import parliament
import pytest
import yaml

from ci.review_stack_file import review_stack_yaml
from components.config import ConfigError, parse_stack_config
from components.config_model.issues import MISSING
from components.signing import PROGRAM_ACTIONS, SIGNER_ACTIONS, KeyRoles, alias_name, key_policy, promoted_signing
from components.tags import REQUIRED_TAG_KEYS
from offline_plan.engine import UNKNOWN_TEXT
from offline_plan.stacks import plan_stack_file
from tests.conftest import committed_plan, pinned_dev_key, project_file
from tests.kms_key_policy import CRYPTOGRAPHIC_ACTIONS, KMS_ACTIONS, Caller, allowed_actions

KEY = "aws:kms/key:Key"
ALIAS = "aws:kms/alias:Alias"
SIGNER = Caller("arn:aws:iam::123456789012:role/viberator-ci-signer")
"""viberator:signing.signerRole of Pulumi.dev.yaml: the access project's signer role."""
KEY_ADMIN = Caller("arn:aws:iam::123456789012:role/viberator-key-admin", iam_allows_kms=True)
"""viberator:signing.keyAdmins of Pulumi.dev.yaml: the bootstrap recipe's break-glass role."""
DEPLOY = Caller("arn:aws:iam::123456789012:role/viberator-ci-deploy", iam_allows_kms=True)
READ = Caller("arn:aws:iam::123456789012:role/viberator-ci-read")
"""viberator:signing.programRoles of Pulumi.dev.yaml."""
SIGNING_VALUES = {
    "signerRole": SIGNER.arn,
    "keyAdmins": [KEY_ADMIN.arn],
    "programRoles": [DEPLOY.arn, READ.arn],
}
OTHERS = {
    "the deploy role": DEPLOY,
    "the key admin": KEY_ADMIN,
    "a dev administrator": Caller("arn:aws:iam::123456789012:role/AdministratorAccess", iam_allows_kms=True),
    "the read role": READ,
    "prod's administrator": Caller("arn:aws:iam::210987654321:role/AdministratorAccess", iam_allows_kms=True),
    "the offline plan's caller": Caller("arn:aws:iam::123456789012:role/offline-plan", iam_allows_kms=True),
}
"""Everyone but the signer, each with kms:* in its IAM policies where it is an administrator."""


def dev_key_policy() -> str:
    (key,) = committed_plan("Pulumi.dev.yaml").of_type(KEY)
    return str(key.inputs["policy"])


def test_the_image_stack_creates_one_asymmetric_signing_key_and_its_alias() -> None:
    plan = committed_plan("Pulumi.dev.yaml")
    (key,) = plan.of_type(KEY)
    assert (key.inputs["keyUsage"], key.inputs["customerMasterKeySpec"]) == ("SIGN_VERIFY", "ECC_NIST_P256")
    assert set(REQUIRED_TAG_KEYS) <= set(key.inputs["tags"])
    # dev's images are prod's: losing the key would leave every signature unverifiable.
    assert key.protect and key.retain_on_delete
    (alias,) = plan.of_type(ALIAS)
    assert alias.inputs["name"] == alias_name("dev") == plan.outputs["signing"]["alias"]


def test_the_signer_may_make_every_call_cosign_makes_and_nothing_else() -> None:
    # sigstore's AWS KMS client: sign → getCMK → fetchCMK (GetPublicKey, DescribeKey), then Sign.
    assert (
        allowed_actions(dev_key_policy(), SIGNER)
        == set(SIGNER_ACTIONS)
        == {
            "kms:DescribeKey",
            "kms:GetPublicKey",
            "kms:Sign",
        }
    )


@pytest.mark.parametrize("who", sorted(OTHERS))
def test_no_one_else_may_sign_or_use_the_key_even_with_kms_star_in_iam(who: str) -> None:
    allowed = allowed_actions(dev_key_policy(), OTHERS[who])
    assert not allowed & CRYPTOGRAPHIC_ACTIONS
    assert "kms:CreateGrant" not in allowed  # a grant would be another way to sign


def test_no_iam_policy_grants_anything_on_the_key() -> None:
    # The policy names roles, never the account's root: kms:* in IAM, a dev administrator's, is worth nothing.
    assert ":root" not in dev_key_policy()
    for admin in ("a dev administrator", "the offline plan's caller", "prod's administrator"):
        assert allowed_actions(dev_key_policy(), OTHERS[admin]) == set()


def test_only_the_key_admins_administer_the_key_and_they_never_sign() -> None:
    allowed = allowed_actions(dev_key_policy(), KEY_ADMIN)
    assert {"kms:PutKeyPolicy", "kms:GetKeyPolicy", "kms:ScheduleKeyDeletion", "kms:TagResource"} <= allowed
    assert not allowed & (CRYPTOGRAPHIC_ACTIONS | {"kms:CreateGrant"})
    for who in sorted(set(OTHERS) - {"the key admin"}):
        assert "kms:PutKeyPolicy" not in allowed_actions(dev_key_policy(), OTHERS[who]), who
    assert "kms:PutKeyPolicy" not in allowed_actions(dev_key_policy(), SIGNER)


@pytest.mark.parametrize("role", [DEPLOY, READ], ids=["deploy", "read"])
def test_the_roles_running_the_program_read_the_key_as_pulumi_aws_refreshes_it_and_nothing_more(role: Caller) -> None:
    # terraform-provider-aws internal/service/kms/key.go resourceKeyRead → findKeyInfo: DescribeKey, GetKeyPolicy,
    # GetKeyRotationStatus, ListResourceTags; aws_kms_public_key: GetPublicKey; the alias: CreateAlias on the key.
    read = {"kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"}
    assert (
        read | {"kms:GetPublicKey", "kms:CreateAlias"}
        == allowed_actions(dev_key_policy(), role)
        == set(PROGRAM_ACTIONS)
    )


def test_the_key_skips_the_lockout_check_because_its_creator_is_no_admin() -> None:
    (key,) = committed_plan("Pulumi.dev.yaml").of_type(KEY)
    # CreateKey's safety check wants the caller (the deploy role) able to PutKeyPolicy afterwards: it is not.
    assert key.inputs["bypassPolicyLockoutSafetyCheck"] is True
    assert "kms:PutKeyPolicy" not in allowed_actions(dev_key_policy(), DEPLOY)
    assert "kms:PutKeyPolicy" in allowed_actions(dev_key_policy(), KEY_ADMIN)


def test_a_key_nobody_would_administer_keeps_kms_lockout_check(tmp_path: Path) -> None:
    # Without viberator:signing the policy names no admin: bypassing the check would make an unmanageable key, so
    # the check stays on and CreateKey refuses it (AWS KMS API Reference, CreateKey BypassPolicyLockoutSafetyCheck).
    config = yaml.safe_load(project_file("Pulumi.dev.yaml").read_text())
    del config["config"]["viberator:signing"]
    stack_file = tmp_path / "Pulumi.dev.yaml"
    stack_file.write_text(yaml.safe_dump(config))
    (key,) = plan_stack_file(stack_file).of_type(KEY)
    assert key.inputs["bypassPolicyLockoutSafetyCheck"] is False
    assert not any(allowed_actions(key.inputs["policy"], caller) for caller in [DEPLOY, READ, KEY_ADMIN, SIGNER])


def test_the_signer_comes_from_config_never_from_whoever_runs_the_program() -> None:
    policy = dev_key_policy()
    assert "offline-plan" not in policy  # the offline plan's caller (assumed-role/offline-plan/session)
    config = yaml.safe_load(project_file("Pulumi.dev.yaml").read_text())["config"]
    assert config["viberator:signing"] == SIGNING_VALUES
    assert policy == key_policy(KeyRoles((KEY_ADMIN.arn,), (DEPLOY.arn, READ.arn), SIGNER.arn))


def test_without_a_signer_nobody_can_sign() -> None:
    policy = key_policy(KeyRoles((KEY_ADMIN.arn,), (DEPLOY.arn,), None))
    assert "kms:PutKeyPolicy" in allowed_actions(policy, KEY_ADMIN)
    for caller in [SIGNER, *OTHERS.values()]:
        assert not allowed_actions(policy, caller) & (CRYPTOGRAPHIC_ACTIONS | {"kms:CreateGrant"})


def test_the_key_policy_passes_parliament() -> None:
    findings = parliament.analyze_policy_string(dev_key_policy()).findings
    # RESOURCE_STAR: in a key policy `*` is the key itself (AWS KMS "Key policies"), not every resource.
    assert [str(f) for f in findings if f.issue != "RESOURCE_STAR"] == []
    assert {a for s in json.loads(dev_key_policy())["Statement"] for a in s["Action"] if "*" not in a} <= KMS_ACTIONS


def test_the_outputs_carry_the_key_the_public_key_and_each_images_sbom() -> None:
    outputs = committed_plan("Pulumi.dev.yaml").outputs
    assert outputs["signing"]["keyArn"].startswith("arn:aws:kms:us-east-1:123456789012:key/")
    assert outputs["signing"]["publicKey"].startswith("-----BEGIN PUBLIC KEY-----\n")
    for image in outputs["images"].values():
        assert image["sbom"] == f"{image['repositoryUrl']}:{image['digest'].replace(':', '-')}.sbom"


def test_a_first_preview_does_not_know_the_key() -> None:
    signing = committed_plan("Pulumi.dev.yaml", first_preview=True).outputs["signing"]
    assert signing["keyArn"] == signing["publicKey"] == UNKNOWN_TEXT


def test_a_promoting_stack_creates_no_key_and_exports_the_key_it_pins_with_devs_sboms() -> None:
    plan = committed_plan("Pulumi.prod.yaml")
    assert not plan.of_type(KEY)
    pinned = pinned_dev_key()
    assert plan.outputs["signing"] == {
        "keyArn": pinned["keyArn"],
        "alias": alias_name("dev"),
        "algorithm": "ECDSA_SHA_256",
        "publicKey": pinned["publicKey"],
    }
    dev = committed_plan("Pulumi.dev.yaml").outputs["images"]
    assert {h: i["sbom"] for h, i in plan.outputs["images"].items()} == {
        h: dev[h]["sbom"] for h in plan.outputs["images"]
    }


def test_the_review_template_pins_the_key_prod_pins() -> None:
    template = yaml.safe_load(project_file("stacks/review.yaml").read_text())["config"]
    assert template["viberator:images"]["signing"] == pinned_dev_key()


@pytest.mark.parametrize("builds_images", [False, True], ids=["promoted", "built"])
def test_a_review_stack_creates_no_key(tmp_path: Path, builds_images: bool) -> None:
    path = tmp_path / "Pulumi.pr-7.yaml"
    path.write_text(review_stack_yaml(7, "2026-12-08T00:00:00Z", builds_images=builds_images))
    plan = plan_stack_file(path)
    assert not plan.of_type(KEY)
    if builds_images:  # its own builds: nothing signs them or attaches their SBOMs
        assert "signing" not in plan.outputs
        assert not any("sbom" in image for image in plan.outputs["images"].values())
    else:  # dev's digests, verified (run-job) with the key the template pins, and dev's SBOMs
        assert plan.outputs["signing"]["publicKey"] == pinned_dev_key()["publicKey"]
        assert all(image["sbom"].endswith(".sbom") for image in plan.outputs["images"].values())


def _prod(**images: object) -> dict[str, object]:
    return {"images": {"from": "viberator/viberator-workers/dev", **images}, "clankers": []}


def test_a_production_stack_must_pin_its_image_stacks_key() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(_prod(), stack="prod", region="us-east-1")
    assert [(i.path, i.value) for i in raised.value.issues] == [("viberator:images.signing", MISSING)]
    assert "never with one read from that stack's outputs" in raised.value.issues[0].message


def test_a_dev_output_with_another_key_fails_the_plan_of_a_stack_that_pinned_one() -> None:
    config = parse_stack_config(_prod(signing=pinned_dev_key()), stack="prod", region="us-east-1")
    exported = dict(committed_plan("Pulumi.dev.yaml").outputs["signing"])
    assert promoted_signing(config, exported, "dev") is not None  # the pinned key, as dev exports it
    other = exported | {"publicKey": exported["publicKey"].replace("MFkw", "MFkx")}
    with pytest.raises(ConfigError) as raised:
        promoted_signing(config, other, "dev")
    (issue,) = raised.value.issues
    assert issue.path == "viberator:images.signing" and "signing.publicKey differ" in issue.message


def test_prod_verifies_with_its_pin_whatever_key_devs_outputs_name() -> None:
    config = parse_stack_config(_prod(signing=pinned_dev_key()), stack="prod", region="us-east-1")
    signing = promoted_signing(config, None, "dev")  # dev's outputs name no key at all
    assert signing is not None and signing.public_key == pinned_dev_key()["publicKey"]


@pytest.mark.parametrize(
    ("signing", "values", "path", "message"),
    [
        ({}, {"repositories": "existing"}, "viberator:signing", "creates none"),
        ({"signerRole": "arn:aws:iam::210987654321:role/s"}, {}, "signerRole", "of this stack's account 123456789012"),
        ({"signerRole": "arn:aws:sts::123456789012:assumed-role/s/x"}, {}, "signerRole", "must be an IAM role's ARN"),
        ({"keyAdmins": ["arn:aws:iam::210987654321:role/a"]}, {}, "keyAdmins[0]", "not of 210987654321"),
        ({"programRoles": [DEPLOY.arn, "arn:aws:iam::210987654321:role/d"]}, {}, "programRoles[1]", "not of"),
        ({"keyAdmins": []}, {}, "keyAdmins", "at least 1 item"),
        ({"keyAdmins": [KEY_ADMIN.arn, KEY_ADMIN.arn]}, {}, "keyAdmins", "twice"),
        ({"keyAdmins": [DEPLOY.arn]}, {}, "keyAdmins[0]", "neither the signer nor a role that runs the program"),
        ({"keyAdmins": [SIGNER.arn]}, {}, "keyAdmins[0]", "neither the signer"),
    ],
    ids=["no-key", "other-account", "a-session", "admin-elsewhere", "reader-elsewhere", "no-admin", "twice",
         "deployer-admin", "signer-admin"],
)  # fmt: skip
def test_the_key_roles_are_separate_roles_of_a_stack_that_creates_the_key(
    signing: dict[str, object], values: dict[str, object], path: str, message: str
) -> None:
    config = {"signing": SIGNING_VALUES | signing, **values}
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(config, stack="dev", region="us-east-1", account="123456789012")
    (issue,) = raised.value.issues
    assert issue.path.startswith("viberator:signing") and issue.path.endswith(path) and message in issue.message
    assert str(issue.value) in str(config["signing"]) or issue.value == config["signing"]


def test_a_promoting_stack_names_no_signer() -> None:
    values = {**_prod(signing=pinned_dev_key()), "signing": SIGNING_VALUES}
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(values, stack="prod", region="us-east-1")
    assert [i.path for i in raised.value.issues] == ["viberator:signing"]
