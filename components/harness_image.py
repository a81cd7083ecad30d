"""HarnessImage: one harness's ECR repository, its lifecycle policy, and the images built and pushed into it.

Owns: the repository (or the lookup of a repository another stack owns), the lifecycle rules, one docker-build
Image per platform, the docker-build Index joining them when there are several, and the values clankers need
(`PlatformImage.image_uri` = `<repository_url>@<digest>` of each platform).

Several platforms: each is its own single-platform Image (Lambda runs no image index: "Lambda does not support
multi-architecture container images", Lambda Developer Guide, "Container images"), pushed under its own immutable
tag only. The Index (docker-build's wrapper of `docker buildx imagetools create`, which "creates an OCI image index
or a Docker manifest list depending on the media types of the source images") joins them under an immutable tag of
its own, and one Index per floating tag moves `<env>-latest` and `latest`: an Index takes exactly one `tag`
(pulumi_docker_build/index.py, IndexArgs), and if each platform's Image pushed the floating tags the two would
take turns naming them. The first platform's Image keeps the `<harness>-image` name a single-platform stack has
always had, so adopting a second platform adds resources and replaces none.
Does not own: which tags exist (`workers.naming`), what the image contains (`workers/image/Dockerfile`), or the
revision (`workers.revision`); those arrive as args.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import partial

import pulumi
import pulumi_docker_build as docker_build
from pulumi_aws import ecr

from components.build_cache import build_cache_repository, cache_reference, cache_sources
from components.image_build import PlatformBuild, image_args, settings_hash
from components.repository import RepositorySettings, manifests_per_build, owned_repository
from viberator_contract import Manifest
from workers.catalog import Harness
from workers.labels import OFFICIAL_BASES, build_labels
from workers.naming import floating_tags, immutable_tag, index_hash, pinned_reference


@dataclass(frozen=True)
class HarnessImageArgs:
    harness: Harness
    """The catalog entry: the harness's name and Dockerfile target."""
    repository_name: str
    """`viberator-worker-<harness>`, or a review stack's own (`StackConfig.repository_name_of`)."""
    environment: str
    """Tag prefix (`<env>-<revision>-<hash>`, `<env>-latest`)."""
    revision: str
    """The build context's revision (`workers.revision`)."""
    source_date_epoch: int
    """Passed to the build as SOURCE_DATE_EPOCH (BuildKit 0.11+ takes the image's timestamps from it) and
    recorded as a label."""
    context_digest: str
    """Names, modes and bytes of the build context's files (`workers.revision.context_digest`)."""
    repository: RepositorySettings
    """What the repository, its replicas and its build cache are created with (unused when another stack owns the
    repository); its `manifests_per_build` is this image's own, counted from `platforms`."""
    context: str = "workers/image"
    """Build context, relative to the project root so that state does not depend on a checkout's path."""
    dockerfile: str = "workers/image/Dockerfile"
    platforms: tuple[str, ...] = ("linux/amd64",)
    """One Image each (Lambda rejects image indexes); the first keeps the `<harness>-image` name."""
    builder: str | None = None
    """A BuildKit builder by name (`docker buildx ls`: a remote buildkitd, a Docker Build Cloud builder) for
    builds that outgrow the machine running `pulumi up`; None: that machine's default builder."""
    cache_writer_role: str | None = None
    """The only role the build cache repositories let push (`viberator:buildCache.writerRole`, CI's build role);
    None: whoever IAM lets push (a review stack's own cache). Components/build_cache.py says why."""
    push_latest: bool = True
    """Also push the global `latest` tag; off when another stack owns the repository."""
    create_repository: bool = True
    """False: the repository exists (another stack in this account owns it and its lifecycle)."""
    replica_regions: tuple[str, ...] = ()
    """Other regions of this account that ECR replicates the repository to (`viberator:replicas`): a replica
    repository is created in each with this repository's settings, so that replication lands in it rather than in
    one ECR creates with its defaults (mutable tags, AES-256, no lifecycle; components/replication.py)."""
    push_after: tuple[pulumi.Resource, ...] = ()
    """What must exist before the first push: ECR replicates only images pushed after its replication
    configuration exists."""
    resource_tags: Mapping[str, str] = field(default_factory=dict)
    """The stack's tags (`components.tags`); the harness tag is added here."""

    def repository_settings(self) -> RepositorySettings:
        return replace(self.repository, manifests_per_build=manifests_per_build(len(self.platforms)))

    @property
    def multi_platform(self) -> bool:
        return len(self.platforms) > 1

    def floating_tags(self) -> list[str]:
        """`<env>-latest` (and `latest`): pushed by the Image of a single platform, by Indexes for several."""
        return floating_tags(self.environment, push_latest=self.push_latest)

    def build_args(self) -> dict[str, str]:
        return {"SOURCE_DATE_EPOCH": str(self.source_date_epoch)}

    def labels(self) -> dict[str, str]:
        """The per-build labels, which the Dockerfile leaves to the build: the same `python -m workers build` sets."""
        # The program never sets the base build args (`build_args` above): its images start FROM the official bases.
        return build_labels(self.harness.name, self.revision, self.source_date_epoch, OFFICIAL_BASES)

    def platform_build(self, platform: str) -> PlatformBuild:
        return PlatformBuild(
            context=self.context,
            dockerfile=self.dockerfile,
            target=self.harness.dockerfile_target,
            platform=platform,
            build_args=self.build_args(),
            labels=self.labels(),
            builder=self.builder,
        )

    def immutable_tag(self, platform: str, settings_hash: str) -> str:
        """`platform`'s Image's tag by the one rule (`workers.naming.immutable_tag`): traceable to the commit, new
        whenever any Image input changes (components/image_build.py); `-<arch>` where there are several platforms."""
        return immutable_tag(self.environment, self.revision, settings_hash, platform if self.multi_platform else None)

    def index_tag(self, sources: list[str]) -> str:
        """The Index's immutable tag, hashing its platforms' tags (`sources`) and floating tags (`index_hash`)."""
        return immutable_tag(self.environment, self.revision, index_hash(sources, self.floating_tags()))


