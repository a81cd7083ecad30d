"""What a build is before it runs: the request (harnesses, environment, platforms, registry, build args, the CA
bundle), the tags and references each harness gets, and the `docker build` options for one harness and platform.
Nothing here talks to the engine (workers/tooling/build/__init__.py runs the builds).

Tags follow the program's rule (`workers.naming.immutable_tag`): `<env>-<revision>-<settings hash>`, the hash
(`workers.naming.hash_of`, the program's function) taken over this build's own inputs (`build_settings`), so a
local build with any input changed gets a new immutable tag, as a deployed one does.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from workers.catalog import BUILD_CONTEXT, DOCKERFILE, HARNESS_NAMES, PROJECT_DIR
from workers.catalog import harness as catalog_harness
from workers.labels import BASE_BUILD_ARGS, BASES, OFFICIAL_BASES, OFFLINE_BASES, build_labels
from workers.naming import (
    LOCAL_ALIAS_TAG,
    floating_tags,
    hash_of,
    image_reference,
    immutable_tag,
    index_hash,
    repository_name,
)
from workers.revision import BuildRevision, context_digest
from workers.tooling.platforms import Platform
from workers.tooling.references import DEFAULT_ENVIRONMENT, Registry, alias_reference

CA_SECRET_ID = "ca"
"""The id under which the Dockerfile mounts the optional CA bundle (`--mount=type=secret,id=ca`)."""
CA_BUNDLE_ENV_VAR = "SSL_CERT_FILE"
"""A TLS-inspecting proxy's CA bundle; handed to the build as a secret, so it never lands in a layer."""

OUTPUT_DIR = PROJECT_DIR / "build" / "images"
"""Build logs and the Markdown summary (the repository ignores `/build/`)."""

ALL = "all"
_RESERVED_ARGS = ("SOURCE_DATE_EPOCH",)
"""Derived from the revision, so the build arg, the labels and the tags always agree."""
_BUILD_ARG = re.compile(r"(?P<name>[A-Za-z_][A-Za-z0-9_]*)=(?P<value>.*)", re.DOTALL)

HASH_EXEMPT_OPTIONS: Mapping[str, str] = {
    "--file": "a path in this checkout: the Dockerfile's bytes are hashed instead (`dockerfileDigest`)",
    "--secret": "the CA bundle: mounted for the steps that fetch, never in a layer, and its path is this machine's",
    "--tag": "the tags: the immutable one carries the hash",
}
"""`docker build` options the settings hash leaves out, each with the reason."""
HASH_EXEMPT_BUILD_ARGS: Mapping[str, str] = dict.fromkeys(
    BASE_BUILD_ARGS,
    "the stand-in bases' names, which `.ci/docker-engine.sh offline-bases` gives once a build has checked its "
    "arguments (so `ensure` cannot know them): the hashed bases label (`offline`) records that they replaced the "
    "official ones",
)
"""Build args whose values the settings hash leaves out, each with the reason."""


class BuildError(ValueError):
    """A build request that cannot be carried out as given; the message says what to change."""


def release_bases_refusal(registry: object) -> str:
    """Why a push of stand-in-based images to `registry` (off this machine) is refused, and the fix."""
    return (
        f"refusing to push to {registry}: these images start FROM the offline stand-in bases "
        f"(IMAGE_BASES={OFFLINE_BASES}, the default of `make image`; `--bases {OFFLINE_BASES}`), which are never a "
        "release: a registry off this machine only gets images built FROM the official bases. Build with "
        f"IMAGE_BASES=hub (`--bases {OFFICIAL_BASES}`; needs Docker Hub), or push to a loopback registry "
        "(REGISTRY=127.0.0.1:5000)"
    )


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
    bases: str = OFFICIAL_BASES
    """`official`, or `offline` with the stand-ins' build args (BASE_BUILD_ARGS) in `build_args`; labelled into
    every image (workers.labels.BASES_LABEL)."""

    def __post_init__(self) -> None:
        if not self.harnesses:
            raise BuildError("name at least one harness, or `all`")
        if self.push and self.registry is None:
            raise BuildError("--push needs --registry HOST[/PREFIX] or ecr (the default with AWS credentials)")
        if self.bases not in BASES:
            raise BuildError(f"bases {self.bases!r}: expected one of {', '.join(BASES)}")
        replaced = sorted({name for name, _ in self.build_args} & set(BASE_BUILD_ARGS))
        if replaced and self.bases == OFFICIAL_BASES:
            raise BuildError(
                f"build arg {', '.join(replaced)} replaces the official bases: pass --bases {OFFLINE_BASES} "
                f"(make: IMAGE_BASES={OFFLINE_BASES}) so the images are labelled for what they are"
            )
        if self.push and self.registry is not None and not self.registry.is_loopback and self.bases != OFFICIAL_BASES:
            raise BuildError(release_bases_refusal(self.registry))
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
    """Catalog order for `all` (or no names), else the given names (each may list several, space or comma separated:
    make's HARNESS passes through as one argument), each checked against the catalog."""
    names = [name for value in names for name in value.replace(",", " ").split()]
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
    platform_references: tuple[tuple[Platform, str], ...] = ()
    """For several platforms: each platform's pushed image, under its own immutable tag (`…-<arch>`)."""

    @property
    def image(self) -> str:
        return (self.registry_references or self.local_references)[0]


