"""The argument parser of `python -m workers` (build, ensure, run-job) and the argument types it checks with."""

from __future__ import annotations

import argparse
from pathlib import Path

from workers.catalog import HARNESS_NAMES
from workers.labels import BASES, OFFICIAL_BASES, OFFLINE_BASES
from workers.naming import LOCAL_ALIAS_TAG
from workers.tooling import build, ecr, ensure, run_job
from workers.tooling.cli.build_command import GITHUB_SUMMARY_ENV_VAR
from workers.tooling.cli.common import registry_choice
from workers.tooling.references import DEFAULT_ENVIRONMENT, FLOATING_VERSION, InvalidReference, check_tag

BUILD_DESCRIPTION = (
    "Build harness images from workers/image/Dockerfile, tagged <env>-<revision>-<settings hash> (the Pulumi "
    "program's rule: the hash covers the build's own inputs), <env>-latest and the local alias; with --push, push "
    "the same tags to --registry (several --platform values: a manifest list, each platform's image -<arch>)."
)
ENSURE_DESCRIPTION = (
    "Make viberator-worker-<harness>:<alias-tag> present on the local engine: the local alias if present "
    "(warning when stale), else pull <registry>/viberator-worker-<harness>:<version tag> and tag it as the "
    "alias, else fail naming what was tried and the command that builds it. Prints the reference on stdout."
)


PUBLIC_KEY_HELP = (
    "PEM public key a pulled digest must be signed by (default: the stack outputs' `signing.publicKey`); "
    "an unsigned or wrongly signed digest is refused (exit 3)"
)


def _tag(value: str) -> str:
    try:
        return check_tag(value)
    except InvalidReference as bad:
        raise argparse.ArgumentTypeError(str(bad)) from None


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
        help=f"environment whose tags to use: <env>-<revision>-<hash>, <env>-latest (default {DEFAULT_ENVIRONMENT})",
    )
    common.add_argument(
        "--registry",
        type=registry_choice,
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
        help="extra build arg for (re)builds, repeatable (the base images' are --bases's)",
    )
    common.add_argument(
        "--bases",
        choices=BASES,
        default=OFFICIAL_BASES,
        help=f"base images of (re)builds: {OFFICIAL_BASES} (the Dockerfile's pinned official images; needs Docker "
        f"Hub) or {OFFLINE_BASES} (local stand-ins `.ci/docker-engine.sh offline-bases` makes; never pushed off "
        f"this machine). Labelled into the image (default {OFFICIAL_BASES})",
    )

    b = commands.add_parser(
        "build", parents=[common], help="build (and push) harness images", description=BUILD_DESCRIPTION
    )
    b.add_argument(
        "harnesses",
        nargs="*",
        metavar="HARNESS",
        help=f"{harness_list}, or all (default all); each may name several, space or comma separated",
    )
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
        help=(
            "<revision>-<hash> to pull, an immutable tag without its <env>- as build prints it (default: the tag "
            f"this checkout's own build with these --bases and --build-arg gives); {FLOATING_VERSION!r} pulls "
            "<env>-latest"
        ),
    )
    e.add_argument("--offline", action="store_true", help="never contact a registry")
    e.add_argument("--rebuild", action="store_true", help="rebuild a stale or refused local alias")
    answer, pull = ensure.EnsureRequest.answer_timeout, ensure.EnsureRequest.pull_timeout
    e.add_argument(
        "--answer-timeout",
        type=float,
        default=answer,
        help=f"seconds the registry may take to answer (default {answer:g})",
    )
    e.add_argument("--pull-timeout", type=float, default=pull, help=f"seconds a pull may take (default {pull:g})")
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
    r.add_argument(
        "--network",
        choices=("bridge", "none", "host"),
        help="docker network of a docker clanker's container (default: its deploymentConfig's, bridge unless its "
        "config opts in to host; none with --fake-agent)",
    )
    r.add_argument("--public-key", type=Path, help=PUBLIC_KEY_HELP)
    return root
