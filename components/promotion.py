"""Build once, promote: a stack that takes its images from another stack's `images` output.

With `viberator:images: {from: org/project/stack}` this stack creates no repositories and builds nothing; its
clankers pin exactly the digests the image stack built and tested. The referenced outputs are awaited and
checked before any clanker is registered, so a missing harness fails the run instead of half-deploying it.

Regions: Lambda runs a container image only from an ECR repository in the function's own region (Lambda
Developer Guide, "Create a Lambda function using a container image"), while ECS can pull across regions at
the price of inter-region transfer on every task start. So a stack in another region than its image stack runs
the image stack's replica in its own region (its `replicas` output, `viberator:replicas` there): same digest,
since replication copies the manifest unchanged, and a repository URL and ARN of its own region. Without a
replica a Lambda clanker is a config error and an ECS clanker a warning.

A replica in this stack's own account, replicated from another account's image stack, is this stack's to
create (ReplicaRegistry, components/replication.py): the registry policy letting the image stack's account
replicate, and the replica repositories with the image stack's settings (its `lifecycle` output). Its clankers
pin those repositories, so they wait for them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import TypeAdapter, ValidationError

from components.config import (
    ARCHITECTURE_OF_PLATFORM,
    NAMESPACE,
    ClankerBase,
    ConfigError,
    ConfigIssue,
    StackConfig,
)
from components.config_model.clankers import CloudClanker
from components.harness_image import PlatformImage
from components.images import ImageRef
from components.replication import ReplicaRegistry, ReplicaRegistryArgs
from components.repository import RepositorySettings, manifests_per_build
from components.signing import promoted_signing
from components.targets import target_of
from viberator_contract import Image, Lifecycle, Manifest, Replica, Signing
from viberator_contract.errors import field_errors
from workers.ecr_url import RepositoryUrl, parse_repository_url, registry_host

_REPLICAS: TypeAdapter[list[Replica]] = TypeAdapter(list[Replica])


def replicas_of(exported: Any) -> list[Replica]:
    """An image stack's `replicas` output (raises ValidationError). Image stacks older than replication export
    none: nothing is replicated."""
    return _REPLICAS.validate_python(exported or [])


def _malformed(source: str, output: str, error: ValidationError) -> list[ConfigIssue]:
    """Each field the image stack's `output` gets wrong, named by its path there, as an issue of `images.from`."""
    return [
        ConfigIssue(path=f"{NAMESPACE}:images.from", value=source, message=f"its {output} output is malformed: {line}")
        for line in field_errors(error)
    ]


def _url(repository_url: str) -> RepositoryUrl:
    parsed = parse_repository_url(repository_url)
    assert parsed is not None  # guaranteed by the field pattern
    return parsed


def repository_url_in(source_url: str, replicas: Sequence[Replica], region: str, account: str) -> str | None:
    """The URL of the copy of a repository in `region`: the source itself when it is there, else a replica there
    (this account's first: no cross-account pull), else None. The digest is the same in every copy."""
    if _url(source_url).region == region:
        return source_url
    here = sorted((r for r in replicas if r.region == region), key=lambda r: r.registry_id != account)
    if not here:
        return None
    return f"{registry_host(here[0].registry_id, region)}/{_url(source_url).name}"


def _in_copy(manifest: Manifest, source_url: str, url: str) -> PlatformImage:
    """A manifest of the repository at `source_url` as its copy at `url` holds it: replication copies every
    manifest unchanged (so its digest) with its tags, so only the repository differs."""
    return PlatformImage(
        digest=manifest.digest,
        image_uri=manifest.image_uri if url == source_url else f"{url}@{manifest.digest}",
        tags=[url + tag.removeprefix(source_url) for tag in manifest.tags],
    )


