"""`python -m workers build|ensure`: argument parsing and exit codes; the work is in `build` and `ensure`.

Exit codes: 0 done; 1 an image could not be built, pushed or found; 2 a usage error; 3 `ensure` refused an
image whose job contract this checkout cannot talk to, or a pulled digest without a valid signature by the image
stack's key (workers/tooling/signature.py). Progress and messages go to stderr; `ensure` prints
only the reference to run on stdout, so scripts can write `image=$(python -m workers ensure kimi)`.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

from rich.console import Console

from workers.catalog import HARNESS_NAMES
from workers.naming import LOCAL_ALIAS_TAG
from workers.revision import BuildRevision, override_revision
from workers.tooling import build, ecr, ensure, run_job, signature, stack_outputs
from workers.tooling.engine import Engine
from workers.tooling.lock import LockTimeout
from workers.tooling.platforms import PlatformError, parse_platforms
from workers.tooling.process import EngineError
from workers.tooling.references import (
    DEFAULT_ENVIRONMENT,
    FLOATING_VERSION,
    InvalidReference,
    Registry,
    check_tag,
    current_revision,
)
from workers.tooling.report import LiveProgress, failures, summary_table, write_summary

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
GITHUB_SUMMARY_ENV_VAR = "GITHUB_STEP_SUMMARY"

BUILD_DESCRIPTION = (
    "Build harness images from workers/image/Dockerfile, tagged <env>-<revision>, <env>-latest and the local "
    "alias; with --push, push the same tags to --registry (several --platform values: a manifest list)."
)
ENSURE_DESCRIPTION = (
    "Make viberator-worker-<harness>:<alias-tag> present on the local engine: the local alias if present "
    "(warning when stale), else pull <registry>/viberator-worker-<harness>:<version tag> and tag it as the "
    "alias, else fail naming what was tried and the command that builds it. Prints the reference on stdout."
)


RegistryChoice = Registry | str
"""A registry given by host, or `ecr` (ecr.ECR_REGISTRY): the AWS account's own, found through botocore."""


def _registry(value: str) -> RegistryChoice:
    if value == ecr.ECR_REGISTRY:
        return value
    try:
        return Registry.parse(value)
    except InvalidReference as bad:
        raise argparse.ArgumentTypeError(str(bad)) from None


PUBLIC_KEY_HELP = (
    "PEM public key a pulled digest must be signed by (default: the stack outputs' `signing.publicKey`); "
    "an unsigned or wrongly signed digest is refused (exit 3)"
)


def _tag(value: str) -> str:
    try:
        return check_tag(value)
    except InvalidReference as bad:
        raise argparse.ArgumentTypeError(str(bad)) from None


def _registry_or_default(given: RegistryChoice | None) -> RegistryChoice | None:
    if given is not None:
        return given
    value = os.environ.get(ensure.REGISTRY_ENV_VAR)
    return _registry(value) if value else None


