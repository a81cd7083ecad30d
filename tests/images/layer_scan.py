"""Secret scan of saved image layers (`docker save` tarballs): what must never ship in a worker image.

Looks for the certificates that only the build secret `ca` carries (a TLS-inspecting proxy's CA), private
keys, and AWS access key ids. Scans every file of every layer, binaries included, since a secret baked into a
bundle is still a secret.

A certificate of the build bundle is a finding only where it is not public: the host bundle is usually the
host's whole system store, and its public roots legitimately appear in the image, in the certificates the
Debian `ca-certificates` package ships and in CA bundles that Python packages ship (certifi's `cacert.pem`,
pip's vendored copy). Which public roots a bundle holds depends on the host's and the package's release, so
"public" is decided from the image, never from the host: a certificate is public when a file holds it byte
for byte as its package shipped it (the file's md5 matches its package's dpkg md5sums entry, or its sha256 the
pip RECORD entry). Files generated at build time are evidence of nothing: `update-ca-certificates` run with the
build CA writes it into /etc/ssl/certs/ca-certificates.crt, and a bundle someone appended it to no longer
matches its record, so the certificates found there are findings unless a shipped file vouches for them.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import posixpath
import re
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PRIVATE_KEY = re.compile(
    rb"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED )?PRIVATE KEY-----(?:\r?\n|\\n)[A-Za-z0-9+/=]{40}"
)
"""A PEM private key header followed by key material (a newline, real or escaped in a string literal, then
base64): PEM parsers carry the bare header as a constant, which is no key."""
AWS_ACCESS_KEY_ID = re.compile(rb"(?:AKIA|ASIA)[A-Z0-9]{16}")
AWS_DOCUMENTATION_KEY = re.compile(rb"(?:AKIA|ASIA)[A-Z0-9]{9}EXAMPLE")
"""AWS's published placeholder ids (AKIAIOSFODNN7EXAMPLE): in SDK docs, not credentials."""
_ALNUM_UPPER = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
# Literal prefilters: bytes.find runs at memory speed, the regexes only at the few places a literal occurs.
# Layers hold gigabytes of binaries, where a bare regex scan takes minutes.
_PRIVATE_KEY_LITERAL = b"PRIVATE KEY-----"
_AWS_KEY_LITERALS = (b"AKIA", b"ASIA")
_CERTIFICATE_LITERAL = b"CERTIFICATE-----"
_PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----\s+(.+?)-----END CERTIFICATE-----", re.DOTALL)


@dataclass(frozen=True)
class Finding:
    layer: str
    path: str
    kind: str


def certificate_bodies(pem: bytes) -> set[bytes]:
    """The base64 bodies (whitespace removed) of the certificates in a PEM bundle."""
    return {re.sub(rb"\s+", b"", match) for match in _PEM_CERTIFICATE.findall(pem)}


