"""`ensure`: make the local alias of a harness's image exist on the local engine, or say how to build it.

Order: the local alias (`viberator-worker-<harness>:local`) if present; otherwise a pull of the version this
checkout expects from the registry (the immutable tag its own build would give the image: the same environment,
bases and build args, the engine's platform), tagged as the alias; otherwise a failure that lists what was tried and
the command that builds the image locally. The whole run holds a per-alias lock, so two runs for the same
harness take turns and the second finds what the first pulled. Running it again changes nothing.

A present alias is also checked: a different revision label than the build context's current revision
makes it stale (reported; rebuilt with `rebuild=True`), and a job contract this checkout cannot talk to
makes it refused. A pulled image is checked before it is tagged, so a refused image never becomes the alias.

With an exact image (`ensure --from-stack`: the reference a stack's clanker runs) the alias is used only when
it is that image; otherwise that image is pulled and becomes the alias, so the laptop runs what the cloud runs.

A pulled image's digest must carry a valid signature by the image stack's key (`verify`,
workers/tooling/signature.py) before it becomes the alias: an unsigned or wrongly signed one is refused (exit 3)
and never tagged. An alias built on this machine has no registry digest, so there is nothing to verify: it is
used as it is, and the output says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from workers.catalog import harness as catalog_harness
from workers.labels import OFFICIAL_BASES, REVISION_LABEL
from workers.naming import LOCAL_ALIAS_TAG
from workers.revision import BuildRevision
from workers.tooling.build.plan import BuildRequest, own_tag
from workers.tooling.contract import check_contract
from workers.tooling.engine import ImageInfo, PullError, ServerInfo
from workers.tooling.lock import exclusive
from workers.tooling.platforms import Platform
from workers.tooling.references import DEFAULT_ENVIRONMENT, Registry, alias_reference, version_tag
from workers.tooling.signature import VerifierFailed, pinned, verify_digest
from workers.tooling.stack_outputs import LoadedOutputs

REGISTRY_ENV_VAR = "VIBERATOR_REGISTRY"


class RegistrySource(Protocol):
    """A registry known up front (`Registry`) or found on first use (`workers.tooling.ecr.EcrConnection`), so a
    present alias never waits on AWS."""

    def resolve(self) -> Registry | None:
        """The registry to pull from; None when there turns out to be none (no AWS credentials for ECR)."""
        ...


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
    """Whose tags to pull: `<environment>-<revision>-<hash>` or `<environment>-latest`."""
    version: str | None = None
    """None: this checkout's own build; `dev`: the floating tag; else `<revision>-<hash>` (see `version_tag`)."""
    registry: RegistrySource | None = None
    """None: no pull is attempted (and the failure message says no registry was configured)."""
    image: str | None = None
    """An exact reference to pull instead of the version's tag (`--from-stack`), on `registry`'s host."""
    alias_tag: str = LOCAL_ALIAS_TAG
    offline: bool = False
    """Never contact a registry, even when the alias is missing."""
    rebuild: bool = False
    """Build from the build context when the alias is stale or refused, instead of only saying so."""
    answer_timeout: float = 8.0
    """Seconds the registry may take to answer a pull at all: keeps an unreachable one under 10 s."""
    pull_timeout: float = 1800.0
    """Seconds a pull that has started may take: the big multi-agent image on a slow link."""
    verify: Callable[[str], None] | None = None
    """Checks a pulled `<repository>@sha256:…` (`signature.Verifier`): raises SignatureRefused or VerifierFailed.
    None: nothing is pulled that needs checking (callers that never pull)."""
    bases: str = OFFICIAL_BASES
    """The bases this checkout's build starts FROM (`--bases`): the build a rebuild makes and a pull names."""
    build_args: tuple[tuple[str, str], ...] = ()
    """Its extra build args (`--build-arg`), likewise."""

    def build_request(self, revision: BuildRevision) -> BuildRequest:
        """This checkout's build of the harness: what `rebuild` makes, whose immutable tag a pull without a
        version names (`workers.tooling.build.plan.own_tag`)."""
        return BuildRequest(
            harnesses=(self.harness,),
            revision=revision,
            environment=self.environment,
            alias_tag=self.alias_tag,
            build_args=self.build_args,
            bases=self.bases,
        )

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


def stack_image(outputs: LoadedOutputs, harness: str, clanker: str | None = None) -> str:
    """The image reference a stack's clanker of `harness` runs: `repo@sha256:…`, or `repo:<env>-latest` for a
    floating one. `clanker` picks one when several clankers run different images of the harness."""
    if clanker is not None:
        chosen = {clanker: outputs.clanker(clanker)}
        if (runs := chosen[clanker].runs_harness) != harness:
            raise EnsureFailed(f"clanker {clanker!r} of {outputs.source} runs {runs}, not {harness}")
    else:
        chosen = {name: entry for name, entry in outputs.document.clankers.items() if entry.runs_harness == harness}
    images = {name: entry.image for name, entry in chosen.items()}
    if not images:
        raise EnsureFailed(f"no clanker of {outputs.source} runs {harness}{outputs.skipped()}")
    if len(set(images.values())) > 1:
        listed = ", ".join(f"{name} ({image})" for name, image in sorted(images.items()))
        raise EnsureFailed(
            f"clankers of {outputs.source} run different {harness} images: {listed}; pick one with --clanker"
        )
    return next(iter(images.values()))


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


