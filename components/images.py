"""The images a clanker may run, whether this stack built them or took them from another stack's outputs."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi

from components.config_model.fields import ARCHITECTURE_OF_PLATFORM, PLATFORM_OF_ARCHITECTURE
from components.harness_image import HarnessImage, PlatformImage
from viberator_contract import Image
from workers import catalog
from workers.naming import floating_tag, image_reference, sbom_tag


@dataclass(frozen=True)
class ImageRef:
    """Everything clankers and the stack outputs need to know about one harness's images."""

    repository_name: pulumi.Input[str]
    repository_url: pulumi.Input[str]
    repository_arn: pulumi.Input[str]
    platforms: Mapping[str, PlatformImage]
    """Each platform's image; the first is the harness's primary (the top-level fields of its outputs entry)."""
    index: PlatformImage | None
    """The index joining several platforms, which the floating tags name; None for one platform."""
    environment: str
    """The environment whose floating tag (`<env>-latest`) names this harness's image (or index)."""
    region: str
    """The region of `repository_url`: the image stack's, or a replica's in the consumer's own region."""
    sbom: pulumi.Input[str] | None = None
    """The tag of the primary digest's SBOM referrer, where the deploy attaches one: a signing image stack's own
    (`with_sbom`), or what a promoting stack's image stack exports (in that stack's repository, where it was
    attached). None: nobody attaches one (a review stack's own builds)."""
    job_contract: str | None = None
    """The job contract its worker runtime speaks (its `io.viberator.job-contract` label): this checkout's for
    images it builds, the image stack's export for promoted ones (None where that stack exported none)."""
    floating_pushed: pulumi.Input[str] | None = None
    """Known once the resource that moves `<env>-latest` has pushed (`HarnessImage.floating_pushed`); None for
    images another stack built (a promoting stack runs no floating clanker: the config refuses it)."""

    @classmethod
    def built(cls, image: HarnessImage, environment: str, region: str) -> ImageRef:
        return cls(
            repository_name=image.repository_name,
            repository_url=image.repository_url,
            repository_arn=image.repository_arn,
            platforms=dict(image.platforms),
            index=image.index,
            environment=environment,
            region=region,
            job_contract=catalog.job_contract(),
            floating_pushed=image.floating_pushed,
        )

    @property
    def primary_platform(self) -> str:
        return next(iter(self.platforms))

    @property
    def floating(self) -> PlatformImage:
        """What `<env>-latest` names: the index, or the only platform's image."""
        return self.index or self.platforms[self.primary_platform]

    def architecture_for(self, requested: str | None) -> str:
        """The clanker's CPU architecture: the one it asked for (checked against the image's platforms when the
        config is parsed or the image stack is read), else the primary platform's."""
        return requested or ARCHITECTURE_OF_PLATFORM[self.primary_platform]

    def platform_for(self, architecture: str) -> str:
        return PLATFORM_OF_ARCHITECTURE[architecture]

    def reference(self, policy: str, architecture: str) -> pulumi.Output[str]:
        """What a clanker of `architecture` runs: its platform's digest (`pinned`) or the environment's floating
        tag (`floating`), which names the index where there are several platforms (Lambda refuses those; the
        config says so)."""
        if policy == "floating":
            # Derived from what moved the tag, not only the repository, so that a clanker is never created before
            # the push that makes `<env>-latest` name this build: for several platforms that is the Index pushing
            # `<env>-latest`, not the one pushing the immutable tag (they are pushed independently).
            pushed = self.floating_pushed if self.floating_pushed is not None else self.floating.digest
            return pulumi.Output.all(self.repository_url, pushed).apply(
                lambda parts: image_reference(parts[0], floating_tag(self.environment))
            )
        return pulumi.Output.from_input(self.platforms[self.platform_for(architecture)].image_uri)

    def with_sbom(self) -> ImageRef:
        """This image as a stack whose deploy attaches its SBOMs (.github/workflows/deploy-stack.yml) exports it:
        the referrer's tag of the primary digest."""
        sbom = pulumi.Output.all(self.repository_url, self.platforms[self.primary_platform].digest).apply(
            lambda parts: image_reference(parts[0], sbom_tag(parts[1]))
        )
        return dataclasses.replace(self, sbom=sbom)

    def entry(self) -> Image:
        """The `images.<harness>` entry of the stack outputs, unvalidated (its values are Outputs): the primary
        platform's image at the top level (what readers of a single-platform stack always read), every
        platform's under `platforms`, and the `index`."""
        primary = self.platforms[self.primary_platform]
        return Image.model_construct(
            repository_name=self.repository_name,
            repository_url=self.repository_url,
            digest=primary.digest,
            image_uri=primary.image_uri,
            tags=primary.tags,
            platform=self.primary_platform,
            platforms={platform: image.manifest() for platform, image in self.platforms.items()},
            index=self.index.manifest() if self.index is not None else None,
            sbom=self.sbom,
            job_contract=self.job_contract,
        )
