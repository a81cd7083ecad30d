"""What a credential looks like: the one check the stack config and the policy pack share (a secret reference's
shape, an ARN, is components/aws_ids.py's).

The config refuses a credential in any plain value it carries, nested or inside other text (components/config/);
the pack refuses one that reaches a resource's inputs anyway (policy/rules.py). Kept apart from the config package
and free of any import beyond the standard library, so the pack loads this module without loading the config's
models: `pulumi preview --policy-pack policy` runs policy/__main__.py in the project's uv environment
(policy/PulumiPolicy.yaml, toolchain uv; no requirements file of its own), which puts the project directory on
sys.path to import this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

SECRET_LOOKING_NAME = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD|PRIVATE_KEY|CREDENTIALS?)$", re.IGNORECASE)

CREDENTIAL_SHAPES = (
    ("an Anthropic API key", r"sk-ant-[A-Za-z0-9_-]{16,}"),
    ("an OpenAI API key", r"sk-[A-Za-z0-9_-]{16,}"),
    ("an AWS access key id", r"(?:AKIA|ASIA)[0-9A-Z]{16}"),
    ("a Google API key", r"AIza[0-9A-Za-z_-]{30,}"),
    ("a GitHub token", r"gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{40,}"),
    ("a GitLab token", r"glpat-[A-Za-z0-9_-]{20,}"),
    ("a Slack token", r"xox[abpr]-[A-Za-z0-9-]{10,}"),
    ("a Hugging Face token", r"hf_[A-Za-z0-9]{30,}"),
    ("a Stripe key", r"[rs]k_live_[A-Za-z0-9]{20,}"),
    ("a JSON web token", r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ("a private key", r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
)
"""Well-known credential shapes, by what they are; each is looked for anywhere in a value (a token inside a
command line or a URL counts), starting where no letter or digit runs into it."""
_TOKENS = [(kind, re.compile(rf"(?<![A-Za-z0-9]){shape}")) for kind, shape in CREDENTIAL_SHAPES]
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/@:\s]*:[^/@\s]+@")
"""A URL with a password in its user-info (`https://user:password@host`), as RFC 3986 spells user-info."""


def credential_in(text: str) -> str | None:
    """What credential `text` holds anywhere in it (a known token's shape, a URL's password), or None."""
    for kind, token in _TOKENS:
        if token.search(text):
            return kind
    if _URL_PASSWORD.search(text):
        return "a password in a URL's user-info"
    return None


def credentials_in(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Each `(path, what)` where a string inside `value` (nested mappings and lists too) holds a credential;
    paths as `a.b[0].c`."""
    if isinstance(value, str):
        kind = credential_in(value)
        if kind is not None:
            yield path, kind
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from credentials_in(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from credentials_in(item, f"{path}[{index}]")
