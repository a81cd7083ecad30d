"""The one place that runs the docker binary: inspect, tag, pull, build, push and manifest lists.

Everything goes through the CLI rather than the Engine API so that the user's own configuration (context,
credential helpers such as ECR's, `DOCKER_HOST`) applies exactly as it does to their own `docker` commands;
only a login the tooling took itself (`registry_config`, `workers.tooling.ecr`) replaces their credentials,
and only for the registry calls.
Each call is bounded in time; a pull is additionally bounded in how long the registry may stay silent, which
is what makes an unreachable registry fail within seconds instead of after the daemon's own dial timeouts.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any, Protocol

from workers.tooling.process import EngineError, StreamResult, StreamTimeout, stream

DOCKER_ENV_VAR = "VIBERATOR_DOCKER"
DISTRIBUTION_DOCKER = Path("/usr/bin/docker")

QUICK_TIMEOUT = 30.0
"""Seconds for calls that only read or write engine metadata (inspect, tag, version)."""


def docker_binary() -> str:
    """`$VIBERATOR_DOCKER`, else the distribution's client, else `docker` on PATH.

    The distribution's client comes first because it is the one installed together with the engine and its
    BuildKit; a newer standalone client earlier on PATH may lack the buildx plugin that its `docker build`
    then insists on.
    """
    configured = os.environ.get(DOCKER_ENV_VAR)
    if configured:
        return configured
    if DISTRIBUTION_DOCKER.exists():
        return str(DISTRIBUTION_DOCKER)
    return shutil.which("docker") or "docker"


class PullFailure(Enum):
    """Why a pull failed, in the terms the user acts on."""

    NOT_FOUND = "not found in the registry"
    UNREACHABLE = "registry unreachable"
    UNAUTHORIZED = "not authorized (log in to the registry first)"
    OTHER = "pull failed"


class PullError(EngineError):
    def __init__(self, kind: PullFailure, detail: str) -> None:
        super().__init__(kind.value, detail)
        self.kind = kind


# Phrases from the daemon's pull errors (distribution and Go net errors), most specific first.
_PULL_FAILURES: tuple[tuple[PullFailure, tuple[str, ...]], ...] = (
    (PullFailure.NOT_FOUND, ("manifest unknown", "not found", "name unknown")),
    (
        PullFailure.UNAUTHORIZED,
        ("unauthorized", "no basic auth credentials", "denied", "authentication required"),
    ),
    (
        PullFailure.UNREACHABLE,
        (
            "connection refused",
            "no such host",
            "i/o timeout",
            "timeout",
            "network is unreachable",
            "no route to host",
            "server gave http response to https client",
            "tls:",
            "dial tcp",
        ),
    ),
)


def classify_pull_error(output: str) -> PullFailure:
    text = output.lower()
    for kind, phrases in _PULL_FAILURES:
        if any(phrase in text for phrase in phrases):
            return kind
    return PullFailure.OTHER


_PUSH_DIGEST = re.compile(r"digest: (sha256:[0-9a-f]{64})")
_MANIFEST_DIGEST = re.compile(r"^(sha256:[0-9a-f]{64})\s*$", re.MULTILINE)


def push_digest(output: str) -> str:
    """The manifest digest `docker push` reports on its last line (`<tag>: digest: sha256:… size: N`)."""
    found = _PUSH_DIGEST.findall(output)
    if not found:
        raise EngineError("docker push printed no digest", output[-500:])
    return found[-1]


@dataclass(frozen=True)
class ImageInfo:
    """What the tooling needs from `docker image inspect`."""

    id: str
    labels: dict[str, str]
    size: int
    repo_digests: tuple[str, ...]
    platform: str
    entrypoint: tuple[str, ...] = ()
    """The image's ENTRYPOINT, which Lambda runs with the function's command after it."""

    @property
    def architecture(self) -> str:
        return self.platform.split("/", 1)[-1]

    @classmethod
    def from_inspect(cls, document: dict[str, Any]) -> ImageInfo:
        """From one element of `docker image inspect`'s JSON array."""
        config = document.get("Config") or {}
        return cls(
            id=str(document["Id"]),
            labels=dict(config.get("Labels") or {}),
            size=int(document.get("Size") or 0),
            repo_digests=tuple(document.get("RepoDigests") or ()),
            platform=f"{document.get('Os', '?')}/{document.get('Architecture', '?')}",
            entrypoint=tuple(config.get("Entrypoint") or ()),
        )


@dataclass(frozen=True)
class ServerInfo:
    version: str
    os: str
    architecture: str
    """In Docker's terms (`amd64`, `arm64`), like a platform's."""


class DockerConfig(Protocol):
    """A Docker config directory holding a registry login (`workers.tooling.ecr.DockerLogin`)."""

    def directory(self) -> Path:
        """The directory, its credentials valid for the next registry call."""
        ...


