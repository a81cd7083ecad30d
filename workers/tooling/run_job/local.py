"""The runners that run a clanker's image on this machine's engine: a docker clanker's container with the job
as its bootstrap payload, and a Lambda clanker's image under AWS's Lambda emulator (`run-job --local`).

Both run the same image: the stack's exact reference, pulled (through an ECR login of its own) and
signature-checked when the engine lacks it, or the harness's local alias when the outputs are an offline
plan's placeholders. What runs in AWS is `cloud`'s.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from viberator_contract import DockerDeployment, LambdaDeployment
from workers.catalog import LAMBDA_COMMAND, PROJECT_DIR
from workers.tooling import ecr, ensure
from workers.tooling.contract import check_contract
from workers.tooling.engine import Engine, ImageInfo, PullError
from workers.tooling.lambda_emulator import INVOKE_FUNCTION_NAME, EmulatorError, LocalFunction, running
from workers.tooling.process import EngineError
from workers.tooling.references import DEFAULT_ENVIRONMENT, current_revision
from workers.tooling.run_job.cloud import Clients, invoke
from workers.tooling.run_job.job import (
    EXIT_NOT_RUN,
    EXIT_REFUSED,
    RESULT_LINE_PREFIX,
    JobRequest,
    RunJobError,
    parse_result,
)
from workers.tooling.signature import registry_digest, verify_digest

FAKE_AGENT = PROJECT_DIR / "tests" / "worker_runtime" / "fake_agent.py"
FAKE_AGENT_BIN = PROJECT_DIR / "examples" / "fake-agent" / "bin"
FAKE_MOUNT = "/opt/fake"
"""Where the fake agent is mounted in a container (docker-compose.yml and the real-build tier use it too)."""
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""The images' PATH (Debian's default), after the fake agent's bin/."""
DOCKER_ARCHITECTURE = {"x86_64": "amd64", "arm64": "arm64"}
"""Lambda's and ECS's architecture names to Docker's."""
PULL_TIMEOUT = ensure.EnsureRequest.pull_timeout
"""Seconds a pull may take (ensure's: the multi-agent image is 2 GB), and so how long its login must stay valid."""


def _local_image(
    request: JobRequest, reference: str, engine: Engine, aws: ecr.Aws | None, say: Callable[[str], None]
) -> tuple[str, ImageInfo]:
    """The image to run here: the stack's exact reference, or (for an offline plan) the harness's local alias."""
    try:
        engine.server()
        if request.placeholder:
            return _local_alias(request, engine, say)
        image = engine.inspect(reference)
        with _registry_login(reference, engine, aws, say) as pullable:
            if image is None:
                say(f"pulling {pullable}")
                engine.pull(pullable, silence_timeout=ensure.EnsureRequest.answer_timeout, timeout=PULL_TIMEOUT)
                image, reference = engine.inspect(pullable), pullable
            if image is not None:
                # Found or pulled, a registry's image runs only signed: being in the engine says nothing of who
                # made it (a refused pull stays there, and so does whatever a `docker pull` fetched).
                _verify(request, reference, image, say)
    except PullError as failed:
        raise RunJobError(f"cannot pull {reference}: {failed}", EXIT_NOT_RUN) from None
    except EngineError as down:
        raise RunJobError(str(down), EXIT_NOT_RUN) from None
    if image is None:
        raise RunJobError(f"{reference} was pulled but the engine does not list it", EXIT_NOT_RUN)
    contract = check_contract(image.labels)
    if not contract.compatible:
        raise RunJobError(f"{reference} cannot run this job: {contract.reason}", EXIT_REFUSED)
    return reference, image


def _verify(request: JobRequest, reference: str, image: ImageInfo, say: Callable[[str], None]) -> None:
    """A registry's digest runs only with a valid signature by the image stack's key; an image built here (no
    registry digest of its repository) has none to check, as `ensure` says of a local alias."""
    digest = registry_digest(reference, image.repo_digests)
    if digest is None:
        say(f"{reference} was built on this machine (no registry digest): not signature-checked")
        return
    verify_digest(request.verify, digest, say, RunJobError, refused=EXIT_REFUSED, unavailable=EXIT_NOT_RUN)


@contextmanager
def _registry_login(reference: str, engine: Engine, aws: ecr.Aws | None, say: Callable[[str], None]) -> Iterator[str]:
    """An ECR reference pulls through a login of its own (workers.tooling.ecr), removed afterwards; yields the
    reference on the host that login reaches. Without AWS (`aws` None: tests), the reference as it is."""
    if aws is None:
        yield reference
        return
    located = ecr.stack_target(aws, reference)
    # The contract takes only ECR's references for a clanker's image (viberator_contract.base `RunnableImage`).
    assert located is not None, f"{reference} is not in ECR"
    target, on_host = located
    connection = ecr.EcrConnection(
        aws, engine, environment=DEFAULT_ENVIRONMENT, margin=timedelta(seconds=PULL_TIMEOUT), say=say, target=target
    )
    try:
        connection.resolve()
        yield on_host
    finally:
        connection.close()


