"""Real-build tier: every harness image builds, carries its contract, runs its CLIs and a fake-agent job
through the real entrypoint, publishes under the shared tag rule, and ships no secrets."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import image_engine
import pytest
from layer_scan import scan_saved_images
from runtime_jobs import job_document
from viberator_worker import JOB_CONTRACT_VERSION
from viberator_worker.agents import AGENTS

from workers.catalog import BUILD_CONTEXT, HARNESS_NAMES, HARNESSES, PROJECT_DIR
from workers.naming import image_tags, repository_name
from workers.revision import BuildRevision
from workers.tooling.build import ca_bundle_from_environment
from workers.tooling.run_job import FAKE_MOUNT, IMAGE_PATH

pytestmark = pytest.mark.images


LOCKS = BUILD_CONTEXT / "locks"


def pinned_version(agent: str) -> str:
    """The CLI version the agent's lock pins: package.json's one dependency, or mistral-vibe's requirement."""
    manifest = LOCKS / agent / "package.json"
    if manifest.exists():
        (version,) = json.loads(manifest.read_text())["dependencies"].values()
        return str(version)
    match = re.search(r"^mistral-vibe==(\S+)$", (LOCKS / agent / "requirements.in").read_text(), re.MULTILINE)
    assert match is not None, f"no pin for {agent}"
    return match.group(1)


def fake_job_run(image: str, fake_agents: Path, bootstrap: Path, results: Path, *extra: str) -> list[str]:
    return [
        "run", "--rm", "--network", "none",
        "--volume", f"{fake_agents}:{FAKE_MOUNT}:ro",
        "--volume", f"{bootstrap}:/bootstrap:ro",
        "--volume", f"{results}:/results",
        "--env", f"PATH={FAKE_MOUNT}/bin:{IMAGE_PATH}",
        *extra, image,
    ]  # fmt: skip


def assert_clis_print_their_pinned_versions(image: str, harness: str, *options: str, timeout: int) -> None:
    """Each of the harness's CLIs, run offline in `image` as `<executable> --version` (with docker run's `options`),
    exits 0 and prints the version its lock pins."""
    for agent in HARNESSES[harness].agents:
        executable = AGENTS[agent].executable
        result = image_engine.docker(
            "run", "--rm", "--network", "none", *options, "--entrypoint", executable, image, "--version",
            timeout=timeout, check=False,
        )  # fmt: skip
        assert result.returncode == 0, f"{executable} --version: {result.stderr[-2000:]}"
        assert pinned_version(agent) in result.stdout, result.stdout


def fake_agent_job(
    image: str, fake_agents: Path, job_dirs: tuple[Path, Path], prompt: str, agent: str
) -> tuple[str, dict[str, Any]]:
    """Runs `agent`'s job `prompt` through the image's own entrypoint with the fake agent mounted, and checks that the
    container exited 0 with a succeeded result for that agent: (the container's stdout, the result document)."""
    bootstrap, results = job_dirs
    (bootstrap / "job.json").write_text(json.dumps(job_document(prompt, agent=agent)))
    run = image_engine.docker(*fake_job_run(image, fake_agents, bootstrap, results), check=False)
    assert run.returncode == 0, run.stderr
    result = json.loads((results / "result.json").read_text())
    assert (result["status"], result["agent"]) == ("succeeded", agent)
    return run.stdout, result


@pytest.mark.parametrize("harness", HARNESS_NAMES)
def test_image_contract_and_layout(images: dict[str, str], revision: BuildRevision, harness: str) -> None:
    config = image_engine.inspect(images[harness])["Config"]
    assert config["Entrypoint"] == ["/usr/bin/tini", "-s", "--", "viberator-worker"]
    assert config["Cmd"] == ["job"]
    assert config["User"] == "10001:10001"
    labels = config["Labels"]
    assert labels["io.viberator.harness"] == harness
    assert labels["io.viberator.job-contract"] == str(JOB_CONTRACT_VERSION)
    assert labels["org.opencontainers.image.revision"] == revision.revision
    assert labels["io.viberator.source-date-epoch"] == str(revision.source_date_epoch)
    assert labels["org.opencontainers.image.source"].startswith("https://")
    # The runtime is the last layer, so a runtime change rebuilds and re-pushes only that.
    history = image_engine.docker("history", "--no-trunc", "--format", "{{.CreatedBy}}\t{{.Size}}", images[harness])
    layers = [line for line in history.stdout.splitlines() if not line.endswith("\t0B")]
    assert "COPY viberator_worker /opt/worker/app/viberator_worker" in layers[0]


@pytest.mark.parametrize("harness", HARNESS_NAMES)
def test_every_cli_prints_its_pinned_version_as_non_root_offline(images: dict[str, str], harness: str) -> None:
    uid = image_engine.docker("run", "--rm", "--network", "none", "--entrypoint", "id", images[harness], "-u")
    assert uid.stdout.strip() == "10001"
    assert_clis_print_their_pinned_versions(images[harness], harness, timeout=120)


