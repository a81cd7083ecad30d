"""Real-build tier, arm64 (issue 21): a Node-CLI harness and a native-binary one cross-built for linux/arm64 on
this (x86_64) machine, then run under QEMU: each CLI's `--version` as uid 10001, the fake-agent job through the
entrypoint, and Lambda mode under the arm64 build of AWS's emulator. Bounded to two harnesses: under emulation the
os stage's apt-get and the Python venvs are several times slower than native (workers/image/Dockerfile says what
runs where), and CI's budget is 90 minutes.

`.ci/docker-engine.sh start` registers QEMU with binfmt_misc; without it the fixture fails with the command that
fixes it (workers/tooling/platforms.py).
"""

from __future__ import annotations

import json
import platform as host
import subprocess
import urllib.request
from pathlib import Path
from typing import Any

import image_engine
import pytest
from image_engine import ARM64, ARM64_HARNESSES
from runtime_jobs import job_document
from test_images import assert_clis_print_their_pinned_versions, fake_agent_job
from test_run_job_images import emulated, lambda_request
from test_tooling_build import registry_manifest

from workers.catalog import HARNESSES, PROJECT_DIR
from workers.naming import repository_name
from workers.revision import BuildRevision
from workers.tooling.platforms import EMULATION_HELP, Platform, missing_emulation

# Part of `make test-images`, and on their own in `make test-images-arm64`: a cold arm64 build under QEMU costs
# minutes where the amd64 one costs seconds (`pytest -m "images and not arm64"` leaves them out).
pytestmark = [pytest.mark.images, pytest.mark.arm64]

HOST_ARCHITECTURE = {"x86_64": "amd64", "aarch64": "arm64"}[host.machine()]


@pytest.fixture(scope="session")
def arm64_images(engine: None, revision: BuildRevision) -> dict[str, str]:
    problems = missing_emulation((Platform.parse(ARM64),), HOST_ARCHITECTURE)
    assert not problems, "\n".join([*problems, EMULATION_HELP])
    # Tags of their own environment: the native images of the same harnesses keep theirs.
    return image_engine.build_images(ARM64_HARNESSES, revision, f"{image_engine.TEST_ENVIRONMENT}-arm64", ARM64)


@pytest.mark.parametrize("harness", ARM64_HARNESSES)
def test_the_image_is_arm64_and_its_clis_run_under_emulation_as_uid_10001(
    arm64_images: dict[str, str], harness: str
) -> None:
    image = image_engine.inspect(arm64_images[harness])
    assert (image["Os"], image["Architecture"]) == ("linux", "arm64")
    assert image["Config"]["User"] == "10001:10001"
    assert image["Config"]["Entrypoint"] == ["/usr/bin/tini", "-s", "--", "viberator-worker"]
    machine = image_engine.docker(
        "run", "--rm", "--network", "none", "--entrypoint", "uname", arm64_images[harness], "-m"
    )
    assert machine.stdout.strip() == "aarch64"
    assert_clis_print_their_pinned_versions(arm64_images[harness], harness, "--user", "10001:10001", timeout=300)


@pytest.mark.parametrize("harness", ARM64_HARNESSES)
def test_fake_agent_job_runs_through_the_entrypoint_under_emulation(
    arm64_images: dict[str, str], fake_agents: Path, job_dirs: tuple[Path, Path], harness: str
) -> None:
    (agent,) = HARNESSES[harness].agents
    # The image's own ENTRYPOINT (tini -s): its prctl(PR_SET_CHILD_SUBREAPER) needs QEMU >= 9.0, which
    # .ci/docker-engine.sh start installs.
    _, result = fake_agent_job(arm64_images[harness], fake_agents, job_dirs, f"say hello from arm64 {agent}", agent)
    assert f"hello from arm64 {agent}" in result["output_tail"]


# The amd64 tier's 20 s function leaves the agent 5 s (the worker keeps a 15 s result margin); under QEMU the
# emulator, the runtime client and the worker's Python start several times slower than natively, so the arm64
# function gets a Lambda timeout of its own.
EMULATED_FUNCTION_TIMEOUT = 60


@pytest.mark.parametrize("harness", ARM64_HARNESSES)
def test_lambda_mode_under_the_arm64_emulator(arm64_images: dict[str, str], harness: str) -> None:
    (agent,) = HARNESSES[harness].agents
    event = job_document("say hello from arm64 Lambda", agent=agent)
    succeeded = emulated(lambda_request(arm64_images[harness], harness, event, "arm64", EMULATED_FUNCTION_TIMEOUT))
    assert succeeded["status"] == "succeeded", succeeded
    assert "hello from arm64 Lambda" in succeeded["output_tail"]


MAKE_ENVIRONMENT = "ci-make"
"""The `<env>` of what the `make image` test builds and pushes, apart from the fixtures' `ci` tags."""


def make_image(*variables: str) -> None:
    completed = subprocess.run(
        ["make", "--no-print-directory", "image", "HARNESS=kimi", f"IMAGE_ENV={MAKE_ENVIRONMENT}", *variables],
        cwd=PROJECT_DIR, capture_output=True, text=True, timeout=1800, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert completed.returncode == 0, f"make image {' '.join(variables)}: {completed.stderr[-3000:]}"


def config_blob(repository: str, digest: str) -> dict[str, Any]:
    url = f"http://{image_engine.REGISTRY}/v2/{repository}/blobs/{digest}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return dict(json.loads(response.read()))


def test_make_image_builds_arm64_and_pushes_an_index_that_resolves_per_platform(arm64_images: dict[str, str]) -> None:
    """What README's `make image … PLATFORM=…` lines do, against the registry on 127.0.0.1: the arm64 stages are
    the fixture's, cached, so this costs the amd64 build (cached after `make test-images`) and the pushes."""
    make_image("PLATFORM=linux/arm64", f"ALIAS_TAG={MAKE_ENVIRONMENT}-arm64")
    single = image_engine.inspect(f"{repository_name('kimi')}:{MAKE_ENVIRONMENT}-arm64")
    assert (single["Os"], single["Architecture"]) == ("linux", "arm64")

    make_image("PLATFORM=linux/amd64,linux/arm64", "PUSH=1", f"REGISTRY={image_engine.REGISTRY}")
    repository = repository_name("kimi")
    platforms = "linux/amd64,linux/arm64"
    pushed = ["kimi", "--env", MAKE_ENVIRONMENT, "--platform", platforms, "--push", "--registry", image_engine.REGISTRY]
    index_tag = image_engine.built_tag([*pushed, *image_engine.base_options(platforms)], "kimi")
    index: dict[str, Any] = registry_manifest(image_engine.REGISTRY, repository, index_tag)[1]
    resolved = {}
    for entry in index["manifests"]:
        manifest: dict[str, Any] = registry_manifest(image_engine.REGISTRY, repository, entry["digest"])[1]
        config = config_blob(repository, manifest["config"]["digest"])
        platform = f"{entry['platform']['os']}/{entry['platform']['architecture']}"
        resolved[platform] = (f"{config['os']}/{config['architecture']}", config["config"]["User"])
    assert resolved == {"linux/amd64": ("linux/amd64", "10001:10001"), "linux/arm64": ("linux/arm64", "10001:10001")}
