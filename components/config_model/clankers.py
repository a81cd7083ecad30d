"""The clanker models' common part: what one `viberator:clankers[]` entry sets whatever its target, and the checks
that need nothing but the clanker itself.

Each target's own model (lambda, ecs, docker) lives in its target's module and builds on `ClankerBase` or
`CloudClanker`. The rules that need the rest of the stack are in components/config/rules/.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from components.config_model.fields import (
    AGENT_ENV_VARIABLE,
    CREDENTIAL_ERROR,
    ENV_VAR_PATTERN,
    NAME_PATTERN,
    Architecture,
    ConfigModel,
)
from components.credentials import SECRET_LOOKING_NAME, credential_in

EnvVarName = Annotated[str, Field(pattern=ENV_VAR_PATTERN)]
ENVIRONMENT = "Plain variables (name -> text); credential-looking values and names are refused. The agent sees them."
SECRETS = (
    "Variable name -> Secrets Manager secret ARN (complete, `…-AbCdEf`): the only way to give an agent its API key; "
    "one must be a key variable its agent's CLI reads, unless its agent runs on Amazon Bedrock (docs/jobs.md)."
)
PlainValue = str
"""A plain environment value: the parser refuses a credential in it, as in any value (components/credentials.py)."""


class ClankerBase(ConfigModel):
    """What every clanker sets, whatever its target (components/targets/ adds the rest, one model each)."""

    if TYPE_CHECKING:
        # Each target's model declares it as its Literal; declared here it would be listed first among the keys.
        target: str

    name: str = Field(pattern=NAME_PATTERN, description="Unique; lowercase letters, digits and hyphens.")
    agent: str = Field(description="A harness this stack builds (or takes from its image stack).")
    image: Literal["pinned", "floating"] = Field(
        "pinned", description="pinned: repo@sha256 (default); floating: repo:<env>-latest."
    )
    architecture: Architecture | None = Field(
        None, description="x86_64 | arm64; default: the architecture of the agent's image platform."
    )


class CloudClanker(ClankerBase):
    """A clanker the stack deploys (lambda, ecs), so it sets the environment its agent runs with."""

    role_credentials: ClassVar[tuple[str, ...]]
    """The variables through which its role's AWS credentials reach a process on this target: what a clanker
    grants (`agentEnvironment`) for an agent on Amazon Bedrock (components/config/rules/agent_keys.py)."""
    role_reads_secrets: ClassVar[bool]
    """Whether that role is also the one that reads the clanker's `secrets`: then whoever holds its credentials can
    read every one of them, so granting them is refused unless the agent sees all those secrets anyway
    (components/config/rules/role_secrets.py)."""

    environment: dict[str, PlainValue] = Field(default_factory=dict, description=ENVIRONMENT)
    secrets: dict[str, str] = Field(default_factory=dict, description=SECRETS)
    agent_environment: tuple[EnvVarName, ...] = Field(
        (),
        description="Variables of the worker the agent may see besides its CLI's API keys and `environment`: "
        "other `secrets` (GITHUB_TOKEN), or its role's AWS credentials for an agent on Amazon Bedrock. A grant "
        "sets no value. docs/jobs.md, the job contract.",
    )

    @field_validator("environment")
    @classmethod
    def _credential_names_use_secrets(cls, environment: dict[str, str]) -> dict[str, str]:
        # A value that is a credential by its shape is reported as one, by the parser.
        named = sorted(
            key
            for key, value in environment.items()
            if SECRET_LOOKING_NAME.search(key) and value and credential_in(value) is None
        )
        if named:
            raise PydanticCustomError(
                CREDENTIAL_ERROR,
                "{names} name credentials: declare them under `secrets` with Secrets Manager ARNs",
                {"names": ", ".join(named)},
            )
        if AGENT_ENV_VARIABLE in environment:
            raise ValueError(f"{AGENT_ENV_VARIABLE} is set by the program: list the names under `agentEnvironment`")
        return environment

    @field_validator("agent_environment")
    @classmethod
    def _worker_settings_stay_the_worker_s(cls, names: tuple[str, ...]) -> tuple[str, ...]:
        kept = sorted(name for name in names if name.startswith("VIBERATOR_") or name == "AWS_LAMBDA_RUNTIME_API")
        if kept:
            raise ValueError(f"{', '.join(kept)}: the worker's own settings and the Runtime API never reach an agent")
        return names

    @property
    def worker_environment(self) -> dict[str, str]:
        """`environment`, plus the variable naming what of the worker's environment the agent may see."""
        granted = sorted(set(self.environment) | set(self.agent_environment))
        return {**self.environment, AGENT_ENV_VARIABLE: ",".join(granted)} if granted else dict(self.environment)
