"""Each job on a clean slate, on the host: the worker's Lambda mode started as the image starts it
(`viberator-worker lambda`) by AWS's own Runtime Interface Emulator binary (the pinned one the images tier and
`run-job --local` use, workers/tooling/lambda_emulator.py), no Docker. Two jobs on one warm environment with a
hostile fake agent; jobs that would configure the agent; the secrets the worker read, redacted.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from runtime_jobs import SECRETS_ENV, jobs_are_data, two_jobs_on_one_environment
from viberator_worker import JOB_CONTRACT_VERSION, processes
from viberator_worker.agents import AGENTS

from workers.catalog import BUILD_CONTEXT
from workers.tooling.lambda_emulator import emulator_binary, free_port

INVOKE_PATH = "/2015-03-31/functions/function/invocations"


@pytest.fixture
def shared_dirs(tmp_path: Path) -> list[str]:
    """Stand-ins for the image's /tmp, /var/tmp, ...: places any job can write, swept after each."""
    made = [tmp_path / "shared-tmp", tmp_path / "shared-home"]
    for directory in made:
        directory.mkdir()
    return [str(directory) for directory in made]


@pytest.fixture(params=[{}], ids=["no-grant"])
def warm_lambda(
    worker_env: dict[str, str], tmp_path: Path, shared_dirs: list[str], request: pytest.FixtureRequest
) -> Iterator[str]:
    """The worker's Lambda mode under the RIE binary; yields its Invoke URL. The emulator keeps one runtime
    process between invocations: a warm environment. `request.param`: more of the worker's environment."""
    invoke_port, runtime_port = free_port(), free_port()
    log = (tmp_path / "emulator.log").open("wb")
    env = {
        **worker_env,
        **SECRETS_ENV,
        "VIBERATOR_SWEEP_DIRS": ":".join(shared_dirs),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": "60",
        "AWS_REGION": "us-east-1",
        **request.param,
    }
    emulator = subprocess.Popen(
        [
            str(emulator_binary("amd64")),
            *("--runtime-interface-emulator-address", f"127.0.0.1:{invoke_port}"),
            *("--runtime-api-address", f"127.0.0.1:{runtime_port}"),
            *(sys.executable, "-m", "viberator_worker", "lambda"),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield f"http://127.0.0.1:{invoke_port}{INVOKE_PATH}"
    finally:
        survivors = processes.descendants(emulator.pid)
        emulator.kill()
        emulator.wait()
        for pid in survivors:  # the runtime process, and whatever a failed test left
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


def invoke(url: str, job: dict[str, Any]) -> dict[str, Any]:
    body = json.dumps(job).encode()
    deadline = time.monotonic() + 20
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=body, method="POST"), timeout=60) as reply:
                return dict(json.load(reply))
        except urllib.error.URLError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)  # the emulator is still starting


def test_the_second_job_on_a_warm_environment_finds_nothing_of_the_first(
    warm_lambda: str, shared_dirs: list[str]
) -> None:
    two_jobs_on_one_environment(lambda job: invoke(warm_lambda, job), shared_dirs, unprivileged=False)


def test_a_job_configures_no_agent_and_a_flag_like_prompt_stays_the_prompt(warm_lambda: str) -> None:
    jobs_are_data(lambda job: invoke(warm_lambda, job), sorted(AGENTS))


def test_the_runtime_api_address_and_the_function_s_credentials_stay_with_the_worker(warm_lambda: str) -> None:
    """The emulator gives the runtime AWS_LAMBDA_RUNTIME_API (so the worker is really under a Runtime API); a
    grant-less agent sees neither it nor the role's credentials."""
    for name in ("AWS_LAMBDA_RUNTIME_API", "AWS_SECRET_ACCESS_KEY", "OPENAI_API_KEY"):
        result = invoke(
            warm_lambda, {"contract": JOB_CONTRACT_VERSION, "id": "env", "agent": "claude", "prompt": f"env {name}"}
        )
        assert f"{name}=<unset>" in result["output_tail"], result


@pytest.mark.parametrize(
    "warm_lambda", [{"VIBERATOR_AGENT_ENV": "AWS_SECRET_ACCESS_KEY,AWS_REGION"}], ids=["grant"], indirect=True
)
def test_a_granted_credential_reaches_the_agent_redacted_in_its_output(warm_lambda: str) -> None:
    """The same worker environment with a grant (a clanker on Bedrock): so the worker did hold the role's
    credentials, and the agent sees only what was granted."""
    job = {"contract": JOB_CONTRACT_VERSION, "id": "env", "agent": "claude", "prompt": "env AWS_SECRET_ACCESS_KEY"}
    assert "AWS_SECRET_ACCESS_KEY=[REDACTED]" in invoke(warm_lambda, job)["output_tail"]
    job["prompt"] = "env AWS_SESSION_TOKEN"
    assert "AWS_SESSION_TOKEN=<unset>" in invoke(warm_lambda, job)["output_tail"]


def test_the_test_pins_the_image_s_lambda_runtime_client() -> None:
    """awslambdaric here is the one the image's worker venv installs (locks/worker)."""
    from importlib.metadata import version

    pinned = re.search(r"^awslambdaric==(\S+)", (BUILD_CONTEXT / "locks/worker/requirements.in").read_text(), re.M)
    assert pinned is not None and version("awslambdaric") == pinned.group(1)
