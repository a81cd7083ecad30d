"""The tooling reads a stack's outputs through the contract's models (viberator_contract): what every stack the
project plans exports is read, and a document the contract does not read is refused with one message naming
the source, each wrong field's path in the outputs and its value, never pydantic's own report.

Which clanker, image and key the commands take from the outputs: tests/tooling/test_run_job.py,
tests/tooling/test_ecr_stack_images.py.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ci.review_stack_file import review_stack_yaml
from offline_plan.stacks import plan_stack_file
from tests.conftest import COMMITTED_STACKS, committed_plan, sample_plan
from tests.tooling import aws_stubs
from tests.tooling.outputs_documents import docker_clanker, outputs_document
from viberator_contract import SCHEMA_VERSION
from workers.catalog import PROJECT_DIR
from workers.tooling import cli, ensure
from workers.tooling.stack_outputs import OutputsError, from_document, from_file

isolated_aws = aws_stubs.isolated_aws  # pytest finds fixtures among a module's attributes

EXAMPLE_JOB = PROJECT_DIR / "examples" / "bootstrap" / "job.json"
PINNED = "123456789012.dkr.ecr.us-east-1.amazonaws.com/viberator-worker-kimi@sha256:" + "a" * 64


def plan_document(plan: Any) -> Any:
    """A plan as `make plan FORMAT=json` prints it and a file holds it."""
    return json.loads(json.dumps(plan.to_json()))


@pytest.mark.parametrize("stack", COMMITTED_STACKS)
def test_every_committed_stack_s_plan_is_read_through_the_contract(stack: str) -> None:
    plan = committed_plan(stack)
    outputs = from_document(plan_document(plan), "plan.json")
    assert outputs.placeholder and outputs.source == "plan.json (an offline plan)"
    assert sorted(outputs.document.clankers) == sorted(plan.outputs["clankers"])
    assert outputs.document.skipped_clankers == ()
    for name, clanker in outputs.document.clankers.items():
        assert clanker.runs_harness == plan.outputs["clankers"][name]["harness"]
        config = plan.outputs["clankers"][name]["deploymentConfig"]
        assert clanker.image == config.get("imageUri", config.get("containerImage"))


@pytest.mark.parametrize("builds_images", [False, True], ids=["dev-digests", "own-builds"])
def test_a_review_stack_s_outputs_are_read_through_the_contract(tmp_path: Path, builds_images: bool) -> None:
    """What the review-stack workflow's run-job reads (`pulumi stack output --json` of `pr-<n>`): of dev's
    digests, with the key the template pins; of its own builds, with none (run-job gets `--public-key`)."""
    stack_file = tmp_path / "Pulumi.pr-7.yaml"
    stack_file.write_text(review_stack_yaml(7, "2026-12-14T14:00:00Z", builds_images=builds_images))
    dev = {"viberator/viberator-workers/dev": committed_plan("Pulumi.dev.yaml").outputs}
    planned = plan_stack_file(stack_file, stack_outputs={} if builds_images else dev).outputs
    outputs = from_document(planned, "stack pr-7")
    assert not outputs.placeholder and sorted(outputs.document.clankers) == sorted(planned["clankers"])
    assert (outputs.document.signing is None) is builds_images


def test_a_document_the_contract_does_not_read_is_one_error_naming_each_field_and_its_value(tmp_path: Path) -> None:
    outputs = copy.deepcopy(sample_plan("dev").outputs)
    outputs["clankers"]["multi-agent"]["deploymentConfig"]["imageUri"] = "nginx:latest"
    outputs["clankers"]["claude-ecs"]["deploymentConfig"]["subnets"] = []
    del outputs["environment"]
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(outputs))
    with pytest.raises(OutputsError) as refused:
        from_file(path)
    message = str(refused.value)
    assert message.startswith(f"{path}: neither a `make plan FORMAT=json` document nor stack outputs as ")
    assert "\n  - environment: missing" in message
    assert (
        '\n  - clankers.multi-agent.lambda.deploymentConfig.imageUri = "nginx:latest": String should match' in message
    )
    assert "\n  - clankers.claude-ecs.ecs.deploymentConfig.subnets = []: List should have at least 1 item" in message
    assert "pydantic" not in message and "validation error" not in message and "type=" not in message


def test_a_plan_s_outputs_are_checked_too_and_its_long_values_shortened(tmp_path: Path) -> None:
    document = plan_document(sample_plan("dev"))
    document["outputs"]["schemaVersion"] = SCHEMA_VERSION + 1
    document["outputs"]["clankers"]["local-kimi"]["deploymentConfig"]["containerImage"] = "x" * 500
    with pytest.raises(OutputsError) as refused:
        from_document(document, "plan.json")
    message = str(refused.value)
    assert message.startswith("plan.json (an offline plan): its outputs are not stack outputs as ")
    assert f"\n  - schemaVersion = {SCHEMA_VERSION + 1}: Input should be {SCHEMA_VERSION}" in message
    assert f'containerImage = "{"x" * 118}…: String should match' in message


def test_a_preview_s_plan_is_refused_for_its_unknown_outputs() -> None:
    document = {**plan_document(sample_plan("dev")), "mode": "preview"}
    with pytest.raises(OutputsError, match=r"plan.json is the plan of a preview: its outputs are known only after"):
        from_document(document, "plan.json")


def test_a_clanker_of_a_target_newer_than_the_contract_is_named_with_its_target() -> None:
    outputs = outputs_document(kimi=docker_clanker(PINNED), later={"agent": "kimi", "target": "k8s"})
    read = from_document(outputs, "stack dev")
    assert list(read.document.clankers) == ["kimi"]
    with pytest.raises(OutputsError, match=r"^stack dev: clanker 'later' skipped: its target 'k8s' is not one"):
        read.clanker("later")
    with pytest.raises(OutputsError, match=r"^no clanker 'nope' in stack dev; it has: kimi$"):
        read.clanker("nope")
    only_later = from_document(outputs_document(later={"agent": "kimi", "target": "k8s"}), "stack dev")
    with pytest.raises(OutputsError, match=r"^stack dev has no clankers; skipped: later \(target 'k8s'\)$"):
        only_later.clanker("nope")
    with pytest.raises(
        ensure.EnsureFailed, match=r"^no clanker of stack dev runs kimi; skipped: later \(target 'k8s'\)$"
    ):
        ensure.stack_image(only_later, "kimi")


@pytest.mark.parametrize(
    ("target", "shown"),
    [
        (None, "clankers.kimi.target: missing"),
        (5, "clankers.kimi.target = 5: not a target's name (this reader knows 'lambda', 'ecs', 'docker')"),
        ([], "clankers.kimi.target = []: not a target's name"),
    ],
)
def test_a_clanker_whose_target_is_missing_or_not_a_name_is_named_by_that_field(target: Any, shown: str) -> None:
    """pydantic reports a discriminator at the entry, the whole entry as its value: the field is named instead."""
    clanker = docker_clanker(PINNED)
    if target is None:
        del clanker["target"]
    else:
        clanker["target"] = target
    with pytest.raises(OutputsError) as refused:
        from_document(outputs_document(kimi=clanker), "stack dev")
    assert f"\n  - {shown}" in str(refused.value)
    assert "deploymentConfig" not in str(refused.value)


def test_json_nested_deeper_than_the_parser_goes_is_not_json(tmp_path: Path) -> None:
    path = tmp_path / "outputs.json"
    path.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(OutputsError, match=r"outputs.json is not JSON: "):
        from_file(path)


@pytest.mark.usefixtures("isolated_aws")
@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["run-job", "kimi", "--job", str(EXAMPLE_JOB)], 2),  # bad input (workers/tooling/run_job)
        (["ensure", "kimi"], 2),  # a document that is not outputs: a usage error, as for run-job
    ],
)
def test_the_commands_refuse_bad_outputs_with_the_field_and_value(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], argv: list[str], code: int
) -> None:
    outputs = outputs_document(kimi=docker_clanker(PINNED, architecture="amd64!"))
    path = tmp_path / "outputs.json"
    path.write_text(yaml.safe_dump(outputs))  # YAML is not JSON either
    assert cli.main([*argv, "--outputs", str(path)]) == code
    assert f"error: {path} is not JSON" in capsys.readouterr().err
    path.write_text(json.dumps(outputs))
    assert cli.main([*argv, "--outputs", str(path)]) == code
    err = capsys.readouterr().err
    assert f"error: {path}: neither a `make plan FORMAT=json` document nor stack outputs" in err
    assert 'clankers.kimi.docker.deploymentConfig.architecture = "amd64!": String should match pattern' in err
    assert "Traceback" not in err


def test_a_key_or_mode_of_the_document_never_reaches_the_terminal_raw() -> None:
    """The outputs are the writer's: a key with a control character or a dot is shown JSON-quoted, so it can
    neither pass for another path nor drive the terminal."""
    outputs = outputs_document(**{"bad\x1b[31m.key": docker_clanker(PINNED)})
    with pytest.raises(OutputsError) as refused:
        from_document(outputs, "stack dev")
    assert '\n  - clankers."bad\\u001b[31m.key" (the key) = ' in str(refused.value)
    assert "\x1b" not in str(refused.value)
    document = {**plan_document(sample_plan("dev")), "mode": "\x1b[2J"}
    with pytest.raises(OutputsError, match=r'^plan.json is the plan of a "\\u001b\[2J": '):
        from_document(document, "plan.json")
