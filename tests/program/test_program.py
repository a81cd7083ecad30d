"""The whole program, run per committed stack file exactly as `make plan` runs it.

The plan command line has tests/program/test_plan_cli.py; image revisions, tests/program/test_image_revisions.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pulumi
import pydantic
import pytest
import yaml

from components.config.stack_file import stack_file_config
from offline_plan.engine import Plan, run_program
from offline_plan.placeholder_values import image_digest, index_digest
from offline_plan.stacks import plan_stack_file
from tests.agent_secrets import with_agent_keys
from tests.conftest import (
    Recorder,
    assert_outputs_contract,
    committed_config,
    committed_plan,
    of_image_repositories,
    pinned_image,
)
from viberator_contract import StackOutputs
from viberator_contract.schema import outputs_schema
from workers.catalog import PROJECT_DIR

PINNED = re.compile(r"^123456789012\.dkr\.ecr\.us-east-1\.amazonaws\.com/viberator-worker-[a-z-]+@sha256:[0-9a-f]{64}$")
UNKNOWN = "(known after apply)"


def test_outputs_match_the_schema(stack_plan: Plan) -> None:
    assert_outputs_contract(stack_plan.outputs)


def test_the_schema_rejects_a_tag_where_a_digest_belongs(stack_plan: Plan) -> None:
    outputs = json.loads(json.dumps(stack_plan.outputs))
    image = next(iter(outputs["images"].values()))
    image["imageUri"] = image["repositoryUrl"] + ":latest"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(outputs, outputs_schema())
    with pytest.raises(pydantic.ValidationError, match=r"images\.[a-z-]+\.imageUri"):
        StackOutputs.model_validate(outputs)


def test_lambda_clankers_run_the_image_their_deployment_config_names(stack_plan: Plan) -> None:
    functions = {r.inputs["name"]: r.inputs for r in stack_plan.of_type("aws:lambda/function:Function")}
    lambdas = {n: c for n, c in stack_plan.outputs["clankers"].items() if c["target"] == "lambda"}
    config = committed_config(f"Pulumi.{stack_plan.stack}.yaml")
    assert sorted(lambdas) == sorted(c.name for c in config.clankers if c.target == "lambda")
    assert len(functions) == len(lambdas)
    for clanker in lambdas.values():
        deployment = clanker["deploymentConfig"]
        function = functions[deployment["functionName"]]
        assert function["packageType"] == "Image"
        assert function["imageUri"] == deployment["imageUri"]
        assert function["architectures"] == [deployment["architecture"]]
        if PINNED.match(deployment["imageUri"]):
            assert deployment["imageUri"] == stack_plan.outputs["images"][clanker["agent"]]["imageUri"]


def test_ecs_task_definitions_run_the_container_image_of_their_clanker(stack_plan: Plan) -> None:
    tasks = {r.inputs["family"]: r.inputs for r in stack_plan.of_type("aws:ecs/taskDefinition:TaskDefinition")}
    for clanker in stack_plan.outputs["clankers"].values():
        if clanker["target"] != "ecs":
            continue
        deployment = clanker["deploymentConfig"]
        (container,) = json.loads(tasks[deployment["family"]]["containerDefinitions"])
        assert container["image"] == deployment["containerImage"]
        assert container["name"] == deployment["containerName"]


def test_dev_builds_each_harness_it_lists_once_per_platform() -> None:
    plan, config = committed_plan("Pulumi.dev.yaml"), committed_config("Pulumi.dev.yaml")
    # Each harness: its image repository and its build cache's, each with a lifecycle policy, and one Image per
    # platform it is built for (its clankers' architectures, or `harnessPlatforms`).
    for type_, count in (
        ("aws:ecr/repository:Repository", 2 * len(config.harnesses)),
        ("aws:ecr/lifecyclePolicy:LifecyclePolicy", 2 * len(config.harnesses)),
        ("docker-build:index:Image", sum(len(config.platforms_of(harness)) for harness in config.harnesses)),
    ):
        assert len(plan.of_type(type_)) == count, type_
    images = plan.outputs["images"]
    assert sorted(images) == sorted(config.harnesses)
    for harness, image in images.items():
        assert image["imageUri"] == f"{image['repositoryUrl']}@{image['digest']}"
        assert image["repositoryUrl"].endswith(f"/viberator-worker-{harness}")
        assert PINNED.match(image["imageUri"])
        assert sorted(image["platforms"]) == sorted(config.platforms_of(harness))
    for image in plan.of_type("docker-build:index:Image"):
        assert image.retain_on_delete and len(image.inputs["platforms"]) == 1


def _deployed_image(clanker: dict[str, Any]) -> str:
    deployment = clanker["deploymentConfig"]
    return str(deployment.get("imageUri") or deployment["containerImage"])


def test_dev_clankers_pin_digests_unless_floating() -> None:
    plan, config = committed_plan("Pulumi.dev.yaml"), committed_config("Pulumi.dev.yaml")
    for clanker in config.clankers:
        deployed = _deployed_image(plan.outputs["clankers"][clanker.name])
        if clanker.image == "floating":
            assert deployed == f"{plan.outputs['images'][clanker.agent]['repositoryUrl']}:dev-latest", clanker.name
        else:
            assert deployed == pinned_image(plan.outputs, clanker), clanker.name


def test_prod_promotes_exactly_the_digests_dev_built() -> None:
    dev, prod = committed_plan("Pulumi.dev.yaml"), committed_plan("Pulumi.prod.yaml")
    assert not prod.of_type("docker-build:index:Image")
    assert not prod.of_type("aws:ecr/repository:Repository")
    assert [r.type for r in prod.reads] == ["pulumi:pulumi:StackReference"]
    clankers = committed_config("Pulumi.prod.yaml").clankers
    assert sorted(prod.outputs["clankers"]) == sorted(c.name for c in clankers)
    for clanker in clankers:
        assert _deployed_image(prod.outputs["clankers"][clanker.name]) == pinned_image(dev.outputs, clanker)


def _built_for_arm64_only(image: dict[str, Any]) -> dict[str, Any]:
    """An image stack's `images.<harness>` as if built for linux/arm64 alone."""
    arm64 = {key: image[key] for key in ("digest", "imageUri", "tags")}
    single = {key: value for key, value in image.items() if key != "index"}
    return {**single, "platform": "linux/arm64", "platforms": {"linux/arm64": arm64}}


