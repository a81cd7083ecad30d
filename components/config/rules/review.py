"""Rules over review stacks: only a review stack takes a review stack's name, it leaves nothing behind when it
is destroyed, and nothing else depends on it."""

from __future__ import annotations

from collections.abc import Iterator

from components.config_model.issues import ConfigIssue
from components.config_model.parsed_stack import ParsedStack
from components.config_model.stack import REVIEW_ENVIRONMENT


def review_names_are_reserved(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    if config.review is None and REVIEW_ENVIRONMENT.match(config.environment):
        yield parsed.issue(
            "environment",
            "pr-<number> names a pull request's review stack, which the daily sweep destroys: set "
            "viberator:review (stacks/review.yaml), or choose another name",
        )


def review_stack_is_named_after_its_pull_request(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    if config.review is not None and config.environment != f"pr-{config.review.pull_request}":
        yield parsed.issue(
            "environment",
            f"a review stack's environment is pr-<viberator:review.pullRequest>: pr-{config.review.pull_request}",
        )


def review_stack_is_unprotected(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    if parsed.config.review is not None and parsed.config.protect:
        yield parsed.issue(
            "protect",
            "a review stack is destroyed when its pull request closes: nothing in it is protected",
        )


def review_images_serve_no_one_else(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    if config.review is None or not config.builds_images:
        return
    for _, key in parsed.settings_set(("shared_environments", "consumer_accounts", "replicas")):
        yield parsed.issue(
            key,
            "a review stack's images live and die with it: no other stack, account or region may run them",
        )


def review_repositories_die_with_it(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    if config.review is None or not config.builds_images:
        return
    if config.repositories == "existing":
        yield parsed.issue(
            "repositories",
            "a review stack pushes into repositories of its own, which its destroy deletes with their "
            "images; another stack's repositories would keep them",
        )
    elif not config.force_delete:
        yield parsed.issue(
            "forceDelete",
            "a review stack that builds images sets forceDelete: true, or `pulumi destroy` fails on "
            "repositories that still hold them",
        )
