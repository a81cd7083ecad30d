"""Runs one agent process: streams its output (redacted), enforces the timeout, stops it on request.

The agent runs in its own process group so that stopping it also stops whatever it spawned (shells, language
servers, test runs): SIGTERM to the group first, SIGKILL after a grace period. Whatever is left when the agent
has exited, detached or not, is killed then (viberator_worker.processes).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, Literal

from viberator_worker import processes
from viberator_worker.contract import OUTPUT_TAIL_BYTES
from viberator_worker.redact import Redactor

STOP_GRACE_SECONDS = 10.0
"""Between SIGTERM and SIGKILL. ECS waits the task definition's stopTimeout after its own SIGTERM (120 s:
components/targets/ecs.py): this leaves the worker time to write the result."""

POLL_SECONDS = 0.1


@dataclass(frozen=True)
class RunOutcome:
    status: Literal["succeeded", "failed", "timed_out", "cancelled"]
    exit_code: int | None
    output_tail: str
    error: str | None


class _Tail:
    """Keeps the last `limit` bytes of a stream while it is copied, redacted, to `sink`."""

    def __init__(self, limit: int, sink: BinaryIO, redactor: Redactor) -> None:
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._limit = limit
        self._sink = sink
        self._redactor = redactor

    def pump(self, source: BinaryIO) -> None:
        # os.read returns whatever the pipe holds, so output streams as the agent writes it.
        for chunk in iter(lambda: os.read(source.fileno(), 65536), b""):
            self._emit(self._redactor.feed(chunk))
        self._emit(self._redactor.flush())

    def _emit(self, chunk: bytes) -> None:
        if not chunk:
            return
        self._sink.write(chunk)
        self._sink.flush()
        self._chunks.append(chunk)
        self._size += len(chunk)
        while self._size - len(self._chunks[0]) >= self._limit:
            self._size -= len(self._chunks.popleft())

    def text(self) -> str:
        return b"".join(self._chunks)[-self._limit :].decode("utf-8", errors="replace")


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group already exited
        os.killpg(process.pid, signum)


def _stop(process: subprocess.Popen[bytes], grace: float) -> None:
    _signal_group(process, signal.SIGTERM)
    try:
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        _signal_group(process, signal.SIGKILL)
        process.wait()


def run_agent(
    argv: list[str],
    *,
    cwd: str,
    env: dict[str, str],
    timeout_seconds: float,
    stop_requested: threading.Event,
    sink: BinaryIO,
    secrets: tuple[str, ...] = (),
    grace_seconds: float = STOP_GRACE_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> RunOutcome:
    """Runs `argv` to completion, timeout or `stop_requested`, copying its combined output to `sink` with
    `secrets` redacted; every process it started has ended when this returns. `clock` is what the timeout is
    measured on (tests move it past the deadline when they choose)."""
    kept = processes.descendants()
    try:
        process = subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        return RunOutcome("failed", None, "", f"could not start {argv[0]}: {exc}")

    tail = _Tail(OUTPUT_TAIL_BYTES, sink, Redactor(secrets))
    assert process.stdout is not None
    reader = threading.Thread(target=tail.pump, args=(process.stdout,), daemon=True)
    reader.start()

    deadline = clock() + timeout_seconds
    status: Literal["timed_out", "cancelled"] | None = None
    while process.poll() is None:
        if stop_requested.is_set():
            status = "cancelled"
        elif clock() >= deadline:
            status = "timed_out"
        if status is not None:
            _stop(process, grace_seconds)
            break
        stop_requested.wait(POLL_SECONDS)
    # A detached survivor could hold the pipe open (and outlive the job): it ends here, then the reader sees EOF.
    ended = processes.end_job_processes(kept)
    reader.join(timeout=grace_seconds)
    if not ended:
        return RunOutcome("failed", process.returncode, tail.text(), "processes of the agent could not be ended")

    exit_code = process.returncode
    if status == "timed_out":
        return RunOutcome(status, exit_code, tail.text(), f"agent exceeded timeout of {timeout_seconds:g} s")
    if status == "cancelled":
        return RunOutcome(status, exit_code, tail.text(), "worker received SIGTERM; agent stopped")
    if exit_code == 0:
        return RunOutcome("succeeded", 0, tail.text(), None)
    return RunOutcome("failed", exit_code, tail.text(), f"agent exited with code {exit_code}")
