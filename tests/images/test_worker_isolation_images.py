"""Each job on a clean slate, in the built image: two jobs on one warm environment with a hostile fake agent,
for Lambda under AWS's RIE (the emulator runs the image as Lambda does) and for ECS/docker in job mode (one
container kept running, `viberator-worker job` run in it twice, as a task's container would run it if it were
reused). And every pinned CLI takes a flag-like prompt as its prompt, the runtime's own command line in hand.
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import image_engine
import pytest
from runtime_jobs import SECRETS_ENV, job_document, jobs_are_data, two_jobs_on_one_environment
from test_images import pinned_version
from viberator_worker.agents import AGENTS
from viberator_worker.contract import parse_job

from workers.catalog import HARNESSES
from workers.tooling.engine import Engine
from workers.tooling.lambda_emulator import LocalFunction, running
from workers.tooling.run_job import FAKE_MOUNT, IMAGE_PATH

pytestmark = pytest.mark.images

IMAGE_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/home/worker", "/workspace")
"""Where any process of the image's user can write (the image's VIBERATOR_SWEEP_DIRS)."""
HARNESS = "multi-agent"
AGENT_NAMES = HARNESSES[HARNESS].agents


@pytest.fixture
def warm_lambda(images: dict[str, str], fake_agents: Path) -> Iterator[str]:
    image = Engine(image_engine.DOCKER).inspect(images[HARNESS])
    assert image is not None
    function = LocalFunction(
        image=image,
        reference=images[HARNESS],
        command=("lambda",),
        memory_mb=2048,
        timeout_seconds=60,
        environment={"PATH": f"{FAKE_MOUNT}/bin:{IMAGE_PATH}", **SECRETS_ENV},
        volumes=(f"{fake_agents}:{FAKE_MOUNT}:ro",),
    )
    with running(function, Engine(image_engine.DOCKER)) as endpoint:
        yield f"{endpoint}/2015-03-31/functions/function/invocations"


def invoke(url: str, job: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(url, data=json.dumps(job).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=120) as reply:
        return dict(json.load(reply))


@pytest.fixture
def warm_container(images: dict[str, str], fake_agents: Path) -> Iterator[str]:
    """A worker container kept running (tini as PID 1, as the image's ENTRYPOINT starts it), no network."""
    env = [arg for name, value in SECRETS_ENV.items() for arg in ("--env", f"{name}={value}")]
    run = image_engine.docker(
        *("run", "--detach", "--rm", "--network", "none", "--volume", f"{fake_agents}:{FAKE_MOUNT}:ro"),
        *("--env", f"PATH={FAKE_MOUNT}/bin:{IMAGE_PATH}", *env),
        *("--entrypoint", "/usr/bin/tini", images[HARNESS], "--", "sleep", "3600"),
    )
    container = run.stdout.strip()
    try:
        yield container
    finally:
        image_engine.docker("rm", "--force", container, check=False)


def job_in(container: str, job: dict[str, Any]) -> dict[str, Any]:
    """`viberator-worker job` in the running container, the job in VIBERATOR_JOB as ECS passes it."""
    ran = image_engine.docker(
        "exec", "--env", f"VIBERATOR_JOB={json.dumps(job)}", container, "viberator-worker", "job", check=False
    )
    last = ran.stdout.rstrip().splitlines()[-1]
    assert last.startswith("VIBERATOR_RESULT "), ran.stdout + ran.stderr
    return dict(json.loads(last.removeprefix("VIBERATOR_RESULT ")))


def test_lambda_under_the_emulator_runs_each_job_on_a_clean_slate(warm_lambda: str) -> None:
    two_jobs_on_one_environment(lambda job: invoke(warm_lambda, job), IMAGE_WRITABLE, unprivileged=True)
    jobs_are_data(lambda job: invoke(warm_lambda, job), AGENT_NAMES)


def test_job_mode_runs_each_job_on_a_clean_slate(warm_container: str) -> None:
    two_jobs_on_one_environment(lambda job: job_in(warm_container, job), IMAGE_WRITABLE, unprivileged=True)
    jobs_are_data(lambda job: job_in(warm_container, job), AGENT_NAMES)


@pytest.mark.parametrize("agent", AGENT_NAMES)
def test_each_pinned_cli_takes_a_flag_like_prompt_as_its_prompt(images: dict[str, str], agent: str) -> None:
    """The runtime's command line with the prompt `--version`: a CLI that read it as its option would print its
    version and exit 0; each must instead take it as the prompt (and, with no key or network here, fail to
    send it). The same CLI given `--version` as an option prints the pinned version, so the check can fail."""
    argv = AGENTS[agent].command(parse_job(job_document("--version", agent=agent)))
    as_option = cli_output(images[HARNESS], [argv[0], "--version"])
    assert pinned_version(agent) in as_option.stdout, as_option
    as_prompt = cli_output(images[HARNESS], argv)
    assert as_prompt.stdout.strip() != as_option.stdout.strip(), as_prompt
    assert not (as_prompt.returncode == 0 and pinned_version(agent) in as_prompt.stdout), as_prompt


def cli_output(image: str, argv: list[str]) -> subprocess.CompletedProcess[str]:
    """`argv` in the image, as the worker's user, no network, a home of its own, cut off after 30 s."""
    return image_engine.docker(
        *("run", "--rm", "--network", "none", "--env", "HOME=/tmp", "--workdir", "/tmp"),
        *("--entrypoint", "timeout", image, "30", *argv),
        check=False,
        timeout=120,
    )