@dataclass(frozen=True)
class PlatformImage:
    """One pushed manifest: a platform's image, or the index joining them."""

    digest: pulumi.Input[str]
    """`sha256:…` (unknown in preview: images are not built on preview)."""
    image_uri: pulumi.Input[str]
    """`<repository_url>@<digest>`: what pinned clankers run."""
    tags: pulumi.Input[list[str]]
    """Full references of every tag pushed, immutable tag first."""

    def manifest(self) -> Manifest:
        """Its entry of the stack outputs, unvalidated (its values are Outputs)."""
        return Manifest.model_construct(digest=self.digest, image_uri=self.image_uri, tags=self.tags)


class HarnessImage(pulumi.ComponentResource):
    TYPE = "viberator:workers:HarnessImage"

    repository_name: pulumi.Output[str]
    """`viberator-worker-<harness>`."""
    repository_url: pulumi.Output[str]
    """`<account>.dkr.ecr.<region>.amazonaws.com/viberator-worker-<harness>`."""
    repository_arn: pulumi.Output[str]
    platforms: dict[str, PlatformImage]
    """Each platform's image, in the configured order (the first is the harness's primary)."""
    index: PlatformImage | None
    """The index joining several platforms (None for one), which the floating tags name."""
    floating_pushed: pulumi.Output[str]
    """Known once `<env>-latest` names this build: the pushed reference of the Image (one platform) or of the
    Index (several) that moves it."""

    def __init__(self, name: str, args: HarnessImageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        repository_name = args.repository_name
        harness_tags = {**args.resource_tags, "Harness": args.harness.name}

        cache_repository: list[pulumi.Resource] = []
        if args.create_repository:
            settings = args.repository_settings()
            repository = owned_repository(name, repository_name, settings, harness_tags, parent=self).repository
            cache = build_cache_repository(
                name,
                repository_name,
                args.cache_writer_role,
                harness_tags,
                protect=settings.protect,
                force_delete=settings.force_delete,
                parent=self,
            )
            # The first export creates the cache tag: the repository and who may write it exist before.
            cache_repository = [cache.repository, *([cache.policy] if cache.policy is not None else [])]
            replicas = [
                owned_repository(
                    f"{name}-{region}", repository_name, settings, harness_tags, parent=self, region=region
                ).repository
                for region in args.replica_regions
            ]
            repository_url, repository_arn, registry_id = (
                repository.repository_url,
                repository.arn,
                repository.registry_id,
            )
        else:
            replicas = []
            existing = ecr.get_repository_output(name=repository_name, opts=pulumi.InvokeOutputOptions(parent=self))
            repository_url, repository_arn, registry_id = (
                existing.repository_url,
                existing.arn,
                existing.registry_id,
            )

        token = ecr.get_authorization_token_output(
            registry_id=registry_id, opts=pulumi.InvokeOutputOptions(parent=self)
        )
        registry = docker_build.RegistryArgs(
            address=repository_url.apply(lambda url: url.split("/", 1)[0]),
            username=token.user_name,
            # The provider marks it sensitive; say so here too, so no code path can print it.
            password=pulumi.Output.secret(token.password),
        )

        def reference(tag: pulumi.Input[str]) -> pulumi.Output[str]:
            return pulumi.Output.concat(repository_url, ":", tag)

        def pushed(digest: pulumi.Output[str], tags: list[pulumi.Input[str]]) -> PlatformImage:
            return PlatformImage(
                digest=digest,
                image_uri=pulumi.Output.all(repository_url, digest).apply(
                    lambda parts: pinned_reference(parts[0], parts[1])
                ),
                tags=pulumi.Output.all(*tags),
            )

        images: dict[str, docker_build.Image] = {}
        immutable_tags: list[pulumi.Output[str]] = []
        self.platforms = {}
        for position, platform in enumerate(args.platforms):
            # The first keeps the name a single-platform HarnessImage always gave its Image.
            suffix = "" if position == 0 else f"-{platform.split('/', 1)[1]}"
            floating = [] if args.multi_platform else [reference(tag) for tag in args.floating_tags()]
            build = image_args(
                args.platform_build(platform),
                floating_tags=floating,
                cache_from=cache_sources(repository_url, args.platforms, platform),
                cache_to=cache_reference(repository_url, platform),
                registry=registry,
            )
            immutable = settings_hash(build, args.context_digest).apply(partial(args.immutable_tag, platform))
            immutable_tags.append(immutable)
            tags: list[pulumi.Input[str]] = [reference(immutable), *floating]
            build.tags = tags
            image = docker_build.Image(
                f"{name}-image{suffix}",
                build,
                # A replaced or deleted Image resource must never delete a digest a Lambda function still runs;
                # the lifecycle policy expires old images instead.
                opts=pulumi.ResourceOptions(
                    parent=self,
                    retain_on_delete=True,
                    depends_on=[*replicas, *cache_repository, *args.push_after],
                ),
            )
            images[platform] = image
            self.platforms[platform] = pushed(image.digest, tags)
            self.floating_pushed = image.ref

        self.index = None
        if args.multi_platform:
            # `ref` is each Image's pushed tag with its digest, so the index names exactly these builds.
            sources = [image.ref for image in images.values()]
            index_tag = pulumi.Output.all(*immutable_tags).apply(lambda sources: args.index_tag(list(sources)))
            tag_names: list[pulumi.Input[str]] = [index_tag, *args.floating_tags()]
            index_tags: list[pulumi.Input[str]] = [reference(tag) for tag in tag_names]
            indexes = [
                docker_build.Index(
                    f"{name}-index" if position == 0 else f"{name}-index-{tag}",
                    tag=index_tags[position],
                    sources=sources,
                    push=True,
                    registry=registry,
                    # As for the Images: a clanker may still run the digest a replaced Index pushed.
                    opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
                )
                for position, tag in enumerate(tag_names)
            ]
            self.index = pushed(
                _pushed_digest(indexes[0], repository_name, registry_id, index_tag, parent=self), index_tags
            )
            # What `<env>-latest` names once the Index that moves it has pushed: a floating clanker waits for it.
            self.floating_pushed = indexes[1].ref

        self.repository_name = pulumi.Output.from_input(repository_name)
        self.repository_url = repository_url
        self.repository_arn = repository_arn
        primary = self.platforms[args.platforms[0]]
        self.register_outputs(
            {
                "repositoryUrl": self.repository_url,
                "digest": primary.digest,
                "imageUri": primary.image_uri,
                "tags": primary.tags,
                **({"indexUri": self.index.image_uri} if self.index is not None else {}),
            }
        )


def _pushed_digest(
    index: docker_build.Index,
    repository_name: pulumi.Input[str],
    registry_id: pulumi.Input[str],
    tag: pulumi.Output[str],
    *,
    parent: pulumi.Resource,
) -> pulumi.Output[str]:
    """The digest ECR holds under the Index's immutable tag, asked once the Index has pushed.

    Not parsed from the Index's `ref` ("the pushed tag with digest"): `Index.Read` reads with the registry password
    saved in state, an ECR token that expires after 12 hours, and on `errs.ErrHTTPUnauthorized` it logs "invalid
    credentials, skipping" and returns `ref` = the bare tag (pulumi/pulumi-docker-build, provider/internal/index.go,
    `Read`); after a `pulumi refresh` that is the state, and since `Index.Diff` ignores `ref` and the password, no
    later `up` brings the digest back. ECR's DescribeImages (pulumi-aws `ecr.getImage`) is asked with the AWS
    provider's own credentials on every run, so it answers the same digest whatever the refresh left (it needs
    `ecr:DescribeImages` on the repository, for the read role too: previews ask it). A refresh's own diff is the
    provider's `Diff` of the read inputs against the state's (pulumi/pulumi, pkg/resource/deploy/step.go,
    `RefreshStep.Apply`), and `Index.Diff` compares the tag, sources and registry address and username only, so
    the drift check sees no change either."""
    pushed_tag = pulumi.Output.all(index.ref, tag).apply(lambda values: str(values[1]))
    return ecr.get_image_output(
        repository_name=repository_name,
        registry_id=registry_id,
        image_tag=pushed_tag,
        opts=pulumi.InvokeOutputOptions(parent=parent),
    ).image_digest
