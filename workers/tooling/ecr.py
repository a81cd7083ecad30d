"""ECR as the tooling reaches it on its own, the way the design's build script does: no registry host typed by
hand, no `docker login` beforehand.

- `locate`: the account from STS GetCallerIdentity and the region from the usual AWS settings, through
  botocore's standard credential chain (environment, profiles, SSO, web identity, instance roles); the host
  from both, in the region's partition (`amazonaws.com.cn` in China).
- `DockerLogin`: a GetAuthorizationToken login in a private Docker config directory (0700, removed
  afterwards) that only this command's registry calls see (`DOCKER_CONFIG`); renewed before it expires. The
  user's own Docker config is never written, and the token is never printed.
- `PushGuard`: repositories stay Pulumi's (a missing one names the stack that creates it, nothing is created
  here), and an immutable tag that holds another image is never pushed over.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatch
from functools import partial
from pathlib import Path
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from components.aws_target import DNS_SUFFIX_OF_PARTITION, partition_of_region
from components.promotion import REPOSITORY_URL
from workers.naming import MUTABLE_TAG_PATTERNS, repository_name
from workers.tooling.engine import Engine, EngineError
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
# Single images and the multi-platform indexes `build --platform a,b` pushes.
MANIFEST_MEDIA_TYPES = [
    "application/vnd.docker.distribution.manifest.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.index.v1+json",
]
# A laptop without network or an unreachable endpoint fails in seconds rather than after botocore's defaults.
_CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"})


class EcrError(EngineError):
    """ECR could not be located, logged in to or checked; an EngineError so one harness's failure is recorded
    like a failed push while the others still build."""


def registry_host(account: str, region: str) -> str:
    suffix = DNS_SUFFIX_OF_PARTITION.get(partition_of_region(region), "amazonaws.com")
    return f"{account}.dkr.ecr.{region}.{suffix}"


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


def _call(what: str, call: Callable[[], Any], *, tolerated: str | None = None) -> Any:
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
    identity = _call("sts:GetCallerIdentity", lambda: aws.client("sts", region).get_caller_identity())
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


def user_docker_config() -> Path:
    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


# What the private config keeps of the user's so the registry calls reach the same engine, through the same
# proxies, with the same plugins as their own `docker` commands: never their credentials.
_CARRIED_SETTINGS = ("currentContext", "proxies")
_LINKED_DIRECTORIES = ("contexts", "cli-plugins")


def _carried_settings(source: Path) -> dict[str, Any]:
    try:
        document = json.loads((source / "config.json").read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(document, dict):
        return {}
    return {key: document[key] for key in _CARRIED_SETTINGS if key in document}


class DockerLogin:
    """One ECR login in a private Docker config directory, valid for the next registry call.

    `directory()` renews the token when less than `margin` of its life is left: a registry call may take up to
    its own timeout, and a build of hours may outlive a token fetched when the command started.
    """

    def __init__(
        self,
        ecr: Any,
        host: str,
        *,
        margin: timedelta,
        user_config: Path | None = None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._ecr = ecr
        self._host = host
        self._margin = margin
        self._now = now
        self._user_config = user_config or user_docker_config()
        self._directory = Path(tempfile.mkdtemp(prefix="viberator-docker-config-"))  # mode 0700
        self._expires_at = datetime.min.replace(tzinfo=UTC)
        self._link_user_directories()
        self.logins = 0
        """How many tokens this login fetched (the first, then one per renewal)."""

    def _link_user_directories(self) -> None:
        for name in _LINKED_DIRECTORIES:
            if (self._user_config / name).is_dir():
                (self._directory / name).symlink_to(self._user_config / name)

    def directory(self) -> Path:
        if self._now() + self._margin >= self._expires_at:
            self._log_in()
        return self._directory

    def _log_in(self) -> None:
        response = _call("ecr:GetAuthorizationToken", self._ecr.get_authorization_token)
        data = response["authorizationData"][0]
        document = {**_carried_settings(self._user_config), "auths": {self._host: {"auth": data["authorizationToken"]}}}
        self._write_config(json.dumps(document))
        self._expires_at = data["expiresAt"]
        self.logins += 1

    def _write_config(self, text: str) -> None:
        # Written beside and renamed over, so a docker client starting meanwhile reads a whole file.
        staged = self._directory / "config.json.new"
        descriptor = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
        staged.replace(self._directory / "config.json")

    def close(self) -> None:
        shutil.rmtree(self._directory, ignore_errors=True)

    def __enter__(self) -> DockerLogin:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def is_immutable(tag: str) -> bool:
    """Tags the repositories refuse to move (`components/harness_image.py`: IMMUTABLE_WITH_EXCLUSION)."""
    return not any(fnmatch(tag, pattern) for pattern in MUTABLE_TAG_PATTERNS)


class PushGuard:
    """The ECR checks around a push: the repository is Pulumi's to create, an immutable tag never moves."""

    def __init__(self, ecr: Any, target: EcrTarget, environment: str) -> None:
        self._ecr = ecr
        self._target = target
        self._environment = environment

    def check_repositories(self, harnesses: Iterable[str]) -> None:
        """Before any build: every repository exists; else EcrError naming them and the stack that creates them."""
        missing = [name for name in map(repository_name, harnesses) if not self._repository_exists(name)]
        if missing:
            raise EcrError(
                f"ECR repository {', '.join(missing)} does not exist in account {self._target.account} "
                f"({self._target.region}); repositories are the Pulumi stack's, never created here: "
                f"create {'them' if len(missing) > 1 else 'it'} with `make up STACK={self._environment}` "
                f"(the image stack of environment {self._environment})"
            )

    def _repository_exists(self, name: str) -> bool:
        found = _call(
            "ecr:DescribeRepositories",
            lambda: self._ecr.describe_repositories(registryId=self._target.account, repositoryNames=[name]),
            tolerated="RepositoryNotFoundException",
        )
        return found is not None

    def held(self, harness: str, tags: Sequence[str], image_id: str) -> str | None:
        """The digest the immutable `tags` already hold this image at (nothing to push), else None (push).

        EcrError when one holds another image: the tag would have to move, which the repository refuses and
        which would change what a tag a clanker was deployed from means.
        """
        held = [self._holding(harness, tag, image_id) for tag in tags if is_immutable(tag)]
        return next((digest for digest in held if digest is not None), None)

    def _holding(self, harness: str, tag: str, image_id: str) -> str | None:
        name = repository_name(harness)
        response = _call(
            "ecr:BatchGetImage",
            lambda: self._ecr.batch_get_image(
                registryId=self._target.account,
                repositoryName=name,
                imageIds=[{"imageTag": tag}],
                acceptedMediaTypes=MANIFEST_MEDIA_TYPES,
            ),
        )
        if not response.get("images"):
            return None
        image = response["images"][0]
        digest = str(image["imageId"]["imageDigest"])
        config = json.loads(image["imageManifest"]).get("config", {}).get("digest")
        if config == image_id:
            return digest
        held = f"image {config}" if config else "a multi-platform index"
        raise EcrError(
            f"{name}:{tag} is immutable and already holds {digest} ({held}); this build is image {image_id}: "
            "refusing to move it (build a new revision, or delete the old image in ECR if nothing runs it)"
        )

    def point(self, harness: str, tags: Sequence[str], digest: str) -> None:
        """Make the movable `tags` name the manifest `digest` the repository holds: ECR adds a tag only through
        PutImage of the same manifest bytes, which keeps the digest."""
        where = {"registryId": self._target.account, "repositoryName": repository_name(harness)}
        response = _call(
            "ecr:BatchGetImage",
            lambda: self._ecr.batch_get_image(
                **where, imageIds=[{"imageDigest": digest}], acceptedMediaTypes=MANIFEST_MEDIA_TYPES
            ),
        )
        image = response["images"][0]

        def put(tag: str) -> Any:
            return self._ecr.put_image(
                **where,
                imageManifest=image["imageManifest"],
                imageManifestMediaType=image["imageManifestMediaType"],
                imageTag=tag,
                imageDigest=digest,
            )

        for tag in (tag for tag in tags if not is_immutable(tag)):
            # ImageAlreadyExistsException: the tag names this digest already.
            _call("ecr:PutImage", partial(put, tag), tolerated="ImageAlreadyExistsException")


