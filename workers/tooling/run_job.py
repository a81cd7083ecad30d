"""`python -m workers run-job CLANKER --job job.json`: one job on one clanker, from the stack outputs alone.

This is the backend's worker invoker in miniature, and the proof that a clanker's `deploymentConfig` is all an
invoker needs (viberator_contract, the outputs contract):
- docker: the image (the stack's exact reference, or the local alias when the outputs are an offline plan's
  placeholders) runs on the local engine with the job as its bootstrap payload (`/bootstrap/job.json`);
- lambda: the function is invoked with the job as the event through botocore's Lambda client; with `--local`,
  the clanker's image runs under AWS's Lambda emulator (workers/tooling/lambda_emulator.py) with the function's
  memory and timeout, and the same client call reaches it on 127.0.0.1;
- ecs: `RunTask` on the cluster, subnets, security groups and public-IP setting of the deployment config, the
  job as the container's VIBERATOR_JOB override; the result is the task's last `VIBERATOR_RESULT` log line.

Exit codes: 0 the job succeeded; 1 it ran and did not succeed (failed, timed out, cancelled, invalid);
2 bad input (unknown clanker, a job that fails the job schema, unreadable outputs); 3 the image speaks another
job contract; 4 the job could not be run (no engine, no image, the emulator or the task did not start).
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError, WaiterError

from workers.catalog import BUILD_CONTEXT, LAMBDA_COMMAND
from workers.tooling import ecr, ensure
from workers.tooling.contract import check_contract
from workers.tooling.engine import Engine, EngineError, ImageInfo, PullError
from workers.tooling.lambda_emulator import INVOKE_FUNCTION_NAME, EmulatorError, LocalFunction, running
from workers.tooling.references import DEFAULT_ENVIRONMENT, current_revision
from workers.tooling.signature import Verifier, registry_digest, verify_digest

EXIT_SUCCEEDED, EXIT_JOB_FAILED, EXIT_USAGE, EXIT_REFUSED, EXIT_NOT_RUN = 0, 1, 2, 3, 4

JOB_SCHEMA = BUILD_CONTEXT / "viberator_worker" / "schemas" / "job.schema.json"
RESULT_LINE_PREFIX = "VIBERATOR_RESULT "
"""How the worker's job mode ends its output (viberator_worker.job_mode; a test keeps the two equal)."""
JOB_VARIABLE = "VIBERATOR_JOB"
REPO_ROOT = BUILD_CONTEXT.parents[1]
FAKE_AGENT = REPO_ROOT / "tests" / "worker_runtime" / "fake_agent.py"
FAKE_AGENT_BIN = REPO_ROOT / "examples" / "fake-agent" / "bin"
FAKE_MOUNT = "/opt/fake"
"""Where the fake agent is mounted in a container (docker-compose.yml and the real-build tier use it too)."""
IMAGE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
"""The images' PATH (Debian's default), after the fake agent's bin/."""
DOCKER_ARCHITECTURE = {"x86_64": "amd64", "arm64": "arm64"}
"""Lambda's and ECS's architecture names to Docker's."""
PULL_TIMEOUT = 1800.0
"""Seconds a pull may take (the multi-agent image is 2 GB), and so how long its login must stay valid."""
RUN_TASK_OVERRIDES_MAX = 8192
"""RunTask: "A total of 8192 characters are allowed for overrides", JSON formatting included (ECS API reference)."""
ARN_REGION = re.compile(r"^arn:[a-z-]+:[a-z0-9-]+:(?P<region>[a-z0-9-]+):")


@dataclass
class RunJobError(Exception):
    message: str
    exit_code: int

    def __str__(self) -> str:
        return self.message


class Clients(Protocol):
    """botocore clients by service and region (tests hand in Stubber-backed ones)."""

    def __call__(self, service: str, region: str, endpoint_url: str | None = None) -> Any: ...


