"""Release images only from release bases: a push off this machine needs images labelled `official`, refused
before any login or build when the request asks for stand-ins, and refused again at the push by the image's own
label, whoever built it. Without Docker: a fake engine, a dead DOCKER_HOST, a stand-in engine script."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.builders import REVISION
from tests.tooling import aws_stubs
from workers.labels import BASES_LABEL, OFFICIAL_BASES, OFFLINE_BASES
from workers.tooling import build, cli
from workers.tooling.build import (
    BuildError,
    BuildRequest,
    BuildResult,
    build_harness,
    native_platform,
    plan,
    with_offline_bases,
)
from workers.tooling.engine import DOCKER_ENV_VAR, ImageInfo, ServerInfo
from workers.tooling.references import Registry

isolated_aws = aws_stubs.isolated_aws  # pytest finds fixtures among a module's attributes

REMOTE = Registry.parse("registry.example.com/team")
LOOPBACK = Registry.parse("127.0.0.1:5000")


class Engine:
    """Builds nothing; holds one image per reference, labelled as given (as if built elsewhere), and records
    pushes."""

    def __init__(self, bases: str | None) -> None:
        self.labels = {} if bases is None else {BASES_LABEL: bases}
        self.built: list[list[str]] = []
        self.pushed: list[str] = []

    def server(self) -> ServerInfo:
        return ServerInfo("20.10", "linux", "amd64")

    def build(self, options: list[str], context: Path, **_: Any) -> None:
        self.built.append(options)

    def inspect(self, reference: str) -> ImageInfo:
        return ImageInfo("sha256:" + "1" * 64, self.labels, 1, (), "linux/amd64")

    def push(self, reference: str, **_: Any) -> str:
        self.pushed.append(reference)
        return "sha256:" + "2" * 64


class Quiet:
    def phase(self, harness: str, text: str) -> None: ...
    def line(self, harness: str, text: str) -> None: ...
    def finished(self, result: BuildResult) -> None: ...


def push(engine: Engine, registry: Registry, tmp_path: Path) -> BuildResult:
    request = BuildRequest(("kimi",), REVISION, registry=registry, push=True, log_dir=tmp_path)
    [kimi] = plan(request, native_platform(engine))  # type: ignore[arg-type]
    return build_harness(request, engine, kimi, Quiet())  # type: ignore[arg-type]


@pytest.mark.parametrize("bases", [OFFLINE_BASES, None])
def test_an_image_not_labelled_official_is_never_pushed_off_this_machine(bases: str | None, tmp_path: Path) -> None:
    engine = Engine(bases)
    result = push(engine, REMOTE, tmp_path)
    assert engine.pushed == []
    assert result.error is not None
    assert f"{BASES_LABEL}={bases or '(none)'}" in result.error and "IMAGE_BASES=hub" in result.error


def test_an_official_image_pushes_anywhere_and_any_image_to_loopback(tmp_path: Path) -> None:
    official = Engine(OFFICIAL_BASES)
    assert push(official, REMOTE, tmp_path).ok and official.pushed[0].startswith("registry.example.com/team/")
    stand_in = Engine(OFFLINE_BASES)
    assert push(stand_in, LOOPBACK, tmp_path).ok and stand_in.pushed[0].startswith("127.0.0.1:5000/")


@pytest.mark.usefixtures("isolated_aws")
def test_a_push_of_stand_ins_to_a_registry_host_is_refused_before_anything_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("VIBERATOR_REGISTRY", raising=False)
    # No docker at all: the refusal needs none, and AWS is unreachable (isolated_aws): it asks neither.
    monkeypatch.setenv(DOCKER_ENV_VAR, str(tmp_path / "no-docker"))
    argv = ["build", "kimi", "--push", "--bases", OFFLINE_BASES, "--registry", "registry.example.com"]
    assert cli.main(argv) == cli.EXIT_USAGE
    error = capsys.readouterr().err
    assert "refusing to push to registry.example.com" in error
    assert "IMAGE_BASES" in error and "--bases official" in error


def test_a_push_of_stand_ins_to_ecr_is_refused_once_ecr_is_known_before_any_build(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """No --registry, AWS credentials: the laptop recipe `make image HARNESS=kimi PUSH=1` with make's default
    IMAGE_BASES=offline. STS and the login answer (stubbed); the repositories are not even asked for."""
    monkeypatch.delenv("VIBERATOR_REGISTRY", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the login's private config, to check it is gone
    aws = aws_stubs.StubbedAws()
    aws.caller()
    aws.login("token")
    assert cli.main(["build", "kimi", "--push", "--bases", OFFLINE_BASES], aws=aws) == cli.EXIT_USAGE
    assert f"refusing to push to {aws_stubs.ECR_HOST}" in capsys.readouterr().err
    aws.assert_done()
    assert list(tmp_path.iterdir()) == []


def stand_in_script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str) -> Path:
    """`.ci/docker-engine.sh` replaced by a script that records its arguments in `calls`, then runs `body`."""
    calls = tmp_path / "calls"
    script = tmp_path / "docker-engine.sh"
    script.write_text(f'#!/bin/sh\necho "$@" >> {calls}\n{body}\n')
    script.chmod(0o755)
    monkeypatch.setattr(build, "ENGINE_SCRIPT", script)
    return calls


def test_offline_bases_come_from_the_engine_script_for_every_platform(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = stand_in_script(tmp_path, monkeypatch, 'echo "NODE_BASE=n SLIM_BASE=s ARCH_TAGGED_BASES=1"')
    request = BuildRequest(("kimi",), REVISION, bases=OFFLINE_BASES, build_args=(("X", "1"),))
    resolved = with_offline_bases(request)
    assert resolved.build_args == (("X", "1"), ("NODE_BASE", "n"), ("SLIM_BASE", "s"), ("ARCH_TAGGED_BASES", "1"))
    assert calls.read_text() == "offline-bases\n"
    # Official bases, or stand-ins named already: the script is not run.
    assert with_offline_bases(BuildRequest(("kimi",), REVISION)).build_args == ()
    assert with_offline_bases(resolved) is resolved
    assert calls.read_text() == "offline-bases\n"


def test_a_failing_engine_script_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in_script(tmp_path, monkeypatch, "exit 3")
    with pytest.raises(BuildError, match=r"offline-bases failed \(exit 3\)"):
        with_offline_bases(BuildRequest(("kimi",), REVISION, bases=OFFLINE_BASES))


def test_without_an_engine_nothing_is_made_and_the_fix_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`make image` on a machine whose engine is down: the stand-in bases (debootstrap, apt, minutes) are not
    made; the error names the command that starts the engine."""
    calls = stand_in_script(tmp_path, monkeypatch, "exit 0")
    # A docker client whose engine does not answer, as the 20.10 client says it (a new machine may have none).
    docker = tmp_path / "docker"
    docker.write_text("#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///dead.sock.' >&2\nexit 1\n")
    docker.chmod(0o755)
    monkeypatch.setenv(DOCKER_ENV_VAR, str(docker))
    assert cli.main(["build", "kimi", "--bases", OFFLINE_BASES, "--summary", str(tmp_path / "s.md")]) == 1
    assert ".ci/docker-engine.sh start" in capsys.readouterr().err
    assert not calls.exists()
