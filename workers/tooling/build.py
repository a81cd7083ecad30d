"""`build`: build harness images from the shared build context, tag them as the Pulumi program would, push.

One harness is one target of `workers/image/Dockerfile`. A build is tagged with `workers.naming.image_tags`
under the bare repository name (what the local engine keeps), plus the local alias `ensure` looks for; with
`--push` the same tags under the registry are pushed as well. Several platforms build one image per platform,
push each under a platform-suffixed tag and join them in a manifest list per tag, because the 20.10 engine's
image store holds one platform per tag and a manifest list only exists in a registry.

Harnesses build one after another: on a two-core machine parallel builds only interleave their logs.
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from workers.catalog import BUILD_CONTEXT, DOCKERFILE, HARNESS_NAMES
from workers.catalog import harness as catalog_harness
from workers.labels import build_labels
from workers.naming import LOCAL_ALIAS_TAG, image_reference, image_tags, repository_name
from workers.revision import BuildRevision
from workers.tooling.engine import Engine, ServerInfo
from workers.tooling.platforms import EMULATION_HELP, Platform, missing_emulation
from workers.tooling.process import EngineError
from workers.tooling.references import DEFAULT_ENVIRONMENT, Registry, alias_reference

CA_SECRET_ID = "ca"
"""The id under which the Dockerfile mounts the optional CA bundle (`--mount=type=secret,id=ca`)."""
CA_BUNDLE_ENV_VAR = "SSL_CERT_FILE"
"""A TLS-inspecting proxy's CA bundle; handed to the build as a secret, so it never lands in a layer."""

REPO_ROOT = BUILD_CONTEXT.parents[1]
OUTPUT_DIR = REPO_ROOT / "build" / "images"
"""Build logs and the Markdown summary (the repository ignores `/build/`)."""

ALL = "all"
_RESERVED_ARGS = ("SOURCE_DATE_EPOCH",)
"""Derived from the revision, so the build arg, the labels and the tags always agree."""
_BUILD_ARG = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)", re.DOTALL)


class BuildError(ValueError):
    """A build request that cannot be carried out as given; the message says what to change."""


class PushChecks(Protocol):
    """What a registry checks around a push (`workers.tooling.ecr.PushGuard` for ECR)."""

    def held(self, harness: str, tags: Sequence[str], image_id: str) -> str | None:
        """The digest the registry holds image `image_id` at under the immutable `tags`; None when they are free
        to push. EngineError when one holds another image: it must not move."""
        ...

    def point(self, harness: str, tags: Sequence[str], digest: str) -> None:
        """Make the movable `tags` name the manifest `digest` the registry already holds."""
        ...


@dataclass(frozen=True)
class BuildRequest:
    harnesses: tuple[str, ...]
    revision: BuildRevision
    """Labelled into the image and used in its tags (`--revision` overrides the build context's)."""
    environment: str = DEFAULT_ENVIRONMENT
    platforms: tuple[Platform, ...] = ()
    """Empty: the engine's own platform, no `--platform` flag."""
    registry: Registry | None = None
    push: bool = False
    push_latest: bool = False
    """Also push the global `latest` tag, as a stack with `viberator:pushLatest` would."""
    alias_tag: str = LOCAL_ALIAS_TAG
    ca_bundle: Path | None = None
    build_args: tuple[tuple[str, str], ...] = ()
    """Extra `--build-arg`s, e.g. the offline base images (`NODE_BASE=…`) where Docker Hub is out of reach."""
    context: Path = BUILD_CONTEXT
    """The build context; only tests point it (and `dockerfile`) at a smaller one."""
    dockerfile: Path = DOCKERFILE
    timeout: float = 3600.0
    """Seconds each docker build or push may take; a cold multi-agent build is the longest."""
    log_dir: Path = OUTPUT_DIR / "logs"
    push_checks: PushChecks | None = None
    """The registry's checks before a push; None for a registry that has none to make (a plain one)."""

    def __post_init__(self) -> None:
        if not self.harnesses:
            raise BuildError("name at least one harness, or `all`")
        if self.push and self.registry is None:
            raise BuildError("--push needs --registry HOST[/PREFIX] or ecr (the default with AWS credentials)")
        reserved = {name for name, _ in self.build_args} & set(_RESERVED_ARGS)
        if reserved:
            raise BuildError(f"build arg {', '.join(sorted(reserved))} is set by the tool; use --revision")
        if len(self.platforms) > 1 and not self.push:
            raise BuildError(
                "several platforms make a manifest list, which only a registry can hold: "
                "add --push --registry HOST[/PREFIX], or build one platform at a time"
            )

    @property
    def multi_platform(self) -> bool:
        return len(self.platforms) > 1