def build_settings(request: BuildRequest, harness: str, platform: Platform) -> dict[str, Any]:
    """What the settings hash of `harness`'s build for `platform` covers: its `docker build` options
    (`build_options`, the platform spelled out even where the flag is left to the engine) but
    HASH_EXEMPT_OPTIONS and HASH_EXEMPT_BUILD_ARGS' values, the Dockerfile's bytes and the build context's digest
    (`workers.revision.context_digest`, the program's). Taken from the options themselves, as the program hashes
    its Image's arguments: an option added to the build is hashed without anyone listing it."""
    options = build_options(request, harness, platform, ())
    hashed = [
        [flag, value]
        for flag, value in zip(options[::2], options[1::2], strict=True)
        if flag not in HASH_EXEMPT_OPTIONS
        and not (flag == "--build-arg" and value.split("=", 1)[0] in HASH_EXEMPT_BUILD_ARGS)
    ]
    return {
        "options": hashed,
        "dockerfileDigest": hashlib.sha256(request.dockerfile.read_bytes()).hexdigest(),
        "contextDigest": context_digest(request.context),
    }


def own_tag(request: BuildRequest, harness: str, native: Platform) -> str:
    """The immutable tag of `harness`'s single-platform build (`native`: the engine's platform, what a build
    without --platform makes): `<env>-<revision>-<settings hash>` (`workers.naming.immutable_tag`)."""
    platform = request.platforms[0] if request.platforms else native
    return immutable_tag(request.environment, request.revision.revision, _settings_hash(request, harness, platform))


def _settings_hash(request: BuildRequest, harness: str, platform: Platform) -> str:
    return hash_of(build_settings(request, harness, platform))


def plan(request: BuildRequest, native: Platform) -> list[HarnessPlan]:
    """Each harness's tags and references; `native` is the engine's platform (see `own_tag`)."""
    floating = tuple(floating_tags(request.environment, push_latest=request.push_latest))
    revision = request.revision.revision
    plans = []
    for name in request.harnesses:
        local: tuple[str, ...] = ()
        per_platform: tuple[tuple[Platform, str], ...] = ()
        if request.multi_platform:
            per_platform = tuple(
                (
                    platform,
                    immutable_tag(
                        request.environment, revision, _settings_hash(request, name, platform), str(platform)
                    ),
                )
                for platform in request.platforms
            )
            sources = [tag for _, tag in per_platform]
            tags = (immutable_tag(request.environment, revision, index_hash(sources, floating)), *floating)
            shown = tags
        else:
            tags = (own_tag(request, name, native), *floating)
            shown = (*tags, request.alias_tag)
            local = (
                *(image_reference(repository_name(name), tag) for tag in tags),
                alias_reference(name, request.alias_tag),
            )
        pushed: tuple[str, ...] = ()
        platform_references: tuple[tuple[Platform, str], ...] = ()
        if request.push and request.registry is not None:
            pushed = tuple(request.registry.reference(name, tag) for tag in tags)
            platform_references = tuple(
                (platform, request.registry.reference(name, tag)) for platform, tag in per_platform
            )
        plans.append(HarnessPlan(name, shown, local, pushed, platform_references))
    return plans


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
    for name, value in build_labels(harness, revision.revision, revision.source_date_epoch, request.bases).items():
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
