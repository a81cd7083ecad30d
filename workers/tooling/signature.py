"""Signatures of worker image digests: sigstore signatures stored as registry attachments (cosign's layout: the
tag `sha256-<hex>.sig` next to the image), checked by skopeo against a `policy.json` `sigstoreSigned` rule.

The deploy workflow signs each pushed digest with cosign and the image stack's KMS key; anything else that signs
in that layout (skopeo `--sign-by-sigstore-private-key`, as the real-build tier does) is verified the same way.
A digest without a signature by the key, or with one by another key, is refused (EXIT_REFUSED).

skopeo runs from an image (`.ci/docker-engine.sh skopeo-image`, or $VIBERATOR_SKOPEO_IMAGE): Debian bookworm's
skopeo is built with sigstore disabled, and trixie's needs a newer glibc than such hosts have. Verifying copies the
image into a scratch directory, because a copy is where skopeo applies a policy: the policy is checked before any
layer is read, so a refused digest costs one manifest and its signatures.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from viberator_contract import Signing
from workers.tooling.engine import docker_binary

SKOPEO_IMAGE_ENV_VAR = "VIBERATOR_SKOPEO_IMAGE"
DEFAULT_SKOPEO_IMAGE = "viberator-tools/skopeo:trixie"
EXIT_REFUSED = 3
REJECTED = "Source image rejected"
"""How skopeo reports a policy refusal (containers/image copy), as opposed to a registry or network failure."""


class SignatureRefused(RuntimeError):
    """The digest is unsigned or signed by another key: never run or promote it."""


class VerifierFailed(RuntimeError):
    """skopeo could not decide (registry unreachable, image missing, skopeo absent)."""


def policy(repository: str, public_key_pem: bytes) -> dict[str, object]:
    """A containers-policy.json that accepts `repository`'s images only with a sigstore signature by the key, and
    nothing else."""
    return {
        "default": [{"type": "reject"}],
        "transports": {
            "docker": {
                repository: [
                    {
                        "type": "sigstoreSigned",
                        "keyData": base64.b64encode(public_key_pem).decode(),
                        # The signature names the repository it was made for: a digest copied elsewhere is refused.
                        "signedIdentity": {"type": "matchRepository"},
                    }
                ]
            }
        },
    }


def registries_d(registry: str) -> str:
    """registries.d configuration: sigstore signatures as attachments in `registry` itself (cosign's layout)."""
    return f"docker:\n  {registry}:\n    use-sigstore-attachments: true\n"


@dataclass(frozen=True)
class Skopeo:
    image: str = field(default_factory=lambda: os.environ.get(SKOPEO_IMAGE_ENV_VAR, DEFAULT_SKOPEO_IMAGE))
    docker: str = field(default_factory=docker_binary)
    docker_config: Callable[[], Path | None] = lambda: None
    """The Docker config directory whose logins reach the registry (`Engine.docker_config`: the ECR login the
    pull just used); None: the user's own (DOCKER_CONFIG or ~/.docker)."""

    def run(self, scratch: Path, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        """skopeo `args` with `scratch` (policy, keys, copies) mounted at the same path, on the host's network."""
        mounts = ["--volume", f"{scratch}:{scratch}"]
        directory = self.docker_config() or Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker"))
        config = directory / "config.json"
        auth = []
        if config.is_file():
            # The registry logins `docker login` made (ECR's included); credential helpers do not reach the container.
            mounts += ["--volume", f"{config}:/run/viberator/auth.json:ro"]
            auth = ["--authfile", "/run/viberator/auth.json"]
        command = [self.docker, "run", "--rm", "--network", "host", *mounts, self.image, *args[:1], *auth, *args[1:]]
        try:
            return subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise VerifierFailed(f"skopeo ({self.image}) did not run: {error}") from None


def _split(reference: str) -> tuple[str, str, str]:
    repository, _, digest = reference.partition("@")
    if not digest.startswith("sha256:"):
        raise ValueError(f"a signature names a digest: expected <repository>@sha256:…, got {reference!r}")
    return repository, repository.split("/", 1)[0], digest


def _tls(insecure: bool, *flags: str) -> list[str]:
    return [f"{flag}={'false' if insecure else 'true'}" for flag in flags]


def verify(reference: str, public_key_pem: bytes, *, insecure: bool = False, skopeo: Skopeo | None = None) -> None:
    """Return when `reference` (`<repository>@sha256:…`) carries a valid signature by the key; else raise
    SignatureRefused (unsigned, signed by another key, or for another repository) or VerifierFailed."""
    repository, registry, _ = _split(reference)
    skopeo = skopeo or Skopeo()
    with tempfile.TemporaryDirectory(prefix="viberator-verify-") as directory:
        scratch = Path(directory)
        (scratch / "policy.json").write_text(json.dumps(policy(repository, public_key_pem)))
        (scratch / "registries.d").mkdir()
        (scratch / "registries.d" / "default.yaml").write_text(registries_d(registry))
        result = skopeo.run(
            scratch, "copy", "--policy", str(scratch / "policy.json"), "--registries.d", str(scratch / "registries.d"),
            *_tls(insecure, "--src-tls-verify"), f"docker://{reference}", f"dir:{scratch / 'image'}",
        )  # fmt: skip
    if result.returncode == 0:
        return
    detail = result.stderr.strip().splitlines()[-1] if result.stderr.strip() else f"exit {result.returncode}"
    if REJECTED in result.stderr:
        raise SignatureRefused(f"refusing {reference}: no valid signature by the expected key ({detail})")
    raise VerifierFailed(f"could not check the signature of {reference}: {detail}")


@dataclass(frozen=True)
class Verifier:
    """What `ensure` and `run-job` check a pulled digest with: the public key and where it came from."""

    public_key_pem: bytes | None
    """None: nobody said which key signs these images, so every pulled digest is refused."""
    source: str
    """Where the key came from, for the messages (`--public-key FILE`, the stack outputs' `signing`)."""
    skopeo: Skopeo | None = None
    """None: the default skopeo, with the user's own registry logins."""

    def __call__(self, reference: str) -> None:
        if self.public_key_pem is None:
            raise SignatureRefused(
                f"refusing {reference}: no public key to check its signature with ({self.source}); pass "
                "--public-key FILE (the image stack's `signing.publicKey` output)"
            )
        # As the engine that pulled it: Docker treats registries on 127.0.0.0/8 as insecure (plain HTTP) by default.
        host = _split(reference)[1].rsplit(":", 1)[0]
        insecure = host == "localhost" or host.startswith("127.")
        verify(reference, self.public_key_pem, insecure=insecure, skopeo=self.skopeo)


def verifier(public_key: Path | None, signing: Signing | None, source: str, skopeo: Skopeo | None = None) -> Verifier:
    """The key a pull is checked with: an explicit `--public-key` file, else a stack's `signing` output."""
    if public_key is not None:
        try:
            return Verifier(public_key.read_bytes(), f"--public-key {public_key}", skopeo)
        except OSError as error:
            raise VerifierFailed(f"cannot read the public key {public_key}: {error.strerror}") from None
    if signing is not None:
        return Verifier(signing.public_key.encode(), f"the signing key of {source}", skopeo)
    return Verifier(None, f"{source} names no signing key", skopeo)


def registry_digest(reference: str, repo_digests: tuple[str, ...]) -> str | None:
    """The `<repository>@sha256:…` the engine records for `reference`'s repository (by tag or digest): what a
    pull fetched or a push stored; None for an image only built and tagged here."""
    repository = reference.split("@", 1)[0]
    if ":" in repository.rsplit("/", 1)[-1]:
        repository = repository.rsplit(":", 1)[0]
    return next((candidate for candidate in repo_digests if candidate.split("@", 1)[0] == repository), None)


def pinned(remote: str, repo_digests: tuple[str, ...]) -> str:
    """The `<repository>@sha256:…` a pull of `remote` (by tag or digest) fetched, from the engine's RepoDigests."""
    digest = registry_digest(remote, repo_digests)
    if digest is None:
        raise VerifierFailed(f"the engine records no digest of {remote}'s repository: nothing to verify")
    return digest


def verify_digest(
    verify: Callable[[str], None],
    digest: str,
    say: Callable[[str], None],
    fail: Callable[[str, int], Exception],
    *,
    refused: int,
    unavailable: int,
) -> None:
    """The check `ensure` and `run-job` make of every digest a registry served, saying what they do: raises
    `fail(message, refused)` for a signature that is bad or missing, `fail(message, unavailable)` when the
    verifier itself could not run (the exit codes are each command's own)."""
    say(f"verifying the signature of {digest}")
    try:
        verify(digest)
    except SignatureRefused as refusal:
        raise fail(str(refusal), refused) from None
    except VerifierFailed as failure:
        raise fail(str(failure), unavailable) from None
    say(f"{digest}: signature verified")


def sign(
    reference: str, private_key: Path, passphrase_file: Path, *, insecure: bool = False, skopeo: Skopeo | None = None
) -> None:
    """Sign `reference` in place with a sigstore key (skopeo's or cosign's encrypted format): the manifest is
    written back unchanged, so the digest stays, and the signature lands under `sha256-<hex>.sig`."""
    _, registry, _ = _split(reference)
    skopeo = skopeo or Skopeo()
    scratch = private_key.parent
    (scratch / "registries.d").mkdir(exist_ok=True)
    (scratch / "registries.d" / "default.yaml").write_text(registries_d(registry))
    (scratch / "accept.json").write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    result = skopeo.run(
        scratch, "copy", "--policy", str(scratch / "accept.json"), "--registries.d", str(scratch / "registries.d"),
        *_tls(insecure, "--src-tls-verify", "--dest-tls-verify"),
        "--sign-by-sigstore-private-key", str(private_key), "--sign-passphrase-file", str(passphrase_file),
        f"docker://{reference}", f"docker://{reference}",
    )  # fmt: skip
    if result.returncode != 0:
        raise VerifierFailed(f"signing {reference} failed: {result.stderr.strip()[-2000:]}")


def generate_key(directory: Path, name: str, passphrase_file: Path, *, skopeo: Skopeo | None = None) -> Path:
    """A sigstore key pair (`<name>.private`, `<name>.pub`) under `directory`; returns the public key's path."""
    skopeo = skopeo or Skopeo()
    result = skopeo.run(
        directory, "generate-sigstore-key", "--output-prefix", str(directory / name),
        "--passphrase-file", str(passphrase_file),
    )  # fmt: skip
    if result.returncode != 0:
        raise VerifierFailed(f"skopeo generate-sigstore-key failed: {result.stderr.strip()}")
    return directory / f"{name}.pub"
