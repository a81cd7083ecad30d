"""The AWS side of ECR as the tooling reaches it: botocore's session and clients (`Aws`), the error every ECR
step raises, and where the registry is: the caller's account and region (`locate`), or the account and region
a stack's image reference names (`stack_target`), on the host of the region's partition.

The login and the connection a command opens are `login`'s; the repository and image queries `push_guard`'s.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from workers.ecr_url import REPOSITORY_URL, registry_host
from workers.tooling.process import EngineError
from workers.tooling.references import Registry

ECR_REGISTRY = "ecr"
"""The `--registry` (and `$VIBERATOR_REGISTRY`, make's `REGISTRY`) value that means "this account's ECR"."""
REGION_ENV_VAR = "AWS_REGION"
"""Read first, as the AWS CLI and SDKs do; botocore itself only reads AWS_DEFAULT_REGION and the profile."""
NO_CREDENTIALS = (
    "no AWS credentials found (environment, ~/.aws profiles, SSO, web identity, instance role): "
    "set AWS_PROFILE or run `aws sso login`, or give --registry HOST"
)
NO_REGION = f"no AWS region: set ${REGION_ENV_VAR} or the profile's region, or give --registry HOST"
# A laptop without network or an unreachable endpoint fails in seconds rather than after botocore's defaults.
_CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"})


class EcrError(EngineError):
    """ECR could not be located, logged in to or checked; an EngineError so one harness's failure is recorded
    like a failed push while the others still build."""


class Aws:
    """The AWS side as the tooling uses it: botocore's default session and clients.

    Tests subclass it with Stubber-backed clients and a loopback registry standing in for ECR's host.
    """

    def __init__(self, session: botocore.session.Session | None = None) -> None:
        self.session = session or botocore.session.Session()

    def has_credentials(self) -> bool:
        try:
            return self.session.get_credentials() is not None
        except BotoCoreError as error:
            raise EcrError("AWS credentials could not be loaded", str(error)) from None

    def region(self) -> str | None:
        return os.environ.get(REGION_ENV_VAR) or self.session.get_config_variable("region")

    def client(self, service: str, region: str) -> Any:
        return self.session.create_client(service, region_name=region, config=_CLIENT_CONFIG)

    def registry_host(self, account: str, region: str) -> str:
        return registry_host(account, region)


def _error_code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def aws_call(what: str, call: Callable[[], Any], *, tolerated: str | None = None) -> Any:
    """An AWS call whose failure becomes an EcrError naming the call (never the request's credentials); None
    for the error code `tolerated`, an answer the caller expects."""
    try:
        return call()
    except ClientError as error:
        if tolerated is not None and _error_code(error) == tolerated:
            return None
        raise EcrError(f"{what} failed", str(error)) from None
    except BotoCoreError as error:
        raise EcrError(f"{what} failed", str(error)) from None


@dataclass(frozen=True)
class EcrTarget:
    account: str
    region: str
    host: str

    @property
    def registry(self) -> Registry:
        return Registry(self.host)


def locate(aws: Aws) -> EcrTarget:
    """The ECR registry of the caller's account in the configured region; EcrError says what is missing."""
    region = aws.region()
    if not region:
        raise EcrError(NO_REGION)
    identity = aws_call("sts:GetCallerIdentity", lambda: aws.client("sts", region).get_caller_identity())
    account = str(identity["Account"])
    return EcrTarget(account, region, aws.registry_host(account, region))


def stack_target(aws: Aws, reference: str) -> tuple[EcrTarget, str] | None:
    """The ECR registry an image reference of a stack's outputs lives in, and the reference on the host that
    `aws` reaches it at; None for a reference outside ECR."""
    repository, separator, rest = reference.partition("@")
    if not separator:
        repository, separator, rest = reference.rpartition(":")
    match = REPOSITORY_URL.match(repository)
    if match is None:
        return None
    target = EcrTarget(match["account"], match["region"], aws.registry_host(match["account"], match["region"]))
    return target, f"{target.host}/{match['name']}{separator}{rest}"