def botocore_clients(service: str, region: str, endpoint_url: str | None = None) -> Any:
    """The standard credential chain, and no retries or short read timeouts: a job runs for minutes."""
    import botocore.session
    from botocore.config import Config

    config = Config(read_timeout=960, connect_timeout=10, retries={"max_attempts": 1})
    session = botocore.session.get_session()
    if endpoint_url is None:
        return session.create_client(service, region_name=region, config=config)
    # The local emulator takes any signature; no credential of the user's is sent to it.
    return session.create_client(
        service,
        region_name=region,
        endpoint_url=endpoint_url,
        aws_access_key_id="local",
        aws_secret_access_key="local",
        config=config,
    )


def load_job(path: Path) -> dict[str, Any]:
    """The job document, checked against the job schema the worker implements."""
    try:
        job = json.loads(path.read_text())
    except OSError as error:
        raise RunJobError(f"cannot read the job {path}: {error.strerror}", EXIT_USAGE) from None
    except ValueError as error:
        raise RunJobError(f"the job {path} is not JSON: {error}", EXIT_USAGE) from None
    from jsonschema import Draft202012Validator  # about a second to import: only run-job needs it

    validator = Draft202012Validator(json.loads(JOB_SCHEMA.read_text()))
    problems = sorted(validator.iter_errors(job), key=lambda error: list(error.absolute_path))
    if problems:
        lines = [f"  - {'.'.join(map(str, p.absolute_path)) or '(the job)'}: {p.message}" for p in problems]
        raise RunJobError(f"the job {path} does not match {JOB_SCHEMA.name}:\n" + "\n".join(lines), EXIT_USAGE)
    return job


REFUSE_UNVERIFIABLE = Verifier(None, "no public key was given")


@dataclass(frozen=True)
class JobRequest:
    clanker: str
    deployment: Mapping[str, Any]
    """The clanker's entry of the stack outputs: agent, target, deploymentConfig."""
    job: Mapping[str, Any]
    placeholder: bool
    """The outputs are an offline plan's: run the local alias, never pull a placeholder reference."""
    local: bool = False
    """Lambda clankers: run the image under the emulator instead of invoking the function in AWS."""
    fake_agent: bool = False
    """Run the fake agent of the runtime tests instead of the real CLI (no API key, no network)."""
    network: str = "host"
    verify: Callable[[str], None] = REFUSE_UNVERIFIABLE
    """Checks a digest pulled from the stack (`signature.Verifier`); the default refuses every one."""

    @property
    def config(self) -> Mapping[str, Any]:
        return self.deployment["deploymentConfig"]


def run_job(
    request: JobRequest,
    engine: Engine,
    clients: Clients,
    say: Callable[[str], None],
    aws: ecr.Aws | None = None,
) -> dict[str, Any]:
    """Run the job on the clanker and return its result document (RunJobError when it could not run).

    `aws`: how a local run logs in to pull an ECR image it lacks (None: pull with the user's own login)."""
    try:
        return _run(request, engine, clients, say, aws)
    except ClientError as refused:
        error = refused.response.get("Error", {})
        raise RunJobError(
            f"{refused.operation_name} refused: {error.get('Code', '?')}: {error.get('Message', '')}", EXIT_NOT_RUN
        ) from None
    except WaiterError as waited:
        raise RunJobError(f"gave up waiting for the task: {waited}", EXIT_NOT_RUN) from None
    except BotoCoreError as failed:  # no credentials, no region, an endpoint that does not answer
        raise RunJobError(f"AWS could not be called: {failed}", EXIT_NOT_RUN) from None


