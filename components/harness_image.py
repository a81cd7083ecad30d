"""HarnessImage: one harness's ECR repository, its lifecycle policy, and the image built and pushed into it.

Owns: the repository (or the lookup of a repository another stack owns), the lifecycle rules, the
docker-build Image and the values clankers need (`image_uri` = `<repository_url>@<digest>`).
Does not own: which tags exist (`workers.naming`), what the image contains (`workers/image/Dockerfile`), or the
revision (`workers.revision`); those arrive as args.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_docker_build as docker_build
from pulumi_aws import ecr

from workers.catalog import Harness
from workers.naming import (
    CACHE_TAG,
    GLOBAL_LATEST_TAG,
    MUTABLE_TAG_PATTERNS,
    SUPPLY_CHAIN_TAG_PATTERN,
    image_tags,
    pinned_reference,
)

FUNCTION_NAME_PREFIX = "viberator-"
"""Clanker functions are named `viberator-<env>-<clanker>`; consumer Lambda pulls are limited to them."""

UNTAGGED_EXPIRY_DAYS = 7
"""Untagged manifests are superseded cache layers or interrupted pushes; a week leaves time to debug."""
FLOATING_TAG_PATTERN = f"*{GLOBAL_LATEST_TAG}"
"""`latest` and every `<env>-latest`: the images floating clankers run."""
FLOATING_IMAGES_KEPT = 9999
"""More images than can ever carry a floating tag (one per environment, plus `latest`): the rule expires none."""
SUPPLY_CHAIN_ARTIFACTS_KEPT = 9999
"""Likewise for signatures and SBOMs (`sha256-*` tags): the rule expires none, so no image's signature or SBOM
is ever expired while the image lives (ECR's rules cannot tie an artifact's expiry to its subject's)."""
SETTINGS_HASH_LENGTH = 8


@dataclass(frozen=True)
class RepositorySettings:
    """What a repository of worker images is created with besides its name, wherever it is: the harness's own, a
    replica in another region of the image stack's account, or a replica another account's promoting stack
    creates (components/replication.py, ReplicaRegistry). ECR applies each repository's own lifecycle rules to
    the images in it, so every copy of a digest must be judged by the same rules."""

    lifecycle_environments: tuple[str, ...]
    """The environments each kept by its own rule, in priority order (`lifecycle_policy`)."""
    keep_images: int
    """`<env>-*` images kept per environment."""
    protect: bool = False
    """Protect (and retain on delete) the repository: its images are digests clankers pin."""
    force_delete: bool = False
    consumer_accounts: tuple[str, ...] = ()
    """Other accounts whose clankers pull from it (`pull_policy`)."""
    partition: pulumi.Input[str] = "aws"


@dataclass(frozen=True)
class OwnedRepository:
    repository: ecr.Repository
    policies: tuple[ecr.LifecyclePolicy, ecr.RepositoryPolicy]
    """Its lifecycle and pull policies: a clanker that pulls from the repository waits for them."""


@dataclass(frozen=True)
class HarnessImageArgs:
    harness: Harness
    """The catalog entry: the harness's name and Dockerfile target."""
    repository_name: str
    """`viberator-worker-<harness>`, or a review stack's own (`StackConfig.repository_name_of`)."""
    environment: str
    """Tag prefix (`<env>-<revision>`, `<env>-latest`)."""
    revision: str
    """The build context's revision (`workers.revision`)."""
    source_date_epoch: int
    """Passed to the build as SOURCE_DATE_EPOCH; BuildKit 0.8 records it only (no layer-time rewriting)."""
    context_digest: str
    """Names, modes and bytes of the build context's files (`workers.revision.context_digest`)."""
    context: str = "workers/image"
    """Build context, relative to the project root so that state does not depend on a checkout's path."""
    dockerfile: str = "workers/image/Dockerfile"
    platform: str = "linux/amd64"
    """Exactly one platform: Lambda rejects image indexes."""
    builder: str | None = None
    """A BuildKit builder by name (`docker buildx ls`: a remote buildkitd, a Docker Build Cloud builder) for
    builds that outgrow the machine running `pulumi up`; None: that machine's default builder."""
    push_latest: bool = True
    """Also push the global `latest` tag; off when another stack owns the repository."""
    create_repository: bool = True
    """False: the repository exists (another stack in this account owns it and its lifecycle)."""
    keep_images: int = 30
    """`<env>-*` images the lifecycle policy keeps, newest first; the running image is always the newest."""
    lifecycle_environments: tuple[str, ...] = ()
    """Every environment whose tags this repository holds, each kept by its own rule, in priority order: the
    shared (promoted) environments first, the owner last (components/program.py says why)."""
    protect: bool = False
    """Protect the repository from deletion (production)."""
    force_delete: bool = False
    """Let `pulumi destroy` delete a repository that still holds images (never in production)."""
    consumer_accounts: tuple[str, ...] = field(default_factory=tuple)
    """Accounts whose clankers pull these images (cross-account promotion)."""
    replica_regions: tuple[str, ...] = ()
    """Other regions of this account that ECR replicates the repository to (`viberator:replicas`): a replica
    repository is created in each with this repository's settings, so that replication lands in it rather than in
    one ECR creates with its defaults (mutable tags, AES-256, no lifecycle; components/replication.py)."""
    push_after: tuple[pulumi.Resource, ...] = ()
    """What must exist before the first push: ECR replicates only images pushed after its replication
    configuration exists."""
    partition: pulumi.Input[str] = "aws"
    """The ARN partition (`aws.get_partition`) for the ARNs the pull policy names."""
    resource_tags: Mapping[str, str] = field(default_factory=dict)
    """The stack's tags (`components.tags`); the harness tag is added here."""

    def repository_settings(self) -> RepositorySettings:
        return RepositorySettings(
            lifecycle_environments=self.lifecycle_environments or (self.environment,),
            keep_images=self.keep_images,
            protect=self.protect,
            force_delete=self.force_delete,
            consumer_accounts=self.consumer_accounts,
            partition=self.partition,
        )

    def build_settings(self) -> dict[str, Any]:
        """Every input of the Image that decides what is built or pushed, in one canonical form, except the
        immutable tag (which carries their hash) and the registry credentials.

        docker-build's Diff treats a change of any of these (platforms, tags, cache, build args, push, exports,
        labels, the context hash) as an update, and its Update re-runs Create, which pushes every tag again;
        ECR refuses to move an immutable tag (ImageTagAlreadyExistsException). Hashing them into the immutable
        tag means an update always pushes a tag that does not exist yet."""
        return {
            "context": self.context,
            "contextDigest": self.context_digest,
            "dockerfile": self.dockerfile,
            "target": self.harness.dockerfile_target,
            "platforms": [self.platform],
            "buildArgs": self.build_args(),
            "floatingTags": image_tags(self.environment, "", push_latest=self.push_latest)[1:],
            "cache": {"tag": CACHE_TAG, "mode": "max", "imageManifest": True, "ociMediaTypes": True},
            "push": True,
            # Only when set, so the default keeps every existing stack's tags (and nothing rebuilds).
            **({"builder": self.builder} if self.builder is not None else {}),
        }

    def build_args(self) -> dict[str, str]:
        return {"REVISION": self.revision, "SOURCE_DATE_EPOCH": str(self.source_date_epoch)}

    def tagged_revision(self) -> str:
        """`<revision>-<settings hash>`: traceable to the commit, new whenever any Image input changes."""
        canonical = json.dumps(self.build_settings(), sort_keys=True, separators=(",", ":"))
        return f"{self.revision}-{hashlib.sha256(canonical.encode()).hexdigest()[:SETTINGS_HASH_LENGTH]}"


def lifecycle_policy(environments: tuple[str, ...], keep_images: int) -> str:
    """ECR lifecycle rules: keep the newest `keep_images` per environment, expire old untagged manifests.

    An image matched by a rule's tag selection can't be expired by a later rule, so an image that carries
    tags of two environments (a promoted digest) is judged only by the first environment's count.
    """
    # First, the images floating tags name: a floating clanker runs whatever `<env>-latest` names, and an image
    # selected by a higher-priority rule cannot be expired by a lower one, so no count ever expires it.
    rules: list[dict[str, object]] = [
        {
            "rulePriority": 1,
            "description": "Keep every image a floating tag names",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": [FLOATING_TAG_PATTERN],
                "countType": "imageCountMoreThan",
                "countNumber": FLOATING_IMAGES_KEPT,
            },
            "action": {"type": "expire"},
        },
        {
            "rulePriority": 2,
            "description": "Keep every signature and SBOM (tags named after their image's digest)",
            "selection": {
                "tagStatus": "tagged",
                "tagPatternList": [SUPPLY_CHAIN_TAG_PATTERN],
                "countType": "imageCountMoreThan",
                "countNumber": SUPPLY_CHAIN_ARTIFACTS_KEPT,
            },
            "action": {"type": "expire"},
        },
    ]
    rules += [
        {
            "rulePriority": priority,
            "description": f"Keep the newest {keep_images} {environment} images",
            "selection": {
                "tagStatus": "tagged",
                "tagPrefixList": [f"{environment}-"],
                "countType": "imageCountMoreThan",
                "countNumber": keep_images,
            },
            "action": {"type": "expire"},
        }
        for priority, environment in enumerate(environments, start=len(rules) + 1)
    ]
    rules.append(
        {
            "rulePriority": len(rules) + 1,
            "description": f"Expire untagged manifests after {UNTAGGED_EXPIRY_DAYS} days",
            "selection": {
                "tagStatus": "untagged",
                "countType": "sinceImagePushed",
                "countUnit": "days",
                "countNumber": UNTAGGED_EXPIRY_DAYS,
            },
            "action": {"type": "expire"},
        }
    )
    return json.dumps({"rules": rules}, indent=2)


