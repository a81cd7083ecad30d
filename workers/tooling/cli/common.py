"""What every command of `python -m workers` shares: the exit codes, the progress console, the registry a
command was given (a host, or `ecr`) and the ECR connections it opens, and the skopeo that checks a pull.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from contextlib import ExitStack
from datetime import timedelta

from rich.console import Console

from workers.tooling import ecr, ensure, signature
from workers.tooling.engine import Engine
from workers.tooling.references import InvalidReference, Registry

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2

RegistryChoice = Registry | str
"""A registry given by host, or `ecr` (ecr.ECR_REGISTRY): the AWS account's own, found through botocore."""


def registry_choice(value: str) -> RegistryChoice:
    if value == ecr.ECR_REGISTRY:
        return value
    try:
        return Registry.parse(value)
    except InvalidReference as bad:
        raise argparse.ArgumentTypeError(str(bad)) from None


def registry_or_default(given: RegistryChoice | None) -> RegistryChoice | None:
    if given is not None:
        return given
    value = os.environ.get(ensure.REGISTRY_ENV_VAR)
    return registry_choice(value) if value else None


def registry_source(choice: RegistryChoice | None, connect: Callable[..., ecr.EcrConnection]) -> ensure.RegistrySource:
    """The registry given by host, else ECR: asked for (`ecr`), or the default when no registry is given and AWS
    credentials are found (without them, none)."""
    if isinstance(choice, Registry):
        return choice
    return connect(implicit=choice is None)


def progress_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def ecr_connector(
    args: argparse.Namespace, engine: Engine, aws: ecr.Aws, scope: ExitStack, margin: float, console: Console
) -> Callable[..., ecr.EcrConnection]:
    """Opens ECR connections for this command, each closed (its login removed) when `scope` ends."""

    def connect(*, implicit: bool = False, target: ecr.EcrTarget | None = None) -> ecr.EcrConnection:
        connection = ecr.EcrConnection(
            aws,
            engine,
            environment=args.env,
            margin=timedelta(seconds=margin),
            say=lambda text: console.print(text, markup=False),
            implicit=implicit,
            target=target,
        )
        scope.callback(connection.close)
        return connection

    return connect


def engine_skopeo(engine: Engine) -> signature.Skopeo:
    """skopeo checking a pull through the pull's own registry login (an ECR login lives only in the engine's)."""
    return signature.Skopeo(docker_config=engine.docker_config)
