"""The outputs contract (viberator_contract): installable alone (pydantic, nothing of the project), its committed
JSON Schema the one its models generate, the constraints that schema keeps, and how it evolves: a reader built
today reads tomorrow's outputs (docs/contract.md)."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args

import jsonschema
import pydantic
import pytest

from offline_plan.engine import Plan
from tests.conftest import committed_plan
from viberator_contract import StackOutputs
from viberator_contract.schema import SCHEMA_PATH, outputs_schema, schema_text
from workers.catalog import HARNESSES, PROJECT_DIR, job_contract

PROJECT_PACKAGES = sorted(
    path.parent.name for path in PROJECT_DIR.glob("*/__init__.py") if path.parent.name != "viberator_contract"
)
"""Every package of this repository but the contract (workers, components, offline_plan, ci, ...)."""


def test_the_contract_imports_nothing_of_the_project_nor_pulumi(tmp_path: Path) -> None:
    """What a backend installs is the package and pydantic: here, a copy of it alone on the path."""
    assert {"workers", "components", "offline_plan", "ci"} <= set(PROJECT_PACKAGES)
    shutil.copytree(PROJECT_DIR / "viberator_contract", tmp_path / "viberator_contract")
    probe = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); "
        "import viberator_contract, viberator_contract.schema, viberator_contract.errors; "
        "print(sorted({m.split('.')[0] for m in sys.modules}))"
    )
    # -I: neither the working directory nor PYTHONPATH (pytest's `pythonpath`) puts the checkout on the path.
    imported = subprocess.run([sys.executable, "-I", "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    loaded = set(json.loads(imported.stdout.replace("'", '"')))
    assert not loaded & {*PROJECT_PACKAGES, "pulumi", "pulumi_aws", "viberator_worker"}


def test_the_contract_s_names_are_the_project_s() -> None:
    """The project's closed lists are values of the contract's open shapes, and the repository prefix is one."""
    import re

    from components.config_model.fields import ARCHITECTURE_OF_PLATFORM, Architecture, Platform
    from components.targets import TARGETS
    from viberator_contract.base import ARCHITECTURE_PATTERN, NAME_PATTERN, PLATFORM_PATTERN, REPOSITORY_PREFIX
    from viberator_contract.clankers import KNOWN_TARGETS
    from workers import catalog

    assert catalog.REPOSITORY_PREFIX == REPOSITORY_PREFIX
    assert all(re.fullmatch(PLATFORM_PATTERN, p) for p in [*get_args(Platform), *ARCHITECTURE_OF_PLATFORM])
    assert all(re.fullmatch(ARCHITECTURE_PATTERN, a) for a in get_args(Architecture))
    assert all(re.fullmatch(NAME_PATTERN, n) for n in [*catalog.HARNESS_NAMES, *catalog.ALL_AGENTS])
    assert set(KNOWN_TARGETS) == {target.name for target in TARGETS}


def test_the_committed_schema_is_the_one_the_models_generate() -> None:
    assert SCHEMA_PATH.read_text() == schema_text(), "the models changed: run `make schema` and commit the schema"


def _dev_outputs() -> dict[str, Any]:
    return copy.deepcopy(committed_plan("Pulumi.dev.yaml").outputs)


def _refused(outputs: dict[str, Any]) -> bool:
    return not jsonschema.Draft202012Validator(outputs_schema()).is_valid(outputs)


def test_clanker_names_are_checked_not_just_those_matching_the_pattern() -> None:
    # pydantic writes a key pattern as `patternProperties`, under which any other key would pass unchecked.
    outputs = _dev_outputs()
    outputs["clankers"]["Not A Name"] = {"agent": "claude"}
    assert _refused(outputs)


def test_image_keys_are_names() -> None:
    outputs = _dev_outputs()
    outputs["images"]["Not A Harness"] = outputs["images"]["claude"]
    assert _refused(outputs)


def test_an_optional_field_is_absent_never_null() -> None:
    outputs = _dev_outputs()
    outputs["signing"] = None
    assert _refused(outputs)
    outputs = _dev_outputs()
    next(iter(outputs["clankers"].values()))["imageRegion"] = None
    assert _refused(outputs)


def test_fields_the_contract_does_not_declare_are_allowed_by_the_schema_and_ignored_by_readers() -> None:
    outputs = _dev_outputs()
    outputs["images"]["claude"]["addedLater"] = "x"
    assert not _refused(outputs)
    assert "addedLater" not in json.dumps(StackOutputs.model_validate(outputs).model_dump())


@pytest.mark.parametrize("target", ["lambda", "ecs", "docker"])
def test_each_target_s_deployment_config_is_checked_by_its_own_model(target: str) -> None:
    outputs = _dev_outputs()
    name, clanker = next((n, c) for n, c in outputs["clankers"].items() if c["target"] == target)
    other = next(c for c in outputs["clankers"].values() if c["target"] != target)
    outputs["clankers"][name] = {**clanker, "deploymentConfig": other["deploymentConfig"]}
    assert _refused(outputs)
    with pytest.raises(pydantic.ValidationError, match=rf"clankers\.{name}\.{target}\.deploymentConfig"):
        StackOutputs.model_validate(outputs)


def _tomorrow() -> dict[str, Any]:
    """Dev's outputs as a later version 1 might write them: a new harness (and agent CLI), a new target, a new
    platform, and new fields at every level."""
    outputs = _dev_outputs()
    outputs["queues"] = {"jobs": "arn:aws:sqs:us-east-1:123456789012:jobs"}
    claude = outputs["images"]["claude"]
    aider = json.loads(json.dumps(claude).replace("viberator-worker-claude", "viberator-worker-aider"))
    aider["platforms"]["linux/riscv64"] = aider["platforms"][aider["platform"]]
    aider["attestations"] = ["slsa"]
    outputs["images"]["aider"] = aider
    lambda_ = next(c for c in outputs["clankers"].values() if c["target"] == "lambda")
    outputs["clankers"]["aider"] = {
        **copy.deepcopy(lambda_),
        "agent": "aider",
        "harness": "aider",
        "agents": ["aider"],
        "maxConcurrency": 4,
    }
    outputs["clankers"]["aider"]["deploymentConfig"]["snapStart"] = {"applyOn": "None"}
    docker = next(c for c in outputs["clankers"].values() if c["target"] == "docker")
    outputs["clankers"]["local-riscv"] = {
        **copy.deepcopy(docker),
        "deploymentConfig": {**docker["deploymentConfig"], "architecture": "riscv64", "platform": "linux/riscv64"},
    }
    outputs["clankers"]["aider-run"] = {
        "agent": "aider",
        "harness": "aider",
        "agents": ["aider"],
        "target": "cloudrun",
        "region": "europe-west1",
        "deploymentConfig": {"service": "projects/p/locations/europe-west1/services/aider"},
    }
    return outputs


def test_a_reader_built_today_reads_tomorrow_s_outputs_and_says_what_it_skipped() -> None:
    tomorrow = _tomorrow()
    jsonschema.validate(tomorrow, outputs_schema())
    outputs = StackOutputs.model_validate_json(json.dumps(tomorrow))

    assert [(s.name, s.target) for s in outputs.skipped_clankers] == [("aider-run", "cloudrun")]
    assert "skipped: its target 'cloudrun' is not one this reader knows" in str(outputs.skipped_clankers[0])
    assert set(outputs.clankers) == set(tomorrow["clankers"]) - {"aider-run"}
    aider = outputs.clankers["aider"]
    assert (aider.harness, aider.agents) == ("aider", ["aider"])
    assert "linux/riscv64" in outputs.images["aider"].every_platform()
    assert outputs.clankers["local-riscv"].deployment_config.platform == "linux/riscv64"
    dumped = outputs.model_dump_json()
    assert not [field for field in ("queues", "attestations", "maxConcurrency", "snapStart") if field in dumped]


def test_today_s_outputs_skip_nothing() -> None:
    assert StackOutputs.model_validate(_dev_outputs()).skipped_clankers == ()


def test_another_schema_version_is_refused_whole() -> None:
    """A bump says the readers of the last version cannot read it: nothing of it is dispatched."""
    outputs = {**_dev_outputs(), "schemaVersion": 2}
    assert _refused(outputs)
    with pytest.raises(pydantic.ValidationError, match="schemaVersion"):
        StackOutputs.model_validate(outputs)


def test_a_plan_document_is_not_stack_outputs_and_the_reader_says_so() -> None:
    plan = committed_plan("Pulumi.dev.yaml").to_json()
    with pytest.raises(pydantic.ValidationError, match=r"a `make plan FORMAT=json` document, not stack outputs: "):
        StackOutputs.model_validate_json(json.dumps(plan))
    assert StackOutputs.model_validate(plan["outputs"]).environment == "dev"


def test_every_version_s_clankers_name_their_harness_and_image() -> None:
    """`runs_harness` and `image`: what a dispatcher asks of any clanker, read the same from outputs written
    before `harness` existed."""
    today = _dev_outputs()
    before_harness = copy.deepcopy(today)
    for clanker in before_harness["clankers"].values():
        del clanker["harness"]
    for document in (today, before_harness):
        for name, clanker in StackOutputs.model_validate(document).clankers.items():
            written = today["clankers"][name]
            assert clanker.runs_harness == written["harness"], name
            renamed = clanker.model_copy(update={"agent": "old-name"})
            assert renamed.runs_harness == ("old-name" if document is before_harness else written["harness"]), name
            config = written["deploymentConfig"]
            assert clanker.image == config["imageUri" if written["target"] == "lambda" else "containerImage"], name


def test_a_docker_clanker_gets_the_bridge_network_unless_its_config_opts_in_to_host() -> None:
    """Host networking would give the agent the host's loopback services and, on EC2, its metadata service."""
    from components.targets.docker import DockerClankerConfig

    outputs = _dev_outputs()
    docker = next(c for c in outputs["clankers"].values() if c["target"] == "docker")
    assert docker["deploymentConfig"]["network"] == "bridge"
    base = {"name": "local", "agent": "kimi", "target": "docker"}
    assert DockerClankerConfig.model_validate({**base, "network": "host"}).network == "host"
    with pytest.raises(ValueError, match="network"):
        DockerClankerConfig.model_validate({**base, "network": "container:other"})


