"""HarnessImage: one harness's ECR repository, its lifecycle policy, and the image built and pushed into it.

Owns: the repository (or the lookup of a repository another stack owns), the lifecycle rules, the
docker-build Image and the values clankers need (`image_uri` = `<repository_url>@<digest>`).
Does not own: which tags exist (`workers.naming`), what the image contains (`workers/image/Dockerfile`), or the
revision (`workers.revision`); those arrive as args.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_docker_build as docker_build
from pulumi_aws import ecr

from workers.catalog import Harness
from workers.naming import CACHE_TAG, MUTABLE_TAG_PATTERNS, image_tags, pinned_reference

FUNCTION_NAME_PREFIX = "viberator-"
"""Clanker functions are named `viberator-<env>-<clanker>`; consumer Lambda pulls are limited to them."""

UNTAGGED_EXPIRY_DAYS = 7
"""Untagged manifests are superseded cache layers or interrupted pushes; a week leaves time to debug."""


@dataclass(frozen=True)
class HarnessImageArgs:
    harness: Harness
    """The catalog entry: repository name and Dockerfile target."""
    environment: str
    """Tag prefix (`<env>-<revision>`, `<env>-latest`)."""
    revision: str
    """The build context's revision (`workers.revision`)."""
    source_date_epoch: int
    """Layer timestamps, so identical inputs give identical digests."""
    context: str = "workers/image"
    """Build context, relative to the project root so that state does not depend on a checkout's path."""
    dockerfile: str = "workers/image/Dockerfile"
    platform: str = "linux/amd64"
    """Exactly one platform: Lambda rejects image indexes."""
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


def lifecycle_policy(environments: tuple[str, ...], keep_images: int) -> str:
    """ECR lifecycle rules: keep the newest `keep_images` per environment, expire old untagged manifests.

    An image matched by a rule's tag selection can't be expired by a later rule, so an image that carries
    tags of two environments (a promoted digest) is judged only by the first environment's count.
    """
    rules: list[dict[str, object]] = [
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
        for priority, environment in enumerate(environments, start=1)
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


def pull_policy(own_account: str, consumer_accounts: tuple[str, ...]) -> str:
    """The repository policy: Lambda may pull for this account's clanker functions and the consumers', and the
    consumer accounts may pull.

    Managed here rather than left to Lambda, which otherwise appends its own statement on CreateFunction: a
    policy Pulumi does not own would drift, and the next write of ours would drop Lambda's statement.
    """
    pull = ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
    functions = [
        f"arn:aws:lambda:*:{account}:function:{FUNCTION_NAME_PREFIX}*" for account in (own_account, *consumer_accounts)
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
                "Principal": {"AWS": [f"arn:aws:iam::{account}:root" for account in consumer_accounts]},
                "Action": pull,
            }
        )
    return json.dumps({"Version": "2012-10-17", "Statement": statements}, indent=2)


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
        child = pulumi.ResourceOptions(parent=self)
        repository_name = args.harness.repository_name

        if args.create_repository:
            repository = ecr.Repository(
                f"{name}-repository",
                name=repository_name,
                # Immutable so `<env>-<revision>` always names the bytes it was first pushed with; the floating
                # tags and the build cache must move.
                image_tag_mutability="IMMUTABLE_WITH_EXCLUSION",
                image_tag_mutability_exclusion_filters=[
                    ecr.RepositoryImageTagMutabilityExclusionFilterArgs(filter=pattern, filter_type="WILDCARD")
                    for pattern in MUTABLE_TAG_PATTERNS
                ],
                image_scanning_configuration=ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                encryption_configurations=[ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS")],
                force_delete=args.force_delete,
                opts=pulumi.ResourceOptions(parent=self, protect=args.protect),
            )
            ecr.LifecyclePolicy(
                f"{name}-lifecycle",
                repository=repository.name,
                policy=lifecycle_policy(args.lifecycle_environments or (args.environment,), args.keep_images),
                opts=child,
            )
            ecr.RepositoryPolicy(
                f"{name}-pull-policy",
                repository=repository.name,
                policy=repository.registry_id.apply(lambda account: pull_policy(account, args.consumer_accounts)),
                opts=child,
            )
            repository_url, repository_arn, registry_id = (
                repository.repository_url,
                repository.arn,
                repository.registry_id,
            )
        else:
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
            for tag in image_tags(args.environment, args.revision, push_latest=args.push_latest)
        ]
        cache_ref = pulumi.Output.concat(repository_url, ":", CACHE_TAG)
        image = docker_build.Image(
            f"{name}-image",
            context=docker_build.BuildContextArgs(location=args.context),
            dockerfile=docker_build.DockerfileArgs(location=args.dockerfile),
            target=args.harness.dockerfile_target,
            platforms=[docker_build.Platform(args.platform)],
            build_args={
                "REVISION": args.revision,
                "SOURCE_DATE_EPOCH": str(args.source_date_epoch),
            },
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
            opts=pulumi.ResourceOptions(parent=self, retain_on_delete=True),
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
