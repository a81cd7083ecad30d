"""`run-job` without an engine or AWS: job and outputs checks, and the Lambda and ECS API calls through
botocore's Stubber, which validates every request against the service's own model (a parameter the API does
not have, or a wrong type, fails the test as AWS would refuse the call).

`run-job --local` (the Lambda emulator, a docker clanker's image and network) has tests/tooling/test_run_job_local.py.
"""

from __future__ import annotations

import copy
import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from viberator_worker import JOB_CONTRACT_VERSION

from offline_plan.stacks import plan_stack_file
from tests.agent_secrets import with_agent_key
from tests.botocore_stubs import StubbedClients
from tests.conftest import sample_plan
from viberator_contract import Clanker
from workers.catalog import PROJECT_DIR
from workers.tooling import run_job, stack_outputs
from workers.tooling.cli import main
from workers.tooling.run_job import JobRequest, RunJobError

EXAMPLE_JOB = PROJECT_DIR / "examples" / "bootstrap" / "job.json"
RESULT = {
    "contract": JOB_CONTRACT_VERSION,
    "job_id": "compose-example",
    "status": "succeeded",
    "exit_code": 0,
    "output_tail": "hello",
}


@pytest.fixture(scope="module")
def dev_outputs() -> dict[str, Any]:
    """The sample dev plan's outputs (its clankers the tests' own), standing in for `pulumi stack output --json` of
    a deployed dev."""
    return copy.deepcopy(sample_plan("dev").outputs)


def entry(outputs: dict[str, Any], clanker: str) -> Clanker:
    """The clanker's entry as run-job reads it: through the contract's models."""
    return stack_outputs.from_document(outputs, "the dev outputs").clanker(clanker)


def request(outputs: dict[str, Any], clanker: str, **options: Any) -> JobRequest:
    return JobRequest(
        clanker=clanker,
        deployment=entry(outputs, clanker),
        job=run_job.load_job(EXAMPLE_JOB),
        placeholder=False,
        **options,
    )


def test_the_result_line_prefix_is_the_workers_own() -> None:
    from viberator_worker.job_mode import RESULT_LINE_PREFIX

    assert run_job.RESULT_LINE_PREFIX == RESULT_LINE_PREFIX


def test_a_job_that_fails_the_schema_is_refused_naming_each_problem(tmp_path: Path) -> None:
    job = tmp_path / "job.json"
    job.write_text(
        json.dumps({"contract": JOB_CONTRACT_VERSION, "id": "x", "agent": "nobody", "prompt": "", "extra": 1})
    )
    with pytest.raises(RunJobError) as refused:
        run_job.load_job(job)
    assert refused.value.exit_code == run_job.EXIT_USAGE
    message = str(refused.value)
    assert "agent: 'nobody' is not one of" in message and "prompt: '' should be non-empty" in message
    assert "Additional properties are not allowed ('extra' was unexpected)" in message


def test_an_unknown_clanker_lists_the_known_ones(tmp_path: Path, dev_outputs: dict[str, Any]) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(dev_outputs))
    outputs = stack_outputs.from_file(path)
    assert outputs.placeholder is False
    with pytest.raises(
        stack_outputs.OutputsError, match=r"no clanker 'nope' in .*; it has: claude-ecs, codex-floating"
    ):
        outputs.clanker("nope")


def test_a_plan_document_is_read_as_placeholder_outputs(tmp_path: Path) -> None:
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(sample_plan("dev").to_json()))
    outputs = stack_outputs.from_file(path)
    assert outputs.placeholder is True and "local-kimi" in outputs.document.clankers


