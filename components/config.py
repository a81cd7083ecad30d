"""Stack configuration: the `viberator:*` keys of `Pulumi.<stack>.yaml`, parsed once into typed models.

This module is the only place that reads Pulumi config. Every error names its key path and the bad value
(`viberator:clankers[1].memoryMb = 99999: ...`) and all errors are reported together, before any resource is
registered, so a config mistake never half-deploys a stack.

The YAML shape (every key optional unless noted; README.md documents each with an example):

    viberator:environment: dev            # default: the stack name; tag prefix and name prefix
    viberator:harnesses: [claude, ...]    # default: all nine
    viberator:platform: linux/amd64       # default platform of every image
    viberator:harnessPlatforms: {claude: [linux/amd64, linux/arm64]}   # default: its clankers' architectures
    viberator:pushLatest: true            # push the global `latest` tag (default: true if this stack owns the repos)
    viberator:keepImages: 30              # `<env>-*` images each repository keeps
    viberator:repositories: create        # create | existing (another stack in this account owns them)
    viberator:sharedEnvironments: []      # other environments that push into repositories this stack owns
    viberator:protect: true               # default: true when environment is prod
    viberator:forceDelete: false          # delete repositories with images in them (never in prod)
    viberator:imageRevision: abc123       # override the `<sha>` of the image tags
    viberator:logRetentionDays: 30
    viberator:network: {subnetIds: [...], vpcId: vpc-..., assignPublicIp: false}
    viberator:images: {from: org/project/stack, harnesses: [...]}   # take images from another stack
    viberator:consumerAccounts: ["111122223333"]                    # accounts allowed to pull this stack's images
    viberator:replicas: [{region: us-west-2}, {region: eu-west-1, account: "111122223333"}]  # copies elsewhere
    viberator:review: {pullRequest: 123, expires: "2026-12-08T00:00:00Z"}   # a pull request's review stack pr-123
    viberator:clankers: [{name, agent, target, ...}]
"""

from __future__ import annotations

import datetime
import difflib
import fnmatch
import functools
import importlib.util
import json
import re
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import pulumi
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
)
from pydantic.alias_generators import to_camel
from pydantic_core import PydanticCustomError

from components.aws_target import partition_of_region
from workers.catalog import HARNESS_NAMES, REPOSITORY_PREFIX
from workers.naming import MUTABLE_TAG_PATTERNS, revision_tag

NAMESPACE = "viberator"
NAME_PREFIX = "viberator"
"""Physical names are `viberator-<environment>-<clanker>`."""
LAMBDA_FUNCTION_NAME_MAX = 64
ECS_CLANKER_NAME_MAX = 64 - len("-execution-role") - len("-1234567")
"""IAM role names are at most 64 characters; Pulumi auto-names `<clanker>-execution-role` with a 8-character
random suffix (components/ecs_clanker.py)."""

PLATFORMS = ("linux/amd64", "linux/arm64")
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731)
Platform = Literal["linux/amd64", "linux/arm64"]
Architecture = Literal["x86_64", "arm64"]
ARCHITECTURE_OF_PLATFORM: dict[str, Architecture] = {"linux/amd64": "x86_64", "linux/arm64": "arm64"}
PLATFORM_OF_ARCHITECTURE: dict[str, Platform] = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}

FARGATE_MEMORY_MB: dict[int, range] = {
    256: range(512, 2048 + 1, 512),  # 512, 1024, 2048; 1536 is rejected below
    512: range(1024, 4096 + 1, 1024),
    1024: range(2048, 8192 + 1, 1024),
    2048: range(4096, 16384 + 1, 1024),
    4096: range(8192, 30720 + 1, 1024),
    8192: range(16384, 61440 + 1, 4096),
    16384: range(32768, 122880 + 1, 8192),
}
"""Fargate's valid memory sizes (MiB) for each CPU size (units)."""


def fargate_memory_choices(cpu: int) -> list[int]:
    if cpu == 256:
        return [512, 1024, 2048]
    return list(FARGATE_MEMORY_MB[cpu])


NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"
IMAGE_REVISION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,100}$"
ENV_VAR_PATTERN = r"^[A-Za-z_][A-Za-z0-9_]*$"
LAMBDA_ENV_VAR_PATTERN = r"^[a-zA-Z][a-zA-Z0-9_]+$"
"""Lambda's Environment.Variables key pattern, `[a-zA-Z]([a-zA-Z0-9_])+` (Lambda API reference, Environment)."""
REGION_PATTERN = r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d+$"
SECRET_ARN_PATTERN = (
    r"^arn:(?P<partition>[^:]+):secretsmanager:(?P<region>[^:]*):\d{12}:secret:(?P<name>[A-Za-z0-9/_+=.@-]+)"
    r"(?P<selector>:[^:]*:[^:]*:[^:]*)?$"
)
"""A Secrets Manager secret ARN, optionally with ECS's `:json-key:version-stage:version-id` selector (ECS
Developer Guide, "Pass Secrets Manager secrets through Amazon ECS environment variables")."""
SECRET_SUFFIX = re.compile(r"-[A-Za-z0-9]{6}$")
"""Secrets Manager appends `-` and 6 random characters to a secret's name in its ARN; an ARN without them is
partial, and an IAM policy naming a partial ARN never matches the secret."""
ACCOUNT_ID_PATTERN = r"^\d{12}$"
VPC_ID_PATTERN = r"^vpc-[0-9a-f]{8,17}$"
SUBNET_ID_PATTERN = r"^subnet-[0-9a-f]{8,17}$"
STACK_REFERENCE_PATTERN = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"
DIGEST_PATTERN = r"^sha256:[0-9a-f]{64}$"

LAMBDA_RESERVED_VARIABLES = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "TZ",
    }
)
"""Lambda's reserved keys ("Defined runtime environment variables", Lambda Developer Guide): the runtime sets
them and the API refuses them. Others with AWS_ prefixes (AWS_LAMBDA_EXEC_WRAPPER, AWS_XRAY_*) may be set.
ECS reserves none: an ECS clanker may set AWS_REGION (Claude Code on Bedrock reads it)."""
SECRET_ARNS_VARIABLE = "VIBERATOR_SECRET_ARNS"
"""Lambda cannot inject secrets as env vars: the program passes the ARNs in this one and the worker's runtime
resolves them at cold start (workers/image/viberator_worker/secret_env.py), whole secrets only."""
LAMBDA_ENVIRONMENT_MAX_BYTES = 4096
"""Lambda: "The total size of all environment variables doesn't exceed 4 KB"; the size counted is the bytes of
every key and value (Lambda Developer Guide, "Working with Lambda environment variables")."""

