"""The headless invocation table: every catalog agent has one, and prompts stay one argument."""

from __future__ import annotations

import pytest
from runtime_jobs import job_document
from viberator_worker.agents import AGENTS, agent
from viberator_worker.contract import InvalidJob, parse_job

from workers.catalog import ALL_AGENTS


def test_every_catalog_agent_has_an_invocation() -> None:
    assert set(AGENTS) == set(ALL_AGENTS)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (
            "claude",
            [
                "claude",
                "--print",
                "--output-format",
                "text",
                "--permission-mode",
                "bypassPermissions",
                "--model",
                "m",
                "--",
                "-p",
            ],
        ),
        (
            "codex",
            [
                "codex",
                "exec",
                "--skip-git-repo-check",
                "--dangerously-bypass-approvals-and-sandbox",
                "--config",
                "check_for_update_on_startup=false",
                "--model",
                "m",
                "--",
                "-p",
            ],
        ),
        ("gemini", ["gemini", "--approval-mode", "yolo", "--model", "m", "--prompt=-p"]),
        ("qwen", ["qwen", "--approval-mode", "yolo", "--model", "m", "-p"]),
        ("opencode", ["opencode", "run", "--auto", "--model", "m", "-p"]),
        ("kimi", ["kimi", "--auto", "--model", "m", "--prompt=-p"]),
    ],
)
def test_command_lines(name: str, expected: list[str]) -> None:
    # A prompt that looks like a flag shows where each style keeps it a value.
    assert agent(name).command(parse_job(job_document("-p", agent=name, model="m"))) == expected


def test_mistral_runs_vibe_headless_and_extra_args_precede_the_prompt() -> None:
    job = parse_job(job_document("fix it", agent="mistral", extra_args=["--max-turns", "3"]))
    assert agent("mistral").command(job) == [
        "vibe",
        "--auto-approve",
        "--output",
        "text",
        "--max-turns",
        "3",
        "--prompt=fix it",
    ]


def test_a_model_for_a_cli_without_a_model_flag_is_a_job_error() -> None:
    with pytest.raises(InvalidJob, match="model: mistral"):
        agent("mistral").command(parse_job(job_document("p", agent="mistral", model="devstral")))


def test_unknown_agent_names_the_known_ones() -> None:
    with pytest.raises(InvalidJob, match="known: claude, codex"):
        agent("cursor")