def select_harnesses(names: list[str]) -> tuple[str, ...]:
    """Catalog order for `all` (or no names), else the given names, each checked against the catalog."""
    if not names or names == [ALL]:
        return HARNESS_NAMES
    if ALL in names:
        raise BuildError("`all` cannot be combined with harness names")
    for name in names:
        try:
            catalog_harness(name)
        except KeyError as unknown:
            raise BuildError(unknown.args[0]) from None
    return tuple(dict.fromkeys(names))


def parse_build_args(values: list[str]) -> tuple[tuple[str, str], ...]:
    """`NAME=VALUE` strings (each may hold several, space separated, as make passes them) → pairs."""
    pairs = []
    for word in (word for value in values for word in value.split()):
        match = _BUILD_ARG.fullmatch(word)
        if match is None:
            raise BuildError(f"build arg {word!r}: expected NAME=VALUE")
        pairs.append((match["name"], match["value"]))
    return tuple(pairs)


def ca_bundle_from_environment() -> Path | None:
    value = os.environ.get(CA_BUNDLE_ENV_VAR)
    if not value:
        return None
    path = Path(value)
    if not path.is_file():
        raise BuildError(f"${CA_BUNDLE_ENV_VAR} names {value}, which is not a file")
    return path


@dataclass(frozen=True)
class HarnessPlan:
    """What building one harness produces: its tags and every reference they appear under."""

    harness: str
    tags: tuple[str, ...]
    """Every tag the build gives the image, the local alias included when there is one."""
    local_references: tuple[str, ...]
    """Bare-name references the engine keeps, the alias last (single-platform builds only)."""
    registry_references: tuple[str, ...]
    """Pushed references (empty without --push); for several platforms, the manifest lists."""

    @property
    def image(self) -> str:
        return (self.registry_references or self.local_references)[0]


def plan(request: BuildRequest) -> list[HarnessPlan]:
    tags = tuple(image_tags(request.environment, request.revision.revision, push_latest=request.push_latest))
    plans = []
    for name in request.harnesses:
        local: tuple[str, ...] = ()
        shown = tags
        if not request.multi_platform:
            shown = (*tags, request.alias_tag)
            local = (
                *(image_reference(repository_name(name), tag) for tag in tags),
                alias_reference(name, request.alias_tag),
            )
        pushed: tuple[str, ...] = ()
        if request.push and request.registry is not None:
            pushed = tuple(request.registry.reference(name, tag) for tag in tags)
        plans.append(HarnessPlan(name, shown, local, pushed))
    return plans


def platform_reference(reference: str, platform: Platform) -> str:
    """The per-platform image behind one entry of a manifest list: `<reference>-<os>-<arch>`."""
    return f"{reference}-{platform.tag_suffix}"


def build_options(
    request: BuildRequest, harness: str, platform: Platform | None, references: tuple[str, ...]
) -> list[str]:
    """The `docker build` options for one harness and platform (the context path comes last, separately)."""
    revision = request.revision
    options = [
        "--file",
        str(request.dockerfile),
        "--target",
        catalog_harness(harness).dockerfile_target,
        # The engine here runs without a bridge network; host networking is also what reaches a proxy.
        "--network",
        "host",
        # BuildKit 0.11+ takes the image's timestamps from it, 0.8 does not; the label records it on either.
        "--build-arg",
        f"SOURCE_DATE_EPOCH={revision.source_date_epoch}",
    ]
    # The per-build labels, which the Dockerfile leaves to the build (the Pulumi program sets the same).
    for name, value in build_labels(harness, revision.revision, revision.source_date_epoch).items():
        options += ["--label", f"{name}={value}"]
    if platform is not None:
        options += ["--platform", str(platform)]
    for name, value in request.build_args:
        options += ["--build-arg", f"{name}={value}"]
    if request.ca_bundle is not None:
        options += ["--secret", f"id={CA_SECRET_ID},src={request.ca_bundle}"]
    for reference in references:
        options += ["--tag", reference]
    return options


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
    primary = plan.registry_references[0]
    platform_images = []
    sizes = []
    for platform in request.platforms:
        reference = platform_reference(primary, platform)
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


def run(request: BuildRequest, engine: Engine, progress: Progress) -> BuildRun:
    """Build every requested harness in turn; a failed harness is recorded and the others still build."""
    outcome = BuildRun(request)
    for harness_plan in plan(request):
        outcome.results.append(build_harness(request, engine, harness_plan, progress))
    return outcome
