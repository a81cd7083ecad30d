"""`ensure`: make the local alias of a harness's image exist on the local engine, or say how to build it.

Order: the local alias (`viberator-worker-<harness>:local`) if present; otherwise a pull of the version this
checkout expects from the registry, tagged as the alias; otherwise a failure that lists what was tried and
the command that builds the image locally. The whole run holds a per-alias lock, so two runs for the same
harness take turns and the second finds what the first pulled. Running it again changes nothing.

A present alias is also checked: a different revision label than the build context's current revision
makes it stale (reported; rebuilt with `rebuild=True`), and a job contract this checkout cannot talk to
makes it refused. A pulled image is checked before it is tagged, so a refused image never becomes the alias.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from workers.catalog import harness as catalog_harness
from workers.naming import LOCAL_ALIAS_TAG
from workers.revision import BuildRevision
from workers.tooling.contract import REVISION_LABEL, check_contract
from workers.tooling.engine import ImageInfo, PullError, ServerInfo
from workers.tooling.lock import exclusive
from workers.tooling.references import DEFAULT_ENVIRONMENT, Registry, alias_reference, version_tag

REGISTRY_ENV_VAR = "VIBERATOR_REGISTRY"


class ImageStore(Protocol):
    """What `ensure` needs from an engine (`workers.tooling.engine.Engine` is the real one)."""

    def server(self) -> ServerInfo: ...
    def inspect(self, reference: str) -> ImageInfo | None: ...
    def pull(self, reference: str, *, silence_timeout: float, timeout: float) -> None: ...
    def tag(self, source: str, target: str) -> None: ...


class Source(Enum):
    LOCAL = "local"
    PULLED = "pulled"
    BUILT = "built"


@dataclass(frozen=True)
class EnsureRequest:
    harness: str
    environment: str = DEFAULT_ENVIRONMENT
    """Whose tags to pull: `<environment>-<revision>` or `<environment>-latest`."""
    version: str | None = None
    """None: this checkout's revision; `dev`: the floating tag; else a revision (see `version_tag`)."""
    registry: Registry | None = None
    """None: no pull is attempted (and the failure message says no registry was configured)."""
    alias_tag: str = LOCAL_ALIAS_TAG
    offline: bool = False
    """Never contact a registry, even when the alias is missing."""
    rebuild: bool = False
    """Build from the build context when the alias is stale or refused, instead of only saying so."""
    answer_timeout: float = 8.0
    """Seconds the registry may take to answer a pull at all: keeps an unreachable one under 10 s."""
    pull_timeout: float = 1800.0
    """Seconds a pull that has started may take: the big multi-agent image on a slow link."""

    @property
    def lock_timeout(self) -> float:
        # The longest the holder can legitimately take is one answered pull.
        return self.answer_timeout + self.pull_timeout + 30.0


@dataclass(frozen=True)
class EnsureResult:
    reference: str
    """The alias, now present locally: what `docker run` should name."""
    source: Source
    pulled_from: str | None = None
    warnings: tuple[str, ...] = ()


@dataclass
class EnsureFailed(Exception):
    message: str
    exit_code: int = 1

    def __str__(self) -> str:
        return self.message


EXIT_UNAVAILABLE = 1
EXIT_REFUSED = 3


def build_commands(harness: str, alias_tag: str = LOCAL_ALIAS_TAG) -> tuple[str, str]:
    """The make target and the direct CLI call that build `harness` locally and tag its alias."""
    if alias_tag == LOCAL_ALIAS_TAG:
        return f"make image HARNESS={harness}", f"python -m workers build {harness}"
    return (
        f"make image HARNESS={harness} ALIAS_TAG={alias_tag}",
        f"python -m workers build {harness} --alias-tag {alias_tag}",
    )


def _build_hint(harness: str, alias_tag: str) -> str:
    make, direct = build_commands(harness, alias_tag)
    return f"build it locally with:\n  {make}\n(or: uv run {direct})"


def nowhere_message(request: EnsureRequest, alias: str, tried: list[str], revision: BuildRevision) -> str:
    lines = [f"no image for harness {request.harness!r}; tried:"]
    lines += [f"  - {attempt}" for attempt in tried]
    if revision.note:
        lines.append(f"note: {revision.note}")
    lines.append(_build_hint(request.harness, request.alias_tag))
    if request.version not in (None, revision.revision):
        lines.append(f"(a local build is of this checkout's revision {revision.revision})")
    return "\n".join(lines)


