"""The headless invocation table: every catalog agent has one, and prompts stay one argument."""

from __future__ import annotations

import re

import pytest
from runtime_jobs import job_document
from viberator_worker.agents import AGENTS, agent
from viberator_worker.contract import InvalidJob, parse_job

from workers.catalog import ALL_AGENTS


def test_every_catalog_agent_has_an_invocation() -> None:
    assert set(AGENTS) == set(ALL_AGENTS)


HEADLESS = {
    "claude": ["claude", "--print", "--output-format", "text", "--permission-mode", "bypassPermissions"],
    "codex": [
        "codex",
        "exec",
        "--skip-git-repo-check",
        "--dangerously-bypass-approvals-and-sandbox",
        "--config",
        "check_for_update_on_startup=false",
    ],
    "gemini": ["gemini", "--approval-mode", "yolo"],
    "qwen": ["qwen", "--approval-mode", "yolo"],
    "opencode": ["opencode", "run", "--auto"],
    "kimi": ["kimi", "--auto"],
}
PROMPT_STYLE = {"claude": "--", "codex": "--", "qwen": "--", "opencode": "--", "gemini": "=", "kimi": "="}


@pytest.mark.parametrize("name", sorted(HEADLESS))
@pytest.mark.parametrize("prompt", ["--openai-base-url=https://attacker.invalid", "-p", "--", "--model=x"])
def test_a_prompt_that_looks_like_an_option_stays_the_prompt(name: str, prompt: str) -> None:
    """The model is `=`-joined to its flag and the prompt follows `--` or is `=`-joined to `--prompt`: whatever
    they hold, no parser reads an option out of them (tests/images runs each pinned CLI to hold it to this)."""
    argv = agent(name).command(parse_job(job_document(prompt, agent=name, model="-m")))
    prompt_args = ["--", prompt] if PROMPT_STYLE[name] == "--" else [f"--prompt={prompt}"]
    assert argv == [*HEADLESS[name], "--model=-m", *prompt_args]


def test_mistral_runs_vibe_headless_and_allowed_extra_args_precede_the_prompt() -> None:
    job = parse_job(job_document("fix it", agent="mistral", extra_args=["--max-turns=3", "--max-price=0.5"]))
    assert agent("mistral").command(job) == [
        "vibe",
        "--auto-approve",
        "--output",
        "text",
        "--max-turns=3",
        "--max-price=0.5",
        "--prompt=fix it",
    ]


@pytest.mark.parametrize(
    ("name", "extra_args", "message"),
    [
        ("qwen", ["--openai-base-url=https://attacker.invalid"], "extra_args/0: '--openai-base-url=https://"),
        ("mistral", ["--max-turns", "3"], "extra_args/0: '--max-turns' is not an option mistral takes"),
        ("mistral", ["--max-turns=3", "--max-turns=-1"], "extra_args/1: '--max-turns=-1'"),
        ("claude", ["--max-turns=3"], "allowed: none"),
        ("codex", ["--config=model_provider=x"], "is not an option codex takes from a job"),
    ],
)
def test_extra_args_are_only_the_agent_s_allowed_options(name: str, extra_args: list[str], message: str) -> None:
    with pytest.raises(InvalidJob, match=re.escape(message)):
        agent(name).command(parse_job(job_document("p", agent=name, extra_args=extra_args)))


def test_every_agent_names_its_api_key_variables_and_its_options_are_flags() -> None:
    for cli in AGENTS.values():
        assert cli.key_variables, cli.name
        assert all(re.fullmatch(r"[A-Z][A-Z0-9_]*", name) for name in cli.key_variables)
        for flag, pattern in cli.options.items():
            assert flag.startswith("--") and re.compile(pattern)


def test_a_model_for_a_cli_without_a_model_flag_is_a_job_error() -> None:
    with pytest.raises(InvalidJob, match="model: mistral"):
        agent("mistral").command(parse_job(job_document("p", agent="mistral", model="devstral")))


def test_unknown_agent_names_the_known_ones() -> None:
    with pytest.raises(InvalidJob, match="known: claude, codex"):
        agent("cursor")
