"""The stack's model: `StackConfig`, its nested settings (network, builder, image source, replicas, review) and
the settings derived from them once, so components never re-derive them.

Owns what each top-level key may hold; the supply chain's blocks (signing, pinned key, build cache) are
components/config_model/supply_chain.py's. Does not own the rules that span keys (components/config/rules/) or how
Pulumi's config reaches the model (components/config/parsing.py, pulumi_config.py).
"""

from __future__ import annotations

import datetime
import re
from typing import Annotated, Literal, get_args

from pydantic import AfterValidator, Field, SerializeAsAny, field_validator

from components.config_model.clankers import ClankerBase
from components.config_model.fields import (
    ACCOUNT_ID_PATTERN,
    DIGEST_PATTERN,
    IMAGE_REVISION_PATTERN,
    KMS_KEY_ARN_PATTERN,
    LOG_RETENTION_DAYS,
    NAME_PATTERN,
    PLATFORM_OF_ARCHITECTURE,
    REGION_PATTERN,
    REVIEW_EXPIRES_PATTERN,
    STACK_REFERENCE_PATTERN,
    SUBNET_ID_PATTERN,
    VPC_ID_PATTERN,
    ConfigModel,
    Platform,
    no_duplicates,
)
from components.config_model.supply_chain import BuildCacheConfig, PinnedKeyConfig, SigningConfig
from workers.catalog import HARNESS_NAMES
from workers.naming import repository_name

SubnetId = Annotated[str, Field(pattern=SUBNET_ID_PATTERN)]


class NetworkConfig(ConfigModel):
    vpc_id: str = Field(pattern=VPC_ID_PATTERN, description="The VPC the ecs clankers' tasks run in.")
    subnet_ids: Annotated[list[Annotated[str, Field(pattern=SUBNET_ID_PATTERN)]], AfterValidator(no_duplicates)] = (
        Field(min_length=1, description="The subnets the tasks run in, each once.")
    )
    assign_public_ip: bool = Field(False, description="Private subnets with NAT need no public IP.")


DOCKER_BUILD_CLOUD_PREFIX = "cloud-"
"""`docker buildx create --driver cloud` names its builders `cloud-<org>-<name>`; docker-build keys on the same
prefix (pulumi/pulumi-docker-build, provider/internal/host.go, `builderFor`)."""


class BuilderConfig(ConfigModel):
    """`viberator:builder`: build on a named BuildKit builder (docker-build's `builder.name`) instead of the
    machine's default, for builds that outgrow one runner: a remote buildkitd (drivers `remote`,
    `docker-container`, `kubernetes`, which docker-build's embedded buildx drives: provider/internal/image.go
    imports exactly those three).

    A Docker Build Cloud builder is refused. Its `cloud` driver is unknown to the embedded buildx, so docker-build
    fails to load it outside exec mode (host.go, `builderFor`: "Use `exec: true` if you're trying to use Docker
    Build Cloud or other custom drivers"); in exec mode it runs the `docker-buildx` binary without any `--attest`
    flag (cli.go, `execBuild`: "TODO: --attest"), so buildx adds its default provenance attestation and pushes
    an image index, which Lambda refuses; the embedded path turns provenance off (client.go: `Attests:
    {"provenance": nil}`)."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", description="`docker buildx ls`")

    @field_validator("name")
    @classmethod
    def _not_docker_build_cloud(cls, name: str) -> str:
        if name.startswith(DOCKER_BUILD_CLOUD_PREFIX):
            raise ValueError(
                "a Docker Build Cloud builder needs docker-build's exec mode, where buildx adds a provenance "
                "attestation the provider cannot turn off (an image index, which Lambda refuses); use a remote "
                "buildkitd builder (driver remote, docker-container or kubernetes; docs/promotion.md 'Named builders')"
            )
        return name


class ImageSourceConfig(ConfigModel):
    """Take images from another stack's `images` output instead of building them (build once, promote)."""

    from_: str = Field(alias="from", pattern=STACK_REFERENCE_PATTERN, description="org/project/stack")
    harnesses: Annotated[list[str], AfterValidator(no_duplicates)] | None = Field(
        None, description="Only these harnesses; default: all the stack has."
    )
    digests: dict[str, Annotated[str, Field(pattern=DIGEST_PATTERN)]] | None = Field(
        None,
        description="The approved digests, by harness, that this stack runs whatever the image stack exports by "
        "then: the deploy workflow sets them after a reviewer approved them (ci/verify_promotion.py pin).",
    )
    signing: PinnedKeyConfig | None = Field(
        None,
        description="The key the image stack's digests must be signed by (required in production): this stack "
        "exports it as its `signing`, and the image stack exporting another key is an error.",
    )
    replica_repositories: Literal["create", "existing"] = Field(
        "create",
        description="When the image stack replicates into this stack's account and region from another account: "
        "create this registry's side (its one registry policy and the replica repositories, "
        "components/replication.py), or `existing`: another stack in this account and region owns them.",
    )


