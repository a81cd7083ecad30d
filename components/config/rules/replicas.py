"""Rules over where an image stack's images are replicated: one registry-level configuration, owned once, in one
partition, each destination once (ECR refuses duplicates and destinations across partitions).

A promoting stack's replicas are reported as a build setting it never reads (repositories.py), not here.
"""

from __future__ import annotations

from collections.abc import Iterator

from components.config_model.issues import ConfigIssue
from components.config_model.parsed_stack import ParsedStack
from workers.ecr_url import partition_of_region


def only_the_owner_replicates(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    if config.replicas and config.builds_images and config.repositories == "existing":
        yield parsed.issue(
            "replicas",
            "ECR keeps one replication configuration per registry and region, and the stack that owns "
            "this account's repositories (repositories: create) owns it: a second owner's up would replace "
            "its rules; list the regions there",
        )


def replicas_are_other_registries_of_the_partition(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    """An `account` that is the stack's own is refused: the program would treat it as another account's registry
    (leaving its replica repositories to a promoting stack there). It is known only when `aws:allowedAccountIds`
    names exactly one account; unpinned (or with several), the stack may deploy anywhere and nothing offline can
    tell."""
    config = parsed.config
    if not config.builds_images or config.repositories == "existing":
        return
    partition = partition_of_region(config.region)
    seen: set[tuple[str, str | None]] = set()
    for i, replica in enumerate(config.replicas):
        if replica.account is not None and replica.account == parsed.account:
            yield parsed.issue(
                ("replicas", i, "account"),
                "this stack's own account (aws:allowedAccountIds): leave `account` out for this "
                "account's registry, whose replica repositories this stack creates",
            )
        elif replica.account is None and replica.region == config.region:
            yield parsed.issue(
                ("replicas", i, "region"),
                "this stack's own region, where its images already are: list other regions (or another account)",
            )
        elif partition_of_region(replica.region) != partition:
            yield parsed.issue(
                ("replicas", i, "region"),
                f"in partition {partition_of_region(replica.region)}, and this stack's region "
                f"{config.region} is in {partition}: ECR replicates only within a partition",
            )
        elif (replica.region, replica.account) in seen:
            yield parsed.issue(("replicas", i), "listed twice")
        seen.add((replica.region, replica.account))
