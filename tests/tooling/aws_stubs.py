"""AWS for the tooling's tests without AWS: Stubber-backed STS and ECR clients, an AWS environment of the test's
own (no profile, credentials or instance metadata of the machine's), and a guard that fails any connection or
name lookup that would leave 127.0.0.1.

botocore's Stubber answers from a queue and checks each request against the service model and the expected
parameters, so a request the code gets wrong fails the test instead of reaching AWS.
"""

from __future__ import annotations

import base64
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from workers.tooling import ecr

ACCOUNT = "123456789012"
REGION = "us-east-1"
ECR_HOST = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
_AWS_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ROLE_ARN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
)
_LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _loopback_only(address: object) -> None:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and host not in _LOOPBACK and not host.startswith("/"):
        raise AssertionError(f"a test tried to reach {host}: only 127.0.0.1 is allowed")


@pytest.fixture
def isolated_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    """No AWS settings of the machine's, no instance metadata, and no connection beyond 127.0.0.1; yields the
    (empty) AWS config directory the test may write profiles into."""
    for name in _AWS_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "aws"
    config.mkdir()
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(config / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    real_connect, real_lookup = socket.socket.connect, socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> Any:
        _loopback_only(address)
        return real_connect(self, address)

    def lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        _loopback_only(host)
        return real_lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    yield config


def authorization(password: str, expires_in: timedelta = timedelta(hours=12)) -> dict[str, Any]:
    """A GetAuthorizationToken answer for the user AWS (what ECR's tokens are)."""
    token = base64.b64encode(f"AWS:{password}".encode()).decode()
    return {
        "authorizationData": [
            {
                "authorizationToken": token,
                "expiresAt": datetime.now(UTC) + expires_in,
                "proxyEndpoint": f"https://{ECR_HOST}",
            }
        ]
    }


class StubbedAws(ecr.Aws):
    """`ecr.Aws` with fake credentials, Stubber-backed clients, and optionally a registry standing in for ECR's
    host (a loopback `docker-registry`)."""

    def __init__(self, *, region: str = REGION, host: str | None = None, credentials: bool = True) -> None:
        session = botocore.session.Session()
        if credentials:
            session.set_credentials("AKIDEXAMPLE", "not-a-secret")
        super().__init__(session)
        self._region = region
        self._host = host
        self.clients = {service: session.create_client(service, region_name=region) for service in ("sts", "ecr")}
        self.stubs = {service: Stubber(client) for service, client in self.clients.items()}
        for stub in self.stubs.values():
            stub.activate()

    @property
    def sts(self) -> Stubber:
        return self.stubs["sts"]

    @property
    def ecr(self) -> Stubber:
        return self.stubs["ecr"]

    def region(self) -> str | None:
        return self._region

    def client(self, service: str, region: str) -> Any:
        assert region == self._region, f"{service} client asked for {region}"
        return self.clients[service]

    def registry_host(self, account: str, region: str) -> str:
        return self._host or super().registry_host(account, region)

    def caller(self) -> None:
        self.sts.add_response(
            "get_caller_identity",
            {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/dev", "UserId": "AIDAEXAMPLE"},
            {},
        )

    def login(self, password: str, expires_in: timedelta = timedelta(hours=12)) -> None:
        self.ecr.add_response("get_authorization_token", authorization(password, expires_in), {})

    def repository(self, name: str, *, exists: bool = True) -> None:
        expected = {"registryId": ACCOUNT, "repositoryNames": [name]}
        if exists:
            self.ecr.add_response("describe_repositories", {"repositories": [{"repositoryName": name}]}, expected)
        else:
            self.ecr.add_client_error(
                "describe_repositories", service_error_code="RepositoryNotFoundException", expected_params=expected
            )

    def tag_absent(self, repository: str, tag: str) -> None:
        self.ecr.add_response(
            "batch_get_image",
            {"images": [], "failures": [{"imageId": {"imageTag": tag}, "failureCode": "ImageNotFound"}]},
            {
                "registryId": ACCOUNT,
                "repositoryName": repository,
                "imageIds": [{"imageTag": tag}],
                "acceptedMediaTypes": ecr.MANIFEST_MEDIA_TYPES,
            },
        )

    def assert_done(self) -> None:
        for stub in self.stubs.values():
            stub.assert_no_pending_responses()
