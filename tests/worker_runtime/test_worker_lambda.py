"""`lambda` mode: the handler with a fake context, the timeout cap, and how the CLI picks the mode."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import pytest
from runtime_jobs import job_document
from viberator_worker import JOB_CONTRACT_VERSION, cli, lambda_mode
from viberator_worker.contract import schema


@dataclass
class FakeContext:
    remaining_ms: int

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


@pytest.fixture
def fake_agents_on_path(fake_bin: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", f"{fake_bin}{os.pathsep}{os.environ['PATH']}")


@pytest.mark.usefixtures("fake_agents_on_path")
def test_handler_runs_the_event_as_a_job(tmp_path: Path) -> None:
    result = lambda_mode.handler(job_document("say from lambda"), FakeContext(900_000))
    jsonschema.validate(result, schema("result"))
    assert result["status"] == "succeeded" and "from lambda" in result["output_tail"]


@pytest.mark.usefixtures("fake_agents_on_path")
def test_timeout_is_capped_by_the_invocation_deadline(tmp_path: Path) -> None:
    remaining_ms = int((lambda_mode.RESULT_MARGIN_SECONDS + 1) * 1000)
    event = job_document("sleep 60", timeout_seconds=900)
    result = lambda_mode.handler(event, FakeContext(remaining_ms))
    assert result["status"] == "timed_out" and result["error"] == "agent exceeded timeout of 1 s"


def test_invalid_event_returns_an_invalid_result() -> None:
    result = lambda_mode.handler({"contract": JOB_CONTRACT_VERSION}, FakeContext(900_000))
    assert result["status"] == "invalid" and "'id' is a required property" in result["error"]


def test_lambda_mode_outside_lambda_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(lambda_mode.RUNTIME_API_VAR, raising=False)
    assert cli.main(["lambda"]) == 2
    assert "lambda mode needs AWS_LAMBDA_RUNTIME_API" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "runtime_api", "expected"),
    [
        ([], None, "job"),
        (["job"], None, "job"),
        (["lambda"], None, "lambda"),
        # A function that kept the image's default CMD ["job"] still serves invocations.
        (["job"], "127.0.0.1:9001", "lambda"),
    ],
)
def test_mode_selection(
    argv: list[str], runtime_api: str | None, expected: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if runtime_api:
        monkeypatch.setenv(lambda_mode.RUNTIME_API_VAR, runtime_api)
    else:
        monkeypatch.delenv(lambda_mode.RUNTIME_API_VAR, raising=False)
    monkeypatch.setattr(cli.job_mode, "run", lambda: "job")
    monkeypatch.setattr(cli.lambda_mode, "run", lambda: "lambda")
    assert cli.main(argv) == expected
