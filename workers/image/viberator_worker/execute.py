"""One job, start to result document: shared by the job (ECS/Docker) and Lambda modes."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from viberator_worker.agents import agent
from viberator_worker.contract import InvalidJob, Job, result_document
from viberator_worker.runner import run_agent

WORKER_ENV_PREFIX = "VIBERATOR_"
"""The worker's own settings (the job itself, secret ARNs, paths) are not the agent's business."""


def now() -> datetime:
    return datetime.now(UTC)


def agent_environment(worker_env: Mapping[str, str], job: Job) -> dict[str, str]:
    env = {name: value for name, value in worker_env.items() if not name.startswith(WORKER_ENV_PREFIX)}
    env.update(job.env)
    return env


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
) -> dict[str, Any]:
    """Runs the job's agent and returns the result document; never raises for the job's own faults."""
    try:
        argv = agent(job.agent).command(job)
    except InvalidJob as exc:
        return invalid_result(str(exc), started_at=started_at, job=job)
    if shutil.which(argv[0], path=worker_env.get("PATH")) is None:
        return invalid_result(
            f"agent: {job.agent} ({argv[0]}) is not installed in this image", started_at=started_at, job=job
        )
    try:
        Path(job.workdir).mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return result_document(
            job_id=job.id,
            agent=job.agent,
            status="failed",
            exit_code=None,
            started_at=started_at,
            finished_at=now(),
            error=f"workdir {job.workdir}: {exc.strerror}",
        )
    outcome = run_agent(
        argv,
        cwd=job.workdir,
        env=agent_environment(worker_env, job),
        timeout_seconds=job.timeout_seconds,
        stop_requested=stop_requested,
        sink=sink,
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
