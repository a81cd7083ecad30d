"""Build once, promote: a stack that takes its images from another stack's `images` output.

With `viberator:images: {from: org/project/stack}` this stack creates no repositories and builds nothing; its
clankers pin exactly the digests the image stack built and tested. The referenced outputs are awaited and
checked before any clanker is registered, so a missing harness fails the run instead of half-deploying it.

Owns reading the image stack's outputs and checking what they offer against this stack's config. Does not own
which copy of an image (its region's, this account's) a clanker runs, nor the replica repositories this stack
creates for it (components/promotion_replicas.py), nor the signing key the digests are verified with
(components/signing.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws
from pydantic import ValidationError

from components.config import (
    ARCHITECTURE_OF_PLATFORM,
    NAMESPACE,
    ClankerBase,
    ConfigError,
    ConfigIssue,
    StackConfig,
)
from components.images import ImageRef
from components.promotion_replicas import (
    ecr_url,
    in_copy,
    pulled_through_registry,
    replica_registry_args,
    replicas_of,
    repository_url_in,
)
from components.signing import promoted_signing
from components.targets import target_of
from viberator_contract import Image, Signing
from viberator_contract.errors import field_errors


def _malformed(source: str, output: str, error: ValidationError) -> list[ConfigIssue]:
    """Each field the image stack's `output` gets wrong, named by its path there, as an issue of `images.from`."""
    return [
        ConfigIssue(path=f"{NAMESPACE}:images.from", value=source, message=f"its {output} output is malformed: {line}")
        for line in field_errors(error)
    ]


def promoted_images(
    config: StackConfig, exported: Any, source_environment: str, replicas: Any = (), account: str = ""
) -> dict[str, ImageRef]:
    """The images this stack's clankers run, checked against what the image stack exports: each from its copy
    in this stack's region when there is one (`replicas`, the image stack's output; `account` is this stack's)."""
    assert config.images is not None
    source = config.images.from_
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
    issues = _unexported(config, exported)
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
        platforms = {p: in_copy(m, source_url, url) for p, m in every.items() if p in ARCHITECTURE_OF_PLATFORM}
        if not platforms:
            known = ", ".join(ARCHITECTURE_OF_PLATFORM)
            message = f"its {harness} image is built for {', '.join(every)}, none of which this program runs ({known})"
            issues.append(ConfigIssue(path=f"{NAMESPACE}:images.from", value=source, message=message))
            continue
        images[harness] = ImageRef(
            repository_name=entry.repository_name,
            repository_url=url,
            repository_arn=ecr_url(url).arn,
            platforms=platforms,
            index=in_copy(entry.index, entry.repository_url, url) if entry.index is not None else None,
            environment=source_environment,
            region=ecr_url(url).region,
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


def _unexported(config: StackConfig, exported: Mapping[str, Any]) -> list[ConfigIssue]:
    """Each harness this stack's config names (an approved digest, a listed harness, a clanker's agent) that the
    image stack exports no image of."""
    assert config.images is not None
    has = f" (it has: {', '.join(sorted(exported)) or 'none'})"
    approved, listed = (config.images.digests or {}).items(), config.images.harnesses or []
    named = [
        *((f"images.digests.{harness}", digest, harness, "") for harness, digest in approved),
        *((f"images.harnesses[{i}]", harness, harness, "") for i, harness in enumerate(listed)),
        *((f"clankers[{i}].agent", clanker.agent, clanker.agent, has) for i, clanker in enumerate(config.clankers)),
    ]
    return [
        ConfigIssue(
            path=f"{NAMESPACE}:{key}",
            value=value,
            message=f"the image stack {config.images.from_} exports no {harness} image{detail}",
        )
        for key, value, harness, detail in named
        if harness not in exported
    ]


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
    return (images if side is None else pulled_through_registry(images, side)), signing
