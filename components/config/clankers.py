"""The clanker models: one entry of `viberator:clankers`, a lambda, ecs or docker target, and its own checks.

Owns what one clanker may set and the checks that need nothing but the clanker itself. Does not own the rules
that need the rest of the stack (the agent's image, name lengths under the environment's prefix, the 4 KB Lambda
environment: components/config/rules/). Other modules use the public classes, `Clanker`, `CLANKER_MODELS` and
`parse_clanker`, never the private bases or validators, so each model can move to its target's module.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, TypeAdapter, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from components.config.fields import (
    CREDENTIAL_ERROR,
    ENV_VAR_PATTERN,
    LAMBDA_ENV_VAR_PATTERN,
    LAMBDA_RESERVED_VARIABLES,
    NAME_PATTERN,
    SECRET_ARNS_VARIABLE,
    Architecture,
    ConfigModel,
    fargate_memory_choices,
    secret_arn,
)
from components.credentials import SECRET_LOOKING_NAME, SECRET_LOOKING_VALUE


def _not_lambda_reserved(name: str) -> str:
    if name in LAMBDA_RESERVED_VARIABLES:
        raise ValueError(f"{name} is one of Lambda's reserved runtime variables, which a function can't set")
    if name == SECRET_ARNS_VARIABLE:
        raise ValueError(f"{name} is set by the program: it carries this clanker's `secrets`")
    return name


def _whole_secret_arn(value: str) -> str:
    if secret_arn(value)["selector"]:
        raise ValueError(
            "a JSON-key or version selector works only on ecs: a Lambda clanker's runtime reads the whole secret"
        )
    return value


def _ecs_secret_arn(value: str) -> str:
    secret_arn(value)
    return value


def _not_a_credential(value: str) -> str:
    if SECRET_LOOKING_VALUE.match(value.strip()):
        raise PydanticCustomError(
            CREDENTIAL_ERROR, "looks like a credential: put it in Secrets Manager and list it under `secrets`"
        )
    return value


EnvVarName = Annotated[str, Field(pattern=ENV_VAR_PATTERN)]
LambdaVariableName = Annotated[str, Field(pattern=LAMBDA_ENV_VAR_PATTERN), AfterValidator(_not_lambda_reserved)]
PlainValue = Annotated[str, AfterValidator(_not_a_credential)]


class _ClankerBase(ConfigModel):
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
CLANKER_MODELS: dict[str, type[ConfigModel]] = {
    "lambda": LambdaClankerConfig,
    "ecs": EcsClankerConfig,
    "docker": DockerClankerConfig,
}
"""Each `target` and its model, in the order error messages list them."""
_CLANKER: TypeAdapter[Clanker] = TypeAdapter(ClankerConfig)


def parse_clanker(raw: Any) -> Clanker:
    """One `viberator:clankers[]` entry as its target's model (raises pydantic's ValidationError)."""
    return _CLANKER.validate_python(raw)