@pytest.mark.parametrize("harness", HARNESS_NAMES)
def test_fake_agent_job_runs_through_the_entrypoint(
    images: dict[str, str], fake_agents: Path, job_dirs: tuple[Path, Path], harness: str
) -> None:
    for agent in HARNESSES[harness].agents:
        stdout, result = fake_agent_job(images[harness], fake_agents, job_dirs, f"say hello from {agent}", agent)
        assert f"hello from {agent}" in stdout and f"hello from {agent}" in result["output_tail"]


def test_a_job_for_an_agent_the_image_lacks_exits_2_and_writes_the_result(
    images: dict[str, str], job_dirs: tuple[Path, Path]
) -> None:
    bootstrap, results = job_dirs
    (bootstrap / "job.json").write_text(json.dumps(job_document("say hi", agent="codex")))
    run = image_engine.docker(
        "run", "--rm", "--network", "none", "--volume", f"{bootstrap}:/bootstrap:ro",
        "--volume", f"{results}:/results", images["claude"], check=False,
    )  # fmt: skip
    assert run.returncode == 2
    result = json.loads((results / "result.json").read_text())
    assert (result["status"], result["error"]) == ("invalid", "agent: codex (codex) is not installed in this image")


def test_docker_stop_cancels_the_job_and_records_it(
    images: dict[str, str], fake_agents: Path, job_dirs: tuple[Path, Path]
) -> None:
    bootstrap, results = job_dirs
    (bootstrap / "job.json").write_text(json.dumps(job_document("sleep 120")))
    run = fake_job_run(images["multi-agent"], fake_agents, bootstrap, results, "--detach")
    container = image_engine.docker(*[arg for arg in run if arg != "--rm"]).stdout.strip()
    try:
        deadline = time.monotonic() + 60
        while "sleeping" not in image_engine.docker("logs", container).stdout:
            assert time.monotonic() < deadline, "agent never started"
            time.sleep(0.2)
        image_engine.docker("stop", "--time", "30", container)  # SIGTERM via tini, SIGKILL after 30 s
        exit_code = int(image_engine.docker("wait", container).stdout)
    finally:
        image_engine.docker("rm", "--force", container, check=False)
    result = json.loads((results / "result.json").read_text())
    assert exit_code == 1
    assert (result["status"], result["exit_code"]) == ("cancelled", 143)


@pytest.mark.parametrize("harness", HARNESS_NAMES)
def test_pushed_tags_resolve_to_one_digest_and_pull_by_digest(
    images: dict[str, str], revision: BuildRevision, harness: str
) -> None:
    repository = repository_name(harness)
    remote = f"{image_engine.REGISTRY}/{repository}"
    immutable = images[harness].rsplit(":", 1)[1]
    tags = image_tags(immutable, image_engine.TEST_ENVIRONMENT, push_latest=True)
    for tag in tags:
        image_engine.docker("tag", images[harness], f"{remote}:{tag}")
        image_engine.docker("push", f"{remote}:{tag}", timeout=900)
    digests = {image_engine.registry_digest(repository, tag) for tag in tags}
    assert len(digests) == 1, digests
    (digest,) = digests
    image_engine.docker("image", "rm", *(f"{remote}:{tag}" for tag in tags))
    image_engine.docker("pull", f"{remote}@{digest}", timeout=900)
    assert image_engine.inspect(f"{remote}@{digest}")["Id"] == image_engine.inspect(images[harness])["Id"]


def test_saved_layers_hold_no_secrets(images: dict[str, str], tmp_path: Path) -> None:
    # What the builds were handed as the secret `ca`; with no bundle there is nothing to leak but keys.
    bundle = ca_bundle_from_environment()
    build_bundle = bundle.read_bytes() if bundle is not None else b""
    saved = tmp_path / "images.tar"
    subprocess.run([image_engine.DOCKER, "save", "--output", str(saved), *images.values()], check=True)
    findings, layers = scan_saved_images(saved, build_bundle)
    assert layers >= len(images)
    assert findings == []


def test_compose_runs_the_example_job(images: dict[str, str]) -> None:
    """docker-compose.yml's worker service, on the multi-agent image tagged as the local worker image."""
    image_engine.docker("tag", images["multi-agent"], "viberator-worker:latest")
    compose = ["docker-compose", "--file", str(PROJECT_DIR / "docker-compose.yml")]
    run = subprocess.run(
        [*compose, "run", "--rm", "worker"], capture_output=True, text=True, timeout=300, cwd=PROJECT_DIR
    )
    subprocess.run([*compose, "down", "--volumes"], capture_output=True, cwd=PROJECT_DIR, check=True)
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.rstrip().splitlines()[-1].removeprefix("VIBERATOR_RESULT "))
    assert (result["job_id"], result["status"]) == ("compose-example", "succeeded")
