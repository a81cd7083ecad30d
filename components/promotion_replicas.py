"""A promoted image's copies: which one a promoting stack's clankers run, and the replica repositories the stack
creates when the image stack replicates into its own account from another.

Regions: Lambda runs a container image only from an ECR repository in the function's own region (Lambda
Developer Guide, "Create a Lambda function using a container image"), while ECS can pull across regions at
the price of inter-region transfer on every task start. So a stack in another region than its image stack runs
the image stack's replica in its own region (its `replicas` output, `viberator:replicas` there): same digest,
since replication copies the manifest unchanged, and a repository URL and ARN of its own region. Without a
replica a Lambda clanker is a config error and an ECS clanker a warning (components/promotion.py).

A replica in this stack's own account, replicated from another account's image stack, is this stack's to
create (ReplicaRegistry, components/replication.py): the registry policy letting the image stack's account
replicate, and the replica repositories with the image stack's settings (its `lifecycle` output). Its clankers
pin those repositories, so they wait for them.

Does not own the checks of what the image stack exports, nor reading its outputs (components/promotion.py).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from pydantic import TypeAdapter, ValidationError

from components.config import NAMESPACE, ConfigError, ConfigIssue, StackConfig
from components.config_model.clankers import CloudClanker
from components.harness_image import PlatformImage
from components.images import ImageRef
from components.replication import ReplicaRegistry, ReplicaRegistryArgs
from components.repository import RepositorySettings, manifests_per_build
from viberator_contract import Image, Lifecycle, Manifest, Replica
from viberator_contract.errors import field_errors
from workers.ecr_url import RepositoryUrl, parse_repository_url, registry_host

_REPLICAS: TypeAdapter[list[Replica]] = TypeAdapter(list[Replica])


def replicas_of(exported: Any) -> list[Replica]:
    """An image stack's `replicas` output (raises ValidationError). Image stacks older than replication export
    none: nothing is replicated."""
    return _REPLICAS.validate_python(exported or [])


def ecr_url(repository_url: str) -> RepositoryUrl:
    """An exported repository URL, parsed."""
    parsed = parse_repository_url(repository_url)
    assert parsed is not None  # guaranteed by the field pattern
    return parsed


def repository_url_in(source_url: str, replicas: Sequence[Replica], region: str, account: str) -> str | None:
    """The URL of the copy of a repository in `region`: the source itself when it is there, else a replica there
    (this account's first: no cross-account pull), else None. The digest is the same in every copy."""
    if ecr_url(source_url).region == region:
        return source_url
    here = sorted((r for r in replicas if r.region == region), key=lambda r: r.registry_id != account)
    if not here:
        return None
    return f"{registry_host(here[0].registry_id, region)}/{ecr_url(source_url).name}"


def in_copy(manifest: Manifest, source_url: str, url: str) -> PlatformImage:
    """A manifest of the repository at `source_url` as its copy at `url` holds it: replication copies every
    manifest unchanged (so its digest) with its tags, so only the repository differs."""
    return PlatformImage(
        digest=manifest.digest,
        image_uri=manifest.image_uri if url == source_url else f"{url}@{manifest.digest}",
        tags=[url + tag.removeprefix(source_url) for tag in manifest.tags],
    )


def _nothing_replicated_here(config: StackConfig) -> None:
    """The settings only this account's replica repositories would read, refused where there are none (the image
    stack replicates nothing into this account and region from another): set, they would change nothing."""
    assert config.images is not None
    unread: list[tuple[str, Any, str]] = []
    if "replica_repositories" in config.images.model_fields_set:
        unread.append(("images.replicaRepositories", config.images.replica_repositories, "remove it"))
    if config.protect is not None and not any(isinstance(c, CloudClanker) for c in config.clankers):
        unread.append(("protect", config.protect, "this stack deploys no lambda or ecs clanker either: remove it"))
    if unread:
        raise ConfigError(
            [
                ConfigIssue(
                    path=f"{NAMESPACE}:{key}",
                    value=value,
                    message=f"the image stack {config.images.from_} replicates nothing into this account in "
                    f"{config.region} from another account, so there are no replica repositories here; {fix}",
                )
                for key, value, fix in unread
            ]
        )


def replica_registry_args(
    config: StackConfig,
    exported: Any,
    replicas: Any,
    lifecycle: Any,
    account: str,
    partition: pulumi.Input[str],
    resource_tags: Mapping[str, str],
) -> ReplicaRegistryArgs | None:
    """What this stack creates in its own registry for the promoted images the image stack replicates into it
    from another account (None: none is, or `images.replicaRepositories: existing` says another stack owns
    them). Called after `promoted_images` has checked the outputs."""
    assert config.images is not None
    source = config.images.from_
    replica_list = replicas_of(replicas)
    entries = {harness: Image.model_validate(exported[harness]) for harness in config.images.harnesses or exported}
    ours: dict[str, str] = {}
    for harness, entry in entries.items():
        # Where `promoted_images` points the clankers: the copy in this region, this account's first.
        url = repository_url_in(entry.repository_url, replica_list, config.region, account)
        if url is not None and ecr_url(url).account == account != ecr_url(entry.repository_url).account:
            ours[harness] = entry.repository_name
    if not ours:
        _nothing_replicated_here(config)
        return None
    if config.images.replica_repositories == "existing":
        return None
    try:
        rules = Lifecycle.model_validate(lifecycle)
    except ValidationError as error:
        problem = (
            "exports no lifecycle"
            if lifecycle is None
            else f"its lifecycle output is malformed: {'; '.join(field_errors(error))}"
        )
        raise ConfigError(
            [
                ConfigIssue(
                    path=f"{NAMESPACE}:images.from",
                    value=source,
                    message=f"it replicates into this account's registry in {config.region}, whose replica "
                    f"repositories must keep its lifecycle rules, and {problem}: `pulumi up` the image stack first",
                )
            ]
        ) from None
    return ReplicaRegistryArgs(
        source_account=ecr_url(entries[next(iter(ours))].repository_url).account,
        repositories=ours,
        settings=RepositorySettings(
            lifecycle_environments=tuple(rules.environments),
            keep_images=rules.keep_images,
            protect=config.protect_resources,
            partition=partition,
        ),
        manifests_per_build={harness: manifests_per_build(len(entries[harness].every_platform())) for harness in ours},
        resource_tags=resource_tags,
    )


def pulled_through_registry(images: Mapping[str, ImageRef], side: ReplicaRegistryArgs) -> dict[str, ImageRef]:
    """Create this account's side of the replication (`replica_registry_args`) and point each image it holds at
    its replica repository here."""
    registry = ReplicaRegistry("replica-registry", side)
    return {
        harness: _pulled_from(image, registry.ready[harness]) if harness in registry.ready else image
        for harness, image in images.items()
    }


def _pulled_from(image: ImageRef, ready_url: pulumi.Output[str]) -> ImageRef:
    """The image as this stack's clankers pull it from a replica repository it creates: every location known
    once that repository is ready, so each clanker that takes one is created after it."""

    def after(value: Any) -> pulumi.Output[Any]:
        return ready_url.apply(lambda _: value)

    def ready(manifest: PlatformImage) -> PlatformImage:
        return dataclasses.replace(manifest, image_uri=after(manifest.image_uri), tags=after(manifest.tags))

    return dataclasses.replace(
        image,
        repository_url=ready_url,
        repository_arn=after(image.repository_arn),
        platforms={platform: ready(manifest) for platform, manifest in image.platforms.items()},
        index=ready(image.index) if image.index is not None else None,
    )
