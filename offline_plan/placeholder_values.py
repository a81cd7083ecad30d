"""The values the offline plan's mocks answer with (offline_plan/placeholders.py): deterministic, shaped like the
real ones (accounts, VPC and subnet ids, a KMS public key, `sha256:` digests), and plainly nobody's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import textwrap
from collections.abc import Mapping
from typing import Any

UNKNOWN_ACCOUNT = "000000000000"
"""The account of a stack that pins none (`aws:allowedAccountIds` unset): the plan says so."""
VPC_ID = "vpc-0a1b2c3d4e5f60718"
SUBNET_IDS = ["subnet-0a1b2c3d4e5f60001", "subnet-0a1b2c3d4e5f60002"]

# An ECC_NIST_P256 public key as KMS's GetPublicKey returns it (SubjectPublicKeyInfo, PEM): the curve's generator
# point (SEC 2, section 2.4.2), a well-formed key whose private half is 1: plainly nobody's. The offline plan's
# digests are never pulled, so nothing is verified with it (workers/tooling/stack_outputs.py, `placeholder`).
_P256_SPKI_PREFIX = "3059301306072a8648ce3d020106082a8648ce3d030107034200"
_P256_GENERATOR = (
    "04"
    "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296"
    "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5"
)
PLACEHOLDER_PUBLIC_KEY_PEM = (
    "-----BEGIN PUBLIC KEY-----\n"
    + "\n".join(textwrap.wrap(base64.b64encode(bytes.fromhex(_P256_SPKI_PREFIX + _P256_GENERATOR)).decode(), 64))
    + "\n-----END PUBLIC KEY-----\n"
)

# Inputs that don't change an image's bytes: where it is pushed, with which credentials, and cache plumbing.
NON_CONTENT_IMAGE_INPUTS = ("tags", "registries", "cacheFrom", "cacheTo", "push", "buildOnPreview", "exports")


def placeholder_hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def auto_name(logical: str) -> str:
    """Pulumi's auto-naming: the logical name plus a random suffix (here derived from the name)."""
    return f"{logical}-{placeholder_hash(logical)[:7]}"


def image_digest(inputs: Mapping[str, Any]) -> str:
    """A digest that changes exactly when the inputs that decide the image's content change."""
    content = {k: v for k, v in inputs.items() if k not in NON_CONTENT_IMAGE_INPUTS}
    return f"sha256:{placeholder_hash(content)}"


def index_digest(inputs: Mapping[str, Any]) -> str:
    """`imagetools create` joins the sources into one index document: its digest is theirs alone, whatever tag."""
    return f"sha256:{placeholder_hash(list(inputs['sources']))}"
