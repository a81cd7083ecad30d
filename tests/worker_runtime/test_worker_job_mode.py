"""`viberator-worker job` as a real process: job sources, result file and line, exit codes, SIGTERM."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import jsonschema
from runtime_jobs import job_document
from viberator_worker.contract import schema
from viberator_worker.job_mode import RESULT_LINE_PREFIX

ENTRYPOINT = ("-m", "viberator_worker")
PATIENT_JOB_MODE = ("-c", "from viberator_worker import job_mode; raise SystemExit(job_mode.run(grace_seconds=60))")
"""Job mode as the entrypoint runs it, but giving the agent a grace (SIGTERM to SIGKILL) longer than a test waits:
with the image's 10 s, a machine that stalled the agent longer saw SIGKILL overtake its SIGTERM handler."""


def start_worker(env: dict[str, str], *args: str, command: tuple[str, ...] = ENTRYPOINT) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, *command, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_worker(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    process = start_worker(env, *args)
    stdout, stderr = process.communicate(timeout=60)
    return process.returncode, stdout, stderr


def result_of(env: dict[str, str], stdout: str) -> dict[str, object]:
    """The result file, after checking it against the schema and the stdout result line."""
    result = json.loads(Path(env["VIBERATOR_RESULT_PATH"]).read_text())
    jsonschema.validate(result, schema("result"))
    assert stdout.rstrip().splitlines()[-1] == RESULT_LINE_PREFIX + json.dumps(result, sort_keys=True)
    return result


def test_job_from_the_bootstrap_directory_succeeds(worker_env: dict[str, str], tmp_path: Path) -> None:
    bootstrap = Path(worker_env["VIBERATOR_BOOTSTRAP_DIR"])
    bootstrap.mkdir()
    (bootstrap / "job.json").write_text(json.dumps(job_document("say hello")))
    code, stdout, _ = run_worker(worker_env)  # default mode is `job`
    result = result_of(worker_env, stdout)
    assert code == 0
    assert (result["status"], result["job_id"], result["agent"], result["exit_code"]) == (
        "succeeded",
        "job-1",
        "claude",
        0,
    )
    assert "hello" in stdout  # streamed, not only kept in the tail
    assert "hello" in result["output_tail"]
    # The job ran in a fresh slate under the scratch directory, gone with the job.
    assert not any(Path(worker_env["VIBERATOR_SCRATCH_DIR"]).iterdir())


def test_env_job_wins_and_its_env_reaches_the_agent_but_worker_settings_do_not(
    worker_env: dict[str, str], tmp_path: Path
) -> None:
    job = job_document("env JOB_GREETING", agent="gemini", env={"JOB_GREETING": "hi"})
    code, stdout, _ = run_worker({**worker_env, "VIBERATOR_JOB": json.dumps(job)}, "job")
    assert code == 0 and "JOB_GREETING=hi" in result_of(worker_env, stdout)["output_tail"]

    job = job_document("env VIBERATOR_RESULT_PATH")
    _, stdout, _ = run_worker({**worker_env, "VIBERATOR_JOB": json.dumps(job)}, "job")
    assert "VIBERATOR_RESULT_PATH=<unset>" in result_of(worker_env, stdout)["output_tail"]


def test_agent_failure_exits_1_with_the_agent_code(worker_env: dict[str, str], tmp_path: Path) -> None:
    job = job_document("exit 7", agent="opencode")
    code, stdout, _ = run_worker({**worker_env, "VIBERATOR_JOB": json.dumps(job)})
    result = result_of(worker_env, stdout)
    assert code == 1 and (result["status"], result["exit_code"]) == ("failed", 7)


def test_invalid_job_exits_2_with_a_clear_error_and_still_writes_the_result(worker_env: dict[str, str]) -> None:
    job = job_document("p", agent="cursor")
    code, stdout, stderr = run_worker({**worker_env, "VIBERATOR_JOB": json.dumps(job)})
    result = result_of(worker_env, stdout)
    assert code == 2
    assert result["status"] == "invalid" and result["exit_code"] is None
    assert "agent: 'cursor' is not one of" in result["error"] and "agent: 'cursor'" in stderr


def test_missing_job_is_invalid(worker_env: dict[str, str]) -> None:
    code, stdout, stderr = run_worker(worker_env)
    assert code == 2
    assert "no job: VIBERATOR_JOB is unset" in result_of(worker_env, stdout)["error"]
    assert "job.json is unreadable" in stderr


def test_agent_missing_from_the_image_is_invalid(worker_env: dict[str, str], tmp_path: Path) -> None:
    env = {**worker_env, "PATH": "/usr/bin:/bin"}  # no fake agents
    job = job_document("say hi", agent="kimi")
    code, stdout, _ = run_worker({**env, "VIBERATOR_JOB": json.dumps(job)})
    assert code == 2
    assert result_of(env, stdout)["error"] == "agent: kimi (kimi) is not installed in this image"


def test_sigterm_stops_the_agent_and_records_cancelled(worker_env: dict[str, str], tmp_path: Path) -> None:
    job = job_document("sleep 60")
    worker = start_worker({**worker_env, "VIBERATOR_JOB": json.dumps(job)}, command=PATIENT_JOB_MODE)
    assert worker.stdout is not None
    assert worker.stdout.readline() == "sleeping\n"  # the agent is running
    worker.send_signal(signal.SIGTERM)
    # The agent would sleep 60 s: a worker that let it would outlast this wait.
    stdout, _ = worker.communicate(timeout=30)
    result = result_of(worker_env, "sleeping\n" + stdout)
    assert worker.returncode == 1
    assert (result["status"], result["error"]) == ("cancelled", "worker received SIGTERM; agent stopped")
    assert result["exit_code"] == 143  # the fake's own SIGTERM handler: it was asked, not killed


def test_sigterm_while_the_worker_holds_its_stop_request_s_lock_still_stops(worker_env: dict[str, str]) -> None:
    """The race the runtime's SIGTERM path must survive, made certain: the signal arrives while the main thread holds
    the stop request's lock (threading.Event's condition, which its wait() holds for a moment on every poll). A
    handler that took that lock itself would wait for the main thread forever, and this child would hang."""
    script = textwrap.dedent(
        """
        import os, signal
        from viberator_worker.job_mode import stop_on_sigterm
        stop = stop_on_sigterm()
        with stop._cond:
            os.kill(os.getpid(), signal.SIGTERM)  # its Python handler runs here, the lock held
        print("stop requested:", stop.wait(30))
        """
    )
    child = subprocess.run([sys.executable, "-c", script], env=worker_env, capture_output=True, text=True, timeout=60)
    assert (child.returncode, child.stdout) == (0, "stop requested: True\n"), child.stderr


def test_a_burst_of_sigterms_never_blocks_the_worker(worker_env: dict[str, str]) -> None:
    """More SIGTERMs than the stop request's pipe holds (64 KiB on Linux): each handler call still returns."""
    script = textwrap.dedent(
        """
        import os, signal
        from viberator_worker.job_mode import stop_on_sigterm
        stop = stop_on_sigterm()
        for _ in range(70_000):
            os.kill(os.getpid(), signal.SIGTERM)
        print("stop requested:", stop.wait(30))
        """
    )
    child = subprocess.run([sys.executable, "-c", script], env=worker_env, capture_output=True, text=True, timeout=60)
    assert (child.returncode, child.stdout) == (0, "stop requested: True\n"), child.stderr


def test_timeout_is_recorded(worker_env: dict[str, str], tmp_path: Path) -> None:
    job = job_document("sleep 60", timeout_seconds=1)
    code, stdout, _ = run_worker({**worker_env, "VIBERATOR_JOB": json.dumps(job)})
    assert code == 1 and result_of(worker_env, stdout)["status"] == "timed_out"
