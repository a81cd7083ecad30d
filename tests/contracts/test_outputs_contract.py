"""The outputs contract (viberator_contract): importable without Pulumi, its committed JSON Schema the one its
models generate, and the constraints the generated schema must keep."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from typing import Any

import jsonschema
import pytest

from offline_plan.engine import PROJECT_DIR
from tests.conftest import committed_plan
from viberator_contract.schema import SCHEMA_PATH, outputs_schema, schema_text


def test_the_contract_imports_without_pulumi() -> None:
    probe = "import sys, viberator_contract.schema; print(sorted(m for m in sys.modules if m.startswith('pulumi')))"
    imported = subprocess.run([sys.executable, "-c", probe], cwd=PROJECT_DIR, capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    assert imported.stdout.strip() == "[]"


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


def test_image_keys_are_harnesses() -> None:
    outputs = _dev_outputs()
    outputs["images"]["no-such-harness"] = outputs["images"]["claude"]
    assert _refused(outputs)


def test_an_optional_field_is_absent_never_null() -> None:
    outputs = _dev_outputs()
    outputs["signing"] = None
    assert _refused(outputs)
    outputs = _dev_outputs()
    next(iter(outputs["clankers"].values()))["imageRegion"] = None
    assert _refused(outputs)


def test_fields_the_contract_does_not_declare_are_refused_by_the_schema_and_ignored_by_readers() -> None:
    from viberator_contract import StackOutputs

    outputs = _dev_outputs()
    outputs["images"]["claude"]["addedLater"] = "x"
    assert _refused(outputs)
    assert "addedLater" not in json.dumps(StackOutputs.model_validate(outputs).model_dump())


@pytest.mark.parametrize("target", ["lambda", "ecs", "docker"])
def test_each_target_s_deployment_config_is_checked_by_its_own_model(target: str) -> None:
    outputs = _dev_outputs()
    name, clanker = next((n, c) for n, c in outputs["clankers"].items() if c["target"] == target)
    other = next(c for c in outputs["clankers"].values() if c["target"] != target)
    outputs["clankers"][name] = {**clanker, "deploymentConfig": other["deploymentConfig"]}
    assert _refused(outputs)


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