def certificate_markers(bundle: bytes) -> dict[bytes, bytes]:
    """{searchable line: certificate body} for each certificate in `bundle`.

    The last full 64-column line of a PEM body lies in the signature, unique to the certificate (early lines
    repeat the issuer name, shared by certificates of one CA family), and it survives a PEM that is embedded
    with escaped newlines, where the whole body would not match."""
    return {body[(len(body) // 64 - 1) * 64 :][:64]: body for body in certificate_bodies(bundle)}


@dataclass
class _PackageRecords:
    """What the package managers in an image say their files hold: pip RECORD sha256s, dpkg md5sums."""

    digests: dict[str, set[str]]

    def add_pip_record(self, record_path: str, text: str) -> None:
        # RECORD paths are relative to the directory holding the .dist-info (site-packages).
        site = posixpath.dirname(posixpath.dirname(record_path))
        for row in csv.reader(io.StringIO(text)):
            if len(row) >= 2 and row[1].startswith("sha256="):
                path = posixpath.normpath(posixpath.join(site, row[0]))
                self.digests.setdefault(path, set()).add(row[1])

    def add_dpkg_md5sums(self, text: str) -> None:
        for line in text.splitlines():
            digest, _, path = line.partition("  ")
            if path:
                self.digests.setdefault(posixpath.normpath(path), set()).add(f"md5={digest}")

    def ships_unmodified(self, path: str, data: bytes) -> bool:
        expected = self.digests.get(posixpath.normpath(path), set())
        sha256 = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        return f"sha256={sha256}" in expected or f"md5={hashlib.md5(data).hexdigest()}" in expected


def _has_private_key(data: bytes) -> bool:
    return _PRIVATE_KEY_LITERAL in data and PRIVATE_KEY.search(data) is not None


def _aws_key_ids(data: bytes) -> Iterator[bytes]:
    for literal in _AWS_KEY_LITERALS:
        start = data.find(literal)
        while start != -1:
            candidate = data[start : start + 20]
            before = data[start - 1] if start else None
            after = data[start + 20] if start + 20 < len(data) else None
            if (
                AWS_ACCESS_KEY_ID.fullmatch(candidate)
                and before not in _ALNUM_UPPER
                and after not in _ALNUM_UPPER
                and not AWS_DOCUMENTATION_KEY.fullmatch(candidate)
            ):
                yield candidate
            start = data.find(literal, start + 1)


def credential_kinds(data: bytes) -> list[str]:
    """The kinds of credential (private key, AWS access key id) that `data` holds."""
    kinds = []
    if _has_private_key(data):
        kinds.append("private key")
    if next(_aws_key_ids(data), None) is not None:
        kinds.append("AWS access key id")
    return kinds


def _layers(saved: Path) -> Iterator[tuple[str, Iterator[tuple[str, bytes]]]]:
    """(layer id, its regular files as (path, content)) for every layer of a `docker save` tarball."""
    with tarfile.open(saved) as outer:
        for member in outer:
            if member.name.endswith("layer.tar"):
                layer_file = outer.extractfile(member)
                assert layer_file is not None
                with tarfile.open(fileobj=layer_file, mode="r|") as layer:
                    yield member.name.split("/")[0][:12], _regular_files(layer)


def _regular_files(layer: tarfile.TarFile) -> Iterator[tuple[str, bytes]]:
    for entry in layer:
        if entry.isfile():
            content = layer.extractfile(entry)
            assert content is not None
            yield entry.name, content.read()


def scan_saved_images(saved: Path, build_bundle: bytes) -> tuple[list[Finding], int]:
    """Findings in every layer of a `docker save` tarball, and how many layers were scanned.

    `build_bundle` is what the build secret `ca` carried. One pass: a file's certificate hits are kept with the
    file, and once every package record has been read, the hits on public certificates are dropped."""
    markers = certificate_markers(build_bundle)
    records = _PackageRecords({})
    hits: dict[tuple[str, str], set[bytes]] = {}
    bundles: dict[tuple[str, str], bytes] = {}
    findings: list[Finding] = []
    layers = 0
    for layer, files in _layers(saved):
        layers += 1
        for path, data in files:
            if path.endswith(".dist-info/RECORD"):
                records.add_pip_record(path, data.decode(errors="replace"))
            elif path.startswith("var/lib/dpkg/info/") and path.endswith(".md5sums"):
                records.add_dpkg_md5sums(data.decode(errors="replace"))
            if _CERTIFICATE_LITERAL in data and (found := {body for line, body in markers.items() if line in data}):
                hits[layer, path] = found
                bundles[layer, path] = data
            findings.extend(Finding(layer, path, kind) for kind in credential_kinds(data))
    public: set[bytes] = set()
    for (_, path), data in bundles.items():
        if records.ships_unmodified(path, data):
            public |= certificate_bodies(data)
    findings.extend(
        Finding(layer, path, "build CA certificate") for (layer, path), found in hits.items() if found - public
    )
    return findings, layers
