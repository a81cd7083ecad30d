"""Deploys that cannot hurt production (issue 12): what a real `pulumi up` would do that the mocks once hid.

One test (or a few) per finding, each against the program as `make plan` runs it:
1. an image stack other stacks run from protects and retains its repositories and never force-deletes them;
2. a floating Lambda clanker's inputs change whenever its tag moves, so Lambda re-resolves the tag;
3. no immutable tag is pushed twice: any change of an Image's inputs changes its immutable tag;
4. ARNs carry the stack's partition;
5. taggable resources are tagged, and each committed stack deploys into its own pinned account;
6. previews are no kinder than the engine: a first preview knows no computed value, and a default VPC is an
   assumption the plan states.
"""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

import pytest
import yaml
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE

from components.config import ConfigError
from offline_plan.engine import UNKNOWN_TEXT, Plan, run_program
from tests.agent_secrets import agent_keyed_json
from tests.conftest import COMMITTED_STACKS, committed_config, committed_plan, of_image_repositories
from workers.catalog import PROJECT_DIR
from workers.labels import REVISION_LABEL

IMAGE = "docker-build:index:Image"
FUNCTION = "aws:lambda/function:Function"
NETWORK = '{"vpcId": "vpc-0123456789abcdef0", "subnetIds": ["subnet-0123456789abcdef0"]}'


def stack(**values: str) -> dict[str, str]:
    """A small image stack in Pulumi's string form: one harness, a pinned and a floating Lambda clanker."""
    return {
        "aws:region": "us-east-1",
        "viberator:harnesses": '["codex"]',
        "viberator:clankers": agent_keyed_json(
            [
                {"name": "pinned", "agent": "codex", "target": "lambda"},
                {"name": "floating", "agent": "codex", "target": "lambda", "image": "floating"},
            ]
        ),
        **values,
    }


def issues_of(config: dict[str, str], name: str = "dev") -> list[str]:
    with pytest.raises(ConfigError) as raised:
        run_program(name, config)
    return [str(issue) for issue in raised.value.issues]


# 1. Image stacks are production.
@pytest.mark.parametrize(
    "serves",
    [{"viberator:sharedEnvironments": '["prod"]'}, {"viberator:consumerAccounts": '["210987654321"]'}],
    ids=["shared-environment", "consumer-account"],
)
def test_an_image_stack_others_run_from_refuses_force_delete(serves: dict[str, str]) -> None:
    issues = issues_of(stack(**serves, **{"viberator:forceDelete": "true"}))
    assert len(issues) == 1 and issues[0].startswith("viberator:forceDelete = true: other stacks run this stack's")


def test_an_image_stack_others_run_from_cannot_switch_protection_off() -> None:
    issues = issues_of(stack(**{"viberator:sharedEnvironments": '["prod"]', "viberator:protect": "false"}))
    assert len(issues) == 1 and issues[0].startswith("viberator:protect = false: other stacks run this stack's")


def test_an_image_stack_others_run_from_protects_and_retains_its_repositories() -> None:
    plan = run_program("dev", stack(**{"viberator:sharedEnvironments": '["prod"]'}))
    (repository,) = of_image_repositories(plan, "aws:ecr/repository:Repository")
    assert (repository.protect, repository.retain_on_delete, repository.inputs["forceDelete"]) == (True, True, False)


def test_a_scratch_stack_may_still_force_delete() -> None:
    plan = run_program("scratch", stack(**{"viberator:forceDelete": "true"}))
    (repository,) = of_image_repositories(plan, "aws:ecr/repository:Repository")
    assert (repository.protect, repository.inputs["forceDelete"]) == (False, True)


