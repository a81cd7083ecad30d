"""What an image stack exports about its images: each harness's manifests, where they are replicated, the
lifecycle rules of their repositories and the key that signs their digests."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from viberator_contract.base import (
    KMS_KEY_ARN_PATTERN,
    PUBLIC_KEY_PEM_PATTERN,
    AccountId,
    ContractModel,
    Digest,
    Name,
    PinnedImage,
    Platform,
    Region,
    RepositoryName,
    RepositoryUrl,
    SbomTag,
)


class Manifest(ContractModel):
    """One pushed manifest: a platform's single-platform image, or the index joining several."""

    digest: Digest
    image_uri: PinnedImage = Field(description="`<repositoryUrl>@<digest>`: what a pinned clanker runs.")
    tags: list[str] = Field(min_length=1, description="Full references of every tag pushed, immutable tag first.")


class Repository(ContractModel):
    """The ECR repository a harness's images are in."""

    repository_name: RepositoryName
    repository_url: RepositoryUrl


class Image(Manifest, Repository):
    """One `images.<harness>` entry. The top-level `digest`, `imageUri`, `tags` and `platform` are the primary
    (first) platform's image, as a single-platform stack always wrote them."""

    platform: Platform = Field(description="The primary platform: whose image the top-level fields are.")
    platforms: dict[Platform, Manifest] | None = Field(
        default=None,
        min_length=1,
        description="Every platform's single-platform image (what Lambda runs), by platform. Added within "
        "version 1: absent in outputs written before it, where the top-level image is the only one.",
    )
    index: Manifest | None = Field(
        default=None,
        description="The image index joining several platforms, which the floating tags (`<env>-latest`) name; "
        "absent for one platform. Added within version 1.",
    )
    sbom: SbomTag | None = Field(
        default=None,
        description="The tag of the primary digest's SBOM referrer (CycloneDX), `<repository>:sha256-<hex>.sbom`, "
        "in the repository the image stack's deploy attached it to (workers/tooling/sbom/): an image stack's own, "
        "and a promoting stack's image stack's. Absent where nothing attaches one (a review stack's own builds). "
        "Added within version 1.",
    )
    job_contract: str | None = Field(
        default=None,
        pattern=r"^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))?$",
        description="The job contract its worker runtime speaks, `MAJOR[.MINOR]` (the images' "
        "`io.viberator.job-contract` label): a job sent to a clanker running it carries this major version as "
        "its `contract`. A promoting stack exports what its image stack did. Added within version 1: absent in "
        "outputs written before it.",
    )

    def approved_digest(self) -> str:
        """The digest a promotion's reviewer approves for the harness: the index's when there are several
        platforms, since the index lists (so its digest commits to) every platform manifest's digest a clanker
        may run, while the primary's says nothing about the others; else the one image's."""
        return (self.index or self).digest

    def every_platform(self) -> dict[str, Manifest]:
        """Each platform's manifest, the primary first (outputs without `platforms`: the primary alone)."""
        primary = Manifest(digest=self.digest, image_uri=self.image_uri, tags=self.tags)
        others: dict[str, Manifest] = {p: m for p, m in (self.platforms or {}).items() if p != self.platform}
        return {self.platform: primary, **others}


class Replica(ContractModel):
    """A registry ECR replicates the image stack's images to (`viberator:replicas`)."""

    region: Region
    registry_id: AccountId


class Lifecycle(ContractModel):
    """The lifecycle rules of the repositories an image stack owns (components/repository.py
    `lifecycle_policy`), which a promoting stack in another account repeats on the replica repositories it
    creates."""

    keep_images: int = Field(
        ge=1,
        le=1000,
        description="Builds (or promotions) kept per environment, whatever the number of platforms: a "
        "repository's rule counts `keepImages` x the manifests one build tags (its platforms' images, and their index "
        "where there are several).",
    )
    environments: list[Name] = Field(min_length=1, description="Each kept by its own rule, in priority order.")


class Signing(ContractModel):
    """The image stack's KMS signing key (components/signing.py): the deploy signs every digest it pushes with
    it (cosign), and the PEM public key verifies them. A promoting stack exports the key it pins."""

    key_arn: str = Field(pattern=KMS_KEY_ARN_PATTERN)
    alias: str = Field(pattern=r"^alias/viberator-[a-z0-9-]+-image-signing$")
    algorithm: Literal["ECDSA_SHA_256"]
    public_key: str = Field(pattern=PUBLIC_KEY_PEM_PATTERN)