SECRET_LOOKING_NAME = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD|PRIVATE_KEY|CREDENTIALS?)$", re.IGNORECASE)
SECRET_LOOKING_VALUE = re.compile(
    r"^(sk-[A-Za-z0-9_-]{16,}|sk-ant-[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9-]{10,}|-----BEGIN [A-Z ]*PRIVATE KEY-----.*)$",
    re.DOTALL,
)
"""Well-known credential shapes (OpenAI/Anthropic, AWS access key, Google API key, GitHub, Slack, PEM)."""


CREDENTIAL_ERROR = "plaintext_credential"
"""Error type whose offending value is never echoed back."""


class ConfigIssue(BaseModel):
    path: str
    value: Any
    message: str

    def __str__(self) -> str:
        shown = repr(self.value) if self.value is _MISSING or self.value == REDACTED else json.dumps(self.value)
        if len(shown) > 80:
            shown = shown[:77] + "..."
        return f"{self.path} = {shown}: {self.message}"


class _Missing:
    def __repr__(self) -> str:
        return "(missing)"


_MISSING: Any = _Missing()
REDACTED = "(redacted)"


class ConfigError(pulumi.RunError):
    """Invalid stack config; str() lists every issue, one per line.

    A RunError, so `pulumi up` prints the message without a traceback.
    """

    def __init__(self, issues: list[ConfigIssue], source: str = "stack config"):
        self.issues = issues
        lines = "\n".join(f"  - {issue}" for issue in issues)
        super().__init__(f"invalid {source} ({len(issues)} error{'s' if len(issues) != 1 else ''}):\n{lines}")


class _Model(BaseModel):
    """camelCase keys as in the YAML, unknown keys rejected, immutable after parsing."""

    model_config = ConfigDict(alias_generator=to_camel, extra="forbid", frozen=True)


def _not_lambda_reserved(name: str) -> str:
    if name in LAMBDA_RESERVED_VARIABLES:
        raise ValueError(f"{name} is one of Lambda's reserved runtime variables, which a function can't set")
    if name == SECRET_ARNS_VARIABLE:
        raise ValueError(f"{name} is set by the program: it carries this clanker's `secrets`")
    return name


def _secret_arn(value: str) -> re.Match[str]:
    """The parts of a complete Secrets Manager secret ARN, or a ValueError saying what is wrong with it."""
    arn = re.match(SECRET_ARN_PATTERN, value)
    if arn is None:
        raise ValueError(
            "must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>-<6 "
            "characters>): copy it from the secret's page in the console"
        )
    if not re.match(REGION_PATTERN, arn["region"]):
        raise ValueError(f"{arn['region'] or 'an empty region'} is not an AWS region (like us-east-1)")
    if not SECRET_SUFFIX.search(arn["name"]):
        raise ValueError(
            "a partial ARN: a secret's ARN ends in `-` and 6 random characters (…:secret:name-AbCdEf), and the "
            "role's policy would name an ARN that never matches; copy the full ARN from the console"
        )
    return arn


def _whole_secret_arn(value: str) -> str:
    if _secret_arn(value)["selector"]:
        raise ValueError(
            "a JSON-key or version selector works only on ecs: a Lambda clanker's runtime reads the whole secret"
        )
    return value


def _ecs_secret_arn(value: str) -> str:
    _secret_arn(value)
    return value


def lambda_variables(environment: Mapping[str, str], secrets: Mapping[str, str]) -> dict[str, str]:
    """The environment variables a Lambda clanker's function gets: its own and the one carrying its secrets."""
    variables = dict(environment)
    if secrets:
        variables[SECRET_ARNS_VARIABLE] = json.dumps(dict(secrets), sort_keys=True)
    return variables


def lambda_environment_bytes(variables: Mapping[str, str]) -> int:
    return sum(len(name.encode()) + len(value.encode()) for name, value in variables.items())


def _not_a_credential(value: str) -> str:
    if SECRET_LOOKING_VALUE.match(value.strip()):
        raise PydanticCustomError(
            CREDENTIAL_ERROR, "looks like a credential: put it in Secrets Manager and list it under `secrets`"
        )
    return value


EnvVarName = Annotated[str, Field(pattern=ENV_VAR_PATTERN)]
LambdaVariableName = Annotated[str, Field(pattern=LAMBDA_ENV_VAR_PATTERN), AfterValidator(_not_lambda_reserved)]
PlainValue = Annotated[str, AfterValidator(_not_a_credential)]


class _ClankerBase(_Model):
    name: str = Field(pattern=NAME_PATTERN, description="Unique; lowercase letters, digits and hyphens.")
    agent: str = Field(description="A harness this stack builds (or takes from its image stack).")
    image: Literal["pinned", "floating"] = Field(
        "pinned", description="pinned: repo@sha256 (default); floating: repo:<env>-latest."
    )
    architecture: Architecture | None = Field(
        None, description="x86_64 | arm64; default: the architecture of the agent's image platform."
    )


class _CloudClanker(_ClankerBase):
    """A clanker the stack deploys (lambda, ecs), so it sets the environment its agent runs with."""

    environment: dict[str, PlainValue] = Field(default_factory=dict, description="Plain env vars; no credentials.")
    secrets: dict[str, str] = Field(default_factory=dict, description="Env var name -> Secrets Manager secret ARN.")

    @field_validator("environment")
    @classmethod
    def _credential_names_use_secrets(cls, environment: dict[str, str]) -> dict[str, str]:
        named = sorted(key for key, value in environment.items() if SECRET_LOOKING_NAME.search(key) and value)
        if named:
            raise PydanticCustomError(
                CREDENTIAL_ERROR,
                "{names} name credentials: declare them under `secrets` with Secrets Manager ARNs",
                {"names": ", ".join(named)},
            )
        return environment


