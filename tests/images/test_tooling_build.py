"""`build --push` against the real engine and a registry on 127.0.0.1 (real-build tier).

A tiny build context stands in for `workers/image` (one `kimi` target `FROM scratch`, given its per-build labels
by the tool, as the worker images are), so what is tested is the tooling: tags, labels, pushes, digests and
manifest lists. Platform images `FROM scratch` have no `RUN` step, so even the arm64 one builds without QEMU.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.builders import REVISION
from tests.tooling import realengine
from tests.tooling.realengine import HARNESS, LoopbackRegistry
from workers.catalog import BUILD_CONTEXT
from workers.labels import REVISION_LABEL
from workers.naming import image_tags
from workers.tooling import build
from workers.tooling.cli import main as workers_main
from workers.tooling.engine import Engine
from workers.tooling.platforms import missing_emulation, parse_platforms

pytestmark = pytest.mark.images

MANIFEST_TYPES = ", ".join(
    (
        "application/vnd.docker.distribution.manifest.list.v2+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.oci.image.manifest.v1+json",
    )
)


class Recorder:
    """A `build.Progress` that keeps what it was told."""

    def __init__(self) -> None:
        self.phases: list[str] = []
        self.results: list[build.BuildResult] = []

    def phase(self, harness: str, text: str) -> None:
        self.phases.append(text)

    def line(self, harness: str, text: str) -> None:
        pass

    def finished(self, result: build.BuildResult) -> None:
        self.results.append(result)


@pytest.fixture
def context(tmp_path: Path) -> Path:
    return realengine.tiny_context(tmp_path)


def push_request(
    registry: LoopbackRegistry, context: Path, environment: str, log_dir: Path, **changes: Any
) -> build.BuildRequest:
    """`build --push` of the tiny context's target into the loopback registry, with `changes`."""
    return build.BuildRequest(
        harnesses=(HARNESS,),
        revision=REVISION,
        environment=environment,
        registry=registry.registry,
        push=True,
        context=context,
        dockerfile=context / "Dockerfile",
        log_dir=log_dir,
        **changes,
    )


def registry_manifest(address: str, repository: str, tag: str) -> tuple[str, dict[str, object]]:
    """The digest the registry serves for `repository:tag`, and the manifest document."""
    request = urllib.request.Request(
        f"http://{address}/v2/{repository}/manifests/{tag}", headers={"Accept": MANIFEST_TYPES}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.headers["Docker-Content-Digest"], json.loads(response.read())


def test_push_publishes_every_tag_at_the_reported_digest(
    docker_engine: Engine, registry: LoopbackRegistry, context: Path, environment: str, tmp_path: Path
) -> None:
    request = push_request(registry, context, environment, tmp_path / "logs", alias_tag=f"{environment}-alias")
    progress = Recorder()

    outcome = build.run(request, docker_engine, progress)

    [result] = outcome.results
    assert result.ok, result.error
    assert result.digest is not None and result.digest.startswith("sha256:")
    [planned] = build.plan(request, build.native_platform(docker_engine))
    assert result.image == planned.registry_references[0]
    for tag in image_tags(planned.tags[0], environment, push_latest=False):
        digest, _ = registry_manifest(registry.address, f"viberator-worker-{HARNESS}", tag)
        assert digest == result.digest, tag
    alias = docker_engine.inspect(f"viberator-worker-{HARNESS}:{environment}-alias")
    assert alias is not None and alias.labels[REVISION_LABEL] == REVISION.revision
    assert (tmp_path / "logs" / f"{HARNESS}.log").read_text().strip()
    assert progress.phases[0] == "building" and progress.results == [result]


def test_several_platforms_push_one_manifest_list_per_tag(
    docker_engine: Engine, registry: LoopbackRegistry, context: Path, environment: str, tmp_path: Path
) -> None:
    request = push_request(
        registry, context, environment, tmp_path / "logs", platforms=parse_platforms("linux/amd64,linux/arm64")
    )

    outcome = build.run(request, docker_engine, Recorder())

    [result] = outcome.results
    assert result.ok, result.error
    assert [platform for platform, _ in result.sizes] == ["linux/amd64", "linux/arm64"]
    [planned] = build.plan(request, build.native_platform(docker_engine))
    for _, image in planned.platform_references:
        assert registry_manifest(registry.address, f"viberator-worker-{HARNESS}", image.rsplit(":", 1)[1])[0]
    for tag in image_tags(planned.tags[0], environment, push_latest=False):
        digest, manifest = registry_manifest(registry.address, f"viberator-worker-{HARNESS}", tag)
        assert digest == result.digest, tag
        entries = manifest["manifests"]
        assert isinstance(entries, list)
        platforms = sorted(f"{m['platform']['os']}/{m['platform']['architecture']}" for m in entries)
        assert platforms == ["linux/amd64", "linux/arm64"]


def test_a_foreign_platform_without_qemu_is_refused_with_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The real engine, and a kernel without binfmt handlers: an empty binfmt_misc stands in for this one,
    which `.ci/docker-engine.sh` gives arm64 emulation, so the refusal is tested on every machine."""
    no_handlers = tmp_path / "binfmt_misc"
    no_handlers.mkdir()
    monkeypatch.setattr(
        build,
        "missing_emulation",
        lambda platforms, architecture: missing_emulation(platforms, architecture, no_handlers),
    )
    monkeypatch.chdir(BUILD_CONTEXT.parents[1])
    assert workers_main(["build", HARNESS, "--platform", "linux/arm64"]) == 2
    stderr = capsys.readouterr().err
    assert "qemu-aarch64" in stderr and "apt-get install qemu-user-static" in stderr
