"""`python -m workers build`: the build request from the arguments, the push's registry and checks, the live
progress, the summary table and the Markdown summary; the building itself is `workers.tooling.build`'s.
"""

from __future__ import annotations

import argparse
import os
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console

from workers.labels import OFFICIAL_BASES
from workers.revision import BuildRevision, override_revision
from workers.tooling import build, ecr
from workers.tooling.cli.common import (
    EXIT_FAILED,
    EXIT_OK,
    ecr_connector,
    progress_console,
    registry_or_default,
    registry_source,
)
from workers.tooling.engine import Engine
from workers.tooling.platforms import parse_platforms
from workers.tooling.references import Registry, current_revision
from workers.tooling.report import LiveProgress, failures, summary_table, write_summary

GITHUB_SUMMARY_ENV_VAR = "GITHUB_STEP_SUMMARY"


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
        bases=args.bases,
        timeout=args.timeout,
    )


def _refuse_release_of_stand_ins(args: argparse.Namespace) -> None:
    """A push of stand-in-based images to a registry given by host off this machine, refused before anything
    runs. ECR's host is known once resolved (STS and the login, no build yet): BuildRequest refuses it then."""
    choice = registry_or_default(args.registry)
    if args.push and args.bases != OFFICIAL_BASES and isinstance(choice, Registry) and not choice.is_loopback:
        raise build.BuildError(build.release_bases_refusal(choice))


def _summary_target(explicit: Path | None) -> tuple[Path, bool]:
    github_value = os.environ.get(GITHUB_SUMMARY_ENV_VAR)
    github = Path(github_value) if github_value else None
    path = explicit or github or build.OUTPUT_DIR / "summary.md"
    # The step summary file collects every step's section, so it is appended to, never replaced.
    return path, path == github


def run_build(args: argparse.Namespace, engine: Engine, aws: ecr.Aws) -> int:
    console = progress_console()
    revision = override_revision(args.revision) if args.revision else current_revision()
    _refuse_release_of_stand_ins(args)
    with ExitStack() as scope:
        registry, guard = None, None
        if args.push:
            connect = ecr_connector(args, engine, aws, scope, args.timeout, console)
            source = registry_source(registry_or_default(args.registry), connect)
            registry = source.resolve()
            guard = source.guard if isinstance(source, ecr.EcrConnection) else None
        request = _build_request(args, revision, registry, guard)
        if guard is not None:
            guard.check_repositories(request.harnesses)  # before a build of minutes, not after
        if revision.note:
            console.print(f"note: {revision.note}")
        build.preflight(request, engine)  # the arguments are checked; now the engine, before anything is made
        request = build.with_offline_bases(request)
        with LiveProgress(console, request.harnesses) as progress:
            outcome = build.run(request, engine, progress)
    _table_console().print(summary_table(outcome))
    if not outcome.ok:
        console.print(failures(outcome))
    summary, append = _summary_target(args.summary)
    write_summary(outcome, summary, append=append)
    console.print(f"summary: {summary}")
    return EXIT_OK if outcome.ok else EXIT_FAILED