class LambdaClankerConfig(_CloudClanker):
    target: Literal["lambda"]
    environment: dict[LambdaVariableName, PlainValue] = Field(default_factory=dict)
    secrets: dict[LambdaVariableName, Annotated[str, AfterValidator(_whole_secret_arn)]] = Field(default_factory=dict)
    memory_mb: int = Field(4096, ge=128, le=10240, description="Agents need room: default 4 GiB.")
    timeout_seconds: int = Field(900, ge=1, le=900, description="Lambda's maximum, agent runs are long.")
    ephemeral_storage_mb: int = Field(4096, ge=512, le=10240, description="Room for a cloned repository.")
    reserved_concurrency: int | None = Field(None, ge=0, description="Unset: the account's pool.")


class EcsClankerConfig(_CloudClanker):
    target: Literal["ecs"]
    environment: dict[EnvVarName, PlainValue] = Field(default_factory=dict)
    secrets: dict[EnvVarName, Annotated[str, AfterValidator(_ecs_secret_arn)]] = Field(default_factory=dict)
    cpu: Literal[256, 512, 1024, 2048, 4096, 8192, 16384] = Field(1024, description="Fargate CPU units.")
    memory_mb: int = Field(4096, description="From Fargate's table for the chosen cpu.")
    ephemeral_storage_gb: int | None = Field(None, ge=21, le=200, description="Unset: Fargate's 20 GiB.")

    @field_validator("memory_mb")
    @classmethod
    def _fargate_pair(cls, memory_mb: int, info: ValidationInfo) -> int:
        cpu = info.data.get("cpu")
        if cpu is None:  # cpu itself is invalid and reported on its own
            return memory_mb
        choices = fargate_memory_choices(cpu)
        if memory_mb not in choices:
            step = choices[-1] - choices[-2]
            allowed = (
                ", ".join(map(str, choices))
                if len(choices) <= 4
                else f"{choices[0]} to {choices[-1]} in steps of {step}"
            )
            raise ValueError(f"not a Fargate size for cpu {cpu}: choose {allowed}")
        return memory_mb


class DockerClankerConfig(_ClankerBase):
    """Runs on a local Docker daemon, which the stack does not configure: its outputs name only the image.

    So it takes no `environment` or `secrets` (refused as unknown keys, never dropped): whoever starts the
    container sets its variables (`docker run -e`, compose), and resolving Secrets Manager ARNs on a
    developer's machine would need that machine's AWS credentials, which no stack output can grant.
    """

    target: Literal["docker"]


Clanker = LambdaClankerConfig | EcsClankerConfig | DockerClankerConfig
ClankerConfig = Annotated[Clanker, Field(discriminator="target")]
_CLANKER: TypeAdapter[Clanker] = TypeAdapter(ClankerConfig)


class NetworkConfig(_Model):
    vpc_id: str = Field(pattern=VPC_ID_PATTERN)
    subnet_ids: list[Annotated[str, Field(pattern=SUBNET_ID_PATTERN)]] = Field(min_length=1)
    assign_public_ip: bool = Field(False, description="Private subnets with NAT need no public IP.")


class BuilderConfig(_Model):
    """`viberator:builder`: build on a named BuildKit builder (docker-build's `builder.name`) instead of the
    machine's default, for builds that outgrow one runner: a remote buildkitd, a Docker Build Cloud builder."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$", description="`docker buildx ls`")


class ImageSourceConfig(_Model):
    """Take images from another stack's `images` output instead of building them (build once, promote)."""

    from_: str = Field(alias="from", pattern=STACK_REFERENCE_PATTERN, description="org/project/stack")
    harnesses: list[str] | None = Field(None, description="Only these harnesses; default: all the stack has.")
    digests: dict[str, Annotated[str, Field(pattern=DIGEST_PATTERN)]] | None = Field(
        None,
        description="The approved digests, by harness, that this stack runs whatever the image stack exports by "
        "then: the deploy workflow sets them after a reviewer approved them (ci/verify_promotion.py pin).",
    )
    replica_repositories: Literal["create", "existing"] = Field(
        "create",
        description="When the image stack replicates into this stack's account and region from another account: "
        "create this registry's side (its one registry policy and the replica repositories, "
        "components/replication.py), or `existing`: another stack in this account and region owns them.",
    )


REPLICATION_DESTINATIONS_MAX = 25
"""ECR allows 25 destinations per replication rule (pulumi-aws ReplicationConfiguration, `rules.destinations`)."""


class ReplicaConfig(_Model):
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
REVIEW_EXPIRES_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"


def _utc_time(text: str) -> str:
    try:
        datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError as error:
        raise ValueError(f"not a time: {error}") from None
    return text


class ReviewConfig(_Model):
    """`viberator:review`: this stack is a pull request's short-lived review stack (README "Review stacks")."""

    pull_request: int = Field(ge=1, description="The pull request's number; the environment is pr-<number>.")
    expires: Annotated[str, Field(pattern=REVIEW_EXPIRES_PATTERN), AfterValidator(_utc_time)] = Field(
        description="UTC, YYYY-MM-DDTHH:MM:SSZ: after it the daily sweep destroys the stack."
    )


class StackConfig(_Model):
    region: str = Field(
        validation_alias="aws:region",
        pattern=REGION_PATTERN,
        description="The AWS provider's region (`aws:region`), needed for log configuration and names.",
    )
    environment: str = Field(pattern=NAME_PATTERN, max_length=16)
    harnesses: list[str] = Field(default_factory=lambda: list(HARNESS_NAMES), min_length=1)
    platform: Platform = "linux/amd64"
    harness_platforms: dict[str, Platform | list[Platform]] = Field(default_factory=dict)
    """A harness's platforms, one or a list (the first keeps the Image a single-platform stack had)."""
    push_latest: bool | None = None
    keep_images: int = Field(30, ge=1, le=1000)
    repositories: Literal["create", "existing"] = "create"
    shared_environments: list[Annotated[str, Field(pattern=NAME_PATTERN)]] = Field(default_factory=list)
    protect: bool | None = None
    force_delete: bool = False
    image_revision: str | None = Field(None, pattern=IMAGE_REVISION_PATTERN)
    log_retention_days: int = 30
    network: NetworkConfig | None = None
    images: ImageSourceConfig | None = None
    builder: BuilderConfig | None = None
    consumer_accounts: list[Annotated[str, Field(pattern=ACCOUNT_ID_PATTERN)]] = Field(default_factory=list)
    replicas: list[ReplicaConfig] = Field(default_factory=list, max_length=REPLICATION_DESTINATIONS_MAX)
    review: ReviewConfig | None = None
    clankers: list[ClankerConfig] = Field(default_factory=list)

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

    def repository_name_of(self, harness: str) -> str:
        """A review stack's repositories are its own (`viberator-worker-pr-<n>-<harness>`, beside the image
        stack's in the same account), force-deleted with their images when it is destroyed."""
        if self.review is not None:
            return f"{REPOSITORY_PREFIX}{self.environment}-{harness}"
        return f"{REPOSITORY_PREFIX}{harness}"

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
        return tuple(sorted(wanted, key=lambda platform: (platform != self.platform, PLATFORMS.index(platform))))


