"""Running the agent process: streaming, output tail, exit codes, timeout, stop and process-group kill."""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

from viberator_worker.contract import OUTPUT_TAIL_BYTES
from viberator_worker.runner import run_agent


def run(fake_bin: Path, prompt: str, *, timeout: float = 30, stop: threading.Event | None = None, **kw):
    sink = io.BytesIO()
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
    started = time.monotonic()
    outcome, _ = run(fake_bin, "sleep 60", timeout=1)
    assert outcome.status == "timed_out"
    assert outcome.exit_code == 143  # the fake's own SIGTERM handler: it was asked, not killed
    assert outcome.error == "agent exceeded timeout of 1 s"
    assert time.monotonic() - started < 10


def test_an_agent_ignoring_sigterm_is_killed_after_the_grace_period(fake_bin: Path) -> None:
    outcome, _ = run(fake_bin, "stubborn 60", timeout=0.5, grace_seconds=0.5)
    assert (outcome.status, outcome.exit_code) == ("timed_out", -9)


def test_stop_request_cancels_and_the_whole_process_group_goes(fake_bin: Path, tmp_path: Path) -> None:
    stop = threading.Event()
    pid_file = tmp_path / "grandchild.pid"
    threading.Timer(1.0, stop.set).start()
    outcome, _ = run(fake_bin, f"grandchild {pid_file}", stop=stop, grace_seconds=2)
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
