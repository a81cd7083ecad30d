"""The commit and run a digest's signatures carry (ci/signed_annotations.py), read from the `.sig` manifest as
skopeo's `dir:` transport writes it (manifest.json and each blob under its hex digest), signed here with real
ECDSA P-256 keys in cosign's simple-signing payload format."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ci import signed_annotations
from ci.signed_annotations import Expected, problem, valid_annotations

REPOSITORY = "123456789012.dkr.ecr.us-east-1.amazonaws.com/viberator-worker-claude"
DIGEST = "sha256:" + "a" * 64
COMMIT = "0123456789abcdef0123456789abcdef01234567"
RUN = "4242"


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def _payload(digest: str = DIGEST, repository: str = REPOSITORY, **optional: str) -> bytes:
    """cosign's payload (sigstore/sigstore pkg/signature/payload SimpleContainerImage)."""
    document: dict[str, Any] = {
        "critical": {
            "identity": {"docker-reference": repository},
            "image": {"docker-manifest-digest": digest},
            "type": "cosign container image signature",
        },
        "optional": optional or None,
    }
    return json.dumps(document).encode()


def _layout(tmp_path: Path, *layers: tuple[ec.EllipticCurvePrivateKey, bytes]) -> Path:
    layout = tmp_path / "sig"
    layout.mkdir()
    descriptors = []
    for key, payload in layers:
        digest = hashlib.sha256(payload).hexdigest()
        (layout / digest).write_bytes(payload)
        signed = base64.b64encode(key.sign(payload, ec.ECDSA(hashes.SHA256()))).decode()
        descriptors.append(
            {
                "mediaType": "application/vnd.dev.cosign.simplesigning.v1+json",
                "digest": f"sha256:{digest}",
                "size": len(payload),
                "annotations": {"dev.cosignproject.cosign/signature": signed},
            }
        )
    (layout / "manifest.json").write_text(json.dumps({"schemaVersion": 2, "layers": descriptors}))
    return layout


def test_the_deploys_signature_carries_its_commit_and_run(tmp_path: Path) -> None:
    key = _key()
    layout = _layout(tmp_path, (key, _payload(commit=COMMIT, run=RUN)))
    found = valid_annotations(layout, f"{REPOSITORY}@{DIGEST}", _pem(key))
    assert found == [{"commit": COMMIT, "run": RUN}]
    assert problem(found, Expected(run=RUN, commit=COMMIT)) is None
    assert "not this run 4243" in str(problem(found, Expected(run="4243", commit=COMMIT)))
    assert f"not {'f' * 40}" in str(problem(found, Expected(run=RUN, commit="f" * 40)))


def test_annotations_count_only_on_a_valid_signature_of_this_digest_in_this_repository(tmp_path: Path) -> None:
    """Anyone who can push adds layers to the .sig manifest: another key's, or the key's over another digest."""
    key, forger = _key(), _key()
    layout = _layout(
        tmp_path,
        (key, _payload()),  # the key's, without annotations (an older deploy)
        (forger, _payload(commit=COMMIT, run=RUN)),  # the right words, the wrong key
        (key, _payload(digest="sha256:" + "b" * 64, commit=COMMIT, run=RUN)),  # another digest's signature
        (key, _payload(repository=f"{REPOSITORY}-copy", commit=COMMIT, run=RUN)),  # made for another repository
    )
    found = valid_annotations(layout, f"{REPOSITORY}@{DIGEST}", _pem(key))
    assert found == [{}]
    assert "signed without a commit and a run" in str(problem(found, Expected(run=RUN, commit=COMMIT)))
    assert problem([], Expected()) == "no signature by the pinned key names this digest"


def test_a_tampered_payload_is_not_read(tmp_path: Path) -> None:
    key = _key()
    layout = _layout(tmp_path, (key, _payload(commit=COMMIT, run=RUN)))
    (blob,) = [p for p in layout.iterdir() if p.name != "manifest.json"]
    blob.write_bytes(_payload(commit="f" * 40, run=RUN))
    with pytest.raises(signed_annotations.signature.VerifierFailed, match="does not match its digest"):
        valid_annotations(layout, f"{REPOSITORY}@{DIGEST}", _pem(key))


def test_a_dispatch_wants_the_signed_commit_in_the_checked_out_history(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", "-c", "commit.gpgsign=false"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run([*git, "commit", "-q", "--allow-empty", "-m", "one"], check=True)
    head = subprocess.run([*git, "rev-parse", "HEAD"], check=True, capture_output=True, text=True).stdout.strip()
    assert problem([{"commit": head, "run": RUN}], Expected(history=repo)) is None
    assert "not in the checked-out history" in str(problem([{"commit": COMMIT, "run": RUN}], Expected(history=repo)))


def test_the_signed_identity_matches_by_repository_as_skopeo_and_cosign_write_it(tmp_path: Path) -> None:
    """cosign signs the bare repository; skopeo the reference it signed (seen in the real-build tier)."""
    key = _key()
    layout = _layout(
        tmp_path,
        (key, _payload(repository=f"{REPOSITORY}@{DIGEST}", commit=COMMIT, run="1")),
        (key, _payload(repository=f"{REPOSITORY}:dev-abc", commit=COMMIT, run="2")),
        (key, _payload(repository=f"{REPOSITORY}-copy@{DIGEST}", commit=COMMIT, run="3")),
    )
    found = valid_annotations(layout, f"{REPOSITORY}@{DIGEST}", _pem(key))
    assert [f["run"] for f in found] == ["1", "2"]
