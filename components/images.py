"""The image a clanker runs, whether this stack built it or took it from another stack's outputs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from components.config import ARCHITECTURE_OF_PLATFORM
from components.harness_image import HarnessImage
from workers.naming import floating_tag, image_reference


@dataclass(frozen=True)
class ImageRef:
    """Everything clankers and the stack outputs need to know about one harness image."""

    repository_name: pulumi.Input[str]
    repository_url: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    digest: pulumi.Input[str]
    image_uri: pulumi.Input[str]
    """`<repository_url>@<digest>`."""
    tags: pulumi.Input[list[str]]
    platform: str
    environment: str
    """The environment whose floating tag (`<env>-latest`) names this image."""
    region: str
    """The region of `repository_url`: the image stack's, or a replica's in the consumer's own region."""

    @classmethod
    def built(cls, image: HarnessImage, environment: str, region: str) -> ImageRef:
        return cls(
            repository_name=image.repository_name,
            repository_url=image.repository_url,
            repository_arn=image.repository_arn,
            digest=image.digest,
            image_uri=image.image_uri,
            tags=image.tags,
            platform=image.platform,
            environment=environment,
            region=region,
        )

    def architecture_for(self, requested: str | None) -> str:
        """The clanker's CPU architecture: the one it asked for (checked against the image when the config is
        parsed or the image stack is read), else the image's."""
        return requested or ARCHITECTURE_OF_PLATFORM[self.platform]

    def reference(self, policy: str) -> pulumi.Output[str]:
        """What a clanker runs: the digest (`pinned`) or the environment's floating tag (`floating`)."""
        if policy == "floating":
            # Derived from the digest, not only the repository, so that a function is never created before
            # the push that makes `<env>-latest` exist (and follows it when it moves).
            return pulumi.Output.all(self.repository_url, self.digest).apply(
                lambda parts: image_reference(parts[0], floating_tag(self.environment))
            )
        return pulumi.Output.from_input(self.image_uri)

    def outputs(self) -> dict[str, Any]:
        """The `images.<harness>` entry of the stack outputs."""
        return {
            "repositoryName": self.repository_name,
            "repositoryUrl": self.repository_url,
            "digest": self.digest,
            "imageUri": self.image_uri,
            "tags": self.tags,
            "platform": self.platform,
        }