def stale_message(alias: str, image_revision: str | None, revision: BuildRevision, request: EnsureRequest) -> str:
    built_from = f"revision {image_revision}" if image_revision else f"an image without a {REVISION_LABEL} label"
    make, _ = build_commands(request.harness, request.alias_tag)
    return (
        f"{alias} is stale: it was built from {built_from}, the build context is now at {revision.revision}; "
        f"using it anyway (rebuild: python -m workers ensure {request.harness} --rebuild, or {make})"
    )


def refused_message(reference: str, reason: str, request: EnsureRequest) -> str:
    hint = _build_hint(request.harness, request.alias_tag)
    return f"refusing {reference}: {reason}.\nAn image built from this checkout speaks its contract; {hint}"


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def _registry_attempt(request: EnsureRequest) -> str | None:
    """Why no registry is tried, or None when one is."""
    if request.offline:
        return "registry: not contacted (--offline)"
    if request.registry is None:
        return f"registry: none configured (--registry or ${REGISTRY_ENV_VAR})"
    return None


def ensure(
    request: EnsureRequest,
    engine: ImageStore,
    *,
    revision: BuildRevision,
    rebuild: Callable[[], None],
    say: Callable[[str], None],
) -> EnsureResult:
    """Make `request`'s alias present locally (see the module docstring); EnsureFailed says why not.

    `revision` is the build context's current revision; `rebuild` builds the harness and tags the alias.
    """
    catalog_harness(request.harness)
    alias = alias_reference(request.harness, request.alias_tag)
    tag = version_tag(request.environment, request.version, revision.revision)
    engine.server()
    with exclusive(alias, timeout=request.lock_timeout):
        local = engine.inspect(alias)
        if local is not None:
            return _use_local(request, engine, alias, local, revision, rebuild, say)
        tried = [f"local alias {alias}: not present"]
        skipped = _registry_attempt(request)
        if skipped is not None:
            tried.append(skipped)
            raise EnsureFailed(nowhere_message(request, alias, tried, revision), EXIT_UNAVAILABLE)
        assert request.registry is not None
        remote = request.registry.reference(request.harness, tag)
        say(f"{alias} not present; pulling {remote}")
        try:
            engine.pull(remote, silence_timeout=request.answer_timeout, timeout=request.pull_timeout)
        except PullError as failed:
            tried.append(f"{remote}: {failed.kind.value} ({_last_line(failed.detail) or 'no output'})")
            raise EnsureFailed(nowhere_message(request, alias, tried, revision), EXIT_UNAVAILABLE) from None
        pulled = engine.inspect(remote)
        if pulled is None:
            raise EnsureFailed(f"{remote} was pulled but the engine does not list it", EXIT_UNAVAILABLE)
        contract = check_contract(pulled.labels)
        if not contract.compatible:
            raise EnsureFailed(refused_message(remote, contract.reason, request), EXIT_REFUSED)
        engine.tag(remote, alias)
        warnings: tuple[str, ...] = ()
        pulled_revision = pulled.labels.get(REVISION_LABEL)
        if pulled_revision != revision.revision:
            # Expected for `--version dev` or an older revision: worth a line, not a failure.
            warnings = (f"{remote} was built from revision {pulled_revision}; this checkout is at {revision.revision}",)
            say(f"note: {warnings[0]}")
        return EnsureResult(alias, Source.PULLED, pulled_from=remote, warnings=warnings)


def _use_local(
    request: EnsureRequest,
    engine: ImageStore,
    alias: str,
    local: ImageInfo,
    revision: BuildRevision,
    rebuild: Callable[[], None],
    say: Callable[[str], None],
) -> EnsureResult:
    contract = check_contract(local.labels)
    image_revision = local.labels.get(REVISION_LABEL)
    stale = image_revision != revision.revision
    if request.rebuild and (stale or not contract.compatible):
        why = "stale" if contract.compatible else "refused"
        say(f"{alias} is {why}; rebuilding it from {revision.revision}")
        rebuild()
        built = engine.inspect(alias)
        if built is None:
            raise EnsureFailed(f"the rebuild did not tag {alias}", EXIT_UNAVAILABLE)
        rebuilt_contract = check_contract(built.labels)
        if not rebuilt_contract.compatible:
            raise EnsureFailed(refused_message(alias, rebuilt_contract.reason, request), EXIT_REFUSED)
        return EnsureResult(alias, Source.BUILT)
    if not contract.compatible:
        raise EnsureFailed(refused_message(alias, contract.reason, request), EXIT_REFUSED)
    if stale:
        warning = stale_message(alias, image_revision, revision, request)
        say(f"warning: {warning}")
        return EnsureResult(alias, Source.LOCAL, warnings=(warning,))
    return EnsureResult(alias, Source.LOCAL)