def promoted_images(
    config: StackConfig, exported: Any, source_environment: str, replicas: Any = (), account: str = ""
) -> dict[str, ImageRef]:
    """The images this stack's clankers run, checked against what the image stack exports: each from its copy
    in this stack's region when there is one (`replicas`, the image stack's output; `account` is this stack's)."""
    assert config.images is not None
    source = config.images.from_
    issues: list[ConfigIssue] = []
    if not isinstance(exported, dict):
        raise ConfigError(
            [ConfigIssue(path=f"{NAMESPACE}:images.from", value=source, message="that stack exports no `images`")]
        )
    try:
        replica_list = replicas_of(replicas)
    except ValidationError as error:
        raise ConfigError(_malformed(source, "replicas", error)) from None
    wanted = config.images.harnesses or sorted(exported)
    approved = config.images.digests or {}
    for harness, digest in approved.items():
        if harness not in exported:
            issues.append(
                ConfigIssue(
                    path=f"{NAMESPACE}:images.digests.{harness}",
                    value=digest,
                    message=f"the image stack {source} exports no {harness} image",
                )
            )
    for i, harness in enumerate(config.images.harnesses or []):
        if harness not in exported:
            issues.append(
                ConfigIssue(
                    path=f"{NAMESPACE}:images.harnesses[{i}]",
                    value=harness,
                    message=f"the image stack {source} exports no {harness} image",
                )
            )
    for i, clanker in enumerate(config.clankers):
        if clanker.agent not in exported:
            issues.append(
                ConfigIssue(
                    path=f"{NAMESPACE}:clankers[{i}].agent",
                    value=clanker.agent,
                    message=f"the image stack {source} exports no {clanker.agent} image "
                    f"(it has: {', '.join(sorted(exported)) or 'none'})",
                )
            )
    images: dict[str, ImageRef] = {}
    for harness in wanted:
        if harness not in exported:
            continue
        try:
            entry = Image.model_validate(exported[harness])
        except ValidationError as error:
            issues += _malformed(source, f"images.{harness}", error)
            continue
        local_url = repository_url_in(entry.repository_url, replica_list, config.region, account)
        url = local_url or entry.repository_url

        exported_digest = entry.approved_digest()  # a multi-platform harness's index: it commits to each platform
        if approved.get(harness, exported_digest) != exported_digest:
            # Read when `up` runs, after the approval: a deploy of the image stack may have landed in between.
            issues.append(
                ConfigIssue(
                    path=f"{NAMESPACE}:images.digests.{harness}",
                    value=approved[harness],
                    message=f"approved, but the image stack {source} now exports {exported_digest}"
                    f"{' (its index)' if entry.index is not None else ''}: it was deployed again after the "
                    "approval; approve its new digests",
                )
            )
        # The contract's platforms are open (a later image stack may build more): this stack runs those it knows.
        every, source_url = entry.every_platform(), entry.repository_url
        platforms = {p: _in_copy(m, source_url, url) for p, m in every.items() if p in ARCHITECTURE_OF_PLATFORM}
        if not platforms:
            known = ", ".join(ARCHITECTURE_OF_PLATFORM)
            message = f"its {harness} image is built for {', '.join(every)}, none of which this program runs ({known})"
            issues.append(ConfigIssue(path=f"{NAMESPACE}:images.from", value=source, message=message))
            continue
        images[harness] = ImageRef(
            repository_name=entry.repository_name,
            repository_url=url,
            repository_arn=_url(url).arn,
            platforms=platforms,
            index=_in_copy(entry.index, entry.repository_url, url) if entry.index is not None else None,
            environment=source_environment,
            region=_url(url).region,
            # Where the image stack's deploy attached it: its own repository, which this stack may pull from.
            sbom=entry.sbom,
            job_contract=entry.job_contract,
        )
    for i, clanker in enumerate(config.clankers):
        image = images.get(clanker.agent)
        if image is not None and image.region != config.region:
            issues += _cross_region_issues(config, i, clanker, image.region)
        if (
            clanker.architecture is not None
            and image is not None
            and image.platform_for(clanker.architecture) not in image.platforms
        ):
            issues.append(_unbuilt_architecture(source, i, clanker, image))
    if issues:
        raise ConfigError(issues)
    return images


def _unbuilt_architecture(source: str, i: int, clanker: ClankerBase, image: ImageRef) -> ConfigIssue:
    """The fix lives in the image stack, which builds the platforms its clankers and `harnessPlatforms` name:
    this stack only promotes what that one built."""
    assert clanker.architecture is not None
    built = list(image.platforms)
    wanted = [*built, image.platform_for(clanker.architecture)]
    return ConfigIssue(
        path=f"{NAMESPACE}:clankers[{i}].architecture",
        value=clanker.architecture,
        message=f"the promoted {clanker.agent} image is built for {', '.join(built)} only: the image stack {source} "
        f"must build {wanted[-1]} too: set `viberator:harnessPlatforms: {{{clanker.agent}: [{', '.join(wanted)}]}}` "
        f"in its Pulumi.{source.rsplit('/', 1)[-1]}.yaml and deploy it first, or give this clanker the architecture "
        "of a platform the image has",
    )


def _cross_region_issues(
    config: StackConfig, position: int, clanker: ClankerBase, image_region: str
) -> list[ConfigIssue]:
    """A clanker whose image stays in another region: its target says what that means (an error for Lambda,
    which can't pull it; a warning for ECS, which can at a price; nothing for a local daemon)."""
    assert config.images is not None
    setting = f"viberator:replicas of the image stack {config.images.from_} (docs/promotion.md 'Multi-region')"
    key = f"{NAMESPACE}:clankers[{position}]"
    return target_of(clanker).cross_region(clanker, key, config.region, image_region, setting)


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
        if url is not None and _url(url).account == account != _url(entry.repository_url).account:
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
        source_account=_url(entries[next(iter(ours))].repository_url).account,
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


async def referenced_images(
    config: StackConfig, partition: pulumi.Input[str], resource_tags: Mapping[str, str]
) -> tuple[dict[str, ImageRef], Signing | None]:
    """Await the image stack's outputs (nothing else is registered yet), take its images and the pinned key they
    are verified with, and create this account's side of their replication into it, if any."""
    assert config.images is not None
    reference = pulumi.StackReference("image-stack", stack_name=config.images.from_)
    outputs = {
        name: (details.value if details.value is not None else details.secret_value)
        for name in ("images", "environment", "replicas", "lifecycle", "signing")
        for details in [await reference.get_output_details(name)]
    }
    # This stack's account, where a replica of its own is preferred over another account's.
    identity = await aws.get_caller_identity_output(
        opts=pulumi.InvokeOutputOptions(parent=reference)
    ).account_id.future()
    account = str(identity or "")
    source_environment = str(outputs["environment"] or "")
    images = promoted_images(config, outputs["images"], source_environment, outputs["replicas"], account)
    signing = promoted_signing(config, outputs["signing"], source_environment)
    side = replica_registry_args(
        config, outputs["images"], outputs["replicas"], outputs["lifecycle"], account, partition, resource_tags
    )
    if side is None:
        return images, signing
    registry = ReplicaRegistry("replica-registry", side)
    pulled = {
        harness: _pulled_from(image, registry.ready[harness]) if harness in registry.ready else image
        for harness, image in images.items()
    }
    return pulled, signing
