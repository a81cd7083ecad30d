"""Logging in to ECR without `docker login`: `DockerLogin` keeps a GetAuthorizationToken login in a private
Docker config directory (0700, removed afterwards) that only this command's registry calls see
(`DOCKER_CONFIG`), renewed before it expires; the user's own Docker config is never written, and the token is
never printed. `EcrConnection` is one command's ECR: located, logged in for the engine, with its push checks.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from workers.tooling.ecr.aws import NO_CREDENTIALS, Aws, EcrError, EcrTarget, aws_call, locate
from workers.tooling.ecr.push_guard import PushGuard
from workers.tooling.engine import Engine
from workers.tooling.references import Registry


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
        response = aws_call("ecr:GetAuthorizationToken", self._ecr.get_authorization_token)
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
