"""Docker engine, registry and build helpers shared by the real-build tier (conftest.py) and `make
bench-images` (bench.py). Image tooling elsewhere (issue 5) reuses these through the conftest fixtures.

Everything goes through Debian's docker 20.10 client at /usr/bin/docker with BuildKit (a newer client on
PATH lacks buildx), with host networking for builds, and the engine from .ci/docker-engine.sh.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from workers.catalog import BUILD_CONTEXT
from workers.naming import image_reference, repository_name, revision_tag
from workers.revision import BuildRevision
from workers.tooling.build import CA_SECRET_ID, ca_bundle_from_environment

REPO_ROOT = Path(__file__).resolve().parents[2]
ENGINE_SCRIPT = REPO_ROOT / ".ci" / "docker-engine.sh"
DOCKER = "/usr/bin/docker"
REGISTRY = os.environ.get("VIBERATOR_REGISTRY_ADDR", "127.0.0.1:5000")
TEST_ENVIRONMENT = "ci"
"""The `<env>` of the tags the tier pushes."""

BASES_VAR = "VIBERATOR_IMAGE_BASES"
OFFLINE_BASE_ARGS = {
    "NODE_BASE": "viberator-base/node:22-trixie-slim",
    "SLIM_BASE": "viberator-base/debian:trixie-slim",
    "ARCH_TAGGED_BASES": "1",
}
"""Stand-ins the engine script makes when Docker Hub is unreachable (a CI fallback, never production): one image
per architecture, `<base>-<arch>`, which ARCH_TAGGED_BASES makes the Dockerfile's FROM lines name."""


ARM64 = "linux/arm64"
ARM64_HARNESSES = ("kimi", "codex")
"""What the tier and the bench build for arm64 under QEMU, bounded to keep CI well within its 90 minutes: a Node
CLI (kimi: the target's node binary, npm's JavaScript) and a native binary (codex: npm's arm64 platform package)."""

MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


def engine(command: str, *args: str) -> str:
    """Runs `.ci/docker-engine.sh <command> [args]` (idempotent) and returns its stdout."""
    return subprocess.run([str(ENGINE_SCRIPT), command, *args], check=True, capture_output=True, text=True).stdout


def docker(*args: str, timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    return subprocess.run([DOCKER, *args], check=check, capture_output=True, text=True, env=env, timeout=timeout)


def base_build_args(platforms: str = "") -> dict[str, str]:
    """Build args naming the base images: the offline stand-ins (default here; made for `platforms` too, e.g.
    `linux/arm64`) or the Dockerfile's own official-image defaults with VIBERATOR_IMAGE_BASES=hub."""
    if os.environ.get(BASES_VAR, "offline") == "hub":
        return {}
    engine("offline-bases", *([platforms] if platforms else []))
    return dict(OFFLINE_BASE_ARGS)


def secret_args() -> list[str]:
    """The machine's CA bundle as the build's `ca` secret, as `python -m workers build` hands it."""
    bundle = ca_bundle_from_environment()
    return ["--secret", f"id={CA_SECRET_ID},src={bundle}"] if bundle is not None else []


def build_args_for(revision: BuildRevision, bases: Mapping[str, str]) -> dict[str, str]:
    return {**bases, "REVISION": revision.revision, "SOURCE_DATE_EPOCH": str(revision.source_date_epoch)}


def local_reference(harness: str, revision: BuildRevision) -> str:
    return image_reference(repository_name(harness), revision_tag(TEST_ENVIRONMENT, revision.revision))


def build(
    harness: str, tag: str, build_args: Mapping[str, str], context: Path = BUILD_CONTEXT, platform: str | None = None
) -> float:
    """Builds one harness target into the engine as `tag` (for `platform`, default the engine's); returns wall
    seconds."""
    args = [f"--build-arg={name}={value}" for name, value in build_args.items()]
    args += ["--platform", platform] if platform else []
    started = time.monotonic()
    result = docker(
        "build", "--network", "host", "--progress", "plain", "--target", harness, *args, *secret_args(),
        "--tag", tag, str(context), check=False, timeout=1800,
    )  # fmt: skip
    if result.returncode != 0:
        raise RuntimeError(f"build of {harness} failed:\n{result.stderr[-6000:]}")
    return time.monotonic() - started


def inspect(reference: str) -> dict:
    return json.loads(docker("image", "inspect", reference).stdout)[0]


def registry_digest(repository: str, tag: str) -> str:
    """The manifest digest the registry on 127.0.0.1 serves for `repository:tag`."""
    request = urllib.request.Request(
        f"http://{REGISTRY}/v2/{repository}/manifests/{tag}", method="HEAD", headers={"Accept": MANIFEST_V2}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers["Docker-Content-Digest"]
