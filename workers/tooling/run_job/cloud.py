"""The runners that reach AWS through botocore: a Lambda function's Invoke, and an ECS task started with RunTask
whose result is the last `VIBERATOR_RESULT` line of its awslogs stream.

Also the botocore clients every run-job call uses (the local Lambda emulator is reached with the same `invoke`).
What runs on this machine (docker, the emulator) is `local`'s.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from viberator_contract import EcsDeployment, LambdaDeployment
from workers.tooling.run_job.job import (
    EXIT_JOB_FAILED,
    EXIT_NOT_RUN,
    EXIT_USAGE,
    RESULT_LINE_PREFIX,
    JobRequest,
    RunJobError,
    parse_result,
)

JOB_VARIABLE = "VIBERATOR_JOB"
RUN_TASK_OVERRIDES_MAX = 8192
"""RunTask: "A total of 8192 characters are allowed for overrides", JSON formatting included (ECS API reference)."""
ARN_REGION = re.compile(r"^arn:[a-z-]+:[a-z0-9-]+:(?P<region>[a-z0-9-]+):")


class Clients(Protocol):
    """botocore clients by service and region (tests hand in Stubber-backed ones)."""

    def __call__(self, service: str, region: str, endpoint_url: str | None = None) -> Any: ...


def botocore_clients(service: str, region: str, endpoint_url: str | None = None) -> Any:
    """The standard credential chain, and no retries or short read timeouts: a job runs for minutes."""
    import botocore.session
    from botocore.config import Config

    config = Config(read_timeout=960, connect_timeout=10, retries={"max_attempts": 1})
    session = botocore.session.get_session()
    if endpoint_url is None:
        return session.create_client(service, region_name=region, config=config)
    # The local emulator takes any signature; no credential of the user's is sent to it.
    return session.create_client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=config,
    )


def invoke(client: Any, function: str, job: Mapping[str, Any]) -> dict[str, Any]:
    """A RequestResponse Invoke of `function` (in AWS or the emulator) with the job as the event."""
    response = client.invoke(FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(job))
    payload = response["Payload"].read().decode()
    if response.get("FunctionError"):
        raise RunJobError(f"{function} failed ({response['FunctionError']}): {payload[:1000]}", EXIT_JOB_FAILED)
    return parse_result(payload, function)


def _region(request: JobRequest, arn: str) -> str:
    """The clanker's `region`; in outputs written before it, the region of its function's or cluster's ARN."""
    return request.deployment.region or _region_of(arn)


def _region_of(arn: str) -> str:
    match = ARN_REGION.match(arn)
    if match is None:
        raise RunJobError(f"{arn!r} is not an ARN with a region", EXIT_USAGE)
    return match["region"]


def invoke_lambda(request: JobRequest, config: LambdaDeployment, clients: Clients) -> dict[str, Any]:
    if request.placeholder:
        raise RunJobError(
            f"{request.clanker} is planned offline, not deployed: there is no function to invoke; "
            "--local runs its image under the Lambda emulator",
            EXIT_USAGE,
        )
    arn = config.function_arn
    return invoke(clients("lambda", _region(request, arn)), arn, request.job)


def run_ecs_task(
    request: JobRequest, config: EcsDeployment, clients: Clients, say: Callable[[str], None]
) -> dict[str, Any]:
    if request.placeholder:
        raise RunJobError(f"{request.clanker} is planned offline, not deployed: there is no task to run", EXIT_USAGE)
    region = _region(request, config.cluster)
    overrides = {
        "containerOverrides": [
            {"name": config.container_name, "environment": [{"name": JOB_VARIABLE, "value": json.dumps(request.job)}]}
        ]
    }
    if len(json.dumps(overrides)) > RUN_TASK_OVERRIDES_MAX:
        raise RunJobError(
            f"the job is too large for RunTask's overrides ({len(json.dumps(overrides))} characters, at most "
            f"{RUN_TASK_OVERRIDES_MAX}): shorten the prompt",
            EXIT_USAGE,
        )
    ecs = clients("ecs", region)
    launched = ecs.run_task(
        cluster=config.cluster,
        taskDefinition=config.task_definition_arn,
        launchType="FARGATE",
        count=1,
        startedBy="viberator-run-job",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": list(config.subnets),
                "securityGroups": list(config.security_groups),
                "assignPublicIp": "ENABLED" if config.assign_public_ip else "DISABLED",
            }
        },
        overrides=overrides,
    )
    if launched.get("failures") or not launched.get("tasks"):
        reasons = "; ".join(f"{f.get('arn', '?')}: {f.get('reason', '?')}" for f in launched.get("failures", []))
        raise RunJobError(f"RunTask did not start a task: {reasons or 'no task returned'}", EXIT_NOT_RUN)
    task_arn = launched["tasks"][0]["taskArn"]
    say(f"started {task_arn}; waiting for it to stop")
    # Fargate takes a minute or two to start; the job's own limit bounds the rest.
    delay = 6
    attempts = math.ceil((int(request.job.get("timeout_seconds", 900)) + 600) / delay)
    ecs.get_waiter("tasks_stopped").wait(
        cluster=config.cluster, tasks=[task_arn], WaiterConfig={"Delay": delay, "MaxAttempts": attempts}
    )
    (task,) = ecs.describe_tasks(cluster=config.cluster, tasks=[task_arn])["tasks"]
    container: dict[str, Any] = next(
        (c for c in task.get("containers", []) if c.get("name") == config.container_name), {}
    )
    if "exitCode" not in container:
        reason = task.get("stoppedReason") or container.get("reason") or "no reason given"
        raise RunJobError(f"task {task_arn} stopped before its container ran: {reason}", EXIT_NOT_RUN)
    line = _last_result_line(clients("logs", region), ecs, config, task_arn)
    if line is None:
        raise RunJobError(
            f"task {task_arn} exited {container['exitCode']} without a result line in its log stream", EXIT_NOT_RUN
        )
    return parse_result(line, task_arn)


def _last_result_line(logs: Any, ecs: Any, config: EcsDeployment, task_arn: str) -> str | None:
    """The container's awslogs stream, `<prefix>/<container>/<task id>` (the awslogs-stream-prefix option: "the
    log stream takes the following format: prefix-name/container-name/ecs-task-id", AWS CDK's AwsLogDriverProps
    reference), in the group the outputs name; outputs written before `logGroup` and `logStreamPrefix` were added
    leave them to the task definition."""
    group, prefix = config.log_group, config.log_stream_prefix
    if not (group and prefix):
        definition = ecs.describe_task_definition(taskDefinition=config.task_definition_arn)["taskDefinition"]
        container = next(c for c in definition["containerDefinitions"] if c["name"] == config.container_name)
        options = container["logConfiguration"]["options"]
        group, prefix = options["awslogs-group"], options["awslogs-stream-prefix"]
    stream = f"{prefix}/{config.container_name}/{task_arn.rsplit('/', 1)[-1]}"
    found: str | None = None
    token: str | None = None
    while True:
        page = logs.get_log_events(
            logGroupName=group,
            logStreamName=stream,
            startFromHead=True,
            **({"nextToken": token} if token else {}),
        )
        for event in page.get("events", []):
            if event["message"].startswith(RESULT_LINE_PREFIX):
                found = event["message"].removeprefix(RESULT_LINE_PREFIX)
        if page.get("nextForwardToken") in (None, token):
            return found
        token = page["nextForwardToken"]
