"""Build once, promote: a stack that takes its images from another stack's `images` output.

With `viberator:images: {from: org/project/stack}` this stack creates no repositories and builds nothing; its
clankers pin exactly the digests the image stack built and tested. The referenced outputs are awaited and
checked before any clanker is registered, so a missing harness fails the run instead of half-deploying it.
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from components.aws_target import partition_of_region
from components.config import NAMESPACE, ConfigError, ConfigIssue, StackConfig
from components.images import ImageRef

REPOSITORY_URL = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/(?P<name>[a-z0-9/_.-]+)$"
)


class ExportedImage(BaseModel):
    """One `images.<harness>` entry of an image stack's outputs (components/outputs.schema.json)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    repository_name: str = Field(alias="repositoryName")
    repository_url: str = Field(alias="repositoryUrl", pattern=REPOSITORY_URL.pattern)
    digest: str = Field(pattern=r"^sha256:[0-9a-f]{64}$")
    image_uri: str = Field(alias="imageUri")
    tags: list[str]
    platform: str

    @property
    def repository_arn(self) -> str:
        match = REPOSITORY_URL.match(self.repository_url)
        assert match is not None  # guaranteed by the field pattern
        partition = partition_of_region(match["region"])
        return f"arn:{partition}:ecr:{match['region']}:{match['account']}:repository/{match['name']}"


def promoted_images(config: StackConfig, exported: Any, source_environment: str) -> dict[str, ImageRef]:
    """The images this stack's clankers run, checked against what the image stack exports."""
    assert config.images is not None
    source = config.images.from_
    issues: list[ConfigIssue] = []
    if not isinstance(exported, dict):
        raise ConfigError(
            [ConfigIssue(path=f"{NAMESPACE}:images.from", value=source, message="that stack exports no `images`")]
        )
    wanted = config.images.harnesses or sorted(exported)
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
            entry = ExportedImage.model_validate(exported[harness])
        except ValidationError as error:
            issues.append(
                ConfigIssue(
                    path=f"{NAMESPACE}:images.from",
                    value=source,
                    message=f"its images.{harness} output is malformed: {error.errors()[0]['msg']}",
                )
            )
            continue
        images[harness] = ImageRef(
            repository_name=entry.repository_name,
            repository_url=entry.repository_url,
            repository_arn=entry.repository_arn,
            digest=entry.digest,
            image_uri=entry.image_uri,
            tags=entry.tags,
            platform=entry.platform,
            environment=source_environment,
        )
    for i, clanker in enumerate(config.clankers):
        image = images.get(clanker.agent)
        if image is not None and clanker.architecture not in (None, image.architecture_for(None)):
            issues.append(
                ConfigIssue(
                    path=f"{NAMESPACE}:clankers[{i}].architecture",
                    value=clanker.architecture,
                    message=f"the promoted {clanker.agent} image is built for {image.platform}",
                )
            )
    if issues:
        raise ConfigError(issues)
    return images


async def referenced_images(config: StackConfig) -> dict[str, ImageRef]:
    """Await the image stack's outputs (nothing else is registered yet) and take its images."""
    assert config.images is not None
    reference = pulumi.StackReference("image-stack", stack_name=config.images.from_)
    images = await reference.get_output_details("images")
    environment = await reference.get_output_details("environment")
    return promoted_images(
        config,
        images.value if images.value is not None else images.secret_value,
        str(environment.value or environment.secret_value or ""),
    )
