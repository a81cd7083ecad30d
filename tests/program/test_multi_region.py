"""Clankers in more than one region (issue 19): the image stack replicates, consumers run their own region's copy.

1. the image stack owns one replication configuration (viberator-worker- prefix) and creates each replica
   repository of its account with the source's settings;
2. a promoting stack in a replica region pins its Lambdas and grants its ECS roles that region's copy, same digest;
3. what can't work is refused: a Lambda clanker without a copy in its region (exit 2), a second owner of the
   registry's replication; an ECS clanker across regions is warned about;
4. the outputs say where the copies are and where each clanker's image comes from, in every plan mode.

A promoting stack replicated into from another account is tests/program/test_cross_account_replicas.py's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from components.config import ConfigError, parse_stack_config
from components.promotion_replicas import repository_url_in
from offline_plan.__main__ import EXIT_INVALID_CONFIG, main
from offline_plan.engine import UNKNOWN_TEXT, Plan
from offline_plan.stacks import plan_stack_file
from tests.conftest import assert_outputs_contract, sample_clankers
from tests.multi_region_stacks import (
    IMAGE_STACK,
    WEST,
    image_stack_file,
    image_stack_outputs,
    plan_promoting,
    promoting_stack_file,
)
from tests.policy.verdicts import resource_violations
from tests.program.multi_region_plans import DEV_ACCOUNT, PROD_ACCOUNT, assert_lambdas_pin_the_copy
from viberator_contract import Replica
from workers.catalog import PROJECT_DIR

REPLICATION = "aws:ecr/replicationConfiguration:ReplicationConfiguration"
REPLICAS = [{"region": WEST}, {"region": "eu-west-1", "account": PROD_ACCOUNT}]
ANTHROPIC = {
    "ANTHROPIC_API_KEY": f"arn:aws:secretsmanager:{WEST}:{PROD_ACCOUNT}:secret:viberator/prod/anthropic-AbCdEf"
}
ECS_ONLY = [{"name": "claude-ecs", "agent": "claude-code-ecs", "target": "ecs", "secrets": ANTHROPIC}]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("multi-region")


@pytest.fixture(scope="module")
def replicating_dev(folder: Path) -> Plan:
    return plan_stack_file(image_stack_file(folder, REPLICAS))


@pytest.fixture(scope="module")
def west_prod(folder: Path, replicating_dev: Plan) -> Plan:
    return plan_promoting(folder, replicating_dev.outputs)


# 1. The image stack replicates.
def test_the_image_stack_owns_one_replication_configuration_for_the_worker_repositories(
    replicating_dev: Plan,
) -> None:
    (configuration,) = replicating_dev.of_type(REPLICATION)
    (rule,) = configuration.inputs["replicationConfiguration"]["rules"]
    # One filter per repository it owns: never a bare prefix that would copy a review stack's repositories too.
    repositories = sorted(image["repositoryName"] for image in replicating_dev.outputs["images"].values())
    assert rule["repositoryFilters"] == [{"filter": name, "filterType": "PREFIX_MATCH"} for name in repositories]
    assert rule["destinations"] == [
        {"region": WEST, "registryId": DEV_ACCOUNT},
        {"region": "eu-west-1", "registryId": PROD_ACCOUNT},
    ]
    assert replicating_dev.outputs["replicas"] == rule["destinations"]


def test_each_replica_repository_of_the_account_has_the_sources_settings(replicating_dev: Plan) -> None:
    for harness in replicating_dev.outputs["images"]:
        source, replica = (
            replicating_dev.named(f"{harness}-repository"),
            replicating_dev.named(f"{harness}-{WEST}-repository"),
        )
        assert replica.inputs == {**source.inputs, "region": WEST}
        assert (replica.protect, replica.retain_on_delete) == (source.protect, source.retain_on_delete) == (True, True)
        for policy in ("lifecycle", "pull-policy"):
            mirrored = replicating_dev.named(f"{harness}-{WEST}-{policy}").inputs
            assert mirrored == {**replicating_dev.named(f"{harness}-{policy}").inputs, "region": WEST}
    # Another account's replicas are that account's to create: nothing of eu-west-1 here.
    assert not [r.name for r in replicating_dev.resources if "eu-west-1" in r.name]


def test_replication_only_adds_resources_to_the_image_stack(folder: Path, replicating_dev: Plan) -> None:
    committed = plan_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    before = {r.urn: r.inputs for r in committed.resources}
    after = {r.urn: r.inputs for r in replicating_dev.resources}
    assert set(before) < set(after)
    assert all(after[urn] == inputs for urn, inputs in before.items())


def test_the_policy_pack_passes_the_replicas(replicating_dev: Plan) -> None:
    assert resource_violations(replicating_dev) == []


# 2. Consumers run their own region's copy.
def test_every_lambda_of_a_west_promoting_stack_pins_the_west_copy_of_devs_digest(
    replicating_dev: Plan, west_prod: Plan
) -> None:
    for clanker in assert_lambdas_pin_the_copy(west_prod, replicating_dev, DEV_ACCOUNT, WEST):
        assert west_prod.outputs["clankers"][clanker]["imageRegion"] == WEST


def test_ecs_execution_roles_pull_from_the_replica(west_prod: Plan) -> None:
    policies = {r.name: r.inputs["policy"] for r in west_prod.of_type("aws:iam/rolePolicy:RolePolicy")}
    ecs = {name: c["agent"] for name, c in west_prod.outputs["clankers"].items() if c["target"] == "ecs"}
    assert ecs, "prod deploys an ECS clanker"
    for name, harness in ecs.items():
        statements = json.loads(policies[f"{name}-execution-policy"])["Statement"]
        (pull,) = [s for s in statements if s["Sid"] == "PullWorkerImage"]
        assert pull["Resource"] == f"arn:aws:ecr:{WEST}:{DEV_ACCOUNT}:repository/viberator-worker-{harness}"
    assert west_prod.warnings == []


def test_the_outputs_say_where_each_copy_is_and_match_the_schema(replicating_dev: Plan, west_prod: Plan) -> None:
    for plan in (replicating_dev, west_prod):
        assert_outputs_contract(plan.outputs)
    assert west_prod.outputs["replicas"] == []
    assert west_prod.outputs["images"]["multi-agent"]["repositoryUrl"].startswith(f"{DEV_ACCOUNT}.dkr.ecr.{WEST}.")
    assert {c["imageRegion"] for c in replicating_dev.outputs["clankers"].values()} == {"us-east-1"}


def test_a_consumer_prefers_its_own_accounts_copy() -> None:
    source = f"{DEV_ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/viberator-worker-claude"
    replicas = [
        Replica(region=WEST, registry_id=DEV_ACCOUNT),
        Replica(region=WEST, registry_id=PROD_ACCOUNT),
    ]
    assert repository_url_in(source, replicas, WEST, PROD_ACCOUNT) == (
        f"{PROD_ACCOUNT}.dkr.ecr.{WEST}.amazonaws.com/viberator-worker-claude"
    )
    assert repository_url_in(source, replicas, "us-east-1", PROD_ACCOUNT) == source
    assert repository_url_in(source, replicas, "eu-west-1", PROD_ACCOUNT) is None


def test_a_first_preview_knows_where_the_copies_are(folder: Path) -> None:
    plan = plan_stack_file(image_stack_file(folder, REPLICAS), first_preview=True)
    assert plan.outputs["replicas"][0] == {"region": WEST, "registryId": DEV_ACCOUNT}
    assert plan.named(f"claude-{WEST}-repository").inputs["region"] == WEST
    assert plan.outputs["images"]["claude"]["repositoryUrl"] == UNKNOWN_TEXT


# 3. What can't work is refused.
def test_without_replication_a_west_lambda_clanker_is_a_config_error_naming_both_regions(folder: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        plan_promoting(folder, image_stack_outputs(folder, None), clankers=sample_clankers("prod"))
    (issue,) = raised.value.issues
    assert issue.path == "viberator:clankers[0].target"
    for named in ("multi-agent", WEST, "us-east-1", "viberator:replicas", IMAGE_STACK):
        assert named in issue.message


def test_without_replication_make_plan_exits_2_naming_the_region_mismatch(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = folder / "unreplicated-dev.json"
    outputs.write_text(json.dumps(image_stack_outputs(folder, None)))
    promoting = promoting_stack_file(folder, clankers=sample_clankers("prod"))
    exit_code = main(["--config", str(promoting), "--stack-outputs", f"{IMAGE_STACK}={outputs}", "--format", "json"])
    captured = capsys.readouterr()
    assert (exit_code, captured.out) == (EXIT_INVALID_CONFIG, "")
    assert f"runs in {WEST}, and its multi-agent image is in us-east-1 with no replica in {WEST}" in captured.err


def test_an_ecs_clanker_across_regions_is_warned_about_and_pulls_from_the_source(folder: Path) -> None:
    plan = plan_promoting(folder, image_stack_outputs(folder, None), clankers=ECS_ONLY)
    (warning,) = plan.warnings
    assert "claude-ecs" in warning and "inter-region data transfer" in warning and "viberator:replicas" in warning
    assert plan.outputs["clankers"]["claude-ecs"]["imageRegion"] == "us-east-1"


def _issues(**values: Any) -> list[str]:
    with pytest.raises(ConfigError) as raised:
        parse_stack_config(values, stack="dev", region="us-east-1")
    return [str(issue) for issue in raised.value.issues]


def test_only_the_owner_of_the_accounts_repositories_owns_its_replication() -> None:
    (issue,) = _issues(repositories="existing", replicas=[{"region": WEST}])
    assert issue.startswith("viberator:replicas = ") and "one replication configuration per registry" in issue


@pytest.mark.parametrize(
    ("replicas", "expected"),
    [
        ([{"region": "us-east-1"}], 'viberator:replicas[0].region = "us-east-1": this stack\'s own region'),
        ([{"region": "us-gov-west-1"}], 'viberator:replicas[0].region = "us-gov-west-1": in partition aws-us-gov'),
        ([{"region": WEST}, {"region": WEST}], 'viberator:replicas[1] = {"region": "us-west-2"}: listed twice'),
        (
            [{"region": WEST, "acount": PROD_ACCOUNT}],
            'viberator:replicas[0].acount = "210987654321": unknown key: did you mean account?',
        ),
    ],
    ids=["own-region", "other-partition", "twice", "misspelt-key"],
)
def test_replicas_ecr_would_refuse_are_refused(replicas: list[dict[str, str]], expected: str) -> None:
    assert [issue[: len(expected)] for issue in _issues(replicas=replicas)] == [expected]


def test_another_accounts_registry_in_the_own_region_is_a_destination() -> None:
    config = parse_stack_config(
        {"replicas": [{"region": "us-east-1", "account": PROD_ACCOUNT}]}, stack="dev", region="us-east-1"
    )
    assert [replica.account for replica in config.replicas] == [PROD_ACCOUNT]


def test_a_promoting_stack_replicates_nothing_itself() -> None:
    issues = _issues(images={"from": IMAGE_STACK}, replicas=[{"region": WEST}])
    assert [issue.split(":")[0] + ":" + issue.split(":")[1].split(" ")[0] for issue in issues] == ["viberator:replicas"]
    assert "builds no images" in issues[0]