def _registry_source(choice: RegistryChoice | None, connect: Callable[..., ecr.EcrConnection]) -> ensure.RegistrySource:
    """The registry given by host, else ECR: asked for (`ecr`), or the default when no registry is given and AWS
    credentials are found (without them, none)."""
    if isinstance(choice, Registry):
        return choice
    return connect(implicit=choice is None)


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m workers",
        description="Build, push and fetch viberator worker images on the local Docker engine.",
    )
    commands = root.add_subparsers(dest="command", required=True)
    harness_list = ", ".join(HARNESS_NAMES)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--env",
        default=DEFAULT_ENVIRONMENT,
        type=_tag,
        help=f"environment whose tags to use: <env>-<revision>, <env>-latest (default {DEFAULT_ENVIRONMENT})",
    )
    common.add_argument(
        "--registry",
        type=_registry,
        default=None,
        help=f"HOST[:PORT][/PREFIX], or {ecr.ECR_REGISTRY}: the AWS account's ECR in $AWS_REGION (default "
        f"${ensure.REGISTRY_ENV_VAR}, else {ecr.ECR_REGISTRY} when AWS credentials are found)",
    )
    common.add_argument(
        "--alias-tag",
        type=_tag,
        default=LOCAL_ALIAS_TAG,
        help=f"tag of the local alias the Docker worker runs (default {LOCAL_ALIAS_TAG})",
    )
    common.add_argument(
        "--build-arg",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra build arg for (re)builds, repeatable (e.g. NODE_BASE=… for offline base images)",
    )

    b = commands.add_parser(
        "build", parents=[common], help="build (and push) harness images", description=BUILD_DESCRIPTION
    )
    b.add_argument("harnesses", nargs="*", metavar="HARNESS", help=f"{harness_list}, or all (default all)")
    b.add_argument("--revision", type=_tag, help="revision for tags and labels (default: the build context's)")
    b.add_argument("--platform", help="OS/ARCH[,OS/ARCH…]; several need --push (a manifest list)")
    b.add_argument("--push", action="store_true", help="push every tag to --registry")
    b.add_argument("--push-latest", action="store_true", help="also tag and push the global `latest`")
    b.add_argument(
        "--summary",
        type=Path,
        help=f"Markdown summary file (default ${GITHUB_SUMMARY_ENV_VAR}, else {build.OUTPUT_DIR}/summary.md)",
    )
    b.add_argument(
        "--timeout", type=float, default=3600.0, help="seconds each docker build or push may take (default 3600)"
    )

    e = commands.add_parser(
        "ensure",
        parents=[common],
        help="make a harness image present locally under its alias",
        description=ENSURE_DESCRIPTION,
    )
    e.add_argument("harness", choices=HARNESS_NAMES, metavar="HARNESS", help=harness_list)
    e.add_argument(
        "--version",
        type=_tag,
        help=f"revision to pull (default: this checkout's); {FLOATING_VERSION!r} pulls <env>-latest",
    )
    e.add_argument("--offline", action="store_true", help="never contact a registry")
    e.add_argument("--rebuild", action="store_true", help="rebuild a stale or refused local alias")
    e.add_argument(
        "--answer-timeout",
        type=float,
        default=8.0,
        help="seconds the registry may take to answer (default 8)",
    )
    e.add_argument("--pull-timeout", type=float, default=1800.0, help="seconds a pull may take (default 1800)")
    stack = e.add_mutually_exclusive_group()
    stack.add_argument(
        "--from-stack",
        metavar="STACK",
        help="the exact image a clanker of this stack runs (`pulumi stack output --json`), not this checkout's",
    )
    stack.add_argument("--outputs", type=Path, help="as --from-stack, from saved stack outputs or a plan document")
    e.add_argument("--clanker", help="with --from-stack/--outputs: the clanker, when several run the harness")
    e.add_argument("--public-key", type=Path, help=PUBLIC_KEY_HELP)

    r = commands.add_parser(
        "run-job",
        help="run one job on a clanker, from the stack outputs",
        description=(run_job.__doc__ or "").split("\n\n", 1)[0],
    )
    r.add_argument("clanker", metavar="CLANKER", help="a clanker of the stack outputs")
    r.add_argument("--job", type=Path, required=True, help="the job document (workers/image/…/job.schema.json)")
    source = r.add_mutually_exclusive_group()
    source.add_argument(
        "--stack",
        default=DEFAULT_ENVIRONMENT,
        help="read `pulumi stack output --json` of this stack (without the Pulumi CLI: its offline plan)",
    )
    source.add_argument("--outputs", type=Path, help="stack outputs, or a `make plan FORMAT=json` document")
    r.add_argument("--local", action="store_true", help="lambda: run the image under AWS's Lambda emulator here")
    r.add_argument(
        "--fake-agent",
        action="store_true",
        help="run the runtime tests' fake agent instead of the CLI (no API key, no network), as docker-compose does",
    )
    r.add_argument("--network", default="host", help="docker network of a docker clanker's container (default host)")
    r.add_argument("--public-key", type=Path, help=PUBLIC_KEY_HELP)
    return root


def _progress_console() -> Console:
    return Console(stderr=True, highlight=False, soft_wrap=True)


def _table_console() -> Console:
    console = Console(highlight=False)
    # Off a terminal (CI logs, pipes) rich assumes 80 columns and would elide the digests.
    if not console.is_terminal:
        console.width = max(console.width, 200)
    return console


