"""A dispatcher written against the outputs contract alone (docs/contract.md): it reads a stack's outputs, picks a
clanker whose image takes the job (its agent and contract), and runs the job there (Lambda Invoke, ECS RunTask,
`docker run`).

It imports `viberator_contract` (which needs pydantic) and botocore (boto3's clients take the same calls), and
nothing else of viberator-workers; tests/contracts/test_dispatcher_example.py runs it against stubbed AWS APIs.

    python examples/dispatcher.py outputs.json job.json    # outputs.json: `pulumi stack output --json`
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from viberator_contract import DockerClankerEntry, EcsClankerEntry, LambdaClankerEntry, StackOutputs

Client = Callable[[str, str], Any]
"""`(service, region) -> botocore client`; e.g. `botocore.session.get_session().create_client`."""

RESULT_LINE = "VIBERATOR_RESULT "
"""The worker prints its result document on one line with this prefix (stdout, so the ECS log stream too)."""


def choose(
    outputs: StackOutputs, job: Mapping[str, Any]
) -> tuple[str, LambdaClankerEntry | EcsClankerEntry | DockerClankerEntry]:
    """The first clanker (by name) whose image holds the job's agent CLI and speaks its job contract."""
    for skipped in outputs.skipped_clankers:  # a target newer than this contract: not ours to run
        print(skipped, file=sys.stderr)
    for name, clanker in sorted(outputs.clankers.items()):
        image = outputs.images.get(clanker.runs_harness)
        speaks = image.job_contract if image is not None else None
        if job["agent"] in (clanker.agents or ()) and (speaks or "").split(".")[0] == str(job["contract"]):
            return name, clanker
    raise LookupError(f"no clanker takes jobs of contract {job['contract']} for agent {job['agent']!r}")


def _result(lines: Iterable[str]) -> dict[str, Any]:
    found = [line.removeprefix(RESULT_LINE) for line in lines if line.startswith(RESULT_LINE)]
    if not found:
        raise RuntimeError("the worker printed no result line")
    return dict(json.loads(found[-1]))


def dispatch(
    clanker: LambdaClankerEntry | EcsClankerEntry | DockerClankerEntry,
    job: Mapping[str, Any],
    client: Client,
    key_variables: Sequence[str] = (),
) -> dict[str, Any]:
    """Runs `job` on `clanker` and returns its result document. `key_variables`: for a docker clanker, the names
    of this process's variables holding the agent's API key (cloud clankers hold theirs as secrets)."""
    deployment = clanker.deployment_config
    if isinstance(clanker, LambdaClankerEntry):
        assert clanker.region is not None  # outputs before `region` have no `agents` either: never chosen
        response = client("lambda", clanker.region).invoke(
            FunctionName=deployment.function_arn, InvocationType="RequestResponse", Payload=json.dumps(job)
        )
        return dict(json.loads(response["Payload"].read()))
    if isinstance(clanker, EcsClankerEntry):
        assert clanker.region is not None
        ecs, logs = client("ecs", clanker.region), client("logs", clanker.region)
        network = {
            "subnets": deployment.subnets,
            "securityGroups": deployment.security_groups,
            "assignPublicIp": "ENABLED" if deployment.assign_public_ip else "DISABLED",
        }
        # RunTask's overrides hold 8192 characters in all: a long prompt needs another way in.
        override = {
            "name": deployment.container_name,
            "environment": [{"name": "VIBERATOR_JOB", "value": json.dumps(job)}],
        }
        (task,) = ecs.run_task(
            cluster=deployment.cluster,
            taskDefinition=deployment.task_definition_arn,
            launchType="FARGATE",
            networkConfiguration={"awsvpcConfiguration": network},
            overrides={"containerOverrides": [override]},
        )["tasks"]
        ecs.get_waiter("tasks_stopped").wait(cluster=deployment.cluster, tasks=[task["taskArn"]])
        stream = f"{deployment.log_stream_prefix}/{deployment.container_name}/{task['taskArn'].rsplit('/', 1)[-1]}"
        lines: list[str] = []
        token: str | None = None
        while True:  # GetLogEvents pages until its forward token comes back unchanged
            page = logs.get_log_events(
                logGroupName=deployment.log_group,
                logStreamName=stream,
                startFromHead=True,
                **({"nextToken": token} if token else {}),
            )
            lines += [event["message"] for event in page["events"]]
            if page["nextForwardToken"] == token:
                return _result(lines)
            token = page["nextForwardToken"]
    # docker: the job in the container's environment, the agent's key from ours.
    command = ["docker", "run", "--rm", "--network", deployment.network or "bridge", "--env", "VIBERATOR_JOB"]
    for name in key_variables:
        command += ["--env", name]
    environment = {**os.environ, "VIBERATOR_JOB": json.dumps(job)}
    ran = subprocess.run([*command, deployment.container_image, "job"], env=environment, capture_output=True, text=True)
    return _result(ran.stdout.splitlines())


if __name__ == "__main__":
    import botocore.session

    with open(sys.argv[1]) as outputs_file, open(sys.argv[2]) as job_file:
        outputs, job = StackOutputs.model_validate_json(outputs_file.read()), json.load(job_file)
    name, clanker = choose(outputs, job)
    print(f"dispatching to {name} ({clanker.target})", file=sys.stderr)
    print(json.dumps(dispatch(clanker, job, botocore.session.get_session().create_client)))
