"""The offline plan's command line, as `make plan` runs it: one JSON document of the documented shape, a bad
config refused with exit 2 naming the key, a promoting stack planned from given outputs, a stack named by its file.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from offline_plan.stacks import plan_stack_file
from tests.conftest import committed_config, committed_plan, make_plan


def test_cli_json_is_one_document_with_the_documented_shape() -> None:
    result = make_plan("--stack", "dev", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert set(document) == {"project", "stack", "mode", "account", "assumptions", "resources", "outputs", "warnings"}
    assert (document["project"], document["stack"]) == ("viberator-workers", "dev")
    resource = document["resources"][1]
    assert set(resource) == {"urn", "type", "name", "parent", "custom", "inputs", "options"}
    assert set(resource["options"]) == {"protect", "retainOnDelete"}


def test_cli_invalid_config_exits_2_naming_the_key(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.broken.yaml"
    stack.write_text(
        yaml.safe_dump(
            {
                "config": {
                    "aws:region": "us-east-1",
                    "viberator:clankers": [{"name": "x", "agent": "claude", "target": "lambda", "memoryMb": 99999}],
                }
            }
        )
    )
    result = make_plan("--config", str(stack))
    assert result.returncode == 2
    assert result.stdout == ""
    assert "viberator:clankers[0].memoryMb = 99999" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_plans_a_promoting_stack_from_given_outputs(tmp_path: Path) -> None:
    dev_outputs = tmp_path / "dev.json"
    dev_outputs.write_text(json.dumps(committed_plan("Pulumi.dev.yaml").outputs))
    outputs = dict(committed_plan("Pulumi.dev.yaml").outputs)
    removed = committed_config("Pulumi.prod.yaml").clankers[0].agent
    outputs["images"] = {k: v for k, v in outputs["images"].items() if k != removed}
    partial = tmp_path / "partial.json"
    partial.write_text(json.dumps(outputs))
    ok = make_plan(
        "--stack",
        "prod",
        "--format",
        "json",
        "--stack-outputs",
        f"viberator/viberator-workers/dev={dev_outputs}",
    )
    assert ok.returncode == 0, ok.stderr
    missing = make_plan("--stack", "prod", "--stack-outputs", f"viberator/viberator-workers/dev={partial}")
    assert missing.returncode == 2
    assert (
        f'viberator:clankers[0].agent = "{removed}": '
        f"the image stack viberator/viberator-workers/dev exports no {removed} image"
    ) in missing.stderr


def test_plan_of_any_file_takes_the_stack_name_from_it(tmp_path: Path) -> None:
    stack = tmp_path / "Pulumi.qa.yaml"
    stack.write_text(yaml.safe_dump({"config": {"aws:region": "eu-west-1", "viberator:harnesses": ["kimi"]}}))
    plan = plan_stack_file(stack)
    assert plan.stack == "qa"
    assert plan.outputs["environment"] == "qa"
    assert (
        plan.outputs["images"]["kimi"]["repositoryUrl"]
        == "000000000000.dkr.ecr.eu-west-1.amazonaws.com/viberator-worker-kimi"
    )
