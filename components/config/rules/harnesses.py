"""Rules over which harnesses a stack builds or takes, and the tags it builds them under."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator

from components.config_model.issues import ConfigIssue
from components.config_model.parsed_stack import ParsedStack
from workers import catalog
from workers.catalog import HARNESS_NAMES, HARNESSES
from workers.dockerfile_stages import DockerfileError, stages
from workers.naming import MUTABLE_TAG_PATTERNS, revision_tag


def harnesses_are_known(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    for i, name in enumerate(parsed.config.harnesses):
        if name not in HARNESS_NAMES:
            yield parsed.issue(("harnesses", i), f"unknown harness; known: {', '.join(HARNESS_NAMES)}")


def harnesses_are_listed_once(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    harnesses = parsed.config.harnesses
    if len(set(harnesses)) != len(harnesses):
        yield parsed.issue("harnesses", "lists a harness twice")


def built_harnesses_have_a_dockerfile_stage(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    """A harness is its Dockerfile's target of the same name: without that stage the plan would pass and
    `pulumi up` fail at the build (docs/add-a-harness.md lists every place a harness needs)."""
    config = parsed.config
    built = [(i, name) for i, name in enumerate(config.harnesses) if name in HARNESS_NAMES]
    if not config.builds_images or not built:
        return
    dockerfile = catalog.DOCKERFILE
    checkout = catalog.PROJECT_DIR
    shown = dockerfile.relative_to(checkout) if dockerfile.is_relative_to(checkout) else dockerfile
    try:
        names = stages(dockerfile)
    except DockerfileError as unreadable:
        yield parsed.issue("harnesses", f"cannot read the stages: {unreadable}")
        return
    for i, name in built:
        target = HARNESSES[name].dockerfile_target
        if target not in names:
            yield parsed.issue(
                ("harnesses", i),
                f"{shown} has no stage `FROM … AS {target}` to build harness {name} from; add it "
                "(docs/add-a-harness.md; `make harness-check HARNESS=" + name + "` lists every place a harness needs)",
            )


def harness_platforms_are_of_built_harnesses(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    for harness, platforms in parsed.config.harness_platforms.items():
        key = ("harnessPlatforms", harness)
        if harness not in parsed.config.harnesses:
            yield parsed.issue(
                key,
                f"names a harness this stack does not build: add {harness} to viberator:harnesses, or remove "
                "this entry",
            )
        elif isinstance(platforms, list) and (not platforms or len(set(platforms)) != len(platforms)):
            yield parsed.issue(key, "lists no platform, or one twice")


def taken_harnesses_are_known(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    images = parsed.config.images
    if images is None:
        return
    for i, name in enumerate(images.harnesses or []):
        if name not in HARNESS_NAMES:
            yield parsed.issue(("images", "harnesses", i), "unknown harness")


def approved_digests_are_of_taken_harnesses(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    images = parsed.config.images
    if images is None:
        return
    for name in images.digests or {}:
        if name not in HARNESS_NAMES or name not in (images.harnesses or HARNESS_NAMES):
            yield parsed.issue(
                ("images", "digests", name),
                "names a harness this stack does not take"
                if name in HARNESS_NAMES
                else f"unknown harness; known: {', '.join(HARNESS_NAMES)}",
            )


def image_revision_tag_is_immutable(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    if config.image_revision is None:
        return
    tag = revision_tag(config.environment, config.image_revision)
    if any(fnmatch.fnmatchcase(tag, pattern) for pattern in MUTABLE_TAG_PATTERNS):
        yield parsed.issue(
            "imageRevision",
            f"the tag {tag} would be one of the movable tags ({', '.join(MUTABLE_TAG_PATTERNS)}), "
            "never an immutable one",
        )
