"""The layer secret scanner on synthetic `docker save` tarballs (fast tier: no engine needed)."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest
from layer_scan import Finding, extra_certificate_markers, scan_saved_images

# Same first line (as certificates of one issuer share it), different signatures.
BODY_A = ("MIIB" + "A" * 60 + "\n") + ("Q" * 64 + "\n") + "AAAA\n"
BODY_B = ("MIIB" + "A" * 60 + "\n") + ("Z" * 64 + "\n") + "BBBB\n"


def pem(body: str) -> bytes:
    return f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n".encode()


def saved_image(path: Path, files: dict[str, bytes]) -> Path:
    """A tarball shaped like `docker save` output: one `<id>/layer.tar` holding `files`."""
    layer = io.BytesIO()
    with tarfile.open(fileobj=layer, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    with tarfile.open(path, "w") as outer:
        info = tarfile.TarInfo("abcdef0123456789/layer.tar")
        info.size = layer.tell()
        layer.seek(0)
        outer.addfile(info, layer)
    return path


def test_only_certificates_missing_from_the_image_trust_store_are_markers() -> None:
    assert extra_certificate_markers(pem(BODY_A) + pem(BODY_B), pem(BODY_A)) == [b"Z" * 64]


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"x" + pem(BODY_B) + b"y", "build CA certificate"),
        (b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + b"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" * 2, "private key"),
        (b'key = "-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEAx4UbaDzY5xjW5Fp7L2Wm9nQk"', "private key"),
        (b'{"key": "AKIAZ7QWERTYUIOPASDF"}', "AWS access key id"),
    ],
)
def test_each_kind_of_secret_is_found(tmp_path: Path, content: bytes, kind: str) -> None:
    saved = saved_image(tmp_path / "s.tar", {"etc/ok": b"nothing", "opt/leak": content})
    findings, layers = scan_saved_images(saved, [b"Z" * 64])
    assert layers == 1
    assert findings == [Finding("abcdef012345", "opt/leak", kind)]


def test_clean_layers_and_aws_documentation_keys_pass(tmp_path: Path) -> None:
    saved = saved_image(
        tmp_path / "s.tar",
        {
            "doc": b"aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
            "ca": pem(BODY_A),
            "parser.js": b'const header = "-----BEGIN PRIVATE KEY-----";',
            "tables": b"XAKIAZ7QWERTYUIOPASDF and ASIAZ7QWERTYUIOPASDFG",  # inside longer tokens
        },
    )
    assert scan_saved_images(saved, [b"Z" * 64]) == ([], 1)
