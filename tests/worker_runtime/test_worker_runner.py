"""Running the agent process: streaming, output tail, exit codes, timeout, stop and process-group kill."""

from __future__ import annotations

import io
import math
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

from viberator_worker.contract import OUTPUT_TAIL_BYTES
from viberator_worker.runner import run_agent


class Sink(io.BytesIO):
    """The agent's output as the runner streams it; sets `announced` once the fake says "sleeping": its SIGTERM
    handler (or SIG_IGN) is installed by then, and whatever it starts is running."""

    def __init__(self, announced: threading.Event | None = None) -> None:
        super().__init__()
        self.announced = announced or threading.Event()

    def write(self, chunk: bytes) -> int:  # type: ignore[override]  # the runner only writes bytes
        written = super().write(chunk)
        if b"sleeping\n" in self.getvalue():
            self.announced.set()
        return written


def past_the_deadline_once_announced(sink: Sink) -> Callable[[], float]:
    """A clock for run_agent that stands still until the agent is sleeping, then jumps past any deadline: the
    timeout fires because of the runner's own deadline, never before the agent could react, whatever the load."""
    return lambda: math.inf if sink.announced.is_set() else 0.0


def run(
    fake_bin: Path,
    prompt: str,
    *,
    timeout: float = 30,
    stop: threading.Event | None = None,
    sink: Sink | None = None,
    **kw,
):
    sink = sink or Sink()
    outcome = run_agent(
        [str(fake_bin / "claude"), "--print", "--", prompt],
        cwd=str(fake_bin),
        env={"PATH": os.environ["PATH"], "MARKER": "m-1"},
        timeout_seconds=timeout,
        stop_requested=stop or threading.Event(),
        sink=sink,
        **kw,
    )
    return outcome, sink.getvalue().decode()


def test_success_streams_stdout_and_stderr_to_the_sink_and_keeps_them_in_the_tail(fake_bin: Path) -> None:
    outcome, streamed = run(fake_bin, "say hello")
    assert (outcome.status, outcome.exit_code, outcome.error) == ("succeeded", 0, None)
    assert "hello\n" in streamed and "fake agent on stderr" in streamed
    assert outcome.output_tail == streamed


def test_agent_sees_the_given_environment(fake_bin: Path) -> None:
    assert "MARKER=m-1" in run(fake_bin, "env MARKER")[0].output_tail


def test_non_zero_exit_is_a_failure_with_the_code(fake_bin: Path) -> None:
    outcome, _ = run(fake_bin, "exit 3")
    assert (outcome.status, outcome.exit_code, outcome.error) == ("failed", 3, "agent exited with code 3")


def test_missing_executable_is_a_failure_not_a_crash(tmp_path: Path) -> None:
    outcome = run_agent(
        [str(tmp_path / "nope")],
        cwd=str(tmp_path),
        env={},
        timeout_seconds=5,
        stop_requested=threading.Event(),
        sink=io.BytesIO(),
    )
    assert outcome.status == "failed" and outcome.exit_code is None and "could not start" in outcome.error


def test_tail_keeps_only_the_last_bytes(fake_bin: Path) -> None:
    outcome, streamed = run(fake_bin, f"flood {OUTPUT_TAIL_BYTES * 3}")
    assert len(streamed) == OUTPUT_TAIL_BYTES * 3
    assert len(outcome.output_tail) == OUTPUT_TAIL_BYTES and outcome.output_tail.endswith("END")


def test_timeout_stops_the_agent_with_sigterm(fake_bin: Path) -> None:
    sink = Sink()
    # A long grace: however slowly a loaded machine runs the fake's handler, SIGKILL never overtakes it.
    outcome, _ = run(
        fake_bin, "sleep 60", timeout=1, sink=sink, clock=past_the_deadline_once_announced(sink), grace_seconds=60
    )
    assert outcome.status == "timed_out"
    assert outcome.exit_code == 143  # the fake's own SIGTERM handler: it was asked, not killed
    assert outcome.error == "agent exceeded timeout of 1 s"


def test_an_agent_ignoring_sigterm_is_killed_after_the_grace_period(fake_bin: Path) -> None:
    sink = Sink()
    outcome, _ = run(
        fake_bin, "stubborn 60", sink=sink, clock=past_the_deadline_once_announced(sink), grace_seconds=0.5
    )
    assert (outcome.status, outcome.exit_code) == ("timed_out", -9)


def test_stop_request_cancels_and_the_whole_process_group_goes(fake_bin: Path, tmp_path: Path) -> None:
    stop = threading.Event()
    sink = Sink(announced=stop)  # the stop request comes once the grandchild runs and its pid is written
    pid_file = tmp_path / "grandchild.pid"
    outcome, _ = run(fake_bin, f"grandchild {pid_file}", stop=stop, sink=sink, grace_seconds=2)
    assert outcome.status == "cancelled" and outcome.error == "worker received SIGTERM; agent stopped"
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (killed, not yet reaped by init) counts as gone.
    status = Path(f"/proc/{pid}/stat")
    return status.exists() and status.read_text().split(") ")[1][0] != "Z"
