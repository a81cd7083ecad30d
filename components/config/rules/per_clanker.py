"""Rules over each clanker against the rest of the stack: unique names that fit AWS's limits under the
environment's prefix, an image of its agent that runs on it, and its variables and secrets as AWS takes them."""

from __future__ import annotations

from collections.abc import Iterator

from components.config_model.fields import (
    LAMBDA_FUNCTION_NAME_MAX,
    PLATFORM_OF_ARCHITECTURE,
)
from components.config_model.issues import ConfigIssue
from components.config_model.parsed_stack import ParsedStack
from components.targets import TARGETS, target_of
from workers.catalog import HARNESS_NAMES
from workers.ecr_url import partition_of_region
from workers.naming import clanker_resource_name


def clanker_names_are_unique(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    seen: dict[str, int] = {}
    for i, clanker in parsed.clankers():
        if clanker.name in seen:
            yield parsed.issue(("clankers", i, "name"), f"duplicate of clankers[{seen[clanker.name]}]")
        seen.setdefault(clanker.name, i)


def clanker_names_fit_physical_names(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    environment = parsed.config.environment
    name_limit = LAMBDA_FUNCTION_NAME_MAX - len(clanker_resource_name(environment, ""))
    for i, clanker in parsed.clankers():
        limit = target_of(clanker).name_limit
        if limit is not None and len(clanker.name) > limit.longest:
            yield parsed.issue(
                ("clankers", i, "name"),
                f"too long for an {clanker.target} clanker: {limit.why}, so at most {limit.longest}",
            )
        elif len(clanker.name) > name_limit:
            yield parsed.issue(
                ("clankers", i, "name"),
                f"too long: `{clanker_resource_name(environment, '<name>')}` must fit "
                f"{LAMBDA_FUNCTION_NAME_MAX} characters, so at most {name_limit}",
            )


def clanker_agents_have_an_image(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    available = parsed.available_harnesses
    for i, clanker in parsed.clankers():
        if clanker.agent not in HARNESS_NAMES:
            yield parsed.issue(("clankers", i, "agent"), f"unknown agent; known: {', '.join(HARNESS_NAMES)}")
        elif clanker.agent not in available:
            yield parsed.issue(
                ("clankers", i, "agent"),
                "this stack has no image for it: add it to viberator:harnesses"
                + (" (or to viberator:images.harnesses)" if config.images is not None else ""),
            )
        elif clanker.image == "floating" and not config.builds_images:
            yield parsed.issue(
                ("clankers", i, "image"),
                "a promoting stack (viberator:images.from) runs the promoted digests; "
                "floating tags name whatever the image stack pushed last",
            )


def built_images_run_on_their_clankers(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    """Over the clankers whose agent this stack builds (the others are reported above)."""
    config = parsed.config
    if not config.builds_images:
        return
    for i, clanker in parsed.clankers():
        if clanker.agent not in HARNESS_NAMES or clanker.agent not in config.harnesses:
            continue
        built_for = config.platforms_of(clanker.agent)
        if clanker.architecture is not None and PLATFORM_OF_ARCHITECTURE[clanker.architecture] not in built_for:
            yield parsed.issue(
                ("clankers", i, "architecture"),
                f"no platform of the {clanker.agent} image runs it (built for "
                f"{', '.join(built_for)}): add {PLATFORM_OF_ARCHITECTURE[clanker.architecture]} to "
                f"viberator:harnessPlatforms.{clanker.agent}, or set the clanker's architecture to match",
            )
        elif not target_of(clanker).runs_image_index and clanker.image == "floating" and len(built_for) > 1:
            yield parsed.issue(
                ("clankers", i, "image"),
                f"the {clanker.agent} image is built for {', '.join(built_for)}, so its floating "
                "tag names an image index, which Lambda does not run: pin the clanker's image",
            )


def variables_are_set_once(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    for i, clanker in parsed.cloud_clankers():
        for variable in sorted(set(clanker.environment) & set(clanker.secrets)):
            yield parsed.issue(
                ("clankers", i, "environment", variable),
                f"{variable} set in both environment and secrets: keep only the secret",
            )


def each_target_s_own_rules(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    """The rules a target keeps over its own clankers (components/targets/: Lambda's 4 KB environment, ...)."""
    for target in TARGETS:
        for rule in target.rules:
            yield from rule(parsed)


def secrets_are_in_the_stack_partition(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    partition = partition_of_region(parsed.config.region)
    for key, arn in parsed.secrets():
        arn_partition = arn.split(":")[1]
        if arn_partition != partition:
            yield parsed.issue(
                key,
                f"partition {arn_partition}, but this stack's region {parsed.config.region} is in "
                f"{partition}: a role there can't read it",
            )
