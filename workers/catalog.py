"""The harness catalog: which worker images exist, what each contains, and how its repository is named.

This is data read by both the Pulumi program (one ECR repository and image per harness) and the local image
tooling; neither keeps its own list. The CLI versions themselves are pinned in `workers/image/locks/<agent>/`
(npm package.json + package-lock.json, or hashed PyPI requirements; `make locks`), inside the build context, so
that a version bump is an image-input change that also moves the image revision tag.

A harness has places beyond this entry (its Dockerfile stage, its agents' locks and runtime entries, the job
schema, the deploy workflow's inputs, the outputs schema): docs/add-a-harness.md is the recipe, and
`python -m workers.harness_check` (workers/harness_check.py) names any that is missing.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import yaml

PROJECT_DIR = Path(__file__).resolve().parents[1]
"""The checkout: the Pulumi project's directory (Pulumi.yaml, the stack files), which every layer's paths start from."""


WORKFLOWS_DIR = PROJECT_DIR / ".github" / "workflows"
"""The GitHub workflows: what CI runs, what CI's roles trust by file name (access/jobs.py), what the scan reads."""


def stack_config_file(stack: str, project_dir: Path = PROJECT_DIR) -> Path:
    """A stack's config file, as the Pulumi CLI names it: `Pulumi.<stack>.yaml` beside the project's Pulumi.yaml."""
    return project_dir / f"Pulumi.{stack}.yaml"


PROJECT_NAME = str(yaml.safe_load((PROJECT_DIR / "Pulumi.yaml").read_text())["name"])
"""The Pulumi project's name, as Pulumi.yaml has it (URNs, the resources' Project tag, pulumi/actions' comments)."""

BUILD_CONTEXT = PROJECT_DIR / "workers" / "image"
"""The Docker build context shared by every harness; each harness is one target of its Dockerfile."""

DOCKERFILE = BUILD_CONTEXT / "Dockerfile"

AGENT_SETTINGS = BUILD_CONTEXT / "viberator_worker" / "agents.json"
"""Per agent CLI, the API-key variables it reads (and the options a job may pass it): the worker runtime's
data, inside the build context, read here for the config rule that a clanker's secrets hold its agent's key."""

REPOSITORY_PREFIX = "viberator-worker-"
"""Every harness's repository is named `<prefix><harness>` (workers.naming.repository_name)."""

LAMBDA_COMMAND = ("lambda",)
"""What a Lambda function runs after the image's ENTRYPOINT (`image_config.commands`): the worker's Lambda
mode. The program sets it on every function; `run-job --local` runs the image under the emulator with it."""


@dataclass(frozen=True)
class Harness:
    """One worker image."""

    name: str
    """Catalog key, used in config, repository names and stack outputs."""
    agents: tuple[str, ...]
    """The agent CLIs installed in the image (the runtime's agent names)."""
    description: str

    @property
    def dockerfile_target(self) -> str:
        return self.name

    @property
    def key_variables(self) -> tuple[str, ...]:
        """The API-key variables its agent CLIs read (any one lets a job of that agent run), in catalog order."""
        keys = agent_key_variables()
        return tuple(dict.fromkeys(name for agent in self.agents for name in keys[agent]))


ALL_AGENTS = ("claude", "codex", "qwen", "gemini", "opencode", "mistral", "kimi")

HARNESSES: dict[str, Harness] = {
    harness.name: harness
    for harness in (
        Harness("claude", ("claude",), "Anthropic Claude Code"),
        Harness("codex", ("codex",), "OpenAI Codex CLI"),
        Harness("qwen", ("qwen",), "Qwen Code"),
        Harness("gemini", ("gemini",), "Google Gemini CLI"),
        Harness("opencode", ("opencode",), "opencode"),
        Harness("mistral", ("mistral",), "Mistral Vibe"),
        Harness("kimi", ("kimi",), "Moonshot Kimi Code"),
        Harness("multi-agent", ALL_AGENTS, "All seven agent CLIs; the default Lambda image"),
        Harness("claude-code-ecs", ("claude",), "The lean original image: Claude Code only"),
    )
}

HARNESS_NAMES: tuple[str, ...] = tuple(HARNESSES)


_JOB_CONTRACT_ARG = re.compile(r"^ARG JOB_CONTRACT=(?P<version>\S+)\s*$", re.MULTILINE)


@functools.cache
def job_contract(dockerfile: Path = DOCKERFILE) -> str:
    """The job-contract version (`MAJOR[.MINOR]`) this checkout's images implement: the Dockerfile's
    `ARG JOB_CONTRACT=` default, which labels every image `io.viberator.job-contract` (the worker runtime's tests
    keep it equal to its JOB_CONTRACT_VERSION, so there is no third copy to drift)."""
    found = _JOB_CONTRACT_ARG.search(dockerfile.read_text(encoding="utf-8"))
    if found is None:
        raise ValueError(f"{dockerfile} declares no `ARG JOB_CONTRACT=<version>` default")
    return found["version"]


