"""Rules over who owns a stack's repositories and what protects them, and over settings the stack's mode would
never read (each is an error, never silently dropped)."""

from __future__ import annotations

from collections.abc import Iterator

from components.config_model.clankers import CloudClanker
from components.config_model.issues import ConfigIssue
from components.config_model.parsed_stack import ParsedStack
from components.targets import target_of

SERVES_OTHER_STACKS = "other stacks run this stack's images (sharedEnvironments, consumerAccounts)"

BUILD_SETTINGS = (
    "harnesses",
    "platform",
    "harness_platforms",
    "push_latest",
    "keep_images",
    "repositories",
    "shared_environments",
    "force_delete",
    "image_revision",
    "consumer_accounts",
    "replicas",
    "builder",
    "signing",
    "build_cache",
)
"""Settings of a stack that builds images and owns their repositories; a promoting stack reads none of them."""

OWNER_SETTINGS = ("keep_images", "force_delete", "consumer_accounts", "build_cache")
"""Settings of the repositories themselves (their lifecycle, deletion, registry policy, build cache), which the
stack that owns them reads; with `repositories: existing` another stack does (pushLatest, sharedEnvironments and
replicas have rules of their own below)."""


def force_delete_only_unprotected(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    if not config.force_delete:
        return
    if config.is_production or config.protect_resources:
        yield parsed.issue("forceDelete", "a production or protected stack never force-deletes repositories")
    elif config.serves_other_stacks:
        yield parsed.issue(
            "forceDelete",
            f"{SERVES_OTHER_STACKS}: deleting a repository with force deletes the digests their clankers "
            "pin; docs/add-a-harness.md 'Retiring a harness'",
        )


def serving_stack_stays_protected(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    if parsed.config.protect is False and parsed.config.serves_other_stacks:
        yield parsed.issue(
            "protect",
            f"{SERVES_OTHER_STACKS}, so its repositories stay protected; docs/add-a-harness.md 'Retiring a harness'",
        )


def protected_ecs_runs_in_a_private_network(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    has_ecs = any(target_of(clanker).runs_in_network for clanker in config.clankers)
    if not (has_ecs and config.protect_resources):
        return
    if config.network is None:
        yield parsed.issue(
            "network",
            "a protected stack's (viberator:protect, default in prod) ecs clankers run in a network it "
            "names (private subnets, assignPublicIp: false), never in whatever default VPC the account has",
        )
    elif config.network.assign_public_ip:
        yield parsed.issue(
            ("network", "assignPublicIp"),
            "a protected stack's ecs tasks run in private subnets without public IPs (egress via NAT)",
        )


def only_the_owner_sets_repository_settings(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    if not (config.builds_images and config.repositories == "existing"):
        return
    for _, key in parsed.settings_set(OWNER_SETTINGS):
        yield parsed.issue(
            key,
            "with repositories: existing another stack owns the repositories and sets this for them; "
            "this stack never reads it: remove it (set it in the owning stack)",
        )


def cloud_settings_need_cloud_clankers(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    """Log retention is of lambda and ecs clankers' log groups; `protect` also of the repositories this stack
    owns (a promoting stack's replica repositories are judged where they are known:
    components/promotion_replicas.py)."""
    config = parsed.config
    if any(isinstance(clanker, CloudClanker) for clanker in config.clankers) or parsed.declared_targets - {"docker"}:
        return
    if "log_retention_days" in config.model_fields_set:
        yield parsed.issue(
            "logRetentionDays",
            "only lambda and ecs clankers have log groups, and this stack has none: remove it",
        )
    owns_repositories = config.builds_images and config.repositories == "create"
    if config.protect is not None and config.builds_images and not owns_repositories:
        yield parsed.issue(
            "protect",
            "nothing here to protect: this stack owns no repositories (repositories: existing) and deploys "
            "no lambda or ecs clanker: remove it",
        )


def only_the_owner_pushes_latest(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    if parsed.config.repositories == "existing" and parsed.config.push_latest:
        yield parsed.issue(
            "pushLatest",
            "with repositories: existing the owning stack pushes `latest`; two stacks pushing it flip-flop the tag",
        )


def only_the_owner_shares_environments(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    if parsed.config.repositories == "existing" and parsed.config.shared_environments:
        yield parsed.issue(
            "sharedEnvironments",
            "only the stack that owns the repositories (repositories: create) sets their lifecycle",
        )


def promoting_stack_sets_no_build_setting(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    if config.images is None:
        return
    for name, key in parsed.settings_set(BUILD_SETTINGS):
        instead = (
            "list the harnesses to take in viberator:images.harnesses"
            if name == "harnesses"
            else f"the image stack {config.images.from_} sets it"
        )
        yield parsed.issue(
            key,
            "a promoting stack (viberator:images.from) builds no images and owns no "
            f"repositories, so it never reads this: remove it ({instead})",
        )


def build_cache_writer_is_of_the_stack_account(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    """The cache repositories' policy names a role of their own account (components/build_cache.py): a role of
    another account can never push there, and every build would run without a cache it may write."""
    cache, account = parsed.config.build_cache, parsed.account
    if cache is None or account is None or cache.writer_role.split(":")[4] == account:
        return
    yield parsed.issue(
        ("buildCache", "writerRole"),
        f"the build role must be a role of this stack's account ({account}, aws:allowedAccountIds)",
    )


def network_only_with_ecs(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    network = parsed.config.network
    if network is not None and "ecs" not in parsed.declared_targets:
        yield parsed.issue("network", "only ecs clankers run in a network, and this stack has none: remove it")


def shared_environments_are_others_once(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    seen: set[str] = set()
    for i, environment in enumerate(parsed.config.shared_environments):
        if environment == parsed.config.environment:
            message = "this stack's own environment, which its own lifecycle rule already keeps: remove it"
        elif environment in seen:
            message = "listed twice: each environment gets one lifecycle rule"
        else:
            seen.add(environment)
            continue
        yield parsed.issue(("sharedEnvironments", i), message)