def _refuse_incompatible(request: EnsureRequest, reference: str, image: ImageInfo) -> None:
    """EnsureFailed (exit 3) when `image` speaks a job contract this checkout cannot talk to."""
    contract = check_contract(image.labels)
    if not contract.compatible:
        raise EnsureFailed(refused_message(reference, contract.reason, request), EXIT_REFUSED)


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def _registry(request: EnsureRequest) -> tuple[Registry | None, str]:
    """The registry to pull from, or None and why none is tried."""
    if request.offline:
        return None, "registry: not contacted (--offline)"
    registry = request.registry.resolve() if request.registry is not None else None
    return registry, f"registry: none configured (--registry, ${REGISTRY_ENV_VAR}, or AWS credentials for ECR)"


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
    run = _Run(request, engine, alias_reference(request.harness, request.alias_tag), revision, rebuild, say)
    # Checked before any engine call; this checkout's own tag only once a pull needs it.
    version = version_tag(request.environment, request.version) if request.version is not None else None
    server = engine.server()
    with exclusive(run.alias, timeout=request.lock_timeout):
        local = engine.inspect(run.alias)
        if local is not None and (request.image is None or request.image in local.repo_digests):
            return run.use_local(local)
        why = "not the stack's image" if local is not None else "not present"
        tried = [f"local alias {run.alias}: {why}"]
        registry, skipped = _registry(request)
        if registry is None:
            raise run.unavailable([*tried, skipped])
        native = Platform(server.os, server.architecture)
        remote = request.image or registry.reference(
            request.harness, version or own_tag(request.build_request(revision), request.harness, native)
        )
        say(f"{run.alias} {why}; pulling {remote}")
        return run.pull(remote, tried)


@dataclass(frozen=True)
class _Run:
    """One `ensure` of one alias: what each of its steps reads."""

    request: EnsureRequest
    engine: ImageStore
    alias: str
    """The local alias the run makes present (checked when the run is made, before any engine call)."""
    revision: BuildRevision
    """The build context's current revision."""
    rebuild: Callable[[], None]
    say: Callable[[str], None]

    def unavailable(self, tried: list[str]) -> EnsureFailed:
        return EnsureFailed(nowhere_message(self.request, self.alias, tried, self.revision), EXIT_UNAVAILABLE)

    def use_local(self, local: ImageInfo) -> EnsureResult:
        contract = check_contract(local.labels)
        image_revision = local.labels.get(REVISION_LABEL)
        stale = image_revision != self.revision.revision
        if self.request.rebuild and (stale or not contract.compatible):
            why = "stale" if contract.compatible else "refused"
            self.say(f"{self.alias} is {why}; rebuilding it from {self.revision.revision}")
            self.rebuild()
            built = self.engine.inspect(self.alias)
            if built is None:
                raise EnsureFailed(f"the rebuild did not tag {self.alias}", EXIT_UNAVAILABLE)
            _refuse_incompatible(self.request, self.alias, built)
            return EnsureResult(self.alias, Source.BUILT)
        _refuse_incompatible(self.request, self.alias, local)
        warnings: tuple[str, ...] = ()
        if stale:
            warnings = (stale_message(self.alias, image_revision, self.revision, self.request),)
            self.say(f"warning: {warnings[0]}")
        if not local.repo_digests:
            self.say(f"{self.alias} was built on this machine (no registry digest): not signature-checked")
        return EnsureResult(self.alias, Source.LOCAL, warnings=warnings)

    def pull(self, remote: str, tried: list[str]) -> EnsureResult:
        """Pull `remote`, check it (job contract, signature) and only then tag it as the alias."""
        request = self.request
        try:
            self.engine.pull(remote, silence_timeout=request.answer_timeout, timeout=request.pull_timeout)
        except PullError as failed:
            raise self.unavailable(
                [*tried, f"{remote}: {failed.kind.value} ({_last_line(failed.detail) or 'no output'})"]
            ) from None
        pulled = self.engine.inspect(remote)
        if pulled is None:
            raise EnsureFailed(f"{remote} was pulled but the engine does not list it", EXIT_UNAVAILABLE)
        _refuse_incompatible(request, remote, pulled)
        self._verify(remote, pulled)
        self.engine.tag(remote, self.alias)
        warnings: tuple[str, ...] = ()
        pulled_revision = pulled.labels.get(REVISION_LABEL)
        if pulled_revision != self.revision.revision:
            # Expected for `--version dev` or an older revision: worth a line, not a failure.
            warnings = (
                f"{remote} was built from revision {pulled_revision}; this checkout is at {self.revision.revision}",
            )
            self.say(f"note: {warnings[0]}")
        return EnsureResult(self.alias, Source.PULLED, pulled_from=remote, warnings=warnings)

    def _verify(self, remote: str, pulled: ImageInfo) -> None:
        verify = self.request.verify
        if verify is None:
            raise EnsureFailed(f"refusing {remote}: no signature verifier was configured for a pull", EXIT_REFUSED)
        try:
            digest = pinned(remote, pulled.repo_digests)
        except VerifierFailed as failed:
            raise EnsureFailed(str(failed), EXIT_UNAVAILABLE) from None
        verify_digest(verify, digest, self.say, EnsureFailed, refused=EXIT_REFUSED, unavailable=EXIT_UNAVAILABLE)