def _local_alias(request: JobRequest, engine: Engine, say: Callable[[str], None]) -> tuple[str, ImageInfo]:
    harness = request.deployment.runs_harness
    say(f"the outputs are an offline plan's (placeholder digests): running the local {harness} image")

    def no_rebuild() -> None:
        raise AssertionError("run-job never rebuilds")  # EnsureRequest(rebuild=False) never calls it

    try:
        found = ensure.ensure(
            ensure.EnsureRequest(harness=harness, offline=True),
            engine,
            revision=current_revision(),
            rebuild=no_rebuild,
            say=say,
        )
    except ensure.EnsureFailed as failed:
        code = EXIT_REFUSED if failed.exit_code == ensure.EXIT_REFUSED else EXIT_NOT_RUN
        raise RunJobError(str(failed), code) from None
    image = engine.inspect(found.reference)
    assert image is not None  # ensure just found or tagged it
    return found.reference, image


def _fake_agent_args(request: JobRequest) -> tuple[list[str], dict[str, str]]:
    """`--volume`s and environment that put the fake agent first on PATH, as docker-compose.yml does."""
    if not request.fake_agent:
        return [], {}
    volumes = [f"{FAKE_AGENT}:{FAKE_MOUNT}/fake_agent.py:ro", f"{FAKE_AGENT_BIN}:{FAKE_MOUNT}/bin:ro"]
    return volumes, {"PATH": f"{FAKE_MOUNT}/bin:{IMAGE_PATH}"}


def container_network(request: JobRequest, config: DockerDeployment) -> str:
    """The fake agent needs no network; a real one gets `--network`, else what the clanker's config chose (bridge
    by default, and for outputs older than the field: host networking is the config's opt-in,
    components/targets/docker.py)."""
    if request.fake_agent:
        return "none"
    return request.network or config.network or "bridge"


def run_docker(
    request: JobRequest, config: DockerDeployment, engine: Engine, aws: ecr.Aws | None, say: Callable[[str], None]
) -> dict[str, Any]:
    reference, _image = _local_image(request, config.container_image, engine, aws, say)
    volumes, environment = _fake_agent_args(request)
    network = container_network(request, config)
    results: list[str] = []

    def on_line(line: str) -> None:
        if line.startswith(RESULT_LINE_PREFIX):
            results.append(line.removeprefix(RESULT_LINE_PREFIX))
        elif line:
            say(line)

    with tempfile.TemporaryDirectory(prefix="viberator-bootstrap-") as bootstrap:
        job_file = Path(bootstrap) / "job.json"
        job_file.write_text(json.dumps(request.job))
        # The worker runs as uid 10001: the payload directory must be readable by it.
        os.chmod(bootstrap, 0o755)
        job_file.chmod(0o644)
        args = ["--rm", "--network", network, "--volume", f"{bootstrap}:/bootstrap:ro"]
        args += ["--env", "VIBERATOR_BOOTSTRAP_DIR=/bootstrap"]
        for volume in volumes:
            args += ["--volume", volume]
        for name, value in environment.items():
            args += ["--env", f"{name}={value}"]
        timeout = int(request.job.get("timeout_seconds", 900)) + 120
        try:
            outcome = engine.run([*args, reference, "job"], on_line=on_line, timeout=timeout)
        except EngineError as failed:
            raise RunJobError(f"docker run {reference}: {failed}", EXIT_NOT_RUN) from None
    if not results:
        raise RunJobError(f"{reference} printed no result line (exit code {outcome.returncode})", EXIT_NOT_RUN)
    return parse_result(results[-1], reference)


def run_lambda_local(
    request: JobRequest,
    config: LambdaDeployment,
    engine: Engine,
    clients: Clients,
    aws: ecr.Aws | None,
    say: Callable[[str], None],
) -> dict[str, Any]:
    reference, image = _local_image(request, config.image_uri, engine, aws, say)
    wanted = DOCKER_ARCHITECTURE.get(config.architecture)
    if image.architecture != wanted:
        raise RunJobError(
            f"{reference} is a {image.platform} image and the function runs {config.architecture}: "
            "Lambda would refuse it",
            EXIT_REFUSED,
        )
    volumes, environment = _fake_agent_args(request)
    function = LocalFunction(
        image=image,
        reference=reference,
        command=LAMBDA_COMMAND,
        memory_mb=config.memory_mb or 4096,
        timeout_seconds=config.timeout_seconds or 900,
        environment=environment,
        volumes=tuple(volumes),
    )
    try:
        with running(function, engine) as endpoint:
            say(f"{reference} serving Lambda's Invoke API on {endpoint} (AWS's emulator)")
            return invoke(clients("lambda", "us-east-1", endpoint_url=endpoint), INVOKE_FUNCTION_NAME, request.job)
    except EmulatorError as failed:
        raise RunJobError(str(failed), EXIT_NOT_RUN) from None
    except EngineError as failed:
        raise RunJobError(f"the emulator's container: {failed}", EXIT_NOT_RUN) from None