Accounts = Annotated[list[Annotated[str, Field(pattern=ACCOUNT_ID_PATTERN)]], AfterValidator(no_duplicates)]
"""A set of account ids."""

REPLICATION_DESTINATIONS_MAX = 25
"""ECR allows 25 destinations per replication rule (pulumi-aws ReplicationConfiguration, `rules.destinations`)."""


class ReplicaConfig(ConfigModel):
    """`viberator:replicas[]`: a registry ECR replicates this stack's images to (components/replication.py)."""

    region: str = Field(pattern=REGION_PATTERN, description="Where clankers run from the copy.")
    account: str | None = Field(
        None,
        pattern=ACCOUNT_ID_PATTERN,
        description="Another account's registry (never this stack's own: leave it out); default: this stack's own.",
    )


REVIEW_ENVIRONMENT = re.compile(r"^pr-[0-9]+$")
"""Environments named `pr-<number>` are review stacks (stacks/review.yaml): reserved for them, because the daily
sweep (ci/review_stacks.py) destroys stacks by that name."""


def _utc_time(text: str) -> str:
    try:
        datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError as error:
        raise ValueError(f"not a time: {error}") from None
    return text


class ReviewConfig(ConfigModel):
    """`viberator:review`: this stack is a pull request's short-lived review stack (docs/review-stacks.md)."""

    pull_request: int = Field(ge=1, description="The pull request's number; the environment is pr-<number>.")
    expires: Annotated[str, Field(pattern=REVIEW_EXPIRES_PATTERN), AfterValidator(_utc_time)] = Field(
        description="UTC, YYYY-MM-DDTHH:MM:SSZ: after it the daily sweep destroys the stack."
    )