def test_a_promoting_stack_runs_clankers_on_the_promoted_images_architecture() -> None:
    # Clankers of the test's own, naming no architecture: they run the platform the image stack built.
    dev = committed_plan("Pulumi.dev.yaml").outputs
    arm = {**dev, "images": {harness: _built_for_arm64_only(image) for harness, image in dev["images"].items()}}
    config, _ = stack_file_config(PROJECT_DIR / "Pulumi.prod.yaml")
    secrets = {"ANTHROPIC_API_KEY": "arn:aws:secretsmanager:us-east-1:210987654321:secret:viberator/prod/a-AbCdEf"}
    clankers = [
        {"name": "arm-lambda", "agent": "claude", "target": "lambda", "secrets": secrets},
        {"name": "arm-ecs", "agent": "claude-code-ecs", "target": "ecs", "secrets": secrets},
    ]
    config = {**config, "viberator:clankers": json.dumps(clankers)}
    prod = run_program("prod", config, stack_outputs={"viberator/viberator-workers/dev": arm})
    (function,) = prod.of_type("aws:lambda/function:Function")
    (task,) = prod.of_type("aws:ecs/taskDefinition:TaskDefinition")
    assert function.inputs["architectures"] == ["arm64"]
    assert task.inputs["runtimePlatform"]["cpuArchitecture"] == "ARM64"
    assert {c["deploymentConfig"]["architecture"] for c in prod.outputs["clankers"].values()} == {"arm64"}


