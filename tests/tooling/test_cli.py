"""Argument parsing, exit codes and the build summary's text, without an engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders import REVISION
from tests.tooling import aws_stubs
from workers.tooling import cli
from workers.tooling.build import BuildRequest, BuildResult, BuildRun
from workers.tooling.cli.build_command import _summary_target
from workers.tooling.cli.common import registry_or_default
from workers.tooling.engine import DOCKER_ENV_VAR
from workers.tooling.references import Registry
from workers.tooling.report import human_size, markdown_summary, write_summary

isolated_aws = aws_stubs.isolated_aws  # pytest finds fixtures among a module's attributes


def test_build_arguments_parse() -> None:
    args = cli.parser().parse_args(
        [
            "build",
            "kimi",
            "claude",
            "--env",
            "prod",
            "--push",
            "--registry",
            "127.0.0.1:5000/ci",
            "--platform",
            "linux/amd64,linux/arm64",
            "--build-arg",
            "A=1",
        ]
    )
    assert args.harnesses == ["kimi", "claude"]
    assert args.env == "prod" and args.push
    assert args.registry == Registry("127.0.0.1:5000", "ci")
    assert args.platform == "linux/amd64,linux/arm64" and args.build_arg == ["A=1"]


def test_ensure_arguments_parse() -> None:
    args = cli.parser().parse_args(["ensure", "kimi", "--version", "dev", "--offline", "--alias-tag", "mine"])
    assert (args.harness, args.version, args.offline, args.alias_tag) == ("kimi", "dev", True, "mine")
    assert args.registry is None and not args.rebuild


@pytest.mark.parametrize(
    "argv",
    [
        ["ensure", "nope"],
        ["ensure", "kimi", "--registry", "myteam"],
        ["ensure", "kimi", "--version", "a:b"],
        ["build", "--env", "bad/env"],
    ],
)
def test_bad_arguments_exit_2_before_any_engine_call(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["build", "nope"], "unknown harness 'nope'"),
        (["build", "kimi", "--push"], "--push needs --registry"),
        (["build", "kimi", "--platform", "linux/amd64,linux/arm64"], "manifest list"),
        (["build", "kimi", "--platform", "arm64"], "OS/ARCH"),
    ],
)
@pytest.mark.usefixtures("isolated_aws")  # `--push` without a registry looks for AWS credentials
def test_impossible_builds_exit_2_with_the_reason(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIBERATOR_REGISTRY", raising=False)
    assert cli.main(argv) == cli.EXIT_USAGE
    assert complaint in capsys.readouterr().err


def test_a_missing_engine_fails_with_exit_1_and_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DOCKER_ENV_VAR, "/nonexistent/docker")
    assert cli.main(["ensure", "kimi", "--offline"]) == cli.EXIT_FAILED
    assert "/nonexistent/docker" in capsys.readouterr().err


def test_registry_defaults_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VIBERATOR_REGISTRY", "127.0.0.1:5000")
    assert registry_or_default(None) == Registry("127.0.0.1:5000")
    assert registry_or_default(Registry("localhost:1")) == Registry("localhost:1")


def test_github_step_summary_is_appended_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    summary = tmp_path / "step-summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    assert _summary_target(None) == (summary, True)
    assert _summary_target(tmp_path / "other.md") == (tmp_path / "other.md", False)
    monkeypatch.delenv("GITHUB_STEP_SUMMARY")
    path, append = _summary_target(None)
    assert path.name == "summary.md" and not append


def _run() -> BuildRun:
    request = BuildRequest(harnesses=("kimi", "claude"), revision=REVISION, push=True, registry=Registry("r.io"))
    return BuildRun(
        request,
        [
            BuildResult(
                "kimi",
                "r.io/viberator-worker-kimi:dev-0123abcd4567",
                ("dev-0123abcd4567", "dev-latest"),
                61.4,
                digest="sha256:" + "c" * 64,
                sizes=(("linux/amd64", 405_700_000),),
            ),
            BuildResult(
                "claude",
                "r.io/viberator-worker-claude:dev-0123abcd4567",
                ("dev-0123abcd4567",),
                3.0,
                error="docker build failed: npm ERR! 404",
            ),
        ],
    )


def test_markdown_summary_has_a_row_per_harness_and_the_failure() -> None:
    text = markdown_summary(_run())
    assert "| image | tags | digest | size | seconds |" in text
    assert "| `r.io/viberator-worker-kimi:dev-0123abcd4567` | `dev-0123abcd4567` `dev-latest` | `sha256:cccc" in text
    assert "| 405.7 MB | 61 |" in text
    assert "**failed**" in text and "npm ERR! 404" in text
    assert "1 of 2 built; pushed to r.io" in text


def test_write_summary_appends_or_replaces(tmp_path: Path) -> None:
    path = tmp_path / "s.md"
    write_summary(_run(), path, append=True)
    write_summary(_run(), path, append=True)
    assert path.read_text().count("### Worker images") == 2
    write_summary(_run(), path, append=False)
    assert path.read_text().count("### Worker images") == 1


@pytest.mark.parametrize(
    ("size", "text"), [(999, "999 B"), (1500, "1.5 kB"), (405_700_000, "405.7 MB"), (2e12, "2000.0 GB")]
)
def test_human_size(size: int, text: str) -> None:
    assert human_size(int(size)) == text