class EcrConnection:
    """ECR for one command, opened on first use (`resolve`, see `workers.tooling.ensure.RegistrySource`):
    located unless a stack named it, logged in for `engine`'s registry calls, with the push checks in `guard`.
    `close` removes the login. `implicit`: chosen because no registry was given, so no AWS credentials means
    no registry rather than an error.
    """

    def __init__(
        self,
        aws: Aws,
        engine: Engine,
        *,
        environment: str,
        margin: timedelta,
        say: Callable[[str], None],
        implicit: bool = False,
        target: EcrTarget | None = None,
    ) -> None:
        self._aws = aws
        self._engine = engine
        self._environment = environment
        self._margin = margin
        self._say = say
        self._implicit = implicit
        self._target = target
        self._opened = False
        self._login: DockerLogin | None = None
        self.guard: PushGuard | None = None

    def resolve(self) -> Registry | None:
        if not self._opened:
            self._opened = True
            self._target = self._open()
        return self._target.registry if self._target is not None else None

    def _open(self) -> EcrTarget | None:
        if not self._aws.has_credentials():
            if self._implicit:
                return None
            raise EcrError(NO_CREDENTIALS)
        target = self._target or locate(self._aws)
        ecr = self._aws.client("ecr", target.region)
        login = DockerLogin(ecr, target.host, margin=self._margin)
        try:
            login.directory()  # logs in now: refused credentials fail before a build of minutes
        except BaseException:
            login.close()
            raise
        self._login = login
        self._engine.registry_config = login
        self.guard = PushGuard(ecr, target, self._environment)
        chosen = "no --registry given, AWS credentials found" if self._implicit else "logged in"
        self._say(f"registry: {target.host} (ECR of account {target.account} in {target.region}; {chosen})")
        return target

    def close(self) -> None:
        if self._login is not None:
            self._engine.registry_config = None
            self._login.close()
            self._login = None