def test_prod_protects_its_clankers_and_cluster() -> None:
    prod = committed_plan("Pulumi.prod.yaml")
    for resource in prod.of_type("aws:lambda/function:Function") + prod.of_type("aws:ecs/cluster:Cluster"):
        assert resource.protect, resource.name


def test_a_prod_image_stack_protects_its_repositories_and_never_force_deletes(tmp_path: Path) -> None:
    # The committed prod stack promotes dev's images; a prod stack that builds its own must protect them.
    stack = tmp_path / "Pulumi.prod.yaml"
    stack.write_text(yaml.safe_dump({"config": {"aws:region": "us-east-1"}}))
    repositories = of_image_repositories(plan_stack_file(stack), "aws:ecr/repository:Repository")
    assert len(repositories) == 9
    for repository in repositories:
        assert repository.protect, repository.name
        assert repository.inputs["forceDelete"] is False


def test_dev_grants_the_prod_account_pull() -> None:
    policies = of_image_repositories(committed_plan("Pulumi.dev.yaml"), "aws:ecr/repositoryPolicy:RepositoryPolicy")
    assert len(policies) == len(committed_config("Pulumi.dev.yaml").harnesses)
    for policy in policies:
        account = json.loads(policy.inputs["policy"])["Statement"][1]
        assert account["Principal"] == {"AWS": ["arn:aws:iam::210987654321:root"]}  # prod's account


def test_preview_leaves_digests_unknown() -> None:
    plan = committed_plan("Pulumi.dev.yaml", preview=True)
    assert plan.preview
    assert {image["digest"] for image in plan.outputs["images"].values()} == {UNKNOWN}
    functions = {r.name: r.inputs for r in plan.of_type("aws:lambda/function:Function")}
    lambdas = [c for c in committed_config("Pulumi.dev.yaml").clankers if c.target == "lambda"]
    assert sorted(functions) == sorted(f"{c.name}-function" for c in lambdas)
    # A floating clanker waits for the push too: `<env>-latest` may not exist before it.
    assert {name: inputs["imageUri"] for name, inputs in functions.items()} == dict.fromkeys(functions, UNKNOWN)


SWITCHING = {
    "name": "switching",
    "agent": "multi-agent",
    "target": "lambda",
    "secrets": {
        "ANTHROPIC_API_KEY": "arn:aws:secretsmanager:us-east-1:123456789012:secret:viberator/dev/anthropic-AbCdEf",
        "OPENAI_API_KEY": "arn:aws:secretsmanager:us-east-1:123456789012:secret:viberator/dev/openai-GhIjKl",
    },
}
"""The test's own clanker (in dev's config), whose secrets hold the keys of the agent before and after."""


def _dev_config_with(clanker: dict[str, Any]) -> dict[str, str]:
    config, _ = stack_file_config(PROJECT_DIR / "Pulumi.dev.yaml")
    return {**config, "viberator:clankers": json.dumps([clanker])}


def test_switching_an_agent_changes_only_that_clankers_image() -> None:
    before = run_program("dev", _dev_config_with(SWITCHING))
    after = run_program("dev", _dev_config_with({**SWITCHING, "agent": "codex"}))
    before_inputs = {r.urn: r.inputs for r in before.resources}
    after_inputs = {r.urn: r.inputs for r in after.resources}
    assert before_inputs.keys() == after_inputs.keys(), "no resource is added or removed"
    changed = {urn for urn in before_inputs if before_inputs[urn] != after_inputs[urn]}
    assert [urn.rsplit("::", 1)[1] for urn in changed] == ["switching-function"]
    function = next(r for r in after.resources if r.name == "switching-function")
    assert function.inputs["imageUri"] == after.outputs["images"]["codex"]["imageUri"]
    assert function.inputs["name"] == "viberator-dev-switching"  # same function, updated in place


