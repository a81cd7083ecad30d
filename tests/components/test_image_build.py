"""The settings hash is computed from the Image's own arguments: every ImageArgs field but the credentials moves it."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from functools import partial

import pulumi
import pulumi_docker_build as docker_build

from components.image_build import HASH_EXEMPT, PlatformBuild, image_args, settings_hash
from offline_plan.engine import run_program

IMAGE_ARGUMENTS = [name for name in inspect.signature(docker_build.ImageArgs.__init__).parameters if name != "__self__"]
"""Every argument docker-build's Image takes (pulumi_docker_build/image.py, ImageArgs)."""

BUILD = PlatformBuild(
    context="workers/image",
    dockerfile="workers/image/Dockerfile",
    target="claude",
    platform="linux/amd64",
    build_args={"SOURCE_DATE_EPOCH": "1700000000"},
    labels={"org.opencontainers.image.revision": "0123456789ab"},
    builder=None,
)


def base_args() -> docker_build.ImageArgs:
    return image_args(
        BUILD,
        floating_tags=["registry.example/viberator-worker-claude:dev-latest"],
        # An Output, as the repository's URL is: the hash waits for it.
        cache_from=[pulumi.Output.from_input("registry.example/cache:buildcache-amd64")],
        cache_to="registry.example/cache:buildcache-amd64",
        registry=docker_build.RegistryArgs(address="registry.example", username="AWS", password="token"),
    )


Variants = Callable[[], dict[str, tuple[docker_build.ImageArgs, str]]]


def hashes(variants: Variants) -> dict[str, str]:
    """Each variant's settings hash, resolved under the offline engine (the hash is an Output, and so is a cache
    reference: both exist only inside a program run)."""
    results: dict[str, str] = {}

    def program() -> None:
        for key, (args, context_digest) in variants().items():
            settings_hash(args, context_digest).apply(partial(results.__setitem__, key))

    run_program("dev", {"aws:region": "us-east-1"}, program=program)
    return results


def changed(field: str, value: object) -> docker_build.ImageArgs:
    args = copy.copy(base_args())
    pulumi.set(args, field, value)
    return args


def test_every_image_argument_but_the_credentials_is_hashed() -> None:
    def variants() -> dict[str, tuple[docker_build.ImageArgs, str]]:
        fields = {field: (changed(field, ["a value no build sets"]), "c0ffee") for field in IMAGE_ARGUMENTS}
        return {"baseline": (base_args(), "c0ffee"), "context": (base_args(), "decaf"), **fields}

    result = hashes(variants)
    unhashed = [field for field in IMAGE_ARGUMENTS if result[field] == result["baseline"]]
    assert unhashed == list(HASH_EXEMPT), "an Image argument the immutable tag's hash does not cover"
    assert result["context"] != result["baseline"], "the build context's digest is hashed too"


def test_the_exemptions_are_image_arguments_and_the_hash_is_stable() -> None:
    assert set(HASH_EXEMPT) <= set(IMAGE_ARGUMENTS)
    result = hashes(lambda: {"one": (base_args(), "c0ffee"), "two": (base_args(), "c0ffee")})
    assert result["one"] == result["two"]
