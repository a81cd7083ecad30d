"""What a build is before it runs: the request (harnesses, environment, platforms, registry, build args, the CA
bundle), the tags and references each harness gets, and the `docker build` options for one harness and platform.
Nothing here talks to the engine (workers/tooling/build/__init__.py runs the builds).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from workers.catalog import BUILD_CONTEXT, DOCKERFILE, HARNESS_NAMES
from workers.catalog import harness as catalog_harness
from workers.labels import BASE_BUILD_ARGS, BASES, OFFICIAL_BASES, OFFLINE_BASES, build_labels
from workers.naming import LOCAL_ALIAS_TAG, image_reference, image_tags, repository_name
from workers.revision import BuildRevision
from workers.tooling.platforms import Platform
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
