"""How each agent CLI runs one prompt headless: the invocation table.

Flags were read off each pinned CLI's `--help` (versions in the Dockerfile). Every invocation is
non-interactive and pre-approves tool use: the container is the sandbox, and nobody is there to answer a
permission prompt, so an agent that asked would hang until its timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from viberator_worker.contract import InvalidJob, Job

PromptStyle = Literal["option", "after-dashdash", "positional"]


@dataclass(frozen=True)
class Agent:
    name: str
    """The job's `agent` value (the catalog's agent name)."""
    executable: str
    headless: tuple[str, ...]
    """Arguments that make the CLI run one prompt and exit, without asking for approvals."""
    prompt_style: PromptStyle
    """`option`: `<prompt_option>=<prompt>`, so a prompt starting with '-' stays a value. `after-dashdash`:
    the prompt follows `--` (parsers that honour it). `positional`: parsers that would swallow `--`."""
    prompt_option: str | None
    model_option: str | None
    """None: the CLI takes its model from its own config only."""

    def command(self, job: Job) -> list[str]:
        if job.model is not None and self.model_option is None:
            raise InvalidJob(f"model: {self.name} takes its model from its own config, not a flag")
        argv = [self.executable, *self.headless]
        if job.model is not None and self.model_option is not None:
            argv += [self.model_option, job.model]
        argv += job.extra_args
        if self.prompt_style == "option":
            argv.append(f"{self.prompt_option}={job.prompt}")
        elif self.prompt_style == "after-dashdash":
            argv += ["--", job.prompt]
        else:
            argv.append(job.prompt)
        return argv


AGENTS: dict[str, Agent] = {
    agent.name: agent
    for agent in (
        Agent(
            "claude",
            "claude",
            ("--print", "--output-format", "text", "--permission-mode", "bypassPermissions"),
            "after-dashdash",
            None,
            "--model",
        ),
        # codex's own sandbox (landlock/seccomp) does not work inside a container; the container is the
        # sandbox. Its update check is a config key, so it is switched off per invocation.
        Agent(
            "codex",
            "codex",
            (
                "exec",
                "--skip-git-repo-check",
                "--dangerously-bypass-approvals-and-sandbox",
                "--config",
                "check_for_update_on_startup=false",
            ),
            "after-dashdash",
            None,
            "--model",
        ),
        Agent("gemini", "gemini", ("--approval-mode", "yolo"), "option", "--prompt", "--model"),
        # qwen deprecates --prompt in favour of the positional one-shot prompt.
        Agent("qwen", "qwen", ("--approval-mode", "yolo"), "positional", None, "--model"),
        Agent("opencode", "opencode", ("run", "--auto"), "positional", None, "--model"),
        Agent("kimi", "kimi", ("--auto",), "option", "--prompt", "--model"),
        Agent("mistral", "vibe", ("--auto-approve", "--output", "text"), "option", "--prompt", None),
    )
}


def agent(name: str) -> Agent:
    try:
        return AGENTS[name]
    except KeyError:
        raise InvalidJob(f"agent: unknown agent {name!r}; known: {', '.join(AGENTS)}") from None
