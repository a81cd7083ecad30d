"""Stack configuration: the `viberator:*` keys of `Pulumi.<stack>.yaml`, parsed once into typed models.

This module is the only place that reads Pulumi config. Every error names its key path and the bad value
(`viberator:clankers[1].memoryMb = 99999: ...`) and all errors are reported together, before any resource is
registered, so a config mistake never half-deploys a stack.

The YAML shape (every key optional unless noted; README.md documents each with an example):

    viberator:environment: dev            # default: the stack name; tag prefix and name prefix
    viberator:harnesses: [claude, ...]    # default: all nine
    viberator:platform: linux/amd64       # default platform of every image
    viberator:harnessPlatforms: {claude: linux/arm64}
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
    viberator:clankers: [{name, agent, target, ...}]
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Mapping
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

from workers.catalog import HARNESS_NAMES
from workers.naming import MUTABLE_TAG_PATTERNS, revision_tag

NAMESPACE = "viberator"
NAME_PREFIX = "viberator"
"""Physical names are `viberator-<environment>-<clanker>`."""
LAMBDA_FUNCTION_NAME_MAX = 64
ECS_CLANKER_NAME_MAX = 64 - len("-execution-role") - len("-1234567")
"""IAM role names are at most 64 characters; Pulumi auto-names `<clanker>-execution-role` with a 8-character
random suffix (components/ecs_clanker.py)."""

PLATFORMS = ("linux/amd64", "linux/arm64")
Platform = Literal["linux/amd64", "linux/arm64"]
Architecture = Literal["x86_64", "arm64"]
ARCHITECTURE_OF_PLATFORM: dict[str, Architecture] = {"linux/amd64": "x86_64", "linux/arm64": "arm64"}

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
SECRET_ARN_PATTERN = r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\d{12}:secret:[A-Za-z0-9/_+=.@-]+$"
ACCOUNT_ID_PATTERN = r"^\d{12}$"
VPC_ID_PATTERN = r"^vpc-[0-9a-f]{8,17}$"
SUBNET_ID_PATTERN = r"^subnet-[0-9a-f]{8,17}$"
STACK_REFERENCE_PATTERN = r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$"

RESERVED_ENV_PREFIXES = ("AWS_", "LAMBDA_", "_HANDLER", "VIBERATOR_SECRET_ARNS")
"""Lambda reserves AWS_* and these runtime keys; VIBERATOR_SECRET_ARNS carries the Lambda secrets."""

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


def _not_reserved(name: str) -> str:
    if name.startswith(RESERVED_ENV_PREFIXES):
        raise ValueError(f"{name} is reserved by the runtime")
    return name


def _not_a_credential(value: str) -> str:
    if SECRET_LOOKING_VALUE.match(value.strip()):
        raise PydanticCustomError(
            CREDENTIAL_ERROR, "looks like a credential: put it in Secrets Manager and list it under `secrets`"
        )
    return value


EnvVarName = Annotated[str, Field(pattern=ENV_VAR_PATTERN)]
PlainEnvironment = dict[
    Annotated[EnvVarName, AfterValidator(_not_reserved)], Annotated[str, AfterValidator(_not_a_credential)]
]
SecretArn = Annotated[str, Field(pattern=SECRET_ARN_PATTERN)]


class _ClankerBase(_Model):
    name: str = Field(pattern=NAME_PATTERN, description="Unique; lowercase letters, digits and hyphens.")
    agent: str = Field(description="A harness this stack builds (or takes from its image stack).")
    image: Literal["pinned", "floating"] = Field(
        "pinned", description="pinned: repo@sha256 (default); floating: repo:<env>-latest."
    )
    architecture: Architecture | None = Field(
        None, description="x86_64 | arm64; default: the architecture of the agent's image platform."
    )
    environment: PlainEnvironment = Field(default_factory=dict, description="Plain env vars; no credentials.")
    secrets: dict[EnvVarName, SecretArn] = Field(
        default_factory=dict, description="Env var name -> Secrets Manager secret ARN."
    )

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


class LambdaClankerConfig(_ClankerBase):
    target: Literal["lambda"]
    memory_mb: int = Field(4096, ge=128, le=10240, description="Agents need room: default 4 GiB.")
    timeout_seconds: int = Field(900, ge=1, le=900, description="Lambda's maximum, agent runs are long.")
    ephemeral_storage_mb: int = Field(4096, ge=512, le=10240, description="Room for a cloned repository.")
    reserved_concurrency: int | None = Field(None, ge=0, description="Unset: the account's pool.")


class EcsClankerConfig(_ClankerBase):
    target: Literal["ecs"]
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
    target: Literal["docker"]


Clanker = LambdaClankerConfig | EcsClankerConfig | DockerClankerConfig
ClankerConfig = Annotated[Clanker, Field(discriminator="target")]
_CLANKER: TypeAdapter[Clanker] = TypeAdapter(ClankerConfig)


class NetworkConfig(_Model):
    vpc_id: str = Field(pattern=VPC_ID_PATTERN)
    subnet_ids: list[Annotated[str, Field(pattern=SUBNET_ID_PATTERN)]] = Field(min_length=1)
    assign_public_ip: bool = Field(False, description="Private subnets with NAT need no public IP.")


class ImageSourceConfig(_Model):
    """Take images from another stack's `images` output instead of building them (build once, promote)."""

    from_: str = Field(alias="from", pattern=STACK_REFERENCE_PATTERN, description="org/project/stack")
    harnesses: list[str] | None = Field(None, description="Only these harnesses; default: all the stack has.")


