"""`build`: build harness images from the shared build context, tag them as the Pulumi program would, push.

One harness is one target of `workers/image/Dockerfile`. A build is tagged by the program's rule
(`<env>-<revision>-<settings hash>`, `<env>-latest`: `plan.py`) under the bare repository name (what the local
engine keeps), plus the local alias `ensure` looks for; with `--push` the same tags under the registry are pushed
as well. Several platforms build one image per platform, push each under its own immutable tag (`…-<arch>`) and
join them in a manifest list per tag, because the 20.10 engine's image store holds one platform per tag and a
manifest list only exists in a registry.

Harnesses build one after another: on a two-core machine parallel builds only interleave their logs.
What a build is before it runs (the request, each harness's tags and references, the `docker build` options)
is `plan.py`; this module runs it on the engine. Its names are this package's API.
"""

from __future__ import annotations

import dataclasses
import re
import socket
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from workers.catalog import PROJECT_DIR
from workers.labels import BASE_BUILD_ARGS, BASES_LABEL, OFFICIAL_BASES, OFFLINE_BASES
from workers.tooling.build.plan import (
    ALL,
    CA_BUNDLE_ENV_VAR,
    CA_SECRET_ID,
    OUTPUT_DIR,
    BuildError,
    BuildRequest,
    HarnessPlan,
    PushChecks,
    build_options,
    ca_bundle_from_environment,
    own_tag,
    parse_build_args,
    plan,
    release_bases_refusal,
    select_harnesses,
)
from workers.tooling.engine import Engine, ImageInfo, ServerInfo
from workers.tooling.platforms import EMULATION_HELP, Platform, missing_emulation
from workers.tooling.process import EngineError


@dataclass(frozen=True)
class BuildResult:
    harness: str
    image: str
    """The first reference: the registry's immutable tag when pushed, else the local one."""
    tags: tuple[str, ...]
    seconds: float
    digest: str | None = None
    """The pushed manifest (or manifest-list) digest; None for a local-only build."""
    image_id: str | None = None
    sizes: tuple[tuple[str, int], ...] = ()
    """(platform, bytes) of each image built."""
    log: Path | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Progress(Protocol):
    """What a build reports while it runs; `workers.tooling.report` draws it."""

    def phase(self, harness: str, text: str) -> None: ...
    def line(self, harness: str, text: str) -> None: ...
    def finished(self, result: BuildResult) -> None: ...


_STEP = re.compile(r"^#\d+ \[(?P<where>[^\]]+)\] (?P<what>.*)$")


def step_summary(line: str) -> str | None:
    """`[kimi 3/7] RUN npm install …` from a BuildKit plain-progress line, or None for other lines."""
    match = _STEP.match(line)
    return f"[{match['where']}] {match['what']}" if match else None


def preflight(request: BuildRequest, engine: Engine) -> ServerInfo:
    """Check the engine answers and can run every requested platform's build steps."""
    server = engine.server()
    # /proc only describes the engine's kernel when the engine runs on this machine (not in a VM or
    # on a remote host, which bring their own emulation).
    if request.platforms and engine.host_name() == socket.gethostname():
        problems = missing_emulation(request.platforms, server.architecture)
        if problems:
            raise BuildError("\n".join([*problems, EMULATION_HELP]))
    return server


ENGINE_SCRIPT = PROJECT_DIR / ".ci" / "docker-engine.sh"


def with_offline_bases(request: BuildRequest) -> BuildRequest:
    """An `offline` request with the stand-in bases' build args: `.ci/docker-engine.sh offline-bases` makes them
    (for every requested platform, minutes and root the first time) and names them on stdout. Called only after
    `preflight`, so nothing is installed or made for a build that cannot run."""
    if request.bases != OFFLINE_BASES or {name for name, _ in request.build_args} & set(BASE_BUILD_ARGS):
        return request
    platforms = ",".join(str(platform) for platform in request.platforms)
    command = [str(ENGINE_SCRIPT), "offline-bases", *([platforms] if platforms else [])]
    # The script's progress goes to stderr, which stays the user's; its one stdout line is the build args.
    completed = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=False)
    if completed.returncode != 0:
        raise BuildError(f"{' '.join(command)} failed (exit {completed.returncode}); its messages are above")
    return dataclasses.replace(request, build_args=(*request.build_args, *parse_build_args([completed.stdout])))


def _refuse_unreleasable(request: BuildRequest, reference: str, info: ImageInfo) -> None:
    """Whoever built the image, only its own label decides whether it may leave this machine."""
    if request.registry is None or request.registry.is_loopback:
        return
    bases = info.labels.get(BASES_LABEL)
    if bases != OFFICIAL_BASES:
        raise EngineError(
            f"{reference} is labelled {BASES_LABEL}={bases or '(none)'}", release_bases_refusal(request.registry)
        )


def _log_writer(path: Path) -> tuple[Callable[[str], None], Callable[[], None]]:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("w", encoding="utf-8")

    def write(line: str) -> None:
        handle.write(line + "\n")

    return write, handle.close


