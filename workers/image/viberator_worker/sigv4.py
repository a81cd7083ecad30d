"""AWS Signature Version 4 for one JSON-protocol POST: just enough for Secrets Manager GetSecretValue.

botocore would do this, but it would add tens of MB to every image for a single call at cold start; the
signing rules are small and stable, and the tests check this signer against botocore's.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    session_token: str | None = None


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def _sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def signed_headers(
    *,
    url: str,
    headers: dict[str, str],
    body: bytes,
    credentials: Credentials,
    region: str,
    service: str,
    now: datetime,
) -> dict[str, str]:
    """`headers` plus Host, X-Amz-Date, X-Amz-Security-Token (when set) and Authorization for a POST to
    `url` (path only, no query string). `now` must be UTC."""
    parts = urlsplit(url)
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{now:%Y%m%d}/{region}/{service}/aws4_request"
    # An explicit default port is dropped from Host, as clients send it.
    host = parts.hostname or ""
    if parts.port is not None and parts.port != {"https": 443, "http": 80}.get(parts.scheme):
        host = f"{host}:{parts.port}"
    out = {**headers, "Host": host, "X-Amz-Date": amz_date}
    if credentials.session_token:
        out["X-Amz-Security-Token"] = credentials.session_token
    canonical = {name.lower(): " ".join(value.split()) for name, value in out.items()}
    names = sorted(canonical)
    canonical_request = "\n".join(
        [
            "POST",
            parts.path or "/",
            "",  # no query string
            "".join(f"{name}:{canonical[name]}\n" for name in names),
            ";".join(names),
            _sha256_hex(body),
        ]
    )
    string_to_sign = "\n".join([ALGORITHM, amz_date, scope, _sha256_hex(canonical_request.encode())])
    key = f"AWS4{credentials.secret_key}".encode()
    for part in (now.strftime("%Y%m%d"), region, service, "aws4_request"):
        key = _hmac(key, part)
    signature = hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    out["Authorization"] = (
        f"{ALGORITHM} Credential={credentials.access_key}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return out