def pull_policy(partition: str, own_account: str, consumer_accounts: tuple[str, ...]) -> str:
    """The repository policy: Lambda may pull for this account's clanker functions and the consumers', and the
    consumer accounts may pull.

    Managed here rather than left to Lambda, which otherwise appends its own statement on CreateFunction: a
    policy Pulumi does not own would drift, and the next write of ours would drop Lambda's statement.
    """
    pull = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    functions = [
        f"arn:{partition}:lambda:*:{account}:function:{FUNCTION_NAME_PREFIX}*"
        for account in (own_account, *consumer_accounts)
    ]
    statements: list[dict[str, object]] = [
        {
            "Sid": "LambdaPull",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": pull,
            "Condition": {"StringLike": {"aws:sourceARN": functions}},
        }
    ]
    if consumer_accounts:
        statements.append(
            {
                "Sid": "ConsumerAccountsPull",
                "Effect": "Allow",
                "Principal": {"AWS": [f"arn:{partition}:iam::{account}:root" for account in consumer_accounts]},
                # DescribeImages: a consumer's deploy waits until a replicated digest is here (ci/wait_for_replicas.py).
                "Action": [*pull, "ecr:DescribeImages"],
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


def owned_repository(
    prefix: str,
    repository_name: str,
    settings: RepositorySettings,
    tags: Mapping[str, str],
    *,
    parent: pulumi.Resource,
    region: str | None = None,
) -> OwnedRepository:
    """A repository this stack owns, with its lifecycle and pull policies: the harness's own, or its replica in
    `region` (the provider's region when None). A replica gets exactly the source's settings: ECR applies each
    repository's lifecycle rules to the images in it, so a replica with other rules would expire replicated images
    on another schedule, and a mutable replica would let a tag name other bytes there than here."""
    child = pulumi.ResourceOptions(parent=parent)
    repository = ecr.Repository(
        f"{prefix}-repository",
        name=repository_name,
        region=region,
        # Immutable so `<env>-<revision>` always names the bytes it was first pushed with; the floating tags and
        # the build cache must move.
        image_tag_mutability="IMMUTABLE_WITH_EXCLUSION",
        image_tag_mutability_exclusion_filters=[
            ecr.RepositoryImageTagMutabilityExclusionFilterArgs(filter=pattern, filter_type="WILDCARD")
            for pattern in MUTABLE_TAG_PATTERNS
        ],
        image_scanning_configuration=ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
        encryption_configurations=[ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS")],
        force_delete=settings.force_delete,
        tags=dict(tags),
        # Deleting a repository deletes every image in it, also the digests other stacks pin: a protected
        # repository is also retained, so that even an unprotected `destroy` leaves it in the account.
        opts=pulumi.ResourceOptions(parent=parent, protect=settings.protect, retain_on_delete=settings.protect),
    )
    lifecycle = ecr.LifecyclePolicy(
        f"{prefix}-lifecycle",
        repository=repository.name,
        region=region,
        policy=lifecycle_policy(settings.lifecycle_environments, settings.keep_images),
        opts=child,
    )
    pull = ecr.RepositoryPolicy(
        f"{prefix}-pull-policy",
        repository=repository.name,
        region=region,
        policy=pulumi.Output.all(settings.partition, repository.registry_id).apply(
            lambda values: pull_policy(values[0], values[1], settings.consumer_accounts)
        ),
        opts=child,
    )
    return OwnedRepository(repository, (lifecycle, pull))


class HarnessImage(pulumi.ComponentResource):
    repository_name: pulumi.Output[str]
    """`viberator-worker-<harness>`."""
    repository_url: pulumi.Output[str]
    """`<account>.dkr.ecr.<region>.amazonaws.com/viberator-worker-<harness>`."""
    repository_arn: pulumi.Output[str]
    digest: pulumi.Output[str]
    """`sha256:…` of the pushed manifest (unknown in preview: images are not built on preview)."""
    image_uri: pulumi.Output[str]
    """`<repository_url>@<digest>`: what pinned clankers run."""
    tags: pulumi.Output[list[str]]
    """Full references of every tag pushed, immutable tag first."""
    platform: str

    def __init__(self, name: str, args: HarnessImageArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("viberator:workers:HarnessImage", name, None, opts)
        repository_name = args.repository_name
        harness_tags = {**args.resource_tags, "Harness": args.harness.name}

        if args.create_repository:
            settings = args.repository_settings()
            repository = owned_repository(name, repository_name, settings, harness_tags, parent=self).repository
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
        tags = [
            pulumi.Output.concat(repository_url, ":", tag)
            for tag in image_tags(args.environment, args.tagged_revision(), push_latest=args.push_latest)
        ]
        cache_ref = pulumi.Output.concat(repository_url, ":", CACHE_TAG)
        image = docker_build.Image(
            f"{name}-image",
            context=docker_build.BuildContextArgs(location=args.context),
            dockerfile=docker_build.DockerfileArgs(location=args.dockerfile),
            target=args.harness.dockerfile_target,
            platforms=[docker_build.Platform(args.platform)],
            builder=None if args.builder is None else docker_build.BuilderConfigArgs(name=args.builder),
            build_args=args.build_args(),
            tags=tags,
            push=True,
            # Previews must stay fast and credential-light: the digest is unknown until `up`.
            build_on_preview=False,
            registries=[
                docker_build.RegistryArgs(
                    address=repository_url.apply(lambda url: url.split("/", 1)[0]),
                    username=token.user_name,
                    # The provider marks it sensitive; say so here too, so no code path can print it.
                    password=pulumi.Output.secret(token.password),
                )
            ],
            cache_from=[docker_build.CacheFromArgs(registry=docker_build.CacheFromRegistryArgs(ref=cache_ref))],
            cache_to=[
                docker_build.CacheToArgs(
                    registry=docker_build.CacheToRegistryArgs(
                        ref=cache_ref,
                        mode=docker_build.CacheMode.MAX,
                        # ECR accepts the cache only as an image manifest with OCI media types.
                        image_manifest=True,
                        oci_media_types=True,
                    )
                )
            ],
            # A replaced or deleted Image resource must never delete a digest a Lambda function still runs;
            # the lifecycle policy expires old images instead.
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True, depends_on=[*replicas, *args.push_after]),
        )

        self.repository_name = pulumi.Output.from_input(repository_name)
        self.repository_url = repository_url
        self.repository_arn = repository_arn
        self.digest = image.digest
        self.image_uri = pulumi.Output.all(repository_url, image.digest).apply(
            lambda parts: pinned_reference(parts[0], parts[1])
        )
        self.tags = pulumi.Output.all(*tags)
        self.platform = args.platform
        self.register_outputs(
            {
                "repositoryUrl": self.repository_url,
                "digest": self.digest,
                "imageUri": self.image_uri,
                "tags": self.tags,
            }
        )