def test_each_clanker_says_where_it_runs_and_which_jobs_it_takes(stack_plan: Plan) -> None:
    """What a dispatcher needs, from the outputs alone: the region to call, the jobs' agents and contract, the
    harness."""
    for name, clanker in stack_plan.outputs["clankers"].items():
        assert clanker["harness"] == clanker["agent"], name
        assert clanker["agents"] == list(HARNESSES[clanker["harness"]].agents), name
        # What a job sent to it carries as `contract`: the label of the images this checkout builds.
        assert stack_plan.outputs["images"][clanker["harness"]]["jobContract"] == job_contract(), name
        deployment = clanker["deploymentConfig"]
        arn = {"lambda": deployment.get("functionArn"), "ecs": deployment.get("cluster")}.get(clanker["target"])
        if arn is None:
            assert "region" not in clanker, f"{name} runs on a local daemon"
        else:
            assert clanker["region"] == arn.split(":")[3], name


def test_an_ecs_clanker_names_the_log_stream_its_task_definition_writes(stack_plan: Plan) -> None:
    definitions = {
        r.inputs["family"]: json.loads(r.inputs["containerDefinitions"])
        for r in stack_plan.of_type("aws:ecs/taskDefinition:TaskDefinition")
    }
    ecs = [c["deploymentConfig"] for c in stack_plan.outputs["clankers"].values() if c["target"] == "ecs"]
    assert len(ecs) == len(definitions)
    for deployment in ecs:
        (container,) = (c for c in definitions[deployment["family"]] if c["name"] == deployment["containerName"])
        options = container["logConfiguration"]["options"]
        assert (deployment["logGroup"], deployment["logStreamPrefix"]) == (
            options["awslogs-group"],
            options["awslogs-stream-prefix"],
        )
