"""One job, start to result document: shared by the job (ECS/Docker) and Lambda modes."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, BinaryIO

from viberator_worker.agents import agent
from viberator_worker.contract import InvalidJob, Job, result_document
from viberator_worker.environment import agent_environment, secret_values
from viberator_worker.runner import STOP_GRACE_SECONDS, run_agent
from viberator_worker.slate import NoScratchSpace, fresh_slate


def now() -> datetime:
    return datetime.now(UTC)


def invalid_result(error: str, *, started_at: datetime, job: Job | None = None) -> dict[str, Any]:
    return result_document(
        job_id=job.id if job else None,
        agent=job.agent if job else None,
        status="invalid",
        exit_code=None,
        started_at=started_at,
        finished_at=now(),
        error=error,
    )


def execute_job(
    job: Job,
    *,
    worker_env: Mapping[str, str],
    stop_requested: threading.Event,
    sink: BinaryIO,
    started_at: datetime,
    resolved_secrets: Iterable[str] = (),
    grace_seconds: float = STOP_GRACE_SECONDS,
) -> dict[str, Any]:
    """Runs the job's agent on a fresh slate and returns the result document; never raises for the job's own
    faults. `resolved_secrets`: the variables the worker read from Secrets Manager (redacted in the output);
    `grace_seconds`: between the SIGTERM that stops the agent and the SIGKILL."""
    try:
        cli = agent(job.agent)
        argv = cli.command(job)
    except InvalidJob as exc:
        return invalid_result(str(exc), started_at=started_at, job=job)
    if shutil.which(argv[0], path=worker_env.get("PATH")) is None:
        return invalid_result(
            f"agent: {job.agent} ({argv[0]}) is not installed in this image", started_at=started_at, job=job
        )
    try:
        with fresh_slate(worker_env) as slate:
            outcome = run_agent(
                argv,
                cwd=str(slate.workdir),
                env=agent_environment(worker_env, cli, job, slate),
                timeout_seconds=job.timeout_seconds,
                stop_requested=stop_requested,
                sink=sink,
                secrets=tuple(secret_values(worker_env, resolved_secrets)),
                grace_seconds=grace_seconds,
            )
    except NoScratchSpace as exc:
        return result_document(
            job_id=job.id,
            agent=job.agent,
            status="failed",
            exit_code=None,
            started_at=started_at,
            finished_at=now(),
            error=str(exc),
        )
    return result_document(
        job_id=job.id,
        agent=job.agent,
        status=outcome.status,
        exit_code=outcome.exit_code,
        started_at=started_at,
        finished_at=now(),
        output_tail=outcome.output_tail,
        error=outcome.error,
    )