# 2. Floating Lambda clankers follow the tag.
def _functions(revision: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    plan = run_program("dev", stack(**{"viberator:imageRevision": revision}))
    functions = {r.name: r.inputs for r in plan.of_type(FUNCTION)}
    return functions["floating-function"], functions["pinned-function"], plan.outputs["images"]["codex"]["digest"]


def test_a_floating_function_changes_whenever_its_tag_moves() -> None:
    floating_before, pinned_before, digest_before = _functions("rev1")
    floating_after, pinned_after, digest_after = _functions("rev2")
    assert digest_before != digest_after
    # The URI names the tag either way; what changes is the digest the provider sees, so it calls
    # UpdateFunctionCode and Lambda resolves the tag again.
    assert floating_before["imageUri"] == floating_after["imageUri"]
    assert (floating_before["sourceCodeHash"], floating_after["sourceCodeHash"]) == (digest_before, digest_after)
    # A pinned function changes through its URI (the digest is in it) and needs no hash.
    assert pinned_before["imageUri"] != pinned_after["imageUri"] and "sourceCodeHash" not in pinned_after


def test_no_lifecycle_count_can_expire_an_image_a_floating_tag_names() -> None:
    plan = run_program("dev", stack(**{"viberator:keepImages": "1"}))
    (policy,) = of_image_repositories(plan, "aws:ecr/lifecyclePolicy:LifecyclePolicy")
    first, *rest = json.loads(policy.inputs["policy"])["rules"]
    # The highest priority selects every image a floating tag names; ECR never lets a lower rule expire those.
    assert first["rulePriority"] == 1 and first["selection"]["tagPatternList"] == ["*latest"]
    assert first["selection"]["countNumber"] >= 1000
    assert all(rule["rulePriority"] > 1 for rule in rest)


# 3. No immutable tag is pushed twice.
VARIANTS: dict[str, dict[str, str]] = {
    "base": {},
    "arm64": {"viberator:platform": "linux/arm64"},
    "no-global-latest": {"viberator:pushLatest": "false"},
    "arm64-no-global-latest": {"viberator:platform": "linux/arm64", "viberator:pushLatest": "false"},
    "revision-override": {"viberator:imageRevision": "release-1"},
    "other-revision-override": {"viberator:imageRevision": "release-2"},
    "fewer-images-kept": {"viberator:keepImages": "5"},
    "longer-log-retention": {"viberator:logRetentionDays": "90"},
}
"""Configs that do and don't change the codex Image (keeping images or logs longer changes no Image input)."""


def _image(variant: str) -> tuple[str, dict[str, Any]]:
    """The codex Image's immutable tag and every other input but the registry credentials."""
    plan = run_program("dev", stack(**VARIANTS[variant]))
    (image,) = plan.of_type(IMAGE)
    inputs = {key: value for key, value in image.inputs.items() if key != "registries"}
    immutable, *floating = inputs.pop("tags")
    return immutable, {**inputs, "floatingTags": floating}


@pytest.fixture(scope="module")
def images() -> dict[str, tuple[str, dict[str, Any]]]:
    return {variant: _image(variant) for variant in VARIANTS}


@pytest.mark.parametrize(("left", "right"), list(itertools.combinations(VARIANTS, 2)))
def test_an_image_whose_inputs_differ_has_a_new_immutable_tag(
    images: dict[str, tuple[str, dict[str, Any]]], left: str, right: str
) -> None:
    (left_tag, left_inputs), (right_tag, right_inputs) = images[left], images[right]
    # docker-build's Update re-runs Create and pushes every tag; ECR refuses an immutable tag that exists.
    assert (left_inputs != right_inputs) == (left_tag != right_tag)


def test_the_immutable_tag_still_names_the_commit(images: dict[str, tuple[str, dict[str, Any]]]) -> None:
    tag, inputs = images["base"]
    revision = inputs["labels"][REVISION_LABEL]
    assert re.fullmatch(rf".+:dev-{re.escape(revision)}-[0-9a-f]{{8}}", tag), tag


# 4. Partition-aware ARNs.
def test_a_govcloud_stack_names_only_govcloud_arns() -> None:
    config = stack(
        **{
            "aws:region": "us-gov-west-1",
            "viberator:consumerAccounts": '["210987654321"]',
            "viberator:clankers": agent_keyed_json(
                [
                    {"name": "pinned", "agent": "codex", "target": "lambda"},
                    {"name": "task", "agent": "codex", "target": "ecs"},
                ],
                region="us-gov-west-1",
            ),
        }
    )
    plan = run_program("gov", config)
    document = json.dumps([r.inputs for r in plan.resources] + [plan.outputs])
    partitions = set(re.findall(r"arn:([a-z-]*):", document))
    assert partitions == {"aws-us-gov"}, partitions


# 5. Tags and accounts.
@pytest.mark.parametrize("file_name", COMMITTED_STACKS)
def test_every_committed_stack_pins_its_account(file_name: str) -> None:
    config = yaml.safe_load((PROJECT_DIR / file_name).read_text())["config"]
    accounts = config.get("aws:allowedAccountIds")
    assert isinstance(accounts, list) and len(accounts) == 1 and re.fullmatch(r"\d{12}", accounts[0])
    plan = committed_plan(file_name)
    assert plan.account == accounts[0]
    assert not any("allowedAccountIds" in assumption for assumption in plan.assumptions)


def test_dev_and_prod_plans_deploy_into_their_own_accounts() -> None:
    dev, prod = committed_plan("Pulumi.dev.yaml"), committed_plan("Pulumi.prod.yaml")
    assert dev.account != prod.account
    for plan in (dev, prod):
        arns = {
            deployment["deploymentConfig"].get("functionArn") or deployment["deploymentConfig"]["taskDefinitionArn"]
            for deployment in plan.outputs["clankers"].values()
            if deployment["target"] != "docker"
        }
        assert arns and all(f":{plan.account}:" in arn for arn in arns), arns


def test_a_stack_without_a_pinned_account_says_so() -> None:
    plan = run_program("scratch", stack())
    assert any("no aws:allowedAccountIds" in assumption for assumption in plan.assumptions)


@pytest.mark.parametrize("file_name", COMMITTED_STACKS)
def test_every_resource_carries_the_stacks_tags(file_name: str) -> None:
    from policy.rules import TAGGABLE

    plan = committed_plan(file_name)
    tagged = [r for r in plan.resources if r.type in TAGGABLE]
    assert tagged and all({"Project", "Environment", "ManagedBy"} <= set(r.inputs.get("tags", {})) for r in tagged), [
        r.name for r in tagged if "tags" not in r.inputs
    ]
    environment = plan.outputs["environment"]
    assert {r.inputs["tags"]["Environment"] for r in tagged} == {environment}


def test_harness_and_clanker_resources_say_what_they_belong_to() -> None:
    plan = committed_plan("Pulumi.dev.yaml")
    assert plan.named("claude-repository").inputs["tags"]["Harness"] == "claude"
    for clanker in committed_config("Pulumi.dev.yaml").clankers:
        if clanker.target == "lambda":
            assert plan.named(f"{clanker.name}-function").inputs["tags"]["Clanker"] == clanker.name


# 6. Previews no kinder than the engine.
def _first_preview(file_name: str) -> Plan:
    return committed_plan(file_name, first_preview=True)


def test_a_first_preview_knows_no_computed_value() -> None:
    plan = _first_preview("Pulumi.dev.yaml")
    assert plan.mode == "first-preview"
    image = plan.outputs["images"]["claude"]
    assert image["repositoryUrl"] == image["digest"] == UNKNOWN_TEXT
    assert image["tags"] == UNKNOWN_TEXT
    assert plan.named("claude-pull-policy").inputs["policy"] == UNKNOWN_TEXT
    assert plan.named("claude-image").inputs["tags"] == [UNKNOWN_TEXT] * 3
    # What the config decides is known all the same.
    assert plan.named("claude-repository").inputs["name"] == "viberator-worker-claude"


def test_an_update_preview_knows_what_exists() -> None:
    plan = committed_plan("Pulumi.dev.yaml", preview=True)
    image = plan.outputs["images"]["claude"]
    assert image["repositoryUrl"].endswith("/viberator-worker-claude") and image["digest"] == UNKNOWN_TEXT


def _as_the_engine_sends(value: Any) -> Any:
    """Plan inputs with unknowns as the engine hands them to a policy pack (pulumi_policy's sentinel)."""
    if value == UNKNOWN_TEXT:
        return UNKNOWN_STRING_VALUE
    if isinstance(value, dict):
        return {key: _as_the_engine_sends(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_the_engine_sends(item) for item in value]
    return value


@pytest.mark.parametrize("first", [True, False], ids=["first-preview", "update-preview"])
@pytest.mark.parametrize("file_name", COMMITTED_STACKS)
def test_the_policy_pack_judges_previews(file_name: str, first: bool) -> None:
    """As `pulumi preview --policy-pack` runs it: pulumi_policy wraps the inputs in a proxy that raises on an
    unknown value and reports such a policy as not runnable during preview (advisory), never as passed."""
    from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

    from policy.rules import RESOURCE_RULES

    plan = committed_plan(file_name, preview=True, first_preview=first)
    violations, judged, deferred = [], 0, 0
    for rule in RESOURCE_RULES:
        for resource in plan.resources:
            if resource.type not in rule.resource_types:
                continue
            try:
                props = unknown_checking_proxy(_as_the_engine_sends(resource.inputs))
                violations += [f"{resource.name}: {m}" for m in rule.check(resource.type, props)]
                judged += 1
            except UnknownValueError:
                deferred += 1
    assert violations == []
    # Most rules judge what the config decides; a first preview defers some (an image URI, a policy document).
    assert judged > deferred, (judged, deferred)
    assert deferred > 0 or not first


def test_a_plan_that_relies_on_the_default_vpc_says_so() -> None:
    dev = committed_plan("Pulumi.dev.yaml")
    assert any("default VPC" in assumption for assumption in dev.assumptions)
    assert any("default VPC" in assumption for assumption in dev.to_json()["assumptions"])
    assert not any("default VPC" in a for a in committed_plan("Pulumi.prod.yaml").assumptions)


def test_a_protected_stack_names_the_network_of_its_ecs_clankers() -> None:
    ecs = agent_keyed_json([{"name": "task", "agent": "codex", "target": "ecs"}])
    protected = stack(**{"viberator:protect": "true", "viberator:clankers": ecs})
    assert [issue.split(":")[0] + ":" + issue.split(":")[1] for issue in issues_of(protected)] == [
        "viberator:network = (missing)"
    ]
    public = {**protected, "viberator:network": NETWORK.replace("}", ', "assignPublicIp": true}')}
    assert issues_of(public)[0].startswith("viberator:network.assignPublicIp = true")
    assert run_program("dev", {**protected, "viberator:network": NETWORK}).of_type("aws:ecs/cluster:Cluster")
