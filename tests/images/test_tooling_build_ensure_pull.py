"""The local tooling end to end on the real kimi image: build it, `ensure` hits it locally, pulls it back from a
loopback registry once the alias is gone, and fails fast with the build command once the registry is down.

Everything goes through `python -m workers` as a user would type it; an environment name and alias tag of
the test's own keep its tags apart from every other image on the engine. After the tier's own builds the kimi
build is a cache hit; alone it is a cold build of one target.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from image_engine import base_options, built_tag

from tests.tooling.realengine import HARNESS, LoopbackRegistry, SigningKey, pull_attempts
from workers.catalog import BUILD_CONTEXT
from workers.labels import REVISION_LABEL
from workers.tooling.contract import CONTRACT_LABEL, tool_contract
from workers.tooling.engine import Engine
from workers.tooling.ensure import build_commands
from workers.tooling.references import alias_reference, current_revision

pytestmark = pytest.mark.images


def workers(*args: str, timeout: float = 3600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers", *args],
        cwd=BUILD_CONTEXT.parents[1],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_kimi_builds_then_ensure_hits_pulls_and_fails_fast(
    docker_engine: Engine, registry: LoopbackRegistry, environment: str, tmp_path: Path, signing_key: SigningKey
) -> None:
    common = ["--env", environment, "--alias-tag", environment, "--registry", registry.address]
    bases = base_options()
    summary = tmp_path / "summary.md"
    revision = current_revision().revision
    alias = alias_reference(HARNESS, environment)
    # What the build below pushes and `ensure` with the same options pulls: this checkout's own build's tag.
    remote = registry.registry.reference(HARNESS, built_tag([HARNESS, *common, *bases, "--push"], HARNESS))

    built = workers("build", HARNESS, *common, *bases, "--push", "--summary", str(summary))
    assert built.returncode == 0, built.stderr[-3000:]
    labels = docker_engine.inspect(alias)
    assert labels is not None
    assert labels.labels[REVISION_LABEL] == revision
    assert labels.labels[CONTRACT_LABEL] == tool_contract()
    assert f"`{remote}`" in summary.read_text() and "sha256:" in summary.read_text()

    local = workers("ensure", HARNESS, *common, *bases, timeout=60)
    assert local.returncode == 0, local.stderr
    assert local.stdout.strip() == alias and "ready (local)" in local.stderr

    # What the deploy workflow does after a push: sign the digest, so that a pull of it is checked (`--public-key`).
    pushed = docker_engine.inspect(remote)
    assert pushed is not None
    (digest_reference,) = [d for d in pushed.repo_digests if d.startswith(registry.address)]
    signing_key.sign(digest_reference)
    docker_engine.remove(alias)
    docker_engine.remove(remote)
    pulled = workers("ensure", HARNESS, *common, *bases, "--public-key", str(signing_key.public), timeout=600)
    assert pulled.returncode == 0, pulled.stderr
    assert f"pulled from {remote}" in pulled.stderr
    assert docker_engine.inspect(alias) is not None

    docker_engine.remove(alias)
    registry.stop()
    down = workers("ensure", HARNESS, *common, *bases, timeout=60)
    assert down.returncode == 1
    # One pull, failed by the engine's own answer (a refused connection), before ensure's answer deadline.
    assert pull_attempts(down.stderr) == [f"{remote}: registry unreachable"]
    assert "connection refused" in down.stderr and "no answer after" not in down.stderr
    make, direct = build_commands(HARNESS, environment)
    assert make in down.stderr and direct in down.stderr