def _build_request(
    args: argparse.Namespace, revision: BuildRevision, registry: Registry | None, checks: build.PushChecks | None
) -> build.BuildRequest:
    return build.BuildRequest(
        harnesses=build.select_harnesses(args.harnesses),
        revision=revision,
        environment=args.env,
        platforms=parse_platforms(args.platform),
        registry=registry,
        push_checks=checks,
        push=args.push,
        push_latest=args.push_latest,
        alias_tag=args.alias_tag,
        ca_bundle=build.ca_bundle_from_environment(),
        build_args=build.parse_build_args(args.build_arg),
        timeout=args.timeout,
    )


def _summary_target(explicit: Path | None) -> tuple[Path, bool]:
    github_value = os.environ.get(GITHUB_SUMMARY_ENV_VAR)
    github = Path(github_value) if github_value else None
    path = explicit or github or build.OUTPUT_DIR / "summary.md"
    # The step summary file collects every step's section, so it is appended to, never replaced.
    return path, path == github


def _connector(
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


def run_build(args: argparse.Namespace, engine: Engine, aws: ecr.Aws) -> int:
    console = _progress_console()
    revision = override_revision(args.revision) if args.revision else current_revision()
    with ExitStack() as scope:
        registry, guard = None, None
        if args.push:
            connect = _connector(args, engine, aws, scope, args.timeout, console)
            source = _registry_source(_registry_or_default(args.registry), connect)
            registry = source.resolve()
            guard = source.guard if isinstance(source, ecr.EcrConnection) else None
        request = _build_request(args, revision, registry, guard)
        if guard is not None:
            guard.check_repositories(request.harnesses)  # before a build of minutes, not after
        if revision.note:
            console.print(f"note: {revision.note}")
        build.preflight(request, engine)
        with LiveProgress(console, request.harnesses) as progress:
            outcome = build.run(request, engine, progress)
    _table_console().print(summary_table(outcome))
    if not outcome.ok:
        console.print(failures(outcome))
    summary, append = _summary_target(args.summary)
    write_summary(outcome, summary, append=append)
    console.print(f"summary: {summary}")
    return EXIT_OK if outcome.ok else EXIT_FAILED


def _skopeo(engine: Engine) -> signature.Skopeo:
    """skopeo checking a pull through the pull's own registry login (an ECR login lives only in the engine's)."""
    return signature.Skopeo(docker_config=engine.docker_config)


def _stack_image(
    args: argparse.Namespace, say: Callable[[str], None], skopeo: signature.Skopeo
) -> tuple[str | None, signature.Verifier]:
    """The image a stack's clanker runs (--from-stack, --outputs), None without them or for an offline plan; and
    what a pull is verified with (--public-key, else the stack's `signing` output)."""
    if args.from_stack is None and args.outputs is None:
        return None, signature.verifier(args.public_key, None, "the command line", skopeo)
    try:
        outputs = (
            stack_outputs.from_file(args.outputs)
            if args.outputs
            else stack_outputs.from_stack(args.from_stack, say, project_dir=build.REPO_ROOT)
        )
        verify = signature.verifier(args.public_key, outputs.document.get("signing"), outputs.source, skopeo)
        if outputs.placeholder:
            say(f"{outputs.source}: its digests are placeholders, so this checkout's image is ensured instead")
            return None, verify
        return ensure.stack_image(outputs, args.harness, args.clanker), verify
    except stack_outputs.OutputsError as bad:
        raise ensure.EnsureFailed(str(bad), ensure.EXIT_UNAVAILABLE) from None
    except signature.VerifierFailed as bad:
        raise ensure.EnsureFailed(str(bad), EXIT_USAGE) from None


def _ensure_source(
    args: argparse.Namespace,
    aws: ecr.Aws,
    connect: Callable[..., ecr.EcrConnection],
    say: Callable[[str], None],
    skopeo: signature.Skopeo,
) -> tuple[str | None, ensure.RegistrySource | None, signature.Verifier]:
    """The exact image to pull (from a stack) if any, the registry to pull from, and what verifies a pull."""
    image, verify = _stack_image(args, say, skopeo)
    if image is None:
        registry = None if args.offline else _registry_source(_registry_or_default(args.registry), connect)
        return None, registry, verify
    located = ecr.stack_target(aws, image)
    if located is None:
        return image, Registry.parse(image.split("/", 1)[0]), verify
    target, image = located
    return image, connect(target=target), verify


def run_ensure(args: argparse.Namespace, engine: Engine, aws: ecr.Aws) -> int:
    with ExitStack() as scope:
        return _ensure(args, engine, aws, scope)


def _ensure(args: argparse.Namespace, engine: Engine, aws: ecr.Aws, scope: ExitStack) -> int:
    console = _progress_console()
    connect = _connector(args, engine, aws, scope, args.pull_timeout, console)
    image, registry, verify = _ensure_source(
        args, aws, connect, lambda text: console.print(text, markup=False), _skopeo(engine)
    )
    request = ensure.EnsureRequest(
        harness=args.harness,
        environment=args.env,
        version=args.version,
        registry=registry,
        image=image,
        alias_tag=args.alias_tag,
        offline=args.offline,
        rebuild=args.rebuild,
        answer_timeout=args.answer_timeout,
        pull_timeout=args.pull_timeout,
        verify=verify,
    )
    revision = current_revision()

    def rebuild() -> None:
        build_request = build.BuildRequest(
            harnesses=(args.harness,),
            revision=revision,
            alias_tag=args.alias_tag,
            ca_bundle=build.ca_bundle_from_environment(),
            build_args=build.parse_build_args(args.build_arg),
        )
        with LiveProgress(console, build_request.harnesses) as progress:
            outcome = build.run(build_request, engine, progress)
        for result in outcome.results:
            if not result.ok:
                raise ensure.EnsureFailed(f"rebuild failed: {result.error}\nfull log: {result.log}")

    result = ensure.ensure(request, engine, revision=revision, rebuild=rebuild, say=lambda text: console.print(text))
    origin = f"pulled from {result.pulled_from}" if result.pulled_from else result.source.value
    console.print(f"{result.reference} ready ({origin})")
    print(result.reference)
    return EXIT_OK


def run_run_job(args: argparse.Namespace, engine: Engine, aws: ecr.Aws) -> int:
    console = _progress_console()

    def say(text: str) -> None:
        console.print(text, markup=False)

    try:
        outputs = (
            stack_outputs.from_file(args.outputs)
            if args.outputs
            else stack_outputs.from_stack(args.stack, say, project_dir=build.REPO_ROOT)
        )
        request = run_job.JobRequest(
            clanker=args.clanker,
            deployment=outputs.clanker(args.clanker),
            job=run_job.load_job(args.job),
            placeholder=outputs.placeholder,
            local=args.local,
            fake_agent=args.fake_agent,
            network=args.network,
            verify=signature.verifier(
                args.public_key, outputs.document.get("signing"), outputs.source, _skopeo(engine)
            ),
        )
    except (stack_outputs.OutputsError, run_job.RunJobError, signature.VerifierFailed) as bad:
        print(f"error: {bad}", file=sys.stderr)
        return run_job.EXIT_USAGE
    result = run_job.run_job(request, engine, run_job.botocore_clients, say, aws)
    print(json.dumps(result, indent=2, sort_keys=True))
    return run_job.EXIT_SUCCEEDED if result["status"] == "succeeded" else run_job.EXIT_JOB_FAILED


def main(argv: Sequence[str] | None = None, *, aws: ecr.Aws | None = None) -> int:
    """`aws`: where AWS clients come from (tests hand in Stubber-backed ones); default botocore's session."""
    args = parser().parse_args(argv)
    engine = Engine()
    try:
        if args.command == "build":
            return run_build(args, engine, aws or ecr.Aws())
        if args.command == "run-job":
            return run_run_job(args, engine, aws or ecr.Aws())
        return run_ensure(args, engine, aws or ecr.Aws())
    except run_job.RunJobError as failed:
        print(f"error: {failed}", file=sys.stderr)
        return failed.exit_code
    except ensure.EnsureFailed as failed:
        print(f"error: {failed}", file=sys.stderr)
        return failed.exit_code
    except (build.BuildError, PlatformError, InvalidReference) as bad:
        print(f"error: {bad}", file=sys.stderr)
        return EXIT_USAGE
    except (EngineError, LockTimeout) as failed:
        print(f"error: {failed}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130