def test_without_a_pulumi_cli_a_stack_s_outputs_are_its_offline_plan_s(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fallback runs the plan engine's command line (the tooling never imports the program); an invalid
    config is reported with the engine's message, not a traceback. A stack of one Lambda clanker: what is read is
    the command line's document, which a bigger stack would only make slower to plan."""
    monkeypatch.setenv("PATH", "/nonexistent")
    config = {
        "aws:region": "us-east-1",
        "viberator:harnesses": ["claude"],
        "viberator:clankers": [with_agent_key({"name": "worker", "agent": "claude", "target": "lambda"})],
    }
    (tmp_path / "Pulumi.small.yaml").write_text(yaml.safe_dump({"config": config}))
    said: list[str] = []
    outputs = stack_outputs.from_stack("small", said.append, project_dir=tmp_path)
    # The stack's plan, in another process (whose placeholder digests differ): the same clankers and images.
    planned = plan_stack_file(tmp_path / "Pulumi.small.yaml").outputs
    assert outputs.placeholder
    assert (sorted(outputs.document.clankers), sorted(outputs.document.images)) == (
        sorted(planned["clankers"]),
        sorted(planned["images"]),
    )
    assert "no Pulumi CLI on PATH" in said[0]
    (tmp_path / "Pulumi.broken.yaml").write_text("config:\n  viberator:keepImages: many\n")
    with pytest.raises(
        stack_outputs.OutputsError,
        match=r"(?s)the offline plan of Pulumi.broken.yaml failed: .*viberator:keepImages = \"many\"",
    ):
        stack_outputs.from_stack("broken", said.append, project_dir=tmp_path)


def test_a_lambda_clanker_is_invoked_with_the_job_as_its_event(dev_outputs: dict[str, Any]) -> None:
    clients = StubbedClients()
    arn = dev_outputs["clankers"]["multi-agent"]["deploymentConfig"]["functionArn"]
    payload = io.BytesIO(json.dumps(RESULT).encode())
    clients.stub("lambda").add_response(
        "invoke",
        {"StatusCode": 200, "Payload": payload},
        {
            "FunctionName": arn,
            "InvocationType": "RequestResponse",
            "Payload": json.dumps(run_job.load_job(EXAMPLE_JOB)),
        },
    )
    result = run_job.run_job(request(dev_outputs, "multi-agent"), engine=None, clients=clients, say=print)  # type: ignore[arg-type]
    assert result == RESULT
    assert clients.calls == [("lambda", "us-east-1", None)]
    clients.verify()


def test_a_failing_function_is_reported_with_its_error(dev_outputs: dict[str, Any]) -> None:
    clients = StubbedClients()
    error = io.BytesIO(b'{"errorType": "Runtime.ExitError", "errorMessage": "exit status 2"}')
    clients.stub("lambda").add_response("invoke", {"StatusCode": 200, "FunctionError": "Unhandled", "Payload": error})
    with pytest.raises(RunJobError, match=r"failed \(Unhandled\): .*Runtime.ExitError") as failed:
        run_job.run_job(request(dev_outputs, "multi-agent"), engine=None, clients=clients, say=print)  # type: ignore[arg-type]
    assert failed.value.exit_code == run_job.EXIT_JOB_FAILED


def test_an_offline_plan_has_no_function_to_invoke(dev_outputs: dict[str, Any]) -> None:
    planned = JobRequest("multi-agent", entry(dev_outputs, "multi-agent"), {}, placeholder=True)
    with pytest.raises(RunJobError, match="--local runs its image under the Lambda emulator"):
        run_job.run_job(planned, engine=None, clients=StubbedClients(), say=print)  # type: ignore[arg-type]


def _ecs_stubs(
    clients: StubbedClients,
    config: dict[str, Any],
    task: dict[str, Any],
    log_lines: list[str],
    described: bool = False,
) -> None:
    """`described`: the outputs lack `logGroup`/`logStreamPrefix` (written before them): the task definition says."""
    task_arn = "arn:aws:ecs:us-east-1:123456789012:task/viberator-dev/0123456789abcdef0123456789abcdef"
    job = json.dumps(run_job.load_job(EXAMPLE_JOB))
    ecs = clients.stub("ecs")
    ecs.add_response(
        "run_task",
        {"tasks": [{"taskArn": task_arn, "lastStatus": "PROVISIONING"}], "failures": []},
        {
            "cluster": config["cluster"],
            "taskDefinition": config["taskDefinitionArn"],
            "launchType": "FARGATE",
            "count": 1,
            "startedBy": "viberator-run-job",
            "networkConfiguration": {
                "awsvpcConfiguration": {
                    "subnets": config["subnets"],
                    "securityGroups": config["securityGroups"],
                    "assignPublicIp": "ENABLED",
                }
            },
            "overrides": {
                "containerOverrides": [{"name": "worker", "environment": [{"name": "VIBERATOR_JOB", "value": job}]}]
            },
        },
    )
    stopped = {"tasks": [{"taskArn": task_arn, "lastStatus": "STOPPED", **task}], "failures": []}
    ecs.add_response("describe_tasks", stopped, {"cluster": config["cluster"], "tasks": [task_arn]})  # the waiter
    ecs.add_response("describe_tasks", stopped, {"cluster": config["cluster"], "tasks": [task_arn]})
    if not log_lines:
        return
    if described:
        _describe_stub(ecs, config)
    stream = {
        "logGroupName": "/ecs/viberator-dev-claude-ecs",
        "logStreamName": "claude-ecs/worker/0123456789abcdef0123456789abcdef",
        "startFromHead": True,
    }
    events = [{"timestamp": 1, "message": line, "ingestionTime": 2} for line in log_lines]
    logs = clients.stub("logs")
    logs.add_response("get_log_events", {"events": events, "nextForwardToken": "f/1"}, stream)
    logs.add_response("get_log_events", {"events": [], "nextForwardToken": "f/1"}, {**stream, "nextToken": "f/1"})


def _describe_stub(ecs: Any, config: dict[str, Any]) -> None:
    definition = {
        "taskDefinitionArn": config["taskDefinitionArn"],
        "containerDefinitions": [
            {
                "name": "worker",
                "logConfiguration": {
                    "logDriver": "awslogs",
                    "options": {
                        "awslogs-group": "/ecs/viberator-dev-claude-ecs",
                        "awslogs-region": "us-east-1",
                        "awslogs-stream-prefix": "claude-ecs",
                    },
                },
            }
        ],
    }
    ecs.add_response(
        "describe_task_definition", {"taskDefinition": definition}, {"taskDefinition": config["taskDefinitionArn"]}
    )


def test_an_ecs_clanker_runs_a_task_and_reads_the_result_from_its_log_stream(dev_outputs: dict[str, Any]) -> None:
    clients = StubbedClients()
    config = dev_outputs["clankers"]["claude-ecs"]["deploymentConfig"]
    lines = ["starting", f"VIBERATOR_RESULT {json.dumps(RESULT)}"]
    _ecs_stubs(clients, config, {"containers": [{"name": "worker", "exitCode": 0}]}, lines)
    result = run_job.run_job(request(dev_outputs, "claude-ecs"), engine=None, clients=clients, say=print)  # type: ignore[arg-type]
    assert result == RESULT
    assert {service for service, *_ in clients.calls} == {"ecs", "logs"}
    clients.verify()


def test_outputs_written_before_the_log_fields_read_the_stream_from_the_task_definition(
    dev_outputs: dict[str, Any],
) -> None:
    clients = StubbedClients()
    written_before = copy.deepcopy(dev_outputs)
    ecs = written_before["clankers"]["claude-ecs"]
    for field in ("logGroup", "logStreamPrefix"):
        del ecs["deploymentConfig"][field]
    del ecs["region"]
    lines = [f"VIBERATOR_RESULT {json.dumps(RESULT)}"]
    _ecs_stubs(clients, ecs["deploymentConfig"], {"containers": [{"name": "worker", "exitCode": 0}]}, lines, True)
    older = JobRequest("claude-ecs", entry(written_before, "claude-ecs"), run_job.load_job(EXAMPLE_JOB), False)
    assert run_job.run_job(older, engine=None, clients=clients, say=print) == RESULT  # type: ignore[arg-type]
    assert {region for _, region, _ in clients.calls} == {"us-east-1"}
    clients.verify()


def test_a_task_that_never_ran_its_container_names_the_stopped_reason(dev_outputs: dict[str, Any]) -> None:
    clients = StubbedClients()
    config = dev_outputs["clankers"]["claude-ecs"]["deploymentConfig"]
    reason = "CannotPullContainerError: pull image manifest has been retried 5 time(s)"
    _ecs_stubs(clients, config, {"stoppedReason": reason, "containers": [{"name": "worker"}]}, [])
    with pytest.raises(RunJobError, match="stopped before its container ran: CannotPullContainerError") as failed:
        run_job.run_job(request(dev_outputs, "claude-ecs"), engine=None, clients=clients, say=print)  # type: ignore[arg-type]
    assert failed.value.exit_code == run_job.EXIT_NOT_RUN


def test_run_task_failures_are_named(dev_outputs: dict[str, Any]) -> None:
    clients = StubbedClients()
    failure = {"arn": "arn:aws:ecs:us-east-1:123456789012:container-instance/x", "reason": "RESOURCE:ENI"}
    clients.stub("ecs").add_response("run_task", {"tasks": [], "failures": [failure]})
    with pytest.raises(RunJobError, match=r"RunTask did not start a task: .*RESOURCE:ENI"):
        run_job.run_job(request(dev_outputs, "claude-ecs"), engine=None, clients=clients, say=print)  # type: ignore[arg-type]


def test_cli_bad_input_exits_2_and_a_missing_engine_exits_4(
    tmp_path: Path, dev_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    outputs = tmp_path / "outputs.json"
    outputs.write_text(json.dumps(dev_outputs))
    assert main(["run-job", "nope", "--job", str(EXAMPLE_JOB), "--outputs", str(outputs)]) == 2
    assert "no clanker 'nope'" in capsys.readouterr().err
    monkeypatch.setenv("VIBERATOR_DOCKER", str(tmp_path / "no-docker"))
    assert main(["run-job", "local-kimi", "--job", str(EXAMPLE_JOB), "--outputs", str(outputs)]) == 4
    assert "not found" in capsys.readouterr().err


def test_a_job_too_large_for_run_task_overrides_is_refused_before_any_call(dev_outputs: dict[str, Any]) -> None:
    clients = StubbedClients()
    big = JobRequest(
        "claude-ecs",
        entry(dev_outputs, "claude-ecs"),
        {**run_job.load_job(EXAMPLE_JOB), "prompt": "x" * 9000},
        False,
    )
    with pytest.raises(RunJobError, match=r"too large for RunTask's overrides \(\d+ characters, at most 8192\)"):
        run_job.run_job(big, engine=None, clients=clients, say=print)  # type: ignore[arg-type]
    assert clients.calls == []


def test_aws_refusing_a_call_is_reported_not_raised(dev_outputs: dict[str, Any]) -> None:
    clients = StubbedClients()
    clients.stub("ecs").add_client_error(
        "run_task", service_error_code="AccessDeniedException", service_message="not authorized to perform RunTask"
    )
    with pytest.raises(RunJobError, match="RunTask refused: AccessDeniedException: not authorized") as failed:
        run_job.run_job(request(dev_outputs, "claude-ecs"), engine=None, clients=clients, say=print)  # type: ignore[arg-type]
    assert failed.value.exit_code == run_job.EXIT_NOT_RUN


def test_no_credentials_is_reported_not_raised(dev_outputs: dict[str, Any]) -> None:
    from botocore.exceptions import NoCredentialsError

    def no_credentials(service: str, region: str, endpoint_url: str | None = None) -> Any:
        raise NoCredentialsError()

    with pytest.raises(RunJobError, match="AWS could not be called: Unable to locate credentials") as failed:
        run_job.run_job(request(dev_outputs, "multi-agent"), engine=None, clients=no_credentials, say=print)  # type: ignore[arg-type]
    assert failed.value.exit_code == run_job.EXIT_NOT_RUN
