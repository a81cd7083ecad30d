"""A promoting stack replicated into from another account (issue 19) creates that registry's side: its registry
policy, letting only the image stack's account replicate, and replica repositories with the image stack's settings
and lifecycle, which its clankers pin; a second stack in that registry leaves it to the owner, and what cannot
work (no lifecycle exported, this stack's own account listed as a replica) is refused.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from components.config import ConfigError, parse_pulumi_config
from offline_plan.engine import UNKNOWN_TEXT, Plan
from offline_plan.stacks import plan_stack_file
from tests.conftest import assert_outputs_contract
from tests.multi_region_stacks import IMAGE_STACK, WEST, image_stack_file, plan_promoting, promoting_stack_file
from tests.policy.verdicts import resource_violations
from tests.program.multi_region_plans import (
    DEV_ACCOUNT,
    PROD_ACCOUNT,
    REPOSITORY,
    assert_lambdas_pin_the_copy,
)

CROSS_ACCOUNT = [{"region": WEST, "account": PROD_ACCOUNT}]
REGISTRY_POLICY = "aws:ecr/registryPolicy:RegistryPolicy"


@pytest.fixture(scope="module")
def cross_account_dev(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    return plan_stack_file(image_stack_file(tmp_path_factory.mktemp("cross-dev"), CROSS_ACCOUNT))


@pytest.fixture(scope="module")
def cross_account_prod(tmp_path_factory: pytest.TempPathFactory, cross_account_dev: Plan) -> Plan:
    return plan_promoting(tmp_path_factory.mktemp("cross-prod"), cross_account_dev.outputs)


def test_the_destination_account_lets_only_the_image_stacks_account_replicate_into_its_repositories(
    cross_account_dev: Plan, cross_account_prod: Plan
) -> None:
    (policy,) = cross_account_prod.of_type(REGISTRY_POLICY)
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{DEV_ACCOUNT}:root"}
    # No ecr:CreateRepository: ECR must never create a repository with its defaults here.
    assert statement["Action"] == ["ecr:ReplicateImage"]
    assert statement["Resource"] == sorted(
        f"arn:aws:ecr:{WEST}:{PROD_ACCOUNT}:repository/viberator-worker-{harness}"
        for harness in cross_account_dev.outputs["images"]
    )
    assert any(DEV_ACCOUNT in assumption for assumption in cross_account_dev.assumptions)
    assert any("rollout order" in assumption for assumption in cross_account_prod.assumptions)


def test_the_destination_replicas_have_the_image_stacks_settings_and_lifecycle(
    cross_account_dev: Plan, cross_account_prod: Plan
) -> None:
    assert cross_account_dev.outputs["lifecycle"] == {"keepImages": 30, "environments": ["prod", "dev"]}
    for harness in cross_account_dev.outputs["images"]:
        source, replica = (
            cross_account_dev.named(f"{harness}-repository"),
            cross_account_prod.named(f"{harness}-replica-repository"),
        )
        assert {k: v for k, v in replica.inputs.items() if k != "tags"} == {
            k: v for k, v in source.inputs.items() if k != "tags"
        }
        assert replica.inputs["tags"]["Environment"] == "prod" and replica.inputs["tags"]["Harness"] == harness
        assert (replica.protect, replica.retain_on_delete) == (True, True)
        assert (
            cross_account_prod.named(f"{harness}-replica-lifecycle").inputs["policy"]
            == cross_account_dev.named(f"{harness}-lifecycle").inputs["policy"]
        )
        (pull,) = json.loads(cross_account_prod.named(f"{harness}-replica-pull-policy").inputs["policy"])["Statement"]
        assert pull["Condition"]["StringLike"]["aws:sourceARN"] == [
            f"arn:aws:lambda:*:{PROD_ACCOUNT}:function:viberator-*"
        ]
    # dev creates nothing of the other account's side.
    assert not cross_account_dev.of_type(REGISTRY_POLICY)
    assert not [r.name for r in cross_account_dev.resources if WEST in r.name]


def test_the_destinations_lambdas_pin_the_copy_in_their_own_account_and_region(
    cross_account_dev: Plan, cross_account_prod: Plan
) -> None:
    assert_lambdas_pin_the_copy(cross_account_prod, cross_account_dev, PROD_ACCOUNT, WEST)
    assert_outputs_contract(cross_account_prod.outputs)
    assert_outputs_contract(cross_account_dev.outputs)
    assert resource_violations(cross_account_prod) == []


def test_a_first_preview_of_the_destination_pins_what_its_replica_repositories_will_say(
    tmp_path: Path, cross_account_dev: Plan
) -> None:
    # The clankers take their image from the replica repositories this stack creates, so they wait for them.
    plan = plan_stack_file(
        promoting_stack_file(tmp_path), stack_outputs={IMAGE_STACK: cross_account_dev.outputs}, first_preview=True
    )
    assert {f.inputs["imageUri"] for f in plan.of_type("aws:lambda/function:Function")} == {UNKNOWN_TEXT}


def test_a_second_stack_in_the_destination_registry_leaves_its_side_to_the_owner(
    tmp_path: Path, cross_account_dev: Plan
) -> None:
    path = promoting_stack_file(tmp_path)
    document = yaml.safe_load(path.read_text())
    document["config"]["viberator:images"]["replicaRepositories"] = "existing"
    path.write_text(yaml.safe_dump(document))
    plan = plan_stack_file(path, stack_outputs={IMAGE_STACK: cross_account_dev.outputs})
    assert not plan.of_type(REGISTRY_POLICY) and not plan.of_type(REPOSITORY)
    (function, *_) = plan.of_type("aws:lambda/function:Function")
    assert function.inputs["imageUri"].startswith(f"{PROD_ACCOUNT}.dkr.ecr.{WEST}.amazonaws.com/")


def test_a_destination_over_an_image_stack_without_lifecycle_is_a_config_error(
    tmp_path: Path, cross_account_dev: Plan
) -> None:
    outputs = {k: v for k, v in cross_account_dev.outputs.items() if k != "lifecycle"}
    with pytest.raises(ConfigError) as raised:
        plan_promoting(tmp_path, outputs)
    (issue,) = raised.value.issues
    assert issue.path == "viberator:images.from" and "exports no lifecycle" in issue.message


def test_an_explicit_own_account_in_replicas_is_refused() -> None:
    with pytest.raises(ConfigError) as raised:
        parse_pulumi_config(
            {
                "aws:region": "us-east-1",
                "aws:allowedAccountIds": json.dumps([DEV_ACCOUNT]),
                "viberator:replicas": json.dumps([{"region": WEST, "account": DEV_ACCOUNT}]),
            },
            stack="dev",
        )
    (issue,) = raised.value.issues
    assert str(issue).startswith(f'viberator:replicas[0].account = "{DEV_ACCOUNT}": this stack\'s own account')
    assert "leave `account` out" in issue.message
    # Unpinned, the account can't be known: nothing is refused.
    config = parse_pulumi_config(
        {"aws:region": "us-east-1", "viberator:replicas": json.dumps([{"region": WEST, "account": DEV_ACCOUNT}])},
        stack="dev",
    )
    assert [replica.account for replica in config.replicas] == [DEV_ACCOUNT]
