"""Engine, registry and build helpers shared by the real-build tier (conftest.py) and `make bench-images`
(bench.py). Image tooling elsewhere (issue 5) reuses these through the conftest fixtures.

The worker images are built the way users build them, by `python -m workers build` (`build_images`): the
tooling's tags, labels, build args and CA secret, so the tier tests that path rather than a copy of it. Other
docker calls go through Debian's docker 20.10 client at /usr/bin/docker with BuildKit (a newer client on PATH
lacks buildx), against the engine from .ci/docker-engine.sh.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Sequence

from workers.catalog import PROJECT_DIR
from workers.naming import image_reference, repository_name
from workers.revision import BuildRevision, override_revision
from workers.tooling import build
from workers.tooling.cli import build_command, parser
from workers.tooling.engine import DOCKER_ENV_VAR, Engine
from workers.tooling.references import Registry, current_revision

ENGINE_SCRIPT = PROJECT_DIR / ".ci" / "docker-engine.sh"
DOCKER = "/usr/bin/docker"
REGISTRY = os.environ.get("VIBERATOR_REGISTRY_ADDR", "127.0.0.1:5000")
TEST_ENVIRONMENT = "ci"
"""The `<env>` of the tags the tier builds and pushes; also the tag of its local aliases, so a developer's own
`local` alias is left alone."""

BASES_VAR = "VIBERATOR_IMAGE_BASES"

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


def base_build_args(platforms: str = "") -> tuple[str, ...]:
    """`NAME=VALUE` build args naming the base images, as `make images` passes them: the offline stand-ins the
    engine script makes (default here; for `platforms` too, e.g. `linux/arm64`) and names, or none (the
    Dockerfile's official-image defaults) with VIBERATOR_IMAGE_BASES=hub."""
    if os.environ.get(BASES_VAR, "offline") == "hub":
        return ()
    return tuple(engine("offline-bases", *([platforms] if platforms else [])).split())


def base_options(platforms: str = "") -> tuple[str, ...]:
    """`python -m workers build` options for the bases `base_build_args` names: the stand-ins' build args need
    `--bases offline`, which labels the images so (and keeps them off any registry but a loopback one)."""
    bases = base_build_args(platforms)
    return ("--bases", "offline", "--build-arg", " ".join(bases)) if bases else ()


def build_images(
    harnesses: Sequence[str], revision: BuildRevision, environment: str = TEST_ENVIRONMENT, platform: str = ""
) -> dict[str, str]:
    """Builds `harnesses`, in this order, with `python -m workers build` for `platform` (default the engine's),
    tagged for `environment` and aliased as `<harness>:<environment>`; {harness: its immutably tagged image}.
    Prints the tool's summary table (per harness: seconds, size, image id)."""
    bases = base_options(platform)
    with tempfile.TemporaryDirectory() as scratch:
        # Its own summary file: in CI the default is the job's step summary.
        options = ["--env", environment, "--alias-tag", environment, "--summary", f"{scratch}/summary.md"]
        options += ["--platform", platform] if platform else []
        options += bases
        tags = {harness: built_tag([harness, *options], harness) for harness in harnesses}
        built = subprocess.run(
            [sys.executable, "-m", "workers", "build", *harnesses, *options, "--timeout", "1800"],
            cwd=PROJECT_DIR, capture_output=True, text=True, env={**os.environ, DOCKER_ENV_VAR: DOCKER},
        )  # fmt: skip
    if built.returncode != 0:
        raise RuntimeError(f"python -m workers build {' '.join(harnesses)} failed:\n{built.stderr[-6000:]}")
    print(built.stdout)
    return {harness: image_reference(repository_name(harness), tags[harness]) for harness in harnesses}


def built_tag(argv: Sequence[str], harness: str) -> str:
    """The immutable tag `python -m workers build <argv>` gives `harness` (for several platforms, the manifest
    list's): the request that command line makes (`build_command._build_request`), planned for this engine's
    platform. No registry is a build input: a loopback one stands for --push's, whichever it is."""
    args = parser().parse_args(["build", *argv])
    revision = override_revision(args.revision) if args.revision else current_revision()
    registry = Registry.parse(REGISTRY) if args.push else None
    request = build_command._build_request(args, revision, registry, None)
    [planned] = [
        entry for entry in build.plan(request, build.native_platform(Engine(DOCKER))) if entry.harness == harness
    ]
    return planned.tags[0]


def inspect(reference: str) -> dict:
    return json.loads(docker("image", "inspect", reference).stdout)[0]


def registry_digest(repository: str, tag: str) -> str:
    """The manifest digest the registry on 127.0.0.1 serves for `repository:tag`."""
    request = urllib.request.Request(
        f"http://{REGISTRY}/v2/{repository}/manifests/{tag}", method="HEAD", headers={"Accept": MANIFEST_V2}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers["Docker-Content-Digest"]
