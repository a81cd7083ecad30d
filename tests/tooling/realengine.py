"""Fixtures for the tooling's real-engine tests in tests/images: the engine, loopback registries, scratch tags.

They live beside the tooling's fast tests; tests/images/conftest.py imports them for the
`tests/images/test_tooling_*.py` modules. Every registry here is a process of the test's own on a free
127.0.0.1 port, so a test can stop it without touching anyone else's.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from workers.catalog import BUILD_CONTEXT
from workers.tooling import signature
from workers.tooling.contract import CONTRACT_LABEL, tool_contract
from workers.tooling.engine import Engine
from workers.tooling.process import EngineError
from workers.tooling.references import Registry, alias_reference

ENGINE_SCRIPT = BUILD_CONTEXT.parents[1] / ".ci" / "docker-engine.sh"
REGISTRY_BINARY = "/usr/bin/docker-registry"
HARNESS = "kimi"
"""The harness the tooling's real-engine tests build, push and ensure: the tiny context's one target."""


@pytest.fixture(scope="module")
def docker_engine() -> Engine:
    """The local engine, started by the real-build tier's own script when none answers."""
    engine = Engine()
    try:
        engine.server()
    except EngineError:
        subprocess.run(["bash", str(ENGINE_SCRIPT), "start"], check=True)
        engine.server()
    return engine


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LoopbackRegistry:
    """Debian's docker-registry on a port of its own, storing under the test's temp directory."""

    address: str
    process: subprocess.Popen[bytes] | None = None
    password: str | None = None
    """With htpasswd authentication: the password of the user AWS (as an ECR token is)."""

    @property
    def registry(self) -> Registry:
        return Registry.parse(self.address)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def _serve(tmp_path: Path, auth: str = "", password: str | None = None) -> LoopbackRegistry:
    if not os.access(REGISTRY_BINARY, os.X_OK):
        pytest.fail(f"{REGISTRY_BINARY} missing: the real-build tier installs Debian's docker-registry")
    address = f"127.0.0.1:{_free_port()}"
    config = tmp_path / "registry.yml"
    config.write_text(
        "version: 0.1\nlog: {level: error}\n"
        f"storage: {{filesystem: {{rootdirectory: {tmp_path / 'data'}}}}}\nhttp: {{addr: {address}}}\n{auth}"
    )
    process = subprocess.Popen(
        [REGISTRY_BINARY, "serve", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    served = LoopbackRegistry(address, process, password)
    deadline = time.monotonic() + 10
    while True:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", int(address.rsplit(":", 1)[1]))) == 0:
                break
        if time.monotonic() > deadline:
            served.stop()
            pytest.fail(f"docker-registry did not listen on {address}")
        time.sleep(0.1)
    return served


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[LoopbackRegistry]:
    served = _serve(tmp_path)
    yield served
    served.stop()


@pytest.fixture
def authenticated_registry(tmp_path: Path) -> Iterator[LoopbackRegistry]:
    """A registry standing in for ECR: htpasswd authentication of the user AWS, a token as the password."""
    if shutil.which("htpasswd") is None:
        pytest.fail("htpasswd missing: the real-build tier installs apache2-utils (.ci/docker-engine.sh)")
    password = secrets.token_urlsafe(24)
    htpasswd = tmp_path / "htpasswd"
    # -i: the password on stdin, never on a command line; -B: bcrypt, the only hash docker-registry accepts.
    hashed = subprocess.run(["htpasswd", "-niB", "AWS"], input=password, capture_output=True, text=True, check=True)
    htpasswd.write_text(hashed.stdout)
    served = _serve(tmp_path, f"auth: {{htpasswd: {{realm: ecr-stand-in, path: {htpasswd}}}}}\n", password)
    yield served
    served.stop()


@dataclass(frozen=True)
class SilentRegistry:
    """A loopback port that accepts connections and never answers: a registry behind a dead proxy."""

    address: str
    held: list[socket.socket]
    """Every connection it accepted (and holds, unanswered): who contacted it, and how often."""


@pytest.fixture
def silent_registry() -> Iterator[SilentRegistry]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    served = SilentRegistry(f"127.0.0.1:{listener.getsockname()[1]}", [])
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                served.held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield served
    stop.set()
    thread.join()
    for connection in served.held:
        connection.close()
    listener.close()


def pull_attempts(stderr: str) -> list[str]:
    """The pulls a failed `ensure` lists under "tried:", each as `<reference>: <why>` without the engine's words."""
    tried = [line.removeprefix("  - ") for line in stderr.splitlines() if line.startswith("  - ")]
    return [line.split(" (", 1)[0] for line in tried if not line.startswith(("local alias", "registry:"))]


@dataclass
class Scratch:
    """A per-test alias tag, and every reference the test made; all untagged afterwards."""

    harness: str
    alias_tag: str
    references: list[str]

    @property
    def alias(self) -> str:
        return alias_reference(self.harness, self.alias_tag)

    def track(self, reference: str) -> str:
        self.references.append(reference)
        return reference


@pytest.fixture
def scratch(docker_engine: Engine) -> Iterator[Scratch]:
    made = Scratch(HARNESS, f"tooling-test-{uuid.uuid4().hex[:8]}", [])
    yield made
    references = [made.alias, *made.references]
    subprocess.run([docker_engine.binary, "image", "rm", "--force", *references], capture_output=True, check=False)


@pytest.fixture
def scratch_environment(docker_engine: Engine) -> Iterator[str]:
    """An environment (and alias tag) name no other test uses, so every tag is this test's own (even
    `<env>-latest`, which would otherwise move the shared engine's real `dev-latest`); all are removed after."""
    made = f"scratch{uuid.uuid4().hex[:8]}"
    yield made
    listed = subprocess.run(
        [docker_engine.binary, "image", "ls", "--format", "{{.Repository}}:{{.Tag}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    mine = [reference for reference in listed if made in reference]
    if mine:
        subprocess.run([docker_engine.binary, "image", "rm", "--force", *mine], capture_output=True, check=False)


@dataclass(frozen=True)
class SigningKey:
    """A sigstore key pair skopeo generated, standing in for the image stack's KMS key."""

    private: Path
    public: Path
    passphrase: Path

    def sign(self, reference: str, skopeo: signature.Skopeo | None = None) -> None:
        """Signs `<registry>/<repository>@sha256:…` on a loopback registry, as the deploy workflow signs ECR's."""
        signature.sign(reference, self.private, self.passphrase, insecure=True, skopeo=skopeo)


@pytest.fixture(scope="module")
def signing_key(tmp_path_factory: pytest.TempPathFactory) -> SigningKey:
    subprocess.run(["bash", str(ENGINE_SCRIPT), "skopeo-image"], check=True, capture_output=True)
    directory = tmp_path_factory.mktemp("signing")
    directory.chmod(0o755)  # mounted into skopeo's container, whose user need not be ours
    passphrase = directory / "passphrase"
    passphrase.write_text("tier-only-passphrase")
    public = signature.generate_key(directory, "deploy", passphrase)
    return SigningKey(public.with_suffix(".private"), public, passphrase)


def tiny_context(tmp_path: Path) -> Path:
    """A build context standing in for workers/image: one HARNESS target FROM scratch, labelled with the job
    contract as the worker images are, and a marker of its own so each test's build is new."""
    directory = tmp_path / "context"
    directory.mkdir()
    (directory / "marker").write_text(uuid.uuid4().hex)
    label = f'LABEL {CONTRACT_LABEL}="{tool_contract()}"'  # the contract this checkout speaks, as images say it
    (directory / "Dockerfile").write_text(f"FROM scratch AS {HARNESS}\nCOPY marker /marker\n{label}\n")
    return directory
