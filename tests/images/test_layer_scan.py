"""The layer secret scanner on synthetic `docker save` tarballs (fast tier: no engine needed)."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
from pathlib import Path

import pytest
from layer_scan import Finding, scan_saved_images


def certificate(seed: str) -> bytes:
    """A PEM certificate with a unique body: issuer-like first line shared by all, unique "signature"."""
    unique = base64.b64encode(b"".join(hashlib.sha256(f"{seed}{i}".encode()).digest() for i in range(24)))
    body = b"MIIFazCCA1OgAwIBAgIRAIIQz7DSQONZRGPgu2OCiwAwDQYJKoZIhvcNAQELBQAw" + unique
    lines = b"\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    return b"-----BEGIN CERTIFICATE-----\n" + lines + b"\n-----END CERTIFICATE-----\n"


DEBIAN_ROOT = certificate("ISRG Root X1")
"""A public root the image's Debian `ca-certificates` package ships."""
RETIRED_ROOT = certificate("SecureTrust CA")
"""A public root the host's older Debian store has, the image's newer one has not, and certifi still ships."""
PROXY_CA = certificate("sandbox egress proxy")
"""The private CA that only the build secret carries."""
HOST_BUNDLE = DEBIAN_ROOT + RETIRED_ROOT + PROXY_CA
"""The build secret `ca`: the host's whole system store, proxy CA included."""
SITE = "opt/agents/mistral/lib/python3.13/site-packages"
CERTIFI_BUNDLE = f"{SITE}/certifi/cacert.pem"


def debian_store(generated: bytes = DEBIAN_ROOT) -> dict[str, bytes]:
    """The `ca-certificates` package as installed: the root it ships (vouched for by its md5sums) and the store
    `update-ca-certificates` generated from it (vouched for by nothing)."""
    shipped = "usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt"
    return {
        shipped: DEBIAN_ROOT,
        "var/lib/dpkg/info/ca-certificates.md5sums": f"{hashlib.md5(DEBIAN_ROOT).hexdigest()}  {shipped}\n".encode(),
        "etc/ssl/certs/ca-certificates.crt": generated,
    }


def pip_record(path: str, data: bytes) -> bytes:
    """A pip RECORD line for `path` (relative to site-packages) holding `data`."""
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{path},sha256={digest},{len(data)}\ncertifi-2025.1.31.dist-info/RECORD,,\n".encode()


def certifi(bundle: bytes, recorded: bytes | None = None) -> dict[str, bytes]:
    """certifi installed by pip: its bundle and a RECORD that lists what pip wrote (`recorded`)."""
    return {
        CERTIFI_BUNDLE: bundle,
        f"{SITE}/certifi-2025.1.31.dist-info/RECORD": pip_record("certifi/cacert.pem", recorded or bundle),
    }


def saved_image(path: Path, *layers: dict[str, bytes]) -> Path:
    """A tarball shaped like `docker save` output: one `<id>/layer.tar` per mapping of files."""
    with tarfile.open(path, "w") as outer:
        for number, files in enumerate(layers):
            layer = io.BytesIO()
            with tarfile.open(fileobj=layer, mode="w") as tar:
                for name, data in files.items():
                    info = tarfile.TarInfo(name)
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
            info = tarfile.TarInfo(f"{number:x}bcdef0123456789/layer.tar")
            info.size = layer.tell()
            layer.seek(0)
            outer.addfile(info, layer)
    return path


def scan(tmp_path: Path, *layers: dict[str, bytes]) -> list[Finding]:
    findings, scanned = scan_saved_images(saved_image(tmp_path / "s.tar", *layers), HOST_BUNDLE)
    assert scanned == len(layers)
    return findings


def test_public_roots_of_the_host_bundle_in_the_image_stores_are_no_finding(tmp_path: Path) -> None:
    """The failure of issue 11: a host store with roots the image's Debian store lacks, which certifi
    (as pip installed it) and the Debian package's own files still ship."""
    debian_package_file = "usr/share/ca-certificates/mozilla/SecureTrust_CA.crt"
    md5sums = f"{hashlib.md5(RETIRED_ROOT).hexdigest()}  {debian_package_file}\n".encode()
    assert (
        scan(
            tmp_path,
            debian_store(),
            certifi(DEBIAN_ROOT + RETIRED_ROOT),
            {"var/lib/dpkg/info/ca-certificates.md5sums": md5sums, debian_package_file: RETIRED_ROOT},
            # pip's vendored certifi: RECORD paths relative to site-packages, listed by pip's dist-info.
            {
                f"{SITE}/pip/_vendor/certifi/cacert.pem": RETIRED_ROOT,
                f"{SITE}/pip-25.0.dist-info/RECORD": pip_record("pip/_vendor/certifi/cacert.pem", RETIRED_ROOT),
            },
        )
        == []
    )


@pytest.mark.parametrize(
    ("files", "leak"),
    [
        ({"usr/local/share/ca-certificates/proxy.crt": PROXY_CA}, "usr/local/share/ca-certificates/proxy.crt"),
        # The whole host bundle copied in: its private CA gives it away even though the rest is public.
        ({"etc/ssl/certs/host-bundle.pem": HOST_BUNDLE}, "etc/ssl/certs/host-bundle.pem"),
        # Embedded with escaped newlines, as a config file or a JS string would hold it.
        ({"opt/app/config.json": b'{"ca": "' + PROXY_CA.replace(b"\n", b"\\n") + b'"}'}, "opt/app/config.json"),
        # Appended to certifi's bundle: the file no longer matches its RECORD, so nothing in it counts as public.
        (certifi(RETIRED_ROOT + PROXY_CA, recorded=RETIRED_ROOT), CERTIFI_BUNDLE),
        # `update-ca-certificates` run with the build CA: the generated store vouches for nothing in it.
        ({"etc/ssl/certs/ca-certificates.crt": DEBIAN_ROOT + PROXY_CA}, "etc/ssl/certs/ca-certificates.crt"),
    ],
    ids=["own-file", "host-bundle-copied", "escaped-in-json", "appended-to-certifi", "in-the-generated-store"],
)
def test_the_build_secrets_private_ca_is_found(tmp_path: Path, files: dict[str, bytes], leak: str) -> None:
    findings = scan(tmp_path, debian_store(), files)
    assert findings == [Finding("1bcdef012345", leak, "build CA certificate")]


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (b"-----BEGIN OPENSSH PRIVATE KEY-----\n" + b"b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ" * 2, "private key"),
        (b'key = "-----BEGIN RSA PRIVATE KEY-----\\nMIIEowIBAAKCAQEAx4UbaDzY5xjW5Fp7L2Wm9nQk"', "private key"),
        (b'{"key": "AKIAZ7QWERTYUIOPASDF"}', "AWS access key id"),
    ],
)
def test_each_kind_of_credential_is_found(tmp_path: Path, content: bytes, kind: str) -> None:
    assert scan(tmp_path, {"etc/ok": b"nothing", "opt/leak": content}) == [Finding("0bcdef012345", "opt/leak", kind)]


def test_clean_layers_and_aws_documentation_keys_pass(tmp_path: Path) -> None:
    files = {
        "doc": b"aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        **debian_store(),
        "parser.js": b'const header = "-----BEGIN PRIVATE KEY-----";',
        "tables": b"XAKIAZ7QWERTYUIOPASDF and ASIAZ7QWERTYUIOPASDFG",  # inside longer tokens
    }
    assert scan(tmp_path, files) == []
