"""The harness catalog: which worker images exist, what each contains, and how its repository is named.

This is data read by both the Pulumi program (one ECR repository and image per harness) and the local image
tooling; neither keeps its own list. The CLI versions themselves are pinned as build-arg defaults in
`workers/image/Dockerfile`, inside the build context, so that a version bump is an image-input change that
also moves the image revision tag.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BUILD_CONTEXT = Path(__file__).resolve().parent / "image"
"""The Docker build context shared by every harness; each harness is one target of its Dockerfile."""

DOCKERFILE = BUILD_CONTEXT / "Dockerfile"

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


def harness(name: str) -> Harness:
    """The catalog entry for `name`; KeyError names the known harnesses."""
    try:
        return HARNESSES[name]
    except KeyError:
        raise KeyError(f"unknown harness {name!r}; known: {', '.join(HARNESS_NAMES)}") from None
