"""One platform's docker-build Image arguments, built once, and the settings hash computed from those same arguments.

Why a hash: docker-build's Diff treats a change of any Image input (platforms, tags, cache, build args, labels,
builder, the context's hash, ...) as an update, and its Update re-runs Create, which pushes every tag again
(pulumi/pulumi-docker-build, provider/internal/image.go: Diff, Update); ECR refuses to move an immutable tag
(ImageTagAlreadyExistsException). The immutable tag carries the hash, so an update always pushes a tag that does
not exist yet.

Why from the arguments themselves: `docker_build.Image(name, args)` registers exactly `vars(args)` as its inputs
(pulumi_docker_build/image.py, `Image.__init__`: `_internal_init(resource_name, opts, **resource_args.__dict__)`),
so hashing `vars(args)` hashes every input the Image receives; an argument added to the build is hashed without
anyone listing it. Not hashed: the registry credentials (`HASH_EXEMPT`: a new ECR token every run, which the
provider's Diff ignores too) and the immutable tag, which is added after hashing because it carries the hash.
Hashed besides: the build context's digest, which the provider computes itself (its `contextHash` output,
provider/internal/context.go) and whose change is an update like any input's.

Does not own: which tags exist or the hash function (`workers.naming`: the tooling hashes its own builds with the
same one), or where the cache lives (components/build_cache.py).
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_docker_build as docker_build

from workers.naming import hash_of

HASH_EXEMPT: Mapping[str, str] = {
    "registries": "registry credentials: a new ECR token every run, which docker-build's Diff ignores as well",
}
"""ImageArgs fields the settings hash leaves out, each with the reason."""


@dataclass(frozen=True)
class PlatformBuild:
    """What one platform's Image is built from, besides the repository and its credentials."""

    context: str
    """Build context, relative to the project root so that state does not depend on a checkout's path."""
    dockerfile: str
    target: str
    platform: str
    build_args: Mapping[str, str]
    labels: Mapping[str, str]
    builder: str | None
    """A named BuildKit builder (components/config_model/stack.py, BuilderConfig, says which are accepted); None: the
    machine's default. Only set when named, so the default adds no input."""


def image_args(
    build: PlatformBuild,
    *,
    floating_tags: Sequence[pulumi.Input[str]],
    cache_from: Sequence[pulumi.Input[str]],
    cache_to: pulumi.Input[str],
    registry: docker_build.RegistryArgs,
) -> docker_build.ImageArgs:
    """The Image's arguments, with the floating tags only: the caller puts the tag carrying their hash first."""
    return docker_build.ImageArgs(
        context=docker_build.BuildContextArgs(location=build.context),
        dockerfile=docker_build.DockerfileArgs(location=build.dockerfile),
        target=build.target,
        platforms=[docker_build.Platform(build.platform)],
        builder=docker_build.BuilderConfigArgs(name=build.builder) if build.builder is not None else None,
        build_args=dict(build.build_args),
        labels=dict(build.labels),
        tags=list(floating_tags),
        push=True,
        # Previews must stay fast and credential-light: the digest is unknown until `up`.
        build_on_preview=False,
        registries=[registry],
        cache_from=[
            docker_build.CacheFromArgs(registry=docker_build.CacheFromRegistryArgs(ref=ref)) for ref in cache_from
        ],
        cache_to=[
            docker_build.CacheToArgs(
                registry=docker_build.CacheToRegistryArgs(
                    ref=cache_to,
                    mode=docker_build.CacheMode.MAX,
                    # ECR accepts the cache only as an image manifest with OCI media types.
                    image_manifest=True,
                    oci_media_types=True,
                )
            )
        ],
    )


def settings_hash(args: docker_build.ImageArgs, context_digest: str) -> pulumi.Output[str]:
    """The hash of every argument of `args` but `HASH_EXEMPT`, and of the context's digest."""
    arguments = {name: value for name, value in vars(args).items() if name not in HASH_EXEMPT and value is not None}
    return pulumi.Output.from_input({"arguments": _resolvable(arguments), "contextDigest": context_digest}).apply(
        hash_of
    )


def _resolvable(value: Any) -> Any:
    """Args objects as dicts of their set fields and enums as their values, so that `Output.from_input` resolves
    the Outputs inside (a cache reference names the repository's URL) and JSON can order the rest."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {key: _resolvable(item) for key, item in value.items() if item is not None}
    if isinstance(value, list | tuple):
        return [_resolvable(item) for item in value]
    if hasattr(value, "__dict__") and not isinstance(value, pulumi.Output):
        return _resolvable(vars(value))
    return value
