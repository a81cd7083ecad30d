"""AWS's Lambda Runtime Interface Emulator (RIE): a clanker's image run as Lambda runs it, on this machine.

The emulator is AWS's own implementation of the Lambda Runtime API and of the Invoke path
(`/2015-03-31/functions/function/invocations`), so botocore's Lambda client calls it exactly as it calls
Lambda. It ships as a plain binary inside the `aws-sam-cli` wheel on PyPI; the wheel is downloaded once with
pip, checked against pinned sha256s (wheel and binary), and the binary cached outside the repository.

A local function is the image's own ENTRYPOINT with the function's command, started by the emulator inside
the container, with the function's memory size and timeout, on 127.0.0.1 ports of the host network.
"""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from workers.tooling.engine import Engine, ImageInfo
from workers.tooling.lock import exclusive

RIE_WHEEL = "aws-sam-cli"
RIE_VERSION = "1.170.0"
RIE_WHEEL_SHA256 = "24ebaf5ecba38dc1758089968cb89ab61e124b84e92a344fc7a2771a47f4d0bf"
RIE_BINARIES = {
    "amd64": ("aws-lambda-rie-x86_64", "6b1e686e62ab2baf5759c412c4864276ef2a88b094fca53ec070637ccba9b9a5"),
    "arm64": ("aws-lambda-rie-arm64", "ec2e5d09633d853834c008b1ef264bf834b258a94d551d2b2074966494b39a21"),
}
"""Per image architecture (Docker's names): the binary inside the wheel and its sha256."""
CACHE_ENV_VAR = "VIBERATOR_CACHE_DIR"
MOUNT_POINT = "/aws-lambda-rie"
INVOKE_FUNCTION_NAME = "function"
"""The one function name the emulator serves."""


class EmulatorError(RuntimeError):
    """The emulator could not be fetched or did not start; the message says what to do."""


def cache_dir() -> Path:
    base = os.environ.get(CACHE_ENV_VAR) or os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "viberator" / "lambda-rie" / RIE_VERSION


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def emulator_binary(architecture: str) -> Path:
    """The pinned emulator for `architecture` (`amd64`, `arm64`), downloaded on first use."""
    if architecture not in RIE_BINARIES:
        raise EmulatorError(f"no Lambda emulator for architecture {architecture!r}; Lambda runs amd64 and arm64")
    name, digest = RIE_BINARIES[architecture]
    target = cache_dir() / name
    if target.is_file() and _sha256(target) == digest:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with exclusive(f"lambda-rie-{RIE_VERSION}", timeout=300):
        if not (target.is_file() and _sha256(target) == digest):
            _download(name, digest, target)
    return target


def _pip() -> list[str]:
    """A pip to download with: the running interpreter's, else the machine's (uv's venvs have none)."""
    candidates = [[sys.executable, "-m", "pip"], ["python3", "-m", "pip"], ["/usr/bin/python3", "-m", "pip"]]
    for candidate in candidates:
        try:
            if subprocess.run([*candidate, "--version"], capture_output=True, timeout=30).returncode == 0:
                return candidate
        except (OSError, subprocess.TimeoutExpired):
            continue
    raise EmulatorError(f"no pip found to download {RIE_WHEEL}=={RIE_VERSION} (AWS's Lambda emulator) from PyPI")


def _download(name: str, digest: str, target: Path) -> None:
    with tempfile.TemporaryDirectory(prefix="viberator-rie-") as scratch:
        download = subprocess.run(
            [
                *_pip(),
                *("download", "--quiet", "--no-deps", "--only-binary", ":all:"),
                *("--dest", scratch, f"{RIE_WHEEL}=={RIE_VERSION}"),
            ],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=300,
        )
        wheels = list(Path(scratch).glob("*.whl"))
        if download.returncode != 0 or len(wheels) != 1:
            detail = (download.stderr or download.stdout).strip().splitlines()[-3:]
            raise EmulatorError(
                f"could not download {RIE_WHEEL}=={RIE_VERSION} from PyPI (it carries AWS's Lambda emulator): "
                + (" / ".join(detail) or "pip found no wheel")
            )
        (wheel,) = wheels
        if _sha256(wheel) != RIE_WHEEL_SHA256:
            raise EmulatorError(f"{wheel.name} does not match its pinned sha256 {RIE_WHEEL_SHA256}; refusing it")
        with zipfile.ZipFile(wheel) as archive:
            data = archive.read(f"samcli/local/rapid/{name}")
    if hashlib.sha256(data).hexdigest() != digest:
        raise EmulatorError(f"{name} in {RIE_WHEEL}=={RIE_VERSION} does not match its pinned sha256 {digest}")
    partial = target.with_suffix(".partial")
    partial.write_bytes(data)
    partial.chmod(0o755)
    partial.replace(target)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class LocalFunction:
    image: ImageInfo
    reference: str
    command: Sequence[str]
    """The function's command (`image_config.commands`), appended to the image's ENTRYPOINT as Lambda does."""
    memory_mb: int
    timeout_seconds: int
    environment: dict[str, str]
    volumes: tuple[str, ...] = ()
    """Extra `--volume` specs (the fake agent, in tests and `--fake-agent`)."""
    start_timeout: float = 20.0


@contextmanager
def running(function: LocalFunction, engine: Engine) -> Iterator[str]:
    """Run `function` under the emulator; yields the endpoint URL botocore's Lambda client should call."""
    binary = emulator_binary(function.image.architecture)
    invoke_port, runtime_port = free_port(), free_port()
    env = {
        "AWS_LAMBDA_FUNCTION_NAME": INVOKE_FUNCTION_NAME,
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(function.memory_mb),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(function.timeout_seconds),
        **function.environment,
    }
    args = ["--network", "host", "--volume", f"{binary}:{MOUNT_POINT}:ro"]
    for volume in function.volumes:
        args += ["--volume", volume]
    for name, value in env.items():
        args += ["--env", f"{name}={value}"]
    args += ["--entrypoint", MOUNT_POINT, function.reference]
    args += ["--runtime-interface-emulator-address", f"127.0.0.1:{invoke_port}"]
    args += ["--runtime-api-address", f"127.0.0.1:{runtime_port}", *function.image.entrypoint, *function.command]
    container = engine.run_detached(args)
    try:
        _wait_for(invoke_port, container, engine, function.start_timeout)
        yield f"http://127.0.0.1:{invoke_port}"
    finally:
        engine.remove_container(container)


def _wait_for(port: int, container: str, engine: Engine, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        if not engine.container_running(container):
            break
        time.sleep(0.1)
    logs = engine.container_logs(container)
    raise EmulatorError(
        f"the Lambda emulator did not start within {timeout:g} s on 127.0.0.1:{port}; its output:\n{logs[-2000:]}"
    )
