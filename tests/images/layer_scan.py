"""Secret scan of saved image layers (`docker save` tarballs): what must never ship in a worker image.

Looks for the build's CA bundle (certificates in it that the image's own trust store lacks, i.e. the ones a
build secret exists to carry), private keys, and AWS access key ids. Scans every file of every layer,
binaries included, since a secret baked into a bundle is still a secret.
"""

from __future__ import annotations

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
_PEM_CERTIFICATE = re.compile(rb"-----BEGIN CERTIFICATE-----\s+(.+?)-----END CERTIFICATE-----", re.DOTALL)


@dataclass(frozen=True)
class Finding:
    layer: str
    path: str
    kind: str


def certificate_bodies(pem: bytes) -> set[bytes]:
    """The base64 bodies (whitespace removed) of the certificates in a PEM bundle."""
    return {re.sub(rb"\s+", b"", match) for match in _PEM_CERTIFICATE.findall(pem)}


def extra_certificate_markers(bundle: bytes, image_trust_store: bytes) -> list[bytes]:
    """A searchable line from each certificate in `bundle` that `image_trust_store` lacks."""
    extra = certificate_bodies(bundle) - certificate_bodies(image_trust_store)
    # The last full 64-column line of the PEM body lies in the signature, unique to the certificate (early
    # lines repeat the issuer name, shared by certificates of one CA family).
    return sorted(body[(len(body) // 64 - 1) * 64 :][:64] for body in extra)


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


def scan_bytes(data: bytes, markers: list[bytes]) -> list[str]:
    kinds = []
    if any(marker in data for marker in markers):
        kinds.append("build CA certificate")
    if _has_private_key(data):
        kinds.append("private key")
    if next(_aws_key_ids(data), None) is not None:
        kinds.append("AWS access key id")
    return kinds


def scan_saved_images(saved: Path, markers: list[bytes]) -> tuple[list[Finding], int]:
    """Findings in every layer of a `docker save` tarball, and how many layers were scanned."""
    findings: list[Finding] = []
    layers = 0
    with tarfile.open(saved) as outer:
        for member in outer:
            if not member.name.endswith("layer.tar"):
                continue
            layers += 1
            layer_file = outer.extractfile(member)
            assert layer_file is not None
            with tarfile.open(fileobj=layer_file, mode="r|") as layer:
                for entry in layer:
                    if not entry.isfile():
                        continue
                    content = layer.extractfile(entry)
                    assert content is not None
                    for kind in scan_bytes(content.read(), markers):
                        findings.append(Finding(member.name.split("/")[0][:12], entry.name, kind))
    return findings, layers