def _run(
    request: JobRequest, engine: Engine, clients: Clients, say: Callable[[str], None], aws: ecr.Aws | None
) -> dict[str, Any]:
    target = request.deployment.get("target")
    if target == "docker":
        return _run_docker(request, engine, aws, say)
    if target == "lambda":
        if request.local:
            return _run_lambda_local(request, engine, clients, aws, say)
        return _invoke_lambda(request, clients)
    if target == "ecs":
        return _run_ecs_task(request, clients, say)
    raise RunJobError(f"clanker {request.clanker!r} has target {target!r}, which run-job does not know", EXIT_USAGE)


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
                engine.pull(pullable, silence_timeout=8.0, timeout=PULL_TIMEOUT)
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
    reference on the host that login reaches."""
    located = ecr.stack_target(aws, reference) if aws is not None else None
    if aws is None or located is None:
        yield reference
        return
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
    harness = request.deployment["agent"]
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


def _parse_result(text: str, where: str) -> dict[str, Any]:
    try:
        result = json.loads(text)
    except ValueError:
        raise RunJobError(f"{where} returned no result document: {text[:500]}", EXIT_NOT_RUN) from None
    if not isinstance(result, dict) or "status" not in result:
        raise RunJobError(f"{where} returned no result document: {text[:500]}", EXIT_NOT_RUN)
    return result


def _run_docker(request: JobRequest, engine: Engine, aws: ecr.Aws | None, say: Callable[[str], None]) -> dict[str, Any]:
    reference, _image = _local_image(request, request.config["containerImage"], engine, aws, say)
    volumes, environment = _fake_agent_args(request)
    network = "none" if request.fake_agent else request.network
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
    return _parse_result(results[-1], reference)


def _invoke(client: Any, function: str, job: Mapping[str, Any]) -> dict[str, Any]:
    response = client.invoke(FunctionName=function, InvocationType="RequestResponse", Payload=json.dumps(job))
    payload = response["Payload"].read().decode()
    if response.get("FunctionError"):
        raise RunJobError(f"{function} failed ({response['FunctionError']}): {payload[:1000]}", EXIT_JOB_FAILED)
    return _parse_result(payload, function)


def _region_of(arn: str) -> str:
    match = ARN_REGION.match(arn)
    if match is None:
        raise RunJobError(f"{arn!r} is not an ARN with a region", EXIT_USAGE)
    return match["region"]


def _invoke_lambda(request: JobRequest, clients: Clients) -> dict[str, Any]:
    if request.placeholder:
        raise RunJobError(
            f"{request.clanker} is planned offline, not deployed: there is no function to invoke; "
            "--local runs its image under the Lambda emulator",
            EXIT_USAGE,
        )
    arn = request.config["functionArn"]
    return _invoke(clients("lambda", _region_of(arn)), arn, request.job)


def _run_lambda_local(
    request: JobRequest, engine: Engine, clients: Clients, aws: ecr.Aws | None, say: Callable[[str], None]
) -> dict[str, Any]:
    reference, image = _local_image(request, request.config["imageUri"], engine, aws, say)
    wanted = DOCKER_ARCHITECTURE.get(request.config["architecture"])
    if image.architecture != wanted:
        raise RunJobError(
            f"{reference} is a {image.platform} image and the function runs {request.config['architecture']}: "
            "Lambda would refuse it",
            EXIT_REFUSED,
        )
    volumes, environment = _fake_agent_args(request)
    function = LocalFunction(
        image=image,
        reference=reference,
        command=LAMBDA_COMMAND,
        memory_mb=int(request.config.get("memoryMb", 4096)),
        timeout_seconds=int(request.config.get("timeoutSeconds", 900)),
        environment=environment,
        volumes=tuple(volumes),
    )
    try:
        with running(function, engine) as endpoint:
            say(f"{reference} serving Lambda's Invoke API on {endpoint} (AWS's emulator)")
            return _invoke(clients("lambda", "us-east-1", endpoint_url=endpoint), INVOKE_FUNCTION_NAME, request.job)
    except EmulatorError as failed:
        raise RunJobError(str(failed), EXIT_NOT_RUN) from None
    except EngineError as failed:
        raise RunJobError(f"the emulator's container: {failed}", EXIT_NOT_RUN) from None


def _run_ecs_task(request: JobRequest, clients: Clients, say: Callable[[str], None]) -> dict[str, Any]:
    if request.placeholder:
        raise RunJobError(f"{request.clanker} is planned offline, not deployed: there is no task to run", EXIT_USAGE)
    config = request.config
    region = _region_of(config["cluster"])
    overrides = {
        "containerOverrides": [
            {"name": config["containerName"], "environment": [{"name": JOB_VARIABLE, "value": json.dumps(request.job)}]}
        ]
    }
    if len(json.dumps(overrides)) > RUN_TASK_OVERRIDES_MAX:
        raise RunJobError(
            f"the job is too large for RunTask's overrides ({len(json.dumps(overrides))} characters, at most "
            f"{RUN_TASK_OVERRIDES_MAX}): shorten the prompt",
            EXIT_USAGE,
        )
    ecs = clients("ecs", region)
    launched = ecs.run_task(
        cluster=config["cluster"],
        taskDefinition=config["taskDefinitionArn"],
        launchType="FARGATE",
        count=1,
        startedBy="viberator-run-job",
        networkConfiguration={
            "awsvpcConfiguration": {
                "subnets": list(config["subnets"]),
                "securityGroups": list(config["securityGroups"]),
                "assignPublicIp": "ENABLED" if config["assignPublicIp"] else "DISABLED",
            }
        },
        overrides=overrides,
    )
    if launched.get("failures") or not launched.get("tasks"):
        reasons = "; ".join(f"{f.get('arn', '?')}: {f.get('reason', '?')}" for f in launched.get("failures", []))
        raise RunJobError(f"RunTask did not start a task: {reasons or 'no task returned'}", EXIT_NOT_RUN)
    task_arn = launched["tasks"][0]["taskArn"]
    say(f"started {task_arn}; waiting for it to stop")
    # Fargate takes a minute or two to start; the job's own limit bounds the rest.
    delay = 6
    attempts = math.ceil((int(request.job.get("timeout_seconds", 900)) + 600) / delay)
    ecs.get_waiter("tasks_stopped").wait(
        cluster=config["cluster"], tasks=[task_arn], WaiterConfig={"Delay": delay, "MaxAttempts": attempts}
    )
    (task,) = ecs.describe_tasks(cluster=config["cluster"], tasks=[task_arn])["tasks"]
    container: dict[str, Any] = next(
        (c for c in task.get("containers", []) if c.get("name") == config["containerName"]), {}
    )
    if "exitCode" not in container:
        reason = task.get("stoppedReason") or container.get("reason") or "no reason given"
        raise RunJobError(f"task {task_arn} stopped before its container ran: {reason}", EXIT_NOT_RUN)
    line = _last_result_line(clients("logs", region), ecs, config, task_arn)
    if line is None:
        raise RunJobError(
            f"task {task_arn} exited {container['exitCode']} without a result line in its log stream", EXIT_NOT_RUN
        )
    return _parse_result(line, task_arn)


def _last_result_line(logs: Any, ecs: Any, config: Mapping[str, Any], task_arn: str) -> str | None:
    """The container's awslogs stream, `<prefix>/<container>/<task id>`, as the task definition names it."""
    definition = ecs.describe_task_definition(taskDefinition=config["taskDefinitionArn"])["taskDefinition"]
    container = next(c for c in definition["containerDefinitions"] if c["name"] == config["containerName"])
    options = container["logConfiguration"]["options"]
    stream = f"{options['awslogs-stream-prefix']}/{config['containerName']}/{task_arn.rsplit('/', 1)[-1]}"
    found: str | None = None
    token: str | None = None
    while True:
        page = logs.get_log_events(
            logGroupName=options["awslogs-group"],
            logStreamName=stream,
            startFromHead=True,
            **({"nextToken": token} if token else {}),
        )
        for event in page.get("events", []):
            if event["message"].startswith(RESULT_LINE_PREFIX):
                found = event["message"].removeprefix(RESULT_LINE_PREFIX)
        if page.get("nextForwardToken") in (None, token):
            return found
        token = page["nextForwardToken"]