class StackConfig(_Model):
    region: str = Field(
        validation_alias="aws:region",
        pattern=r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$",
        description="The AWS provider's region (`aws:region`), needed for log configuration and names.",
    )
    environment: str = Field(pattern=NAME_PATTERN, max_length=16)
    harnesses: list[str] = Field(default_factory=lambda: list(HARNESS_NAMES), min_length=1)
    platform: Platform = "linux/amd64"
    harness_platforms: dict[str, Platform] = Field(default_factory=dict)
    push_latest: bool | None = None
    keep_images: int = Field(30, ge=1, le=1000)
    repositories: Literal["create", "existing"] = "create"
    shared_environments: list[Annotated[str, Field(pattern=NAME_PATTERN)]] = Field(default_factory=list)
    protect: bool | None = None
    force_delete: bool = False
    image_revision: str | None = Field(None, pattern=IMAGE_REVISION_PATTERN)
    log_retention_days: Literal[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731] = 30
    network: NetworkConfig | None = None
    images: ImageSourceConfig | None = None
    consumer_accounts: list[Annotated[str, Field(pattern=ACCOUNT_ID_PATTERN)]] = Field(default_factory=list)
    clankers: list[ClankerConfig] = Field(default_factory=list)

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

    def platform_of(self, harness: str) -> str:
        return self.harness_platforms.get(harness, self.platform)


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
    for harness in config.harness_platforms:
        if harness not in config.harnesses:
            issues.append(
                ConfigIssue(
                    path=f"{key}harnessPlatforms.{harness}",
                    value=config.harness_platforms[harness],
                    message="names a harness this stack does not build",
                )
            )
    if config.images is not None:
        for i, name in enumerate(config.images.harnesses or []):
            if name not in HARNESS_NAMES:
                issues.append(ConfigIssue(path=f"{key}images.harnesses[{i}]", value=name, message="unknown harness"))

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
        for variable in sorted(set(clanker.environment) & set(clanker.secrets)):
            issues.append(
                ConfigIssue(
                    path=f"{path}.environment.{variable}",
                    value=clanker.environment[variable],
                    message=f"{variable} set in both environment and secrets: keep only the secret",
                )
            )
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
        elif clanker.architecture is not None and config.builds_images:
            platform = config.platform_of(clanker.agent)
            if ARCHITECTURE_OF_PLATFORM[platform] != clanker.architecture:
                issues.append(
                    ConfigIssue(
                        path=f"{path}.architecture",
                        value=clanker.architecture,
                        message=f"the {clanker.agent} image is built for {platform}; set "
                        f"viberator:harnessPlatforms.{clanker.agent} or the clanker's architecture to match",
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
    SECRET_ARN_PATTERN: "must be a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:…)",
    ACCOUNT_ID_PATTERN: "must be a 12-digit AWS account id",
    IMAGE_REVISION_PATTERN: "a tag-safe revision: letters, digits, `.`, `_` and `-`",
    VPC_ID_PATTERN: "must be a VPC id (vpc- and 8 or 17 hex digits)",
    SUBNET_ID_PATTERN: "must be a subnet id (subnet- and 8 or 17 hex digits)",
    STACK_REFERENCE_PATTERN: "must be a fully qualified stack name <org>/<project>/<stack>",
}


def _message(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "string_pattern_mismatch":
        return PATTERN_HINTS.get(error.get("ctx", {}).get("pattern", ""), message)
    if error["type"] == "extra_forbidden":
        return "unknown key"
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
    # A credential pasted into any key (say, an API key where a secret ARN belongs) is never echoed back.
    looks_like_credential = isinstance(value, str) and SECRET_LOOKING_VALUE.match(value.strip())
    if error["type"] == CREDENTIAL_ERROR or looks_like_credential:
        value = REDACTED
    return ConfigIssue(path=_path(loc), value=value, message=_message(error))


def parse_stack_config(
    values: Mapping[str, Any], *, stack: str, region: str | None, source: str = "stack config"
) -> StackConfig:
    """Parse the `viberator:` namespace (keys without the prefix) into a StackConfig, or raise ConfigError."""
    data = {"environment": stack, **values}
    if region is not None:
        data["aws:region"] = region
    # Clankers are validated one by one, so that the cross-field rules still run over the valid ones and every
    # mistake in the file is reported in one run, not one per run.
    raw_clankers = data.get("clankers", [])
    clankers: list[tuple[int, Clanker]] = []
    clanker_issues: list[ConfigIssue] = []
    if isinstance(raw_clankers, list):
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
    issues = clanker_issues + _cross_field_issues(config, [i for i, _ in clankers])
    if issues:
        raise ConfigError(sorted(issues, key=_clanker_position), source)
    return config


def _clanker_position(issue: ConfigIssue) -> tuple[int, int]:
    """Stack-level issues first, then each clanker's in list order (a stable sort keeps the rest in place)."""
    match = re.match(rf"^{NAMESPACE}:clankers\[(\d+)\]", issue.path)
    return (1, int(match.group(1))) if match else (0, 0)


def decode_config_value(raw: str) -> Any:
    """Pulumi hands structured config to the program as JSON text and scalars as strings."""
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def load_stack_config() -> StackConfig:
    """Read every `viberator:` key of the running stack and parse it (raises ConfigError)."""
    from pulumi.runtime import config as runtime_config

    prefix = f"{NAMESPACE}:"
    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    values = {
        key.removeprefix(prefix): decode_config_value(str(runtime_config.get_config(key)))
        for key in sorted(keys)
        if key.startswith(prefix)
    }
    region = runtime_config.get_config("aws:region")
    return parse_stack_config(values, stack=pulumi.get_stack(), region=region)
