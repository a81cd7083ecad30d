"""examples/dispatcher.py, the dispatcher docs/contract.md shows: written against the contract alone, it runs a
job on each target of the dev stack's outputs (AWS through botocore Stubbers, docker through a stand-in binary
that records its command line)."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from viberator_worker import JOB_CONTRACT_VERSION

from tests.botocore_stubs import StubbedClients
from tests.conftest import committed_plan
from tests.contracts.test_outputs_contract import PROJECT_PACKAGES
from viberator_contract import StackOutputs
from workers.catalog import PROJECT_DIR, agent_key_variables

EXAMPLE = PROJECT_DIR / "examples" / "dispatcher.py"
RESULT = {"contract": JOB_CONTRACT_VERSION, "job_id": "j", "status": "succeeded", "exit_code": 0, "output_tail": "done"}


def _dispatcher() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dispatcher_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _outputs() -> StackOutputs:
    return StackOutputs.model_validate(committed_plan("Pulumi.dev.yaml").outputs)


def _clanker(target: str) -> Any:
    return next(c for _, c in sorted(_outputs().clankers.items()) if c.target == target)


def _job(clanker: Any) -> dict[str, Any]:
    return {"contract": JOB_CONTRACT_VERSION, "id": "j", "agent": clanker.agents[0], "prompt": "say done"}


def test_it_imports_the_contract_and_nothing_else_of_the_project(tmp_path: Path) -> None:
    shutil.copytree(PROJECT_DIR / "viberator_contract", tmp_path / "viberator_contract")
    shutil.copy(EXAMPLE, tmp_path / "dispatcher.py")
    probe = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import dispatcher; print(sorted(sys.modules))"
    imported = subprocess.run([sys.executable, "-I", "-c", probe], cwd=tmp_path, capture_output=True, text=True)
    assert imported.returncode == 0, imported.stderr
    loaded = {name.split(".")[0] for name in json.loads(imported.stdout.replace("'", '"'))}
    assert not loaded & {*PROJECT_PACKAGES, "pulumi", "pulumi_aws"}


def test_it_chooses_a_clanker_whose_image_takes_the_job_s_agent_and_contract() -> None:
    dispatcher, outputs = _dispatcher(), _outputs()
    for agent in {agent for clanker in outputs.clankers.values() for agent in clanker.agents or ()}:
        _, chosen = dispatcher.choose(outputs, {"agent": agent, "contract": JOB_CONTRACT_VERSION})
        assert agent in chosen.agents
    with pytest.raises(LookupError, match="no clanker takes jobs of contract 2 for agent 'aider'"):
        dispatcher.choose(outputs, {"agent": "aider", "contract": 2})
    with pytest.raises(LookupError, match="of contract 1 for agent"):
        dispatcher.choose(outputs, {"agent": agent, "contract": 1})


def test_a_lambda_clanker_is_invoked_in_its_region() -> None:
    clanker, clients = _clanker("lambda"), StubbedClients()
    job = _job(clanker)
    clients.stub("lambda").add_response(
        "invoke",
        {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(RESULT).encode())},
        {
            "FunctionName": clanker.deployment_config.function_arn,
            "InvocationType": "RequestResponse",
            "Payload": json.dumps(job),
        },
    )
    assert _dispatcher().dispatch(clanker, job, clients) == RESULT
    assert clients.calls == [("lambda", clanker.region, None)]
    clients.verify()


def test_an_ecs_clanker_runs_a_task_and_reads_its_result_from_the_stream_the_outputs_name() -> None:
    clanker, clients = _clanker("ecs"), StubbedClients()
    deployment, job = clanker.deployment_config, _job(clanker)
    task_arn = "arn:aws:ecs:us-east-1:123456789012:task/viberator-dev/0123456789abcdef0123456789abcdef"
    ecs = clients.stub("ecs")
    override = {"name": deployment.container_name, "environment": [{"name": "VIBERATOR_JOB", "value": json.dumps(job)}]}
    ecs.add_response(
        "run_task",
        {"tasks": [{"taskArn": task_arn}]},
        {
            "cluster": deployment.cluster,
            "taskDefinition": deployment.task_definition_arn,
            "launchType": "FARGATE",
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": deployment.subnets,
                    "securityGroups": deployment.security_groups,
                    "assignPublicIp": "ENABLED" if deployment.assign_public_ip else "DISABLED",
                }
            },
            "overrides": {"containerOverrides": [override]},
        },
    )
    ecs.add_response("describe_tasks", {"tasks": [{"taskArn": task_arn, "lastStatus": "STOPPED"}]})
    stream = {
        "logGroupName": deployment.log_group,
        "logStreamName": f"{deployment.log_stream_prefix}/{deployment.container_name}/0123456789abcdef0123456789abcdef",
        "startFromHead": True,
    }
    line = f"VIBERATOR_RESULT {json.dumps(RESULT)}"
    logs = clients.stub("logs")
    logs.add_response("get_log_events", {"events": [{"message": "starting"}], "nextForwardToken": "f/1"}, stream)
    logs.add_response(
        "get_log_events", {"events": [{"message": line}], "nextForwardToken": "f/2"}, {**stream, "nextToken": "f/1"}
    )
    logs.add_response("get_log_events", {"events": [], "nextForwardToken": "f/2"}, {**stream, "nextToken": "f/2"})
    assert _dispatcher().dispatch(clanker, job, clients) == RESULT
    assert {(service, region) for service, region, _ in clients.calls} == {
        ("ecs", clanker.region),
        ("logs", clanker.region),
    }
    clients.verify()


def test_a_docker_clanker_runs_its_image_with_the_job_and_the_agent_s_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clanker = _clanker("docker")
    job = _job(clanker)
    key = agent_key_variables()[job["agent"]][0]
    recorded = tmp_path / "docker-run.json"
    docker = tmp_path / "docker"
    docker.write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        f"json.dump({{'argv': sys.argv[1:], 'job': os.environ.get('VIBERATOR_JOB'), "
        f"'key': os.environ.get({key!r})}}, open({str(recorded)!r}, 'w'))\n"
        f"print('starting'); print('VIBERATOR_RESULT ' + {json.dumps(json.dumps(RESULT))})\n"
    )
    docker.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv(key, "sk-test")
    assert _dispatcher().dispatch(clanker, job, StubbedClients(), [key]) == RESULT
    ran = json.loads(recorded.read_text())
    network = clanker.deployment_config.network or "bridge"
    assert ran["argv"] == [
        *("run", "--rm", "--network", network, "--env", "VIBERATOR_JOB", "--env", key),
        clanker.deployment_config.container_image,
        "job",
    ]
    assert (json.loads(ran["job"]), ran["key"]) == (job, "sk-test")