BEDROCK_API_KEY = "AWS_BEARER_TOKEN_BEDROCK"
"""An Amazon Bedrock API key: the CLIs that call Bedrock take it instead of AWS credentials (Claude Code's docs,
"Claude Code on Amazon Bedrock", option "Bedrock API keys"; opencode's amazon-bedrock loader, below)."""


@dataclass(frozen=True)
class BedrockRoute:
    """How an agent CLI calls Amazon Bedrock with the AWS credentials it sees, instead of its provider's API key."""

    switch: str | None
    """The variable that turns Bedrock on (set to "1"); None: the CLI uses Bedrock whenever it sees credentials."""
    default_region: str | None
    """The region the CLI calls when it sees no AWS_REGION; None: it needs AWS_REGION."""
    calls: tuple[str, ...]
    """The IAM actions of the Bedrock requests the pinned CLI makes: what a clanker's role is granted when the
    agent calls Bedrock with that role's credentials (components/policies.py, bedrock_statements)."""

    @property
    def needs_region(self) -> bool:
        return self.default_region is None


INVOKE = ("bedrock:InvokeModel", "bedrock:InvokeModelWithResponseStream")
"""What a model invocation is authorized as: bedrock-runtime's InvokeModel and Converse as bedrock:InvokeModel,
InvokeModelWithResponseStream and ConverseStream as bedrock:InvokeModelWithResponseStream (Bedrock User Guide,
"Prerequisites for running model inference": those two actions "to use the InvokeModel,
InvokeModelWithResponseStream, Converse, and ConverseStream actions"; the Service Authorization Reference has no
bedrock:Converse action, as parliament's copy of it shows)."""

BEDROCK_ROUTES: Mapping[str, BedrockRoute] = MappingProxyType(
    {
        # Claude Code's docs, "Claude Code on Amazon Bedrock": CLAUDE_CODE_USE_BEDROCK=1, "AWS_REGION is a required
        # environment variable"; credentials from the AWS SDK's default chain (so the container credentials on ECS)
        # or AWS_BEARER_TOKEN_BEDROCK.
        # Its calls, read in the pinned 2.1.330 linux-x64 binary (npm @anthropic-ai/claude-code-linux-x64, the
        # lock's integrity): the Bedrock SDK posts to `/model/{id}/invoke` and `/model/{id}/invoke-with-response-
        # stream` (INVOKE); it lists the region's inference profiles (ListInferenceProfilesCommand, typeEquals
        # SYSTEM_DEFINED), resolves a profile's backing model (GetInferenceProfileCommand) and counts tokens on
        # that model (bedrock-runtime CountTokensCommand; bedrock:CountTokens, as Anthropic's Bedrock policy for
        # its gateway grants it).
        "claude": BedrockRoute(
            "CLAUDE_CODE_USE_BEDROCK",
            default_region=None,
            calls=(*INVOKE, "bedrock:CountTokens", "bedrock:GetInferenceProfile", "bedrock:ListInferenceProfiles"),
        ),
        # anomalyco/opencode packages/opencode/src/provider/provider.ts, the "amazon-bedrock" custom loader: loads
        # when AWS_ACCESS_KEY_ID, AWS_BEARER_TOKEN_BEDROCK, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (or a profile or
        # web identity file, which a clanker has not) is set; region from AWS_REGION, else us-east-1 (the pinned
        # 1.18.33 binary: `J??Y??"us-east-1"`, config's region, then AWS_REGION). Its model is @ai-sdk/amazon-bedrock,
        # which posts to `/model/{id}/converse` and `/model/{id}/converse-stream` (doGenerate, doStream in the
        # same binary): INVOKE, and nothing else of Bedrock's.
        "opencode": BedrockRoute(None, default_region="us-east-1", calls=INVOKE),
    }
)
"""The agents that can run on Bedrock. The others cannot from a clanker: codex 0.169.0 has an amazon-bedrock
provider, but only `model_provider` in its config.toml selects it (its HOME is the job's fresh slate, and no job
option sets it); gemini's and claude's Vertex AI need Google credentials from a file or a metadata server; the
CLIs' interactive logins keep their tokens in HOME. docs/jobs.md, "Amazon Bedrock"."""


@functools.cache
def agent_key_variables() -> Mapping[str, tuple[str, ...]]:
    """{agent: the API-key variables its CLI reads}, from the runtime's agents.json."""
    document = json.loads(AGENT_SETTINGS.read_text())
    return MappingProxyType({agent: tuple(document[agent]["keys"]) for agent in ALL_AGENTS})


def harness(name: str) -> Harness:
    """The catalog entry for `name`; KeyError names the known harnesses."""
    try:
        return HARNESSES[name]
    except KeyError:
        raise KeyError(f"unknown harness {name!r}; known: {', '.join(HARNESS_NAMES)}") from None
