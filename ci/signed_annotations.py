"""What a digest's valid signatures say besides the digest: the commit and the workflow run that signed it.

The deploy signs with `cosign sign -a commit=<sha> -a run=<run id>` (.github/workflows/deploy-stack.yml); cosign
puts them in the signed payload's `optional` map (sigstore/sigstore pkg/signature/payload/payload.go,
SimpleContainerImage: `critical.identity.docker-reference`, `critical.image.docker-manifest-digest`, `optional`),
stored as one layer of the `sha256-<hex>.sig` manifest beside the image, the signature itself base64 in the layer's
`dev.cosignproject.cosign/signature` annotation (sigstore/cosign pkg/oci/static SignatureAnnotationKey). skopeo's
`sigstoreSigned` policy checks a signature but says nothing of its annotations, and anyone who can push to the
repository can add a layer of their own to that manifest, so the annotations are read only from layers whose
signature verifies with the pinned key and whose payload names this digest in this repository: each is checked
here with `cryptography` (ECDSA P-256 over SHA-256, what the KMS key signs: components/signing.py).

Exit codes are ci/verify_promotion.py's: its `signatures` command calls `check` for every digest it verifies.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from workers.naming import image_reference, referrers_tag
from workers.tooling import signature

PAYLOAD_MEDIA_TYPE = "application/vnd.dev.cosign.simplesigning.v1+json"
SIGNATURE_ANNOTATION = "dev.cosignproject.cosign/signature"
COMMIT = "commit"
RUN = "run"
"""The annotation keys the deploy signs with (`cosign sign -a commit=… -a run=…`)."""
COMMIT_PATTERN = re.compile(r"^[0-9a-f]{40}$")
RUN_PATTERN = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class Expected:
    """What the approved digests' signatures must say: the same run and commit (a push's dev deploy and its prod
    job share both), or only a commit of the checked-out history (a dispatch promotes an earlier run's digests)."""

    run: str | None = None
    commit: str | None = None
    history: Path | None = None
    """A git checkout whose HEAD the signed commit must be an ancestor of (main's history, not a branch's)."""


def signature_manifest(reference: str, skopeo: signature.Skopeo | None = None) -> Path:
    """Copy the digest's `sha256-<hex>.sig` manifest and its layers into a scratch directory (skopeo's `dir:`
    layout: manifest.json and each blob under its hex digest); raises VerifierFailed when it cannot."""
    repository, digest = reference.split("@", 1)
    scratch = Path(tempfile.mkdtemp(prefix="viberator-signatures-"))
    (scratch / "accept.json").write_text(json.dumps({"default": [{"type": "insecureAcceptAnything"}]}))
    host = repository.split("/", 1)[0].rsplit(":", 1)[0]
    tls = "false" if host == "localhost" or host.startswith("127.") else "true"  # as signature.Verifier decides
    result = (skopeo or signature.Skopeo()).run(
        scratch, "copy", "--policy", str(scratch / "accept.json"), f"--src-tls-verify={tls}",
        f"docker://{image_reference(repository, referrers_tag(digest))}.sig", f"dir:{scratch / 'sig'}",
    )  # fmt: skip
    if result.returncode != 0:
        raise signature.VerifierFailed(f"cannot read the signatures of {reference}: {result.stderr.strip()[-500:]}")
    return scratch / "sig"


def _blob(layout: Path, digest: str) -> bytes:
    hex_digest = digest.removeprefix("sha256:")
    for name in (hex_digest, f"{hex_digest}.tar"):  # containers/image dir transport, formats 1.1 and 1.0
        if (layout / name).is_file():
            blob = (layout / name).read_bytes()
            if hashlib.sha256(blob).hexdigest() == hex_digest:
                return blob
    raise signature.VerifierFailed(f"the signature layer {digest} is missing or does not match its digest")


def _repository_of(docker_reference: str) -> str:
    """The repository a signed identity names: cosign writes the bare repository, skopeo the reference it signed
    (`<repository>@sha256:…` or `:<tag>`); both match as containers/image's `matchRepository` compares them."""
    name = docker_reference.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return name.rsplit(":", 1)[0] if ":" in last else name


def valid_annotations(layout: Path, reference: str, public_key_pem: bytes) -> list[dict[str, str]]:
    """The `optional` map of each signature in `layout` that the key made, over this digest in this repository."""
    repository, digest = reference.split("@", 1)
    key = load_pem_public_key(public_key_pem)
    if not isinstance(key, ec.EllipticCurvePublicKey):
        raise signature.VerifierFailed("the pinned key is not an ECDSA key")
    manifest = json.loads((layout / "manifest.json").read_text())
    found = []
    for layer in manifest.get("layers", []):
        encoded = (layer.get("annotations") or {}).get(SIGNATURE_ANNOTATION)
        if layer.get("mediaType") != PAYLOAD_MEDIA_TYPE or not encoded:
            continue
        payload = _blob(layout, layer["digest"])
        try:
            key.verify(base64.b64decode(encoded), payload, ec.ECDSA(hashes.SHA256()))
        except (InvalidSignature, ValueError):
            continue  # another key's signature, or anyone's bytes: says nothing
        document: Any = json.loads(payload)
        critical = document.get("critical") or {}
        if (critical.get("image") or {}).get("docker-manifest-digest") != digest:
            continue
        if _repository_of(str((critical.get("identity") or {}).get("docker-reference", ""))) != repository:
            continue
        found.append({str(k): str(v) for k, v in (document.get("optional") or {}).items()})
    return found


def _in_history(commit: str, checkout: Path) -> bool:
    result = subprocess.run(
        ["git", "-C", str(checkout), "merge-base", "--is-ancestor", commit, "HEAD"], capture_output=True, text=True
    )
    return result.returncode == 0


def problem(annotations: Sequence[Mapping[str, str]], expected: Expected) -> str | None:
    """Why none of the digest's valid signatures says what the deploy signs with, or None when one does."""
    if not annotations:
        return "no signature by the pinned key names this digest"
    reasons = []
    for found in annotations:
        commit, run = found.get(COMMIT, ""), found.get(RUN, "")
        if not COMMIT_PATTERN.match(commit) or not RUN_PATTERN.match(run):
            reasons.append(f"signed without a commit and a run ({json.dumps(dict(found), sort_keys=True)})")
        elif expected.run is not None and run != expected.run:
            reasons.append(f"signed by run {run}, not this run {expected.run}")
        elif expected.commit is not None and commit != expected.commit:
            reasons.append(f"signed at commit {commit}, not {expected.commit}")
        elif expected.history is not None and not _in_history(commit, expected.history):
            reasons.append(f"signed at commit {commit}, which is not in the checked-out history")
        else:
            return None
    return "; ".join(reasons)


def check(reference: str, public_key_pem: bytes, expected: Expected) -> None:
    """Raise SignatureRefused unless a valid signature of `reference` carries the expected commit and run."""
    layout = signature_manifest(reference)
    try:
        why = problem(valid_annotations(layout, reference, public_key_pem), expected)
    finally:
        # skopeo's container wrote them as root: a runner that cannot remove them leaves them to the runner's end.
        shutil.rmtree(layout.parent, ignore_errors=True)
    if why is not None:
        raise signature.SignatureRefused(f"refusing {reference}: {why}")
