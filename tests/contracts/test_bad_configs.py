"""The bad-input catalogue: every invalid stack config in `tests/bad_configs/` fails `make plan CONFIG=…`.

Each case must exit 2 with one message that names every bad key path and its value (and nothing else), print
no traceback and nothing on stdout, register no resource, and never echo a credential it refuses.
`tests/bad_configs/expected.yaml` holds the expected `path = value` pairs per case.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from offline_plan.__main__ import EXIT_INVALID_CONFIG, main
from offline_plan.engine import RecordingMonitor
from workers.catalog import PROJECT_DIR

CATALOGUE = Path("tests/bad_configs")
"""Relative to the project directory, as a user passes it to `make plan CONFIG=…` (file-level issues name it)."""
EXPECTED: dict[str, dict[str, Any]] = yaml.safe_load((PROJECT_DIR / CATALOGUE / "expected.yaml").read_text())
ISSUE_LINE = re.compile(r"^  - (?P<path>.+?) = (?P<rest>.+)$")
PLACEHOLDER = re.compile(r"(?:'\([a-z]+\)'|\([a-z]+\))(?=: \S)")
"""A value shown as a placeholder: '(redacted)', (missing)."""
CUT = re.compile(r".{77}\.\.\.(?=: \S)")
"""A value too long to show whole: its first 77 characters and `...` (ConfigIssue.__str__)."""


def shown_value(rest: str) -> str | None:
    """The value at the start of `rest` (what follows `path = `), whole: a JSON value, whatever it holds (a
    mapping's `": "` included), a placeholder, or a cut one; None when no value is followed by `: message`."""
    try:
        _, end = json.JSONDecoder().raw_decode(rest)
    except ValueError:
        end = 0
    if end and rest[end : end + 2] == ": " and rest[end + 2 : end + 3].strip():
        return rest[:end]
    match = PLACEHOLDER.match(rest) or CUT.match(rest)
    return match.group(0) if match else None


MESSAGE_HEADER = re.compile(r"^error: invalid stack config \((\d+) errors?\):$")


def case_file(case: str) -> Path:
    return CATALOGUE / f"Pulumi.{case}.yaml"


def reported_issues(stderr: str) -> list[dict[str, str]]:
    """The `path = value` pairs of the one error message, asserting its shape on the way."""
    header, *lines = stderr.rstrip("\n").split("\n")
    count = MESSAGE_HEADER.match(header)
    assert count, f"not one config error message:\n{stderr}"
    matches = [ISSUE_LINE.match(line) for line in lines]
    values = [shown_value(m.group("rest")) if m else None for m in matches]
    assert all(value is not None for value in values), f"a line that is not `path = value: message`:\n{stderr}"
    assert len(lines) == int(count.group(1)), stderr
    return [{"path": m.group("path"), "value": str(value)} for m, value in zip(matches, values, strict=True) if m]


def check_rejection(case: str, exit_code: int, stdout: str, stderr: str) -> None:
    expected = EXPECTED[case]
    assert exit_code == EXIT_INVALID_CONFIG, stderr
    assert stdout == "", "nothing is planned for an invalid config"
    assert "Traceback" not in stderr
    assert reported_issues(stderr) == expected["issues"]
    if "hidden" in expected:
        assert expected["hidden"] not in stderr, "a refused credential was echoed"


def test_catalogue_is_complete() -> None:
    files = {
        path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for path in (PROJECT_DIR / CATALOGUE).glob("Pulumi.*.yaml")
    }
    assert files == set(EXPECTED), "every bad config needs an expectation, and every expectation a file"
    assert len(files) >= 80


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_bad_config_is_rejected_before_anything_registers(
    case: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    registered: list[str] = []
    register = RecordingMonitor.RegisterResource

    def spy(self: RecordingMonitor, request: Any) -> Any:
        if request.type == "pulumi:pulumi:Stack":
            # A new run: a promoting config's image stack is planned (and registers) first; only the planned
            # config's own run must register nothing.
            registered.clear()
        registered.append(request.type)
        return register(self, request)

    monkeypatch.setattr(RecordingMonitor, "RegisterResource", spy)
    monkeypatch.chdir(PROJECT_DIR)
    exit_code = main(["--config", str(case_file(case)), "--format", "json"])
    captured = capsys.readouterr()
    check_rejection(case, exit_code, captured.out, captured.err)
    # The root stack may exist (config is read inside the program); nothing else may.
    assert [t for t in registered if t != "pulumi:pulumi:Stack"] == []


SMOKE_CASES = ("malformed-yaml", "environment-plaintext-api-key", "several-cross-field-errors")
"""Through the command line once per kind (a file the YAML reader refuses, a credential, rules over the parsed
stack); the whole catalogue runs in-process above, where a subprocess per case would cost a minute of `make test`."""


@pytest.mark.parametrize("case", SMOKE_CASES)
def test_bad_config_through_the_command_line(case: str) -> None:
    # What `make plan CONFIG=…` runs: a fresh interpreter, so an escaping exception (or one ignored at exit, like
    # an event loop collected unclosed) shows as a traceback.
    result = subprocess.run(
        [sys.executable, "-m", "offline_plan", "--config", str(case_file(case)), "--format", "json"],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    check_rejection(case, result.returncode, result.stdout, result.stderr)