class StackConfig(ConfigModel):
    region: str = Field(
        validation_alias="aws:region",
        pattern=REGION_PATTERN,
        description="The AWS provider's region (`aws:region`), needed for log configuration and names.",
    )
    environment: str = Field(
        pattern=NAME_PATTERN,
        max_length=16,
        json_schema_extra={"defaultText": "the stack's name"},
        description="The tag prefix (`<env>-<revision>`) and name prefix (`viberator-<env>-<clanker>`).",
    )
    harnesses: list[str] = Field(
        default_factory=lambda: list(HARNESS_NAMES), min_length=1, description="The harness images this stack builds."
    )
    platform: Platform = Field("linux/amd64", description="The platform of every image not in `harnessPlatforms`.")
    harness_platforms: dict[str, Platform | list[Platform]] = Field(
        default_factory=dict,
        description="A harness's platforms, one or a list (`{claude: [linux/amd64, linux/arm64]}`); unset, the "
        "platforms of its clankers' `architecture`s. Each platform is its own image; an index joins several under "
        "the immutable and floating tags; the first keeps the Image a single-platform stack had (docs/images.md).",
    )
    push_latest: bool | None = Field(
        None, description="Push the global `latest` tag. Default: true when this stack creates the repositories."
    )
    keep_images: int = Field(
        30,
        ge=1,
        le=1000,
        description="Builds (or promotions) of each environment each repository keeps, whatever the number of "
        "platforms (each lifecycle rule counts `keepImages` times the manifests per build). Owner stack only.",
    )
    repositories: Literal["create", "existing"] = Field(
        "create", description="`existing`: use the repositories another stack in this account owns."
    )
    shared_environments: list[Annotated[str, Field(pattern=NAME_PATTERN)]] = Field(
        default_factory=list,
        description="Owner stack only: other environments whose tags land in its repositories (stacks sharing the "
        "account, or `prod` for promoted digests); each is kept by its own lifecycle rule, ahead of the owner's.",
    )
    protect: bool | None = Field(
        None,
        description="Protect repositories, cluster and functions from deletion. Default: true in `prod`. An image "
        "stack others run from always protects its repositories.",
    )
    force_delete: bool = Field(
        False,
        description="Let `pulumi destroy` delete repositories holding images; refused in prod, with `protect`, and "
        "in an image stack others run from.",
    )
    image_revision: str | None = Field(
        None,
        pattern=IMAGE_REVISION_PATTERN,
        description="Override the `<revision>` of the image tags (default: the build context's revision); never "
        "one that makes a movable tag.",
    )
    log_retention_days: int = Field(
        30, description="CloudWatch retention of the clankers' log groups: one of CloudWatch's periods, 1 to 3653."
    )
    network: NetworkConfig | None = Field(
        None,
        description="The VPC of the ecs clankers (default: the account's default VPC); required, with "
        "`assignPublicIp: false`, in a protected stack with ecs clankers.",
    )
    images: ImageSourceConfig | None = Field(
        None,
        description="Take the images from an image stack instead of building them (docs/promotion.md); this stack "
        "then builds nothing and owns no repositories.",
    )
    builder: BuilderConfig | None = Field(
        None, description="A named BuildKit builder to build with (never Docker Build Cloud's `cloud-*`)."
    )
    signing: SigningConfig | None = Field(
        None,
        description="Image stack only: who may sign its digests, administer and read the signing key; unset, "
        "nobody can (the plan warns). docs/images.md, supply chain.",
    )
    build_cache: BuildCacheConfig | None = Field(
        None, description="Image stack only: the one role that may write the registry build cache."
    )
    consumer_accounts: Accounts = Field(
        default_factory=list,
        description="Accounts whose clankers may pull this stack's images (cross-account promotion); never this "
        "stack's own.",
    )
    secret_keys: dict[str, Annotated[str, Field(pattern=KMS_KEY_ARN_PATTERN)]] = Field(
        default_factory=dict,
        description="Secret ARN -> the customer-managed KMS key that encrypts it: every role that reads the secret "
        "(a Lambda function's, an ECS task's execution role) may kms:Decrypt with that key, for that secret only.",
    )
    secret_accounts: Accounts = Field(
        default_factory=list,
        description="Other accounts whose secrets this stack's clankers read: each shares them (the secret's resource "
        "policy and its KMS key's policy grant this account's clanker roles). Without it a secret must be in the "
        "account the clankers run in.",
    )
    replicas: list[ReplicaConfig] = Field(
        default_factory=list,
        max_length=REPLICATION_DESTINATIONS_MAX,
        description="Image stack only: registries ECR copies the images to, for clankers in other regions "
        "(docs/promotion.md, multi-region).",
    )
    review: ReviewConfig | None = Field(
        None, description="This stack is a pull request's review stack `pr-<pullRequest>` (docs/review-stacks.md)."
    )
    clankers: list[SerializeAsAny[ClankerBase]] = Field(
        default_factory=list, description="The workers: each a lambda, ecs or docker clanker (below)."
    )
    """Each its target's model (components/targets/): the parser validates them one by one, not this field."""

    # An int with a check, not a Literal: a top-level value arrives as text ("30") and pydantic coerces text to
    # an int but never to an int Literal.
    @field_validator("log_retention_days")
    @classmethod
    def _cloudwatch_retention(cls, days: int) -> int:
        if days not in LOG_RETENTION_DAYS:
            raise ValueError(f"CloudWatch keeps logs for one of {', '.join(map(str, LOG_RETENTION_DAYS))} days")
        return days

    # Derived settings, resolved once here so components never re-derive them.
    @property
    def is_production(self) -> bool:
        return self.environment == "prod"

    @property
    def protect_resources(self) -> bool:
        return self.is_production if self.protect is None else self.protect

    @property
    def serves_other_stacks(self) -> bool:
        """Other stacks run this stack's images (promotion, other accounts): its repositories are production."""
        return bool(self.shared_environments or self.consumer_accounts)

    @property
    def protect_repositories(self) -> bool:
        """Deleting a repository deletes every digest in it, including those other stacks' clankers pin."""
        return self.protect_resources or self.serves_other_stacks

    @property
    def pushes_latest(self) -> bool:
        return self.repositories == "create" if self.push_latest is None else self.push_latest

    @property
    def builds_images(self) -> bool:
        return self.images is None

    @property
    def creates_signing_key(self) -> bool:
        """A stack that owns the repositories it pushes to signs their digests, unless it is a review stack (whose
        images are never promoted and which the deploy workflow never signs)."""
        return self.builds_images and self.repositories == "create" and self.review is None

    def repository_name_of(self, harness: str) -> str:
        """A review stack's repositories are its own (`viberator-worker-pr-<n>-<harness>`, beside the image
        stack's in the same account), force-deleted with their images when it is destroyed."""
        return repository_name(harness, review_environment=self.environment if self.review is not None else None)

    def platforms_of(self, harness: str) -> tuple[str, ...]:
        """The platforms `harness` is built for: `harnessPlatforms`, else those of its clankers' architectures
        (`platform` for a clanker that names none, and for a harness no clanker runs), `platform` first. The
        first is the harness's primary: its Image keeps the name a single-platform stack gave it."""
        configured = self.harness_platforms.get(harness)
        if configured is not None:
            return (configured,) if isinstance(configured, str) else tuple(configured)
        wanted = {
            PLATFORM_OF_ARCHITECTURE[c.architecture] if c.architecture is not None else self.platform
            for c in self.clankers
            if c.agent == harness
        } or {self.platform}
        order = get_args(Platform)
        return tuple(sorted(wanted, key=lambda platform: (platform != self.platform, order.index(platform))))