class Engine:
    """A Docker engine reached through one docker binary."""

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or docker_binary()
        self.registry_config: DockerConfig | None = None
        """The login the registry calls (pull, push, manifest) use instead of the user's Docker config."""

    def _env(self) -> dict[str, str]:
        # BuildKit gives build secrets and cache mounts; the 20.10 client only uses it when asked.
        return {**os.environ, "DOCKER_BUILDKIT": "1"}

    def docker_config(self) -> Path | None:
        """The Docker config directory of the tooling's registry login, None when the user's own is used."""
        return None if self.registry_config is None else self.registry_config.directory()

    def _registry_env(self) -> dict[str, str]:
        # Only the calls that talk to the registry: builds keep the user's config, and its logins for base images.
        config = self.docker_config()
        return self._env() if config is None else {**self._env(), "DOCKER_CONFIG": str(config)}

    def _run(
        self, *args: str, timeout: float = QUICK_TIMEOUT, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                [self.binary, *args],
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env or self._env(),
                stdin=subprocess.DEVNULL,
            )
        except FileNotFoundError:
            raise EngineError(
                f"docker binary {self.binary!r} not found",
                f"install Docker (this project's: `.ci/docker-engine.sh start`, as root) or set {DOCKER_ENV_VAR}",
            ) from None
        except subprocess.TimeoutExpired:
            raise EngineError(f"docker {args[0]} did not answer within {timeout:g} s") from None

    def _check(self, *args: str, timeout: float = QUICK_TIMEOUT, env: dict[str, str] | None = None) -> str:
        completed = self._run(*args, timeout=timeout, env=env)
        if completed.returncode != 0:
            raise EngineError(f"docker {' '.join(args[:2])} failed", completed.stderr.strip())
        return completed.stdout

    def server(self, timeout: float = 10.0) -> ServerInfo:
        """Who answers; EngineError names the binary when no engine does (within `timeout`)."""
        completed = self._run("version", "--format", "{{json .Server}}", timeout=timeout)
        if completed.returncode != 0 or not completed.stdout.strip().startswith("{"):
            raise EngineError(
                f"no Docker engine answers to {self.binary}: start one (this project's: `.ci/docker-engine.sh "
                "start`, as root) or point DOCKER_HOST at yours",
                completed.stderr.strip(),
            )
        document = json.loads(completed.stdout)
        return ServerInfo(
            version=str(document.get("Version", "?")),
            os=str(document.get("Os", "linux")),
            architecture=str(document.get("Arch", "?")),
        )

    def host_name(self) -> str:
        """The engine host's name: this machine's own when the engine shares its kernel."""
        return self._check("info", "--format", "{{.Name}}").strip()

    def inspect(self, reference: str) -> ImageInfo | None:
        """The local image `reference` names, or None when the engine has no such image."""
        completed = self._run("image", "inspect", reference)
        if completed.returncode != 0:
            if "no such image" in completed.stderr.lower():
                return None
            raise EngineError(f"docker image inspect {reference} failed", completed.stderr.strip())
        documents = json.loads(completed.stdout)
        return ImageInfo.from_inspect(documents[0])

    def tag(self, source: str, target: str) -> None:
        self._check("tag", source, target)

    def remove(self, reference: str) -> None:
        """Untag `reference` (the image stays while other tags name it)."""
        self._check("image", "rm", reference)

    def pull(self, reference: str, *, silence_timeout: float, timeout: float) -> None:
        try:
            result = stream(
                [self.binary, "pull", reference],
                timeout=timeout,
                silence_timeout=silence_timeout,
                env=self._registry_env(),
            )
        except StreamTimeout as timed_out:
            raise PullError(PullFailure.UNREACHABLE, str(timed_out)) from None
        if result.returncode != 0:
            raise PullError(classify_pull_error(result.text), result.text.strip())

    def run(self, args: Sequence[str], *, on_line: Callable[[str], None], timeout: float) -> StreamResult:
        """`docker run <args>` in the foreground, each output line to `on_line`; the container's exit code."""
        return stream([self.binary, "run", *args], on_line=on_line, timeout=timeout, env=self._env())

    def run_detached(self, args: Sequence[str]) -> str:
        """`docker run --detach <args>`: the new container's id."""
        return self._check("run", "--detach", *args).strip()

    def container_running(self, container: str) -> bool:
        completed = self._run("container", "inspect", "--format", "{{.State.Running}}", container)
        return completed.returncode == 0 and completed.stdout.strip() == "true"

    def container_logs(self, container: str) -> str:
        completed = self._run("logs", container)
        return completed.stdout + completed.stderr

    def remove_container(self, container: str) -> None:
        self._run("rm", "--force", container)

    def build(self, options: Iterable[str], context: Path, *, on_line: Callable[[str], None], timeout: float) -> None:
        argv = [self.binary, "build", "--progress", "plain", *options, str(context)]
        result = stream(argv, on_line=on_line, timeout=timeout, env=self._env())
        if result.returncode != 0:
            raise EngineError("docker build failed", "\n".join(list(result.tail)[-15:]))

    def push(self, reference: str, *, timeout: float, on_line: Callable[[str], None]) -> str:
        """Push one tag; returns the manifest digest the registry stored."""
        result = stream([self.binary, "push", reference], on_line=on_line, timeout=timeout, env=self._registry_env())
        if result.returncode != 0:
            raise EngineError(f"docker push {reference} failed", result.text.strip())
        return push_digest(result.text)

    def push_manifest_list(self, target: str, platform_images: Sequence[str], *, insecure: bool, timeout: float) -> str:
        """Create and push a manifest list `target` over already pushed per-platform images; its digest."""
        flags = ["--insecure"] if insecure else []
        env = self._registry_env()
        self._check("manifest", "create", "--amend", *flags, target, *platform_images, timeout=timeout, env=env)
        output = self._check("manifest", "push", "--purge", *flags, target, timeout=timeout, env=env)
        found = _MANIFEST_DIGEST.findall(output)
        if not found:
            raise EngineError("docker manifest push printed no digest", output.strip())
        return found[-1]
