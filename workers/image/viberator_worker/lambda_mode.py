"""`lambda` mode: the Lambda Runtime Interface Client loop, one job per invocation event.

Secrets named by VIBERATOR_SECRET_ARNS are resolved once, at cold start, before the first invocation; a
failure there fails the init, which Lambda reports and retries. Every invocation gets a fresh slate under
/tmp (Lambda's only writable place; viberator_worker.slate), removed when it returns, and every process it
started is gone by then: one warm environment serves many jobs, and no job sees another's files or processes.
The agent's timeout is capped by the invocation's remaining time, leaving a margin to stop the agent and
return the result.
"""

from __future__ import annotations

import os
import sys
import threading
from dataclasses import replace
from typing import Any, Protocol

from viberator_worker.contract import InvalidJob, parse_job
from viberator_worker.execute import execute_job, invalid_result, now
from viberator_worker.processes import become_subreaper
from viberator_worker.runner import STOP_GRACE_SECONDS
from viberator_worker.secret_env import load_secrets_into_environ

RUNTIME_API_VAR = "AWS_LAMBDA_RUNTIME_API"
HANDLER = "viberator_worker.lambda_mode.handler"
RESULT_MARGIN_SECONDS = STOP_GRACE_SECONDS + 5
RESOLVED_SECRETS: list[str] = []
"""The variables resolved from Secrets Manager at cold start (their values are redacted from the output)."""


class LambdaContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    started_at = now()
    try:
        job = parse_job(event)
    except InvalidJob as exc:
        return invalid_result(str(exc), started_at=started_at)
    remaining = context.get_remaining_time_in_millis() / 1000 - RESULT_MARGIN_SECONDS
    job = replace(job, timeout_seconds=max(1, min(job.timeout_seconds, int(remaining))))
    return execute_job(
        job,
        worker_env=os.environ,
        stop_requested=threading.Event(),  # Lambda ends an invocation by timeout, not by signal
        sink=sys.stdout.buffer,
        started_at=started_at,
        resolved_secrets=RESOLVED_SECRETS,
    )


def run() -> int:
    if not os.environ.get(RUNTIME_API_VAR):
        print(f"viberator-worker: lambda mode needs {RUNTIME_API_VAR} (set by Lambda)", file=sys.stderr)
        return 2
    become_subreaper()
    RESOLVED_SECRETS[:] = load_secrets_into_environ()
    from awslambdaric.__main__ import main as ric_main  # only Lambda needs it

    ric_main([sys.argv[0], HANDLER])
    return 0  # not reached: the client loops until Lambda freezes or ends the sandbox
