"""How each agent CLI runs one prompt headless: the invocation table, and what a job may add to it.

Flags were read off each pinned CLI's `--help` (the versions are pinned in workers/image/locks/<agent>/, not in
the Dockerfile). Every invocation is non-interactive and pre-approves tool use: the container is the sandbox,
and nobody is there to answer a permission prompt, so an agent that asked would hang until its timeout.

The job is data, never configuration of the CLI: the prompt is passed so that no parser can take it for an
option, and `extra_args` are only the options agents.json allows for that agent, `=`-joined to their value.
Each CLI's own parser decides what is safe: `--` ends options for commander (claude), clap (codex) and yargs
(qwen, opencode: `qwen -- --version` runs the prompt "--version", checked against qwen 0.24.4); an
`=`-joined `--prompt=<text>` is one token whatever follows the `=` (gemini's yargs, vibe's clap, and kimi's
parser: `kimi --auto --prompt=--version` runs the prompt). tests/images runs every pinned CLI with a prompt of
`--version` to hold each to it.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any, Literal

from viberator_worker.contract import InvalidJob, Job

PromptStyle = Literal["option", "after-dashdash"]


@functools.cache
def agent_settings() -> Mapping[str, Any]:
    """agents.json: per agent, its API-key variables and the extra_args a job may pass."""
    document = json.loads(resources.files("viberator_worker").joinpath("agents.json").read_text())
    return MappingProxyType({name: value for name, value in document.items() if not name.startswith("$")})


@dataclass(frozen=True)
class Agent:
    name: str
    """The job's `agent` value (the catalog's agent name)."""
    executable: str
    headless: tuple[str, ...]
    """Arguments that make the CLI run one prompt and exit, without asking for approvals."""
    prompt_style: PromptStyle
    """`option`: `<prompt_option>=<prompt>`, so a prompt starting with '-' stays a value. `after-dashdash`:
    the prompt follows `--`, which ends the parser's options."""
    prompt_option: str | None
    model_option: str | None
    """None: the CLI takes its model from its own config only."""

    @property
    def key_variables(self) -> tuple[str, ...]:
        """The API-key variables this CLI reads (agents.json): the only credentials the agent gets by default."""
        return tuple(agent_settings()[self.name]["keys"])

    @property
    def options(self) -> Mapping[str, str]:
        """The options a job's extra_args may pass: flag -> the pattern its value must match."""
        return MappingProxyType(agent_settings()[self.name]["options"])

    def _extra_args(self, extra_args: tuple[str, ...]) -> list[str]:
        for i, arg in enumerate(extra_args):
            flag, joined, value = arg.partition("=")
            pattern = self.options.get(flag)
            if not joined or pattern is None or not re.fullmatch(pattern, value):
                allowed = ", ".join(f"{name}=<{pattern}>" for name, pattern in self.options.items()) or "none"
                raise InvalidJob(
                    f"extra_args/{i}: {arg!r} is not an option {self.name} takes from a job; allowed: {allowed}"
                )
        return list(extra_args)

    def command(self, job: Job) -> list[str]:
        if job.model is not None and self.model_option is None:
            raise InvalidJob(f"model: {self.name} takes its model from its own config, not a flag")
        argv = [self.executable, *self.headless]
        if job.model is not None and self.model_option is not None:
            argv.append(f"{self.model_option}={job.model}")
        argv += self._extra_args(job.extra_args)
        if self.prompt_style == "option":
            argv.append(f"{self.prompt_option}={job.prompt}")
        else:
            argv += ["--", job.prompt]
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
        Agent("qwen", "qwen", ("--approval-mode", "yolo"), "after-dashdash", None, "--model"),
        Agent("opencode", "opencode", ("run", "--auto"), "after-dashdash", None, "--model"),
        Agent("kimi", "kimi", ("--auto",), "option", "--prompt", "--model"),
        Agent("mistral", "vibe", ("--auto-approve", "--output", "text"), "option", "--prompt", None),
    )
}


def agent(name: str) -> Agent:
    try:
        return AGENTS[name]
    except KeyError:
        raise InvalidJob(f"agent: unknown agent {name!r}; known: {', '.join(AGENTS)}") from None
