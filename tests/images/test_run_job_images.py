"""`run-job` against real images: Lambda mode of every image under AWS's Lambda emulator, through botocore's
Lambda client, and a docker clanker from the stack outputs as `make run-job` runs it.

The emulator is AWS's own Runtime API and Invoke implementation (workers/tooling/lambda_emulator.py), so it
replaced the Runtime API these tests once wrote themselves: nothing Lambda mode does here needs a stand-in.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import image_engine
import pytest
from runtime_jobs import job_document

from tests.conftest import committed_config, sample_clankers, sample_plan
from viberator_contract import LambdaClankerEntry, LambdaDeployment
from workers.catalog import HARNESS_NAMES, PROJECT_DIR
from workers.naming import LOCAL_ALIAS_TAG
from workers.tooling import run_job
from workers.tooling.engine import Engine
from workers.tooling.run_job import JobRequest

pytestmark = pytest.mark.images

FUNCTION_TIMEOUT = 20
"""Short, so a job longer than the function is cut off quickly: the worker caps the agent at the remaining
time less its result margin (15 s), here 5 s, and still answers before the emulator's deadline."""


def lambda_request(
    image: str,
    harness: str,
    event: dict[str, Any],
    architecture: str = "x86_64",
    timeout_seconds: int = FUNCTION_TIMEOUT,
) -> JobRequest:
    # Unvalidated: `image` is this engine's build, which no stack's outputs name (the contract's images are ECR's).
    config = LambdaDeployment.model_construct(
        image_uri=image,
        function_name=f"viberator-ci-{harness}",
        function_arn=f"arn:aws:lambda:us-east-1:123456789012:function:viberator-ci-{harness}",
        architecture=architecture,
        memory_mb=2048,
        timeout_seconds=timeout_seconds,
    )
    deployment = LambdaClankerEntry.model_construct(agent=harness, target="lambda", deployment_config=config)
    return JobRequest(harness, deployment, event, placeholder=False, local=True, fake_agent=True)


def emulated(request: JobRequest) -> dict[str, Any]:
    """What run-job answers for `request`, its function's image run under AWS's Lambda emulator."""
    return run_job.run_job(request, Engine(image_engine.DOCKER), run_job.botocore_clients, print)


def agent_of(harness: str) -> str:
    from workers.catalog import HARNESSES

    return "kimi" if harness == "multi-agent" else HARNESSES[harness].agents[0]


@pytest.mark.parametrize("harness", HARNESS_NAMES)
def test_lambda_mode_under_the_emulator(images: dict[str, str], harness: str) -> None:
    agent = agent_of(harness)

    def invoked(event: dict[str, Any]) -> dict[str, Any]:
        return emulated(lambda_request(images[harness], harness, event))

    succeeded = invoked(job_document("say hello from the emulator", agent=agent))
    assert succeeded["status"] == "succeeded", succeeded
    assert "hello from the emulator" in succeeded["output_tail"]

    invalid = invoked({"bad": 1})
    assert invalid["status"] == "invalid" and invalid["error"], invalid

    cut_off = invoked(job_document("sleep 100", agent=agent, timeout_seconds=600))
    assert cut_off["status"] == "timed_out", cut_off


def test_an_image_of_the_wrong_architecture_is_refused(images: dict[str, str]) -> None:
    request = lambda_request(images["kimi"], "kimi", job_document("say x", agent="kimi"))
    config = request.deployment.deployment_config
    arm = request.deployment.model_copy(
        update={"deployment_config": config.model_copy(update={"architecture": "arm64"})}
    )
    with pytest.raises(run_job.RunJobError, match="Lambda would refuse it") as refused:
        emulated(JobRequest("kimi", arm, request.job, placeholder=False, local=True))
    assert refused.value.exit_code == run_job.EXIT_REFUSED


def dev_docker_clanker(tmp_path: Path) -> tuple[str, str, list[str]]:
    """(clanker, harness, where run-job reads the outputs) of a docker clanker of dev: the committed stack's first
    (what `make run-job CLANKER=<it> STACK=dev` runs), whichever clankers Pulumi.dev.yaml holds; should it hold
    none, the tests' own sample dev stack's (tests/stacks/sample-clankers.yaml), through its plan document."""
    committed = sorted((c.name, c.agent) for c in committed_config("Pulumi.dev.yaml").clankers if c.target == "docker")
    if committed:
        return (*committed[0], ["--stack", "dev"])
    sample = sorted((c["name"], c["agent"]) for c in sample_clankers("dev") if c["target"] == "docker")
    plan = tmp_path / "plan.json"
    plan.write_text(json.dumps(sample_plan("dev").to_json()))
    return (*sample[0], ["--outputs", str(plan)])


def test_run_job_runs_the_docker_clanker_of_the_dev_stack(images: dict[str, str], tmp_path: Path) -> None:
    """What `make run-job CLANKER=<dev's docker clanker> JOB=examples/bootstrap/job.json` does: no Pulumi CLI here,
    so the dev stack's offline plan, whose placeholder digest sends it to the local alias of its harness's image."""
    clanker, harness, outputs = dev_docker_clanker(tmp_path)
    alias = f"viberator-worker-{harness}:{LOCAL_ALIAS_TAG}"
    image_engine.docker("tag", images[harness], alias)
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "workers", "run-job", clanker),
            *("--job", "examples/bootstrap/job.json", *outputs, "--fake-agent"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=PROJECT_DIR,
        env={**os.environ, "VIBERATOR_DOCKER": image_engine.DOCKER},
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)
    assert result["status"] == "succeeded" and result["job_id"] == "compose-example"
    assert "offline plan" in completed.stderr
