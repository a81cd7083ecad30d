"""Secrets for Lambda workers: resolves `VIBERATOR_SECRET_ARNS` into environment variables at cold start.

ECS injects secrets as environment variables itself; Lambda has no such feature, so the function gets
`VIBERATOR_SECRET_ARNS` = {"ENV_VAR_NAME": "<secretsmanager ARN>", ...} and this module fetches each value
with GetSecretValue, signed with the function's role credentials (the AWS_* variables Lambda sets).
Endpoint overrides follow the AWS SDK convention (AWS_ENDPOINT_URL_SECRETS_MANAGER, then AWS_ENDPOINT_URL).
Secret values are never logged or put in an error message.
"""

from __future__ import annotations

import base64
import json
import os
import re
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import UTC, datetime

from viberator_worker.sigv4 import Credentials, signed_headers

SECRET_ARNS_VAR = "VIBERATOR_SECRET_ARNS"
TIMEOUT_SECONDS = 10.0
GET_SECRET_VALUE_TARGET = "secretsmanager.GetSecretValue"
_ARN = re.compile(r"^arn:aws[a-z-]*:secretsmanager:(?P<region>[a-z0-9-]+):\d{12}:secret:.+$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SecretResolutionError(RuntimeError):
    """A secret could not be resolved; names the variable and the AWS error, never the value."""


def _credentials(env: Mapping[str, str]) -> Credentials:
    try:
        access_key, secret_key = env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    except KeyError as missing:
        raise SecretResolutionError(f"{SECRET_ARNS_VAR} is set but {missing.args[0]} is not") from None
    return Credentials(access_key, secret_key, env.get("AWS_SESSION_TOKEN"))


def _endpoint(env: Mapping[str, str], region: str) -> str:
    override = env.get("AWS_ENDPOINT_URL_SECRETS_MANAGER") or env.get("AWS_ENDPOINT_URL")
    return (override or f"https://secretsmanager.{region}.amazonaws.com").rstrip("/") + "/"


def get_secret_value(arn: str, *, env: Mapping[str, str]) -> str:
    """The SecretString (or UTF-8 SecretBinary) of the secret `arn`."""
    match = _ARN.match(arn)
    if match is None:
        raise SecretResolutionError(f"not a Secrets Manager secret ARN: {arn!r}")
    region = match["region"]
    url = _endpoint(env, region)
    body = json.dumps({"SecretId": arn}).encode()
    headers = signed_headers(
        url=url,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": GET_SECRET_VALUE_TARGET},
        body=body,
        credentials=_credentials(env),
        region=region,
        service="secretsmanager",
        now=datetime.now(UTC),
    )
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            document = json.load(response)
    except urllib.error.HTTPError as exc:
        raise SecretResolutionError(f"GetSecretValue {arn}: HTTP {exc.code} {_aws_error(exc)}") from None
    except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
        raise SecretResolutionError(f"GetSecretValue {arn}: {exc}") from None
    if "SecretString" in document:
        return document["SecretString"]
    if "SecretBinary" in document:
        try:
            return base64.b64decode(document["SecretBinary"]).decode()
        except ValueError:
            raise SecretResolutionError(f"{arn}: SecretBinary is not UTF-8 text") from None
    raise SecretResolutionError(f"GetSecretValue {arn}: response has no secret value")


def _aws_error(exc: urllib.error.HTTPError) -> str:
    try:
        error = json.load(exc)
    except (json.JSONDecodeError, OSError):
        return ""
    kind = str(error.get("__type", "")).rpartition("#")[2]
    return f"{kind}: {error.get('message') or error.get('Message') or ''}".strip(": ")


def resolve_secret_env(env: Mapping[str, str]) -> dict[str, str]:
    """{ENV_VAR_NAME: value} for every entry of VIBERATOR_SECRET_ARNS in `env` (empty when unset)."""
    raw = env.get(SECRET_ARNS_VAR)
    if not raw:
        return {}
    try:
        mapping = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise SecretResolutionError(f"{SECRET_ARNS_VAR} is not JSON: {exc}") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise SecretResolutionError(f'{SECRET_ARNS_VAR} must be a JSON object {{"ENV_NAME": "arn:..."}}')
    bad = [name for name in mapping if not _ENV_NAME.match(name)]
    if bad:
        raise SecretResolutionError(f"{SECRET_ARNS_VAR}: not environment variable names: {', '.join(bad)}")
    return {name: get_secret_value(arn, env=env) for name, arn in mapping.items()}


def load_secrets_into_environ() -> list[str]:
    """Resolves VIBERATOR_SECRET_ARNS into os.environ; returns the names set."""
    resolved = resolve_secret_env(os.environ)
    os.environ.update(resolved)
    return sorted(resolved)