def build_harness(request: BuildRequest, engine: Engine, plan: HarnessPlan, progress: Progress) -> BuildResult:
    started = time.monotonic()
    log_path = request.log_dir / f"{plan.harness}.log"
    write_log, close_log = _log_writer(log_path)

    def on_line(line: str) -> None:
        write_log(line)
        step = step_summary(line)
        if step:
            progress.line(plan.harness, step)

    try:
        if request.multi_platform:
            digest, image_id, sizes = _build_manifest_list(request, engine, plan, progress, on_line)
        else:
            digest, image_id, sizes = _build_single(request, engine, plan, progress, on_line)
        result = BuildResult(
            plan.harness,
            plan.image,
            plan.tags,
            time.monotonic() - started,
            digest=digest,
            image_id=image_id,
            sizes=sizes,
            log=log_path,
        )
    except EngineError as failed:
        write_log(f"error: {failed}")
        result = BuildResult(
            plan.harness, plan.image, plan.tags, time.monotonic() - started, log=log_path, error=str(failed)
        )
    finally:
        close_log()
    progress.finished(result)
    return result


def _build_single(
    request: BuildRequest,
    engine: Engine,
    plan: HarnessPlan,
    progress: Progress,
    on_line: Callable[[str], None],
) -> tuple[str | None, str, tuple[tuple[str, int], ...]]:
    platform = request.platforms[0] if request.platforms else None
    progress.phase(plan.harness, "building")
    references = (*plan.local_references, *plan.registry_references)
    engine.build(
        build_options(request, plan.harness, platform, references),
        request.context,
        on_line=on_line,
        timeout=request.timeout,
    )
    info = engine.inspect(references[0])
    if info is None:
        raise EngineError(f"the build finished but {references[0]} is not on the engine")
    sizes = ((info.platform, info.size),)
    if plan.registry_references:
        _refuse_unreleasable(request, references[0], info)
    held = _held(request, plan.harness, plan.registry_references, info.id)
    if held is not None:
        assert request.push_checks is not None
        progress.phase(plan.harness, f"{plan.registry_references[0]} already holds this image")
        request.push_checks.point(plan.harness, [_tag_of(r) for r in plan.registry_references], held)
        return held, info.id, sizes
    digests = set()
    for reference in plan.registry_references:
        progress.phase(plan.harness, f"pushing {reference}")
        digests.add(engine.push(reference, timeout=request.timeout, on_line=on_line))
    if len(digests) > 1:
        raise EngineError("the pushed tags resolved to different digests", ", ".join(sorted(digests)))
    return (digests.pop() if digests else None), info.id, sizes


def _tag_of(reference: str) -> str:
    return reference.rsplit(":", 1)[1]


def _held(request: BuildRequest, harness: str, references: Sequence[str], image_id: str) -> str | None:
    """The digest the registry already holds this image at (see PushChecks.held); None: push."""
    if request.push_checks is None or not references:
        return None
    return request.push_checks.held(harness, [_tag_of(reference) for reference in references], image_id)


def _build_manifest_list(
    request: BuildRequest,
    engine: Engine,
    plan: HarnessPlan,
    progress: Progress,
    on_line: Callable[[str], None],
) -> tuple[str | None, str | None, tuple[tuple[str, int], ...]]:
    assert request.registry is not None
    platform_images = []
    sizes = []
    for platform, reference in plan.platform_references:
        progress.phase(plan.harness, f"building {platform}")
        engine.build(
            build_options(request, plan.harness, platform, (reference,)),
            request.context,
            on_line=on_line,
            timeout=request.timeout,
        )
        info = engine.inspect(reference)
        if info is None:
            raise EngineError(f"the build finished but {reference} is not on the engine")
        sizes.append((str(platform), info.size))
        _refuse_unreleasable(request, reference, info)
        if _held(request, plan.harness, (reference,), info.id) is None:
            progress.phase(plan.harness, f"pushing {platform}")
            engine.push(reference, timeout=request.timeout, on_line=on_line)
        platform_images.append(reference)
    digests = set()
    for reference in plan.registry_references:
        progress.phase(plan.harness, f"manifest list {reference}")
        digests.add(
            engine.push_manifest_list(
                reference, platform_images, insecure=request.registry.is_loopback, timeout=request.timeout
            )
        )
    if len(digests) > 1:
        raise EngineError("the manifest lists resolved to different digests", ", ".join(sorted(digests)))
    return digests.pop(), None, tuple(sizes)


@dataclass
class BuildRun:
    request: BuildRequest
    results: list[BuildResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.results)


def native_platform(engine: Engine) -> Platform:
    """The engine's platform: what a build without --platform makes, and hashes into its tag."""
    server = engine.server()
    return Platform(server.os, server.architecture)


def run(request: BuildRequest, engine: Engine, progress: Progress) -> BuildRun:
    """Build every requested harness in turn; a failed harness is recorded and the others still build."""
    outcome = BuildRun(request)
    for harness_plan in plan(request, native_platform(engine)):
        outcome.results.append(build_harness(request, engine, harness_plan, progress))
    return outcome


__all__ = [
    "ALL",
    "CA_BUNDLE_ENV_VAR",
    "CA_SECRET_ID",
    "OUTPUT_DIR",
    "BuildError",
    "BuildRequest",
    "BuildResult",
    "BuildRun",
    "HarnessPlan",
    "Progress",
    "PushChecks",
    "build_harness",
    "build_options",
    "ca_bundle_from_environment",
    "native_platform",
    "own_tag",
    "parse_build_args",
    "plan",
    "preflight",
    "release_bases_refusal",
    "run",
    "select_harnesses",
    "step_summary",
    "with_offline_bases",
]