def _cross_field_issues(config: StackConfig, positions: list[int]) -> list[ConfigIssue]:
    """Rules that span keys, over the top-level keys and the clankers that are valid on their own.

    `positions` are the clankers' indexes in the user's list (invalid ones were left out), for the key paths.
    """
    issues: list[ConfigIssue] = []
    key = f"{NAMESPACE}:"

    for i, name in enumerate(config.harnesses):
        if name not in HARNESS_NAMES:
            issues.append(
                ConfigIssue(
                    path=f"{key}harnesses[{i}]",
                    value=name,
                    message=f"unknown harness; known: {', '.join(HARNESS_NAMES)}",
                )
            )
    if len(set(config.harnesses)) != len(config.harnesses):
        issues.append(ConfigIssue(path=f"{key}harnesses", value=config.harnesses, message="lists a harness twice"))
    for harness, platforms in config.harness_platforms.items():
        if harness not in config.harnesses:
            issues.append(
                ConfigIssue(
                    path=f"{key}harnessPlatforms.{harness}",
                    value=platforms,
                    message="names a harness this stack does not build",
                )
            )
        elif isinstance(platforms, list) and (not platforms or len(set(platforms)) != len(platforms)):
            issues.append(
                ConfigIssue(
                    path=f"{key}harnessPlatforms.{harness}",
                    value=platforms,
                    message="lists no platform, or one twice",
                )
            )
    if config.images is not None:
        for i, name in enumerate(config.images.harnesses or []):
            if name not in HARNESS_NAMES:
                issues.append(ConfigIssue(path=f"{key}images.harnesses[{i}]", value=name, message="unknown harness"))
        for name, digest in (config.images.digests or {}).items():
            if name not in HARNESS_NAMES or name not in (config.images.harnesses or HARNESS_NAMES):
                issues.append(
                    ConfigIssue(
                        path=f"{key}images.digests.{name}",
                        value=digest,
                        message="names a harness this stack does not take"
                        if name in HARNESS_NAMES
                        else f"unknown harness; known: {', '.join(HARNESS_NAMES)}",
                    )
                )

    if config.image_revision is not None:
        tag = revision_tag(config.environment, config.image_revision)
        if any(fnmatch.fnmatchcase(tag, pattern) for pattern in MUTABLE_TAG_PATTERNS):
            issues.append(
                ConfigIssue(
                    path=f"{key}imageRevision",
                    value=config.image_revision,
                    message=f"the tag {tag} would be one of the movable tags ({', '.join(MUTABLE_TAG_PATTERNS)}), "
                    "never an immutable one",
                )
            )
    if config.force_delete and (config.is_production or config.protect_resources):
        issues.append(
            ConfigIssue(
                path=f"{key}forceDelete",
                value=True,
                message="a production or protected stack never force-deletes repositories",
            )
        )
    elif config.force_delete and config.serves_other_stacks:
        issues.append(
            ConfigIssue(
                path=f"{key}forceDelete",
                value=True,
                message="other stacks run this stack's images (sharedEnvironments, consumerAccounts): deleting a "
                "repository with force deletes the digests their clankers pin; README 'Retiring a harness'",
            )
        )
    if config.protect is False and config.serves_other_stacks:
        issues.append(
            ConfigIssue(
                path=f"{key}protect",
                value=False,
                message="other stacks run this stack's images (sharedEnvironments, consumerAccounts), so its "
                "repositories stay protected; README 'Retiring a harness'",
            )
        )
    has_ecs = any(isinstance(clanker, EcsClankerConfig) for clanker in config.clankers)
    if has_ecs and config.protect_resources and config.network is None:
        issues.append(
            ConfigIssue(
                path=f"{key}network",
                value=_MISSING,
                message="a protected stack's ecs clankers run in a network it names (private subnets, "
                "assignPublicIp: false), never in whatever default VPC the account has",
            )
        )
    elif has_ecs and config.protect_resources and config.network is not None and config.network.assign_public_ip:
        issues.append(
            ConfigIssue(
                path=f"{key}network.assignPublicIp",
                value=True,
                message="a protected stack's ecs tasks run in private subnets without public IPs (egress via NAT)",
            )
        )
    if config.repositories == "existing" and config.push_latest:
        issues.append(
            ConfigIssue(
                path=f"{key}pushLatest",
                value=True,
                message="with repositories: existing the owning stack pushes `latest`; two stacks pushing it "
                "flip-flop the tag",
            )
        )
    if config.repositories == "existing" and config.shared_environments:
        issues.append(
            ConfigIssue(
                path=f"{key}sharedEnvironments",
                value=config.shared_environments,
                message="only the stack that owns the repositories (repositories: create) sets their lifecycle",
            )
        )

    available = set(config.images.harnesses or HARNESS_NAMES) if config.images is not None else set(config.harnesses)
    seen: dict[str, int] = {}
    name_limit = LAMBDA_FUNCTION_NAME_MAX - len(f"{NAME_PREFIX}-{config.environment}-")
    for i, clanker in zip(positions, config.clankers, strict=True):
        path = f"{key}clankers[{i}]"
        if clanker.name in seen:
            issues.append(
                ConfigIssue(
                    path=f"{path}.name",
                    value=clanker.name,
                    message=f"duplicate of clankers[{seen[clanker.name]}]",
                )
            )
        seen.setdefault(clanker.name, i)
        if isinstance(clanker, EcsClankerConfig) and len(clanker.name) > ECS_CLANKER_NAME_MAX:
            issues.append(
                ConfigIssue(
                    path=f"{path}.name",
                    value=clanker.name,
                    message=f"too long for an ecs clanker: its IAM role `<name>-execution-role` plus Pulumi's "
                    f"8-character suffix must fit 64 characters, so at most {ECS_CLANKER_NAME_MAX}",
                )
            )
        elif len(clanker.name) > name_limit:
            issues.append(
                ConfigIssue(
                    path=f"{path}.name",
                    value=clanker.name,
                    message=f"too long: `{NAME_PREFIX}-{config.environment}-<name>` must fit "
                    f"{LAMBDA_FUNCTION_NAME_MAX} characters, so at most {name_limit}",
                )
            )
        if clanker.agent not in HARNESS_NAMES:
            issues.append(
                ConfigIssue(
                    path=f"{path}.agent",
                    value=clanker.agent,
                    message=f"unknown agent; known: {', '.join(HARNESS_NAMES)}",
                )
            )
        elif clanker.agent not in available:
            issues.append(
                ConfigIssue(
                    path=f"{path}.agent",
                    value=clanker.agent,
                    message="this stack has no image for it: add it to viberator:harnesses"
                    + (" (or to viberator:images.harnesses)" if config.images is not None else ""),
                )
            )
        elif clanker.image == "floating" and not config.builds_images:
            issues.append(
                ConfigIssue(
                    path=f"{path}.image",
                    value=clanker.image,
                    message="a promoting stack (viberator:images.from) runs the promoted digests; "
                    "floating tags name whatever the image stack pushed last",
                )
            )
        elif config.builds_images:
            built_for = config.platforms_of(clanker.agent)
            if clanker.architecture is not None and PLATFORM_OF_ARCHITECTURE[clanker.architecture] not in built_for:
                issues.append(
                    ConfigIssue(
                        path=f"{path}.architecture",
                        value=clanker.architecture,
                        message=f"no platform of the {clanker.agent} image runs it (built for "
                        f"{', '.join(built_for)}): add {PLATFORM_OF_ARCHITECTURE[clanker.architecture]} to "
                        f"viberator:harnessPlatforms.{clanker.agent}, or set the clanker's architecture to match",
                    )
                )
            elif clanker.target == "lambda" and clanker.image == "floating" and len(built_for) > 1:
                issues.append(
                    ConfigIssue(
                        path=f"{path}.image",
                        value=clanker.image,
                        message=f"the {clanker.agent} image is built for {', '.join(built_for)}, so its floating "
                        "tag names an image index, which Lambda does not run: pin the clanker's image",
                    )
                )
    return issues