def test_duplicate_urns_fail_the_run(record: Recorder) -> None:
    from pulumi_aws import cloudwatch

    def twice() -> None:
        cloudwatch.LogGroup("same", retention_in_days=1)
        cloudwatch.LogGroup("same", retention_in_days=1)

    with pytest.raises(Exception, match="duplicate URN"):
        record(twice)
    record(lambda: cloudwatch.LogGroup("once", retention_in_days=1))


def test_runs_are_isolated(record: Recorder) -> None:
    first = record(lambda: pulumi.export("x", 1) or __import__("pulumi_aws").cloudwatch.LogGroup("a"))
    second = record(lambda: __import__("pulumi_aws").cloudwatch.LogGroup("b"))
    assert [r.name for r in first.resources] == ["a"]
    assert [r.name for r in second.resources] == ["b"]


def test_claude_on_an_arm64_lambda_and_an_x86_64_ecs_task_builds_both_and_each_runs_its_own() -> None:
    """Two claude Images, one Index joining them, each clanker pinned to its platform's."""
    clankers = with_agent_keys(
        [
            {"name": "claude-arm", "agent": "claude", "target": "lambda", "architecture": "arm64"},
            {"name": "claude-x86", "agent": "claude", "target": "ecs", "cpu": 1024, "memoryMb": 2048},
        ]
    )
    plan = run_program(
        "scratch",
        {
            "aws:region": "us-east-1",
            "viberator:harnesses": '["claude"]',
            "viberator:pushLatest": "false",
            "viberator:clankers": json.dumps(clankers),
        },
    )
    images = {r.name: r.inputs for r in plan.of_type("docker-build:index:Image")}
    assert {name: inputs["platforms"] for name, inputs in images.items()} == {
        "claude-image": ["linux/amd64"],  # the name a single-platform stack's Image has: nothing is replaced
        "claude-image-arm64": ["linux/arm64"],
    }
    # Each Image pushes its own immutable tag only; the Indexes move the floating one.
    assert {name: [tag.rsplit("-", 1)[1] for tag in inputs["tags"]] for name, inputs in images.items()} == {
        "claude-image": ["amd64"],
        "claude-image-arm64": ["arm64"],
    }
    indexes = {r.name: r.inputs for r in plan.of_type("docker-build:index:Index")}
    assert sorted(indexes) == ["claude-index", "claude-index-scratch-latest"]
    index = indexes["claude-index"]
    assert index["tag"].rsplit(":", 1)[1].startswith("scratch-")
    assert index["sources"] == [
        images[name]["tags"][0] + "@" + image_digest(images[name]) for name in ("claude-image", "claude-image-arm64")
    ]
    assert indexes["claude-index-scratch-latest"]["sources"] == index["sources"]

    digests = {platform: image["digest"] for platform, image in plan.outputs["images"]["claude"]["platforms"].items()}
    assert digests == {
        "linux/amd64": image_digest(images["claude-image"]),
        "linux/arm64": image_digest(images["claude-image-arm64"]),
    }
    (function,) = plan.of_type("aws:lambda/function:Function")
    assert function.inputs["architectures"] == ["arm64"]
    assert function.inputs["imageUri"].endswith("@" + digests["linux/arm64"])
    (task,) = plan.of_type("aws:ecs/taskDefinition:TaskDefinition")
    (container,) = json.loads(task.inputs["containerDefinitions"])
    assert container["image"].endswith("@" + digests["linux/amd64"])
    deployed = {name: c["deploymentConfig"]["platform"] for name, c in plan.outputs["clankers"].items()}
    assert deployed == {"claude-arm": "linux/arm64", "claude-x86": "linux/amd64"}
    assert plan.outputs["images"]["claude"]["index"]["digest"] == index_digest(index)
    assert_outputs_contract(plan.outputs)
