"""`job` mode, for ECS and Docker: one job per container, read from a mounted bootstrap directory or the
environment; the result goes to a file and, as the last line, to stdout (the durable copy in CloudWatch).

Inputs (environment):
- VIBERATOR_JOB: the job document as JSON; when unset, $VIBERATOR_BOOTSTRAP_DIR/job.json (default
  /bootstrap/job.json) is read.
- VIBERATOR_RESULT_PATH: where the result document is written (default /results/result.json).
- VIBERATOR_SECRET_ARNS: optional, as on Lambda (ECS normally injects secrets itself).
Exit code: 0 succeeded, 1 the agent did not succeed (failed, timed out, cancelled), 2 invalid job or
worker configuration.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from viberator_worker.contract import InvalidJob, parse_job
from viberator_worker.execute import execute_job, invalid_result, now
from viberator_worker.processes import become_subreaper
from viberator_worker.runner import STOP_GRACE_SECONDS
from viberator_worker.secret_env import SecretResolutionError, resolve_secret_env

JOB_VAR = "VIBERATOR_JOB"
BOOTSTRAP_DIR_VAR = "VIBERATOR_BOOTSTRAP_DIR"
DEFAULT_BOOTSTRAP_DIR = "/bootstrap"
RESULT_PATH_VAR = "VIBERATOR_RESULT_PATH"
DEFAULT_RESULT_PATH = "/results/result.json"
RESULT_LINE_PREFIX = "VIBERATOR_RESULT "

EXIT_SUCCEEDED, EXIT_AGENT_FAILED, EXIT_INVALID = 0, 1, 2


def read_job_text(env: Mapping[str, str]) -> str:
    if env.get(JOB_VAR):
        return env[JOB_VAR]
    path = Path(env.get(BOOTSTRAP_DIR_VAR) or DEFAULT_BOOTSTRAP_DIR) / "job.json"
    try:
        return path.read_text()
    except OSError as exc:
        raise InvalidJob(f"no job: {JOB_VAR} is unset and {path} is unreadable ({exc.strerror})") from None


def write_result(result: dict[str, Any], env: Mapping[str, str], out: BinaryIO) -> None:
    text = json.dumps(result, sort_keys=True)
    path = Path(env.get(RESULT_PATH_VAR) or DEFAULT_RESULT_PATH)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    except OSError as exc:
        print(f"viberator-worker: could not write {path}: {exc.strerror}", file=sys.stderr)
    out.write(f"\n{RESULT_LINE_PREFIX}{text}\n".encode())
    out.flush()


def stop_on_sigterm() -> threading.Event:
    """The stop request that SIGTERM makes: tini forwards the platform's (ECS StopTask, docker stop) to this process.

    The handler only writes a byte to a pipe, and a thread of its own sets the Event. A Python signal handler runs
    in the main thread between two bytecodes, and the main thread polls this Event (runner.run_agent): Event.set()
    in the handler takes the Event's lock, which the main thread may hold at that very moment, and waits for itself
    forever, so the agent is never stopped and the platform's SIGKILL comes before a result is written. Python's
    signal docs (python/cpython Doc/library/signal.rst, "Signals and threads") say the same: no synchronization
    primitives in a signal handler. tests/worker_runtime/test_worker_job_mode.py holds the lock while the signal
    arrives.
    """
    stop_requested = threading.Event()
    read_end, write_end = os.pipe()
    # Non-blocking: the thread reads one byte and ends, so a pipe filled by a burst of SIGTERMs must not block the
    # handler (and the main thread with it); a full pipe already holds the one stop that matters.
    os.set_blocking(write_end, False)

    def forward() -> None:
        os.read(read_end, 1)
        stop_requested.set()

    def request_stop(*_: object) -> None:
        with contextlib.suppress(BlockingIOError):
            os.write(write_end, b"T")

    threading.Thread(target=forward, name="sigterm", daemon=True).start()
    signal.signal(signal.SIGTERM, request_stop)
    return stop_requested


def run(
    env: Mapping[str, str] | None = None,
    out: BinaryIO | None = None,
    *,
    grace_seconds: float = STOP_GRACE_SECONDS,
) -> int:
    env = dict(os.environ if env is None else env)
    out = out or sys.stdout.buffer
    started_at = now()
    stop_requested = stop_on_sigterm()
    become_subreaper()

    try:
        job = parse_job(read_job_text(env))
        resolved = resolve_secret_env(env)
        env.update(resolved)
    except (InvalidJob, SecretResolutionError) as exc:
        print(f"viberator-worker: {exc}", file=sys.stderr)
        write_result(invalid_result(str(exc), started_at=started_at), env, out)
        return EXIT_INVALID

    result = execute_job(
        job,
        worker_env=env,
        stop_requested=stop_requested,
        sink=out,
        started_at=started_at,
        resolved_secrets=resolved,
        grace_seconds=grace_seconds,
    )
    write_result(result, env, out)
    if result["status"] == "invalid":
        print(f"viberator-worker: {result['error']}", file=sys.stderr)
        return EXIT_INVALID
    return EXIT_SUCCEEDED if result["status"] == "succeeded" else EXIT_AGENT_FAILED
