"""Rules over review stacks: only a review stack takes a review stack's name, it leaves nothing behind when it
is destroyed, and nothing else depends on it."""

from __future__ import annotations

from collections.abc import Iterator

from components.config_model.issues import ConfigIssue
from components.config_model.parsed_stack import KEY, ParsedStack
from components.config_model.stack import REVIEW_ENVIRONMENT


def review_names_are_reserved(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    if config.review is None and REVIEW_ENVIRONMENT.match(config.environment):
        yield ConfigIssue(
            path=f"{KEY}environment",
            value=config.environment,
            message="pr-<number> names a pull request's review stack, which the daily sweep destroys: set "
            "viberator:review (stacks/review.yaml), or choose another name",
        )


def review_stack_is_named_after_its_pull_request(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    if config.review is not None and config.environment != f"pr-{config.review.pull_request}":
        yield ConfigIssue(
            path=f"{KEY}environment",
            value=config.environment,
            message=f"a review stack's environment is pr-<viberator:review.pullRequest>: "
            f"pr-{config.review.pull_request}",
        )


def review_stack_is_unprotected(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    if parsed.config.review is not None and parsed.config.protect:
        yield ConfigIssue(
            path=f"{KEY}protect",
            value=True,
            message="a review stack is destroyed when its pull request closes: nothing in it is protected",
        )


def review_images_serve_no_one_else(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    if config.review is None or not config.builds_images:
        return
    for _, path, value in parsed.settings_set(("shared_environments", "consumer_accounts", "replicas")):
        yield ConfigIssue(
            path=path,
            value=value,
            message="a review stack's images live and die with it: no other stack, account or region may run them",
        )


def review_repositories_die_with_it(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    if config.review is None or not config.builds_images:
        return
    if config.repositories == "existing":
        yield ConfigIssue(
            path=f"{KEY}repositories",
            value="existing",
            message="a review stack pushes into repositories of its own, which its destroy deletes with their "
            "images; another stack's repositories would keep them",
        )
    elif not config.force_delete:
        yield ConfigIssue(
            path=f"{KEY}forceDelete",
            value=False,
            message="a review stack that builds images sets forceDelete: true, or `pulumi destroy` fails on "
            "repositories that still hold them",
        )
