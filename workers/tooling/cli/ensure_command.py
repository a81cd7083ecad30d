"""`python -m workers ensure`: which image to make present (this checkout's, or the exact one a stack's clanker
runs), the registry to pull it from, what verifies the pull, and the rebuild `--rebuild` runs; the rules are
`workers.tooling.ensure`'s.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from contextlib import ExitStack

from workers.catalog import PROJECT_DIR
from workers.tooling import build, ecr, ensure, signature, stack_outputs
from workers.tooling.cli.common import (
    EXIT_OK,
    EXIT_USAGE,
    ecr_connector,
    engine_skopeo,
    progress_console,
    registry_or_default,
    registry_source,
)
from workers.tooling.engine import Engine
from workers.tooling.references import current_revision
from workers.tooling.report import LiveProgress


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
            else stack_outputs.from_stack(args.from_stack, say, project_dir=PROJECT_DIR)
        )
        verify = signature.verifier(args.public_key, outputs.document.signing, outputs.source, skopeo)
        if outputs.placeholder:
            say(f"{outputs.source}: its digests are placeholders, so this checkout's image is ensured instead")
            return None, verify
        return ensure.stack_image(outputs, args.harness, args.clanker), verify
    except stack_outputs.OutputsUnusable as bad:
        raise ensure.EnsureFailed(str(bad), EXIT_USAGE) from None
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
        registry = None if args.offline else registry_source(registry_or_default(args.registry), connect)
        return None, registry, verify
    located = ecr.stack_target(aws, image)
    # The contract takes only ECR's references for a clanker's image (viberator_contract.base `RunnableImage`).
    assert located is not None, f"{image} is not in ECR"
    target, image = located
    return image, connect(target=target), verify


def run_ensure(args: argparse.Namespace, engine: Engine, aws: ecr.Aws) -> int:
    with ExitStack() as scope:
        return _ensure(args, engine, aws, scope)


def _ensure(args: argparse.Namespace, engine: Engine, aws: ecr.Aws, scope: ExitStack) -> int:
    console = progress_console()
    connect = ecr_connector(args, engine, aws, scope, args.pull_timeout, console)
    image, registry, verify = _ensure_source(
        args, aws, connect, lambda text: console.print(text, markup=False), engine_skopeo(engine)
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
        bases=args.bases,
        build_args=build.parse_build_args(args.build_arg),
    )
    revision = current_revision()

    def rebuild() -> None:
        own = dataclasses.replace(request.build_request(revision), ca_bundle=build.ca_bundle_from_environment())
        build_request = build.with_offline_bases(own)
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