def _path(loc: tuple[str | int, ...]) -> str:
    """`viberator:clankers[1].memoryMb` from pydantic's loc, dropping discriminated-union tags."""
    if loc and isinstance(loc[0], str) and ":" in loc[0]:
        return loc[0]  # a key of another namespace (aws:region)
    text = f"{NAMESPACE}:"
    parts = list(loc)
    out = ""
    for index, part in enumerate(parts):
        if isinstance(part, int):
            out += f"[{part}]"
        elif index > 0 and isinstance(parts[index - 1], int) and part in ("lambda", "ecs", "docker"):
            continue  # the union member pydantic tried, not a key the user wrote
        elif part == "[key]":
            continue  # pydantic's marker for an error in a mapping's key, which the path already names
        else:
            out += f".{part}" if out else part
    return text + out


def _value_at(data: Any, loc: tuple[str | int, ...]) -> Any:
    current = data
    for part in loc:
        if isinstance(current, Mapping) and part in current:  # noqa: SIM114 - separate, so mypy narrows `part`
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and part < len(current):
            current = current[part]
        elif part in ("lambda", "ecs", "docker", "[key]"):
            continue
        else:
            return _MISSING
    return current


PATTERN_HINTS = {
    NAME_PATTERN: "use lowercase letters, digits and hyphens (not at either end)",
    ENV_VAR_PATTERN: "an environment variable name: letters, digits and underscores, not starting with a digit",
    LAMBDA_ENV_VAR_PATTERN: "a Lambda variable name: a letter, then letters, digits and underscores (2 or more)",
    REGION_PATTERN: "must be an AWS region, like us-east-1",
    ACCOUNT_ID_PATTERN: "must be a 12-digit AWS account id",
    IMAGE_REVISION_PATTERN: "a tag-safe revision: letters, digits, `.`, `_` and `-`",
    VPC_ID_PATTERN: "must be a VPC id (vpc- and 8 or 17 hex digits)",
    SUBNET_ID_PATTERN: "must be a subnet id (subnet- and 8 or 17 hex digits)",
    STACK_REFERENCE_PATTERN: "must be a fully qualified stack name <org>/<project>/<stack>",
    DIGEST_PATTERN: "must be an image digest, sha256: and 64 hex digits",
    REVIEW_EXPIRES_PATTERN: 'a UTC time as YYYY-MM-DDTHH:MM:SSZ, quoted ("2026-12-08T00:00:00Z")',
}


_CLANKER_MODELS: dict[str, type[_Model]] = {
    "lambda": LambdaClankerConfig,
    "ecs": EcsClankerConfig,
    "docker": DockerClankerConfig,
}
_NESTED_MODELS: dict[str | int, type[_Model]] = {
    "network": NetworkConfig,
    "images": ImageSourceConfig,
    "replicas": ReplicaConfig,
    "review": ReviewConfig,
}


def _keys_of(model: type[_Model]) -> list[str]:
    """The keys a model reads as the YAML spells them (not `aws:region`, which is the provider's)."""
    return [field.alias or name for name, field in model.model_fields.items() if ":" not in str(field.validation_alias)]


def _unknown_key_message(loc: tuple[str | int, ...]) -> str:
    key = str(loc[-1])
    target = next((part for part in loc if part in _CLANKER_MODELS), None)
    if target is not None:
        elsewhere = [other for other, model in _CLANKER_MODELS.items() if key in _keys_of(model)]
        if elsewhere:
            targets = " and ".join(elsewhere)
            article = "an" if targets[0] in "aeiou" else "a"
            hint = "; set them where the container is started (docker run -e, compose)" if target == "docker" else ""
            return f"`{key}` is {article} {targets} field; this clanker's target is {target}{hint}"
        known = _keys_of(_CLANKER_MODELS[target])
    else:
        known = _keys_of(_NESTED_MODELS.get(loc[0], StackConfig) if len(loc) > 1 else StackConfig)
    close = difflib.get_close_matches(key, known, n=1)
    return f"unknown key: did you mean {close[0]}?" if close else f"unknown key; known: {', '.join(known)}"


