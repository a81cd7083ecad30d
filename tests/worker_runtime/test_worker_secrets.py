"""Lambda secret resolution against a fake Secrets Manager on 127.0.0.1 that checks each request's SigV4
signature with botocore's signer, so the small signer in the image is held to the SDK's rules."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from viberator_worker.secret_env import SecretResolutionError, resolve_secret_env
from viberator_worker.sigv4 import Credentials, signed_headers

REGION = "eu-west-1"
ARN = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:anthropic-key-AbCdEf"
BINARY_ARN = f"arn:aws:secretsmanager:{REGION}:123456789012:secret:binary-XyZ"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "wJalr/EXAMPLEKEY"}


def botocore_signature(method: str, url: str, headers: dict[str, str], body: bytes, token: str | None) -> str:
    """The signature botocore computes for the signed headers of a received request."""
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    request.context["timestamp"] = {k.lower(): v for k, v in headers.items()}["x-amz-date"]
    signer = SigV4Auth(BotoCredentials(*CREDENTIALS.values(), token), "secretsmanager", REGION)
    return signer.signature(signer.string_to_sign(request, signer.canonical_request(request)), request)


SECRETS = {
    ARN: {"SecretString": "sk-test-value"},
    BINARY_ARN: {"SecretBinary": base64.b64encode(b"bin").decode()},
}


class FakeSecretsManager(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        auth = dict(part.split("=", 1) for part in self.headers["Authorization"].split(" ", 1)[1].split(", "))
        signed = {name: self.headers[name] for name in auth["SignedHeaders"].split(";")}
        url = f"http://{self.headers['Host']}{self.path}"
        expected = botocore_signature("POST", url, signed, body, self.headers.get("X-Amz-Security-Token"))
        secret_id = json.loads(body)["SecretId"]
        if auth["Signature"] != expected:
            self.reply(403, {"__type": "InvalidSignatureException", "message": "signature mismatch"})
        elif self.headers["X-Amz-Target"] != "secretsmanager.GetSecretValue":
            self.reply(400, {"__type": "UnknownOperationException"})
        elif secret_id not in SECRETS:
            self.reply(400, {"__type": "com.amazonaws#ResourceNotFoundException", "Message": "no such secret"})
        else:
            self.reply(200, {"ARN": secret_id, **SECRETS[secret_id]})

    def reply(self, status: int, document: dict[str, object]) -> None:
        payload = json.dumps(document).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/x-amz-json-1.1")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        """Quiet: pytest shows failures, not access logs."""


@pytest.fixture(scope="module")
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeSecretsManager)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def env_for(endpoint: str, mapping: dict[str, str], **extra: str) -> dict[str, str]:
    return {
        **CREDENTIALS,
        "AWS_ENDPOINT_URL_SECRETS_MANAGER": endpoint,
        "VIBERATOR_SECRET_ARNS": json.dumps(mapping),
        **extra,
    }


def test_resolves_string_and_binary_secrets(endpoint: str) -> None:
    env = env_for(endpoint, {"ANTHROPIC_API_KEY": ARN, "BLOB": BINARY_ARN})
    assert resolve_secret_env(env) == {"ANTHROPIC_API_KEY": "sk-test-value", "BLOB": "bin"}


def test_session_token_is_signed_too(endpoint: str) -> None:
    env = env_for(endpoint, {"KEY": ARN}, AWS_SESSION_TOKEN="FwoGZXIvYXdzEXAMPLE")
    assert resolve_secret_env(env) == {"KEY": "sk-test-value"}


def test_wrong_credentials_fail_with_the_aws_error(endpoint: str) -> None:
    env = env_for(endpoint, {"KEY": ARN}, AWS_SECRET_ACCESS_KEY="not-the-key")
    with pytest.raises(SecretResolutionError, match="HTTP 403 InvalidSignatureException: signature mismatch"):
        resolve_secret_env(env)


def test_missing_secret_names_the_error_and_never_a_value(endpoint: str) -> None:
    missing = ARN.replace("anthropic", "other")
    with pytest.raises(SecretResolutionError) as caught:
        resolve_secret_env(env_for(endpoint, {"KEY": missing}))
    assert str(caught.value) == f"GetSecretValue {missing}: HTTP 400 ResourceNotFoundException: no such secret"


def test_unset_means_nothing_to_resolve() -> None:
    assert resolve_secret_env({}) == {}


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VIBERATOR_SECRET_ARNS": "{"}, "is not JSON"),
        ({"VIBERATOR_SECRET_ARNS": '["arn"]'}, "must be a JSON object"),
        ({"VIBERATOR_SECRET_ARNS": json.dumps({"BAD-NAME": ARN}), **CREDENTIALS}, "BAD-NAME"),
        ({"VIBERATOR_SECRET_ARNS": json.dumps({"K": "arn:aws:s3:::bucket"}), **CREDENTIALS}, "not a Secrets"),
        ({"VIBERATOR_SECRET_ARNS": json.dumps({"K": ARN})}, "AWS_ACCESS_KEY_ID is not"),
    ],
)
def test_configuration_errors_are_clear(env: dict[str, str], message: str) -> None:
    with pytest.raises(SecretResolutionError, match=message):
        resolve_secret_env(env)


def test_signer_matches_botocore_on_a_real_endpoint_at_a_fixed_time() -> None:
    """Default HTTPS port dropped from Host; signature equal to botocore's for the same request."""
    now = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)
    url = f"https://secretsmanager.{REGION}.amazonaws.com/"
    body = b'{"SecretId": "x"}'
    headers = signed_headers(
        url=url,
        headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "secretsmanager.GetSecretValue"},
        body=body,
        credentials=Credentials(*CREDENTIALS.values()),
        region=REGION,
        service="secretsmanager",
        now=now,
    )
    assert headers["Host"] == f"secretsmanager.{REGION}.amazonaws.com"  # default port dropped
    signature = headers["Authorization"].rsplit("Signature=", 1)[1]
    signed = {k: v for k, v in headers.items() if k != "Authorization"}
    assert signature == botocore_signature("POST", url, signed, body, None)
