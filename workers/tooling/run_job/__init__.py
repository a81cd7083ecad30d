"""`python -m workers run-job CLANKER --job job.json`: one job on one clanker, from the stack outputs alone.

This is the backend's worker invoker in miniature, and the proof that a clanker's `deploymentConfig` is all an
invoker needs (viberator_contract, the outputs contract):
- docker: the image (the stack's exact reference, or the local alias when the outputs are an offline plan's
  placeholders) runs on the local engine with the job as its bootstrap payload (`/bootstrap/job.json`);
- lambda: the function is invoked with the job as the event through botocore's Lambda client; with `--local`,
  the clanker's image runs under AWS's Lambda emulator (workers/tooling/lambda_emulator.py) with the function's
  memory and timeout, and the same client call reaches it on 127.0.0.1;
- ecs: `RunTask` on the cluster, subnets, security groups and public-IP setting of the deployment config, the
  job as the container's VIBERATOR_JOB override; the result is the task's last `VIBERATOR_RESULT` log line.

Exit codes: 0 the job succeeded; 1 it ran and did not succeed (failed, timed out, cancelled, invalid);
2 bad input (unknown clanker, a job that fails the job schema, unreadable outputs); 3 the image speaks another
job contract; 4 the job could not be run (no engine, no image, the emulator or the task did not start).

This package's modules: `job` (the request, the job and result documents, the exit codes), `local` (docker and
the Lambda emulator on this machine), `cloud` (Lambda Invoke and ECS RunTask through botocore); here, the
dispatch by target and the translation of AWS errors into exit codes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, assert_never

from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from viberator_contract import DockerClankerEntry, EcsClankerEntry, LambdaClankerEntry
from workers.tooling import ecr
from workers.tooling.engine import Engine
from workers.tooling.run_job.cloud import Clients, botocore_clients, invoke_lambda, run_ecs_task
from workers.tooling.run_job.job import (
    EXIT_JOB_FAILED,
    EXIT_NOT_RUN,
    EXIT_REFUSED,
    EXIT_SUCCEEDED,
    EXIT_USAGE,
    JOB_SCHEMA,
    REFUSE_UNVERIFIABLE,
    RESULT_LINE_PREFIX,
    JobRequest,
    RunJobError,
    load_job,
)
from workers.tooling.run_job.local import FAKE_MOUNT, IMAGE_PATH, run_docker, run_lambda_local

__all__ = [
    "EXIT_JOB_FAILED",
    "EXIT_NOT_RUN",
    "EXIT_REFUSED",
    "EXIT_SUCCEEDED",
    "EXIT_USAGE",
    "FAKE_MOUNT",
    "IMAGE_PATH",
    "JOB_SCHEMA",
    "REFUSE_UNVERIFIABLE",
    "RESULT_LINE_PREFIX",
    "Clients",
    "JobRequest",
    "RunJobError",
    "botocore_clients",
    "load_job",
    "run_job",
]


def run_job(
    request: JobRequest,
    engine: Engine,
    clients: Clients,
    say: Callable[[str], None],
    aws: ecr.Aws | None = None,
) -> dict[str, Any]:
    """Run the job on the clanker and return its result document (RunJobError when it could not run).

    `aws`: how a local run logs in to pull an ECR image it lacks (None: pull with the user's own login)."""
    try:
        return _run(request, engine, clients, say, aws)
    except ClientError as refused:
        error = refused.response.get("Error", {})
        raise RunJobError(
            f"{refused.operation_name} refused: {error.get('Code', '?')}: {error.get('Message', '')}", EXIT_NOT_RUN
        ) from None
    except WaiterError as waited:
        raise RunJobError(f"gave up waiting for the task: {waited}", EXIT_NOT_RUN) from None
    except BotoCoreError as failed:  # no credentials, no region, an endpoint that does not answer
        raise RunJobError(f"AWS could not be called: {failed}", EXIT_NOT_RUN) from None


def _run(
    request: JobRequest, engine: Engine, clients: Clients, say: Callable[[str], None], aws: ecr.Aws | None
) -> dict[str, Any]:
    entry = request.deployment
    if isinstance(entry, DockerClankerEntry):
        return run_docker(request, entry.deployment_config, engine, aws, say)
    if isinstance(entry, LambdaClankerEntry):
        if request.local:
            return run_lambda_local(request, entry.deployment_config, engine, clients, aws, say)
        return invoke_lambda(request, entry.deployment_config, clients)
    if isinstance(entry, EcsClankerEntry):
        return run_ecs_task(request, entry.deployment_config, clients, say)
    # The contract skips a clanker of a target it does not know (its reader reports it): one it adds fails mypy here.
    assert_never(entry)