def _message(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "string_pattern_mismatch":
        return PATTERN_HINTS.get(error.get("ctx", {}).get("pattern", ""), message)
    if error["type"] == "extra_forbidden":
        return _unknown_key_message(tuple(error["loc"]))
    if error["type"] == "string_type" and isinstance(error.get("input"), bool | int | float):
        kind = "boolean" if isinstance(error["input"], bool) else "number"
        return f'YAML read {json.dumps(error["input"])} as a {kind}; this is text: quote it ("{error["input"]}")'
    if error["type"] == "union_tag_invalid":
        return "target must be one of: lambda, ecs, docker"
    if error["type"] == "union_tag_not_found":
        return "missing key `target` (lambda, ecs or docker)"
    return message


def _issue(data: Mapping[str, Any], error: Mapping[str, Any]) -> ConfigIssue:
    loc = tuple(error["loc"])
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc = (*loc, "target")  # the discriminator key is what the user got wrong
    value = _value_at(data, loc)
    if len(loc) == 1:
        value = _shown(value)
    # A credential pasted into any key (say, an API key where a secret ARN belongs) is never echoed back.
    looks_like_credential = isinstance(value, str) and SECRET_LOOKING_VALUE.match(value.strip())
    if error["type"] == CREDENTIAL_ERROR or looks_like_credential:
        value = REDACTED
    return ConfigIssue(path=_path(loc), value=value, message=_message(error))


def parse_stack_config(
    values: Mapping[str, Any],
    *,
    stack: str,
    region: str | None,
    account: str | None = None,
    source: str = "stack config",
) -> StackConfig:
    """Parse the `viberator:` namespace (keys without the prefix) into a StackConfig, or raise ConfigError.
    `account`: the stack's account when its config pins exactly one (`allowed_accounts`), else unknown (None)."""
    data = {"environment": stack, **values}
    if region is not None:
        data["aws:region"] = region
    # Clankers are validated one by one, so that the cross-field rules still run over the valid ones and every
    # mistake in the file is reported in one run, not one per run.
    raw_clankers = data.get("clankers", [])
    clankers: list[tuple[int, Clanker]] = []
    clanker_issues: list[ConfigIssue] = []
    declared_targets: set[str] = set()
    if isinstance(raw_clankers, list):
        declared_targets = {str(raw.get("target")) for raw in raw_clankers if isinstance(raw, Mapping)}
        for i, raw in enumerate(raw_clankers):
            try:
                clankers.append((i, _CLANKER.validate_python(raw)))
            except ValidationError as error:
                clanker_issues += [_issue(data, {**e, "loc": ("clankers", i, *e["loc"])}) for e in error.errors()]
        data_without_clankers = {**data, "clankers": []}
    else:
        data_without_clankers = data  # the model reports that `clankers` is not a list
    try:
        config = StackConfig.model_validate(data_without_clankers)
    except ValidationError as error:
        raise ConfigError([_issue(data, e) for e in error.errors()] + clanker_issues, source) from None
    config = config.model_copy(update={"clankers": [clanker for _, clanker in clankers]})
    positions = [i for i, _ in clankers]
    issues = (
        clanker_issues
        + _cross_field_issues(config, positions)
        + _unread_setting_issues(config, declared_targets)
        + _environment_issues(config, positions)
        + _replica_issues(config, account)
        + _review_issues(config)
    )
    if issues:
        raise ConfigError(sorted(issues, key=_clanker_position), source)
    return config


BUILD_SETTINGS = (
    "harnesses",
    "platform",
    "harness_platforms",
    "push_latest",
    "keep_images",
    "repositories",
    "shared_environments",
    "force_delete",
    "image_revision",
    "consumer_accounts",
    "replicas",
)
"""Settings of a stack that builds images and owns their repositories; a promoting stack reads none of them."""


def _unread_setting_issues(config: StackConfig, declared_targets: set[str]) -> list[ConfigIssue]:
    """Settings the program would never read in this stack's mode: each is an error, never silently dropped."""
    key = f"{NAMESPACE}:"
    issues: list[ConfigIssue] = []
    if config.images is not None:
        for name in BUILD_SETTINGS:
            if name in config.model_fields_set:
                instead = (
                    "list the harnesses to take in viberator:images.harnesses"
                    if name == "harnesses"
                    else f"the image stack {config.images.from_} sets it"
                )
                issues.append(
                    ConfigIssue(
                        path=f"{key}{to_camel(name)}",
                        value=_shown(config.model_dump(exclude_none=True)[name]),
                        message="a promoting stack (viberator:images.from) builds no images and owns no "
                        f"repositories, so it never reads this: remove it ({instead})",
                    )
                )
    if config.network is not None and "ecs" not in declared_targets:
        issues.append(
            ConfigIssue(
                path=f"{key}network",
                value=config.network.model_dump(by_alias=True),
                message="only ecs clankers run in a network, and this stack has none: remove it",
            )
        )
    seen: set[str] = set()
    for i, environment in enumerate(config.shared_environments):
        if environment == config.environment:
            message = "this stack's own environment, which its own lifecycle rule already keeps: remove it"
        elif environment in seen:
            message = "listed twice: each environment gets one lifecycle rule"
        else:
            seen.add(environment)
            continue
        issues.append(ConfigIssue(path=f"{key}sharedEnvironments[{i}]", value=environment, message=message))
    return issues


def _replica_issues(config: StackConfig, account: str | None) -> list[ConfigIssue]:
    """Where an image stack's images are replicated: one registry-level configuration, in one partition, each
    destination once (ECR refuses duplicates and destinations across partitions). An `account` that is the
    stack's own is refused: the program would treat it as another account's registry (leaving its replica
    repositories to a promoting stack there). It is known only when `aws:allowedAccountIds` names exactly one
    account; unpinned (or with several), the stack may deploy anywhere and nothing offline can tell."""
    key = f"{NAMESPACE}:replicas"
    if not config.replicas or not config.builds_images:
        return []  # a promoting stack's replicas are reported as a build setting
    if config.repositories == "existing":
        return [
            ConfigIssue(
                path=key,
                value=[replica.model_dump(exclude_none=True) for replica in config.replicas],
                message="ECR keeps one replication configuration per registry and region, and the stack that owns "
                "this account's repositories (repositories: create) owns it: a second owner's up would replace "
                "its rules; list the regions there",
            )
        ]
    issues: list[ConfigIssue] = []
    partition = partition_of_region(config.region)
    seen: set[tuple[str, str | None]] = set()
    for i, replica in enumerate(config.replicas):
        path = f"{key}[{i}]"
        if replica.account is not None and replica.account == account:
            issues.append(
                ConfigIssue(
                    path=f"{path}.account",
                    value=replica.account,
                    message="this stack's own account (aws:allowedAccountIds): leave `account` out for this "
                    "account's registry, whose replica repositories this stack creates",
                )
            )
        elif replica.account is None and replica.region == config.region:
            issues.append(
                ConfigIssue(
                    path=f"{path}.region",
                    value=replica.region,
                    message="this stack's own region, where its images already are: list other regions (or another "
                    "account)",
                )
            )
        elif partition_of_region(replica.region) != partition:
            issues.append(
                ConfigIssue(
                    path=f"{path}.region",
                    value=replica.region,
                    message=f"in partition {partition_of_region(replica.region)}, and this stack's region "
                    f"{config.region} is in {partition}: ECR replicates only within a partition",
                )
            )
        elif (replica.region, replica.account) in seen:
            issues.append(ConfigIssue(path=path, value=replica.model_dump(exclude_none=True), message="listed twice"))
        seen.add((replica.region, replica.account))
    return issues


def _review_issues(config: StackConfig) -> list[ConfigIssue]:
    """A review stack leaves nothing behind when it is destroyed, and nothing else depends on it; and only a
    review stack takes a review stack's name."""
    key = f"{NAMESPACE}:"
    review = config.review
    if review is None:
        if REVIEW_ENVIRONMENT.match(config.environment):
            return [
                ConfigIssue(
                    path=f"{key}environment",
                    value=config.environment,
                    message="pr-<number> names a pull request's review stack, which the daily sweep destroys: set "
                    "viberator:review (stacks/review.yaml), or choose another name",
                )
            ]
        return []
    issues: list[ConfigIssue] = []
    if config.environment != f"pr-{review.pull_request}":
        issues.append(
            ConfigIssue(
                path=f"{key}environment",
                value=config.environment,
                message=f"a review stack's environment is pr-<pullRequest>: pr-{review.pull_request}",
            )
        )
    if config.protect:
        issues.append(
            ConfigIssue(
                path=f"{key}protect",
                value=True,
                message="a review stack is destroyed when its pull request closes: nothing in it is protected",
            )
        )
    for name in ("shared_environments", "consumer_accounts", "replicas"):
        if name in config.model_fields_set and config.builds_images:
            issues.append(
                ConfigIssue(
                    path=f"{key}{to_camel(name)}",
                    value=config.model_dump(exclude_none=True)[name],
                    message="a review stack's images live and die with it: no other stack, account or region "
                    "may run them",
                )
            )
    if config.builds_images and config.repositories == "existing":
        issues.append(
            ConfigIssue(
                path=f"{key}repositories",
                value="existing",
                message="a review stack pushes into repositories of its own, which its destroy deletes with their "
                "images; another stack's repositories would keep them",
            )
        )
    elif config.builds_images and not config.force_delete:
        issues.append(
            ConfigIssue(
                path=f"{key}forceDelete",
                value=False,
                message="a review stack that builds images sets forceDelete: true, or `pulumi destroy` fails on "
                "repositories that still hold them",
            )
        )
    return issues


def _environment_issues(config: StackConfig, positions: list[int]) -> list[ConfigIssue]:
    """The deployed clankers' variables and secrets, as AWS would take them: no name twice, Lambda's 4 KB, and
    secrets in the stack's partition."""
    issues: list[ConfigIssue] = []
    partition = partition_of_region(config.region)
    for i, clanker in zip(positions, config.clankers, strict=True):
        path = f"{NAMESPACE}:clankers[{i}]"
        if not isinstance(clanker, LambdaClankerConfig | EcsClankerConfig):
            continue
        for variable in sorted(set(clanker.environment) & set(clanker.secrets)):
            issues.append(
                ConfigIssue(
                    path=f"{path}.environment.{variable}",
                    value=clanker.environment[variable],
                    message=f"{variable} set in both environment and secrets: keep only the secret",
                )
            )
        if isinstance(clanker, LambdaClankerConfig):
            variables = lambda_variables(clanker.environment, clanker.secrets)
            size = lambda_environment_bytes(variables)
            if size > LAMBDA_ENVIRONMENT_MAX_BYTES:
                carried = (
                    f", {lambda_environment_bytes({SECRET_ARNS_VARIABLE: variables[SECRET_ARNS_VARIABLE]})} of "
                    f"them in {SECRET_ARNS_VARIABLE}, which carries the secrets"
                    if clanker.secrets
                    else ""
                )
                issues.append(
                    ConfigIssue(
                        path=f"{path}.environment",
                        value=size,
                        message=f"the function's variables would total {size} bytes of names and values{carried}; "
                        f"Lambda allows {LAMBDA_ENVIRONMENT_MAX_BYTES} (4 KB): move large values out (a secret, "
                        "or a file in the image)",
                    )
                )
        for variable, arn in clanker.secrets.items():
            arn_partition = arn.split(":")[1]
            if arn_partition != partition:
                issues.append(
                    ConfigIssue(
                        path=f"{path}.secrets.{variable}",
                        value=arn,
                        message=f"partition {arn_partition}, but this stack's region {config.region} is in "
                        f"{partition}: a role there can't read it",
                    )
                )
    return issues


def _shown(value: Any) -> Any:
    """A value as the user wrote it: a top-level setting arrives as text ("30", "true"), shown as YAML had it."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value)
        except ValueError:
            return value
        return decoded if isinstance(decoded, bool | int | float) else value
    return value


def _clanker_position(issue: ConfigIssue) -> tuple[int, int]:
    """Stack-level issues first, then each clanker's in list order (a stable sort keeps the rest in place)."""
    match = re.match(rf"^{NAMESPACE}:clankers\[(\d+)\]", issue.path)
    return (1, int(match.group(1))) if match else (0, 0)


PROVIDER_NAMESPACES = ("aws", "docker-build", "pulumi")
"""The providers' namespaces (aws:region, aws:profile, aws:allowedAccountIds, aws:defaultTags, …; docker-build:
host, registries) and Pulumi's own: their keys are theirs to read and check, so any of them is allowed."""


def decode_config_value(raw: str) -> Any:
    """A value as the program's settings take it. The CLI passes an object or list as JSON text and any other
    value as its text ("10", "true", "20240601"), which stays text: the model coerces it where a setting is a
    number or a boolean, and keeps it where a setting is text. No scalar setting starts with `{` or `[`."""
    if raw.lstrip().startswith(("{", "[")):
        try:
            return json.loads(raw)
        except ValueError:
            return raw  # the model reports that the text is not the object or list it expects
    return raw


def _foreign_key_issue(key: str, raw: str, secret: bool) -> ConfigIssue:
    """A key outside the namespaces the program and its providers read: `pulumi up` would silently ignore it."""
    namespace, _, name = key.rpartition(":")
    setting = name.split(".")[0].split("[")[0]
    value = REDACTED if secret else _shown(decode_config_value(raw))
    if setting == "region":
        message = f"did you mean aws:region? `pulumi config set aws:region {raw}`"
    elif setting in _keys_of(StackConfig):
        where = f"the namespace {namespace}" if namespace else "no namespace"
        how = (
            f"`pulumi config set {NAMESPACE}:{setting} {raw}`"
            if not raw.lstrip().startswith(("{", "["))
            else f"rename the key in the stack file to {NAMESPACE}:{setting}"
        )
        message = f"{where}, which this program never reads: did you mean {NAMESPACE}:{setting}? {how}"
    else:
        message = (
            f"this program reads only {NAMESPACE}:* and its providers' "
            f"{', '.join(f'{ns}:*' for ns in PROVIDER_NAMESPACES)}"
        )
    return ConfigIssue(path=key, value=value, message=message)


AWS_PROVIDER = "aws"


@functools.cache
def aws_provider_keys() -> frozenset[str]:
    """The AWS provider's own settings (`aws:<key>`), as pulumi-aws declares them in its config module: read
    from its source, not copied here, so a provider upgrade brings its new keys along."""
    spec = importlib.util.find_spec("pulumi_aws.config.vars")
    assert spec is not None and spec.origin is not None  # pulumi-aws is a dependency of the program
    source = Path(spec.origin).read_text()
    return frozenset(re.findall(r"__config__\.get(?:_bool|_int|_float|_object)?\('([A-Za-z0-9]+)'\)", source))


def _aws_key_issues(config: Mapping[str, str]) -> list[ConfigIssue]:
    """`aws:` keys the provider would ignore (a typo: `aws:defaultTag`), and the account pin in a shape the
    provider would misread: a YAML number loses an id's leading zeros, a bare id is not the list it takes."""
    issues = []
    for key, raw in config.items():
        namespace, _, name = key.partition(":")
        setting = name.split(".")[0].split("[")[0]
        if namespace != AWS_PROVIDER or setting in aws_provider_keys():
            continue
        close = difflib.get_close_matches(setting, sorted(aws_provider_keys()), n=1)
        hint = f": did you mean {AWS_PROVIDER}:{close[0]}?" if close else ""
        issues.append(
            ConfigIssue(
                path=key, value=_shown(decode_config_value(raw)), message=f"not a setting of the AWS provider{hint}"
            )
        )
    raw_accounts = config.get(f"{AWS_PROVIDER}:allowedAccountIds")
    if raw_accounts is not None:
        accounts = decode_config_value(raw_accounts)
        example = 'aws:allowedAccountIds: ["123456789012"]'
        if not isinstance(accounts, list):
            issues.append(
                ConfigIssue(
                    path=f"{AWS_PROVIDER}:allowedAccountIds",
                    value=_shown(accounts),
                    message=f"must be a list of quoted account ids: {example}",
                )
            )
        else:
            for i, account in enumerate(accounts):
                if not (isinstance(account, str) and re.fullmatch(ACCOUNT_ID_PATTERN, account)):
                    why = "a YAML number (leading zeros are lost): quote it" if isinstance(account, int) else ""
                    issues.append(
                        ConfigIssue(
                            path=f"{AWS_PROVIDER}:allowedAccountIds[{i}]",
                            value=account,
                            message=why or PATTERN_HINTS[ACCOUNT_ID_PATTERN],
                        )
                    )
    return issues


def allowed_accounts(config: Mapping[str, str]) -> tuple[str, ...]:
    """`aws:allowedAccountIds`: the provider refuses credentials of any other account, so the stack's resources
    can only be in one of these. Empty when unset or malformed (the provider reports that)."""
    try:
        allowed = json.loads(config.get("aws:allowedAccountIds", "[]"))
    except ValueError:
        return ()
    return tuple(str(account) for account in allowed) if isinstance(allowed, list) else ()


def parse_pulumi_config(
    config: Mapping[str, str], *, stack: str, secret_keys: Collection[str] = (), source: str = "stack config"
) -> StackConfig:
    """Parse a stack's whole config as the Pulumi CLI passes it (every namespace; values as text, objects and
    lists as JSON) into a StackConfig, or raise ConfigError with every issue, keys of unknown namespaces too."""
    prefix = f"{NAMESPACE}:"
    issues = [
        _foreign_key_issue(key, raw, key in secret_keys)
        for key, raw in config.items()
        if not key.startswith(prefix) and key.partition(":")[0] not in PROVIDER_NAMESPACES
    ] + _aws_key_issues(config)
    values = {
        key.removeprefix(prefix): decode_config_value(raw) for key, raw in config.items() if key.startswith(prefix)
    }
    try:
        allowed = allowed_accounts(config)
        parsed = parse_stack_config(
            values,
            stack=stack,
            region=config.get("aws:region"),
            account=allowed[0] if len(allowed) == 1 else None,
            source=source,
        )
    except ConfigError as error:
        raise ConfigError(issues + error.issues, source) from None
    if issues:
        raise ConfigError(issues, source)
    return parsed


def load_stack_config() -> StackConfig:
    """Parse the running stack's config as the language host received it (raises ConfigError)."""
    from pulumi.runtime import config as runtime_config

    keys = sorted(set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env()))
    secret_keys = set(runtime_config.get_config_secret_keys_env())
    secret_keys |= {key for key in keys if runtime_config.is_config_secret(key)}
    config = {key: str(runtime_config.get_config(key)) for key in keys}
    return parse_pulumi_config(config, stack=pulumi.get_stack(), secret_keys=secret_keys)
