"""`make scan`: checkov over a stack's offline plan (as a Terraform plan), the worker Dockerfile and the workflows.

Checkov runs without skips; its failures are then matched against `guardrails/checkov-skips.yaml`, so a failure
is either accepted there with a reason or fails the scan, and (with --strict-skips) a skip that matches nothing
fails too. Checkov runs offline: `--skip-download` and BC_SKIP_MAPPING stop it from fetching guidelines.

Exit codes: 0 clean; 1 an unaccepted failure, a parsing error or a stale skip; 2 invalid stack config.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.config import ConfigError
from guardrails.tfplan import terraform_plan
from offline_plan.stacks import plan_stack_file, stack_file_of
from workers.catalog import PROJECT_DIR, WORKFLOWS_DIR

SKIPS_FILE = PROJECT_DIR / "guardrails" / "checkov-skips.yaml"
CHECKOV = PROJECT_DIR / "guardrails" / "checkov" / ".venv" / "bin" / "checkov"
"""Installed by `make scan-deps` (its own environment: checkov's pins clash with pulumi's)."""
DOCKERFILE = PROJECT_DIR / "workers" / "image" / "Dockerfile"
OUT_DIR = PROJECT_DIR / "build" / "scan"
EXIT_FAILED = 1
EXIT_INVALID_CONFIG = 2


@dataclass(frozen=True)
class Failure:
    check_id: str
    check_name: str
    resource: str

    def __str__(self) -> str:
        return f"{self.check_id} {self.resource}: {self.check_name}"


@dataclass
class Report:
    target: str
    framework: str
    passed: int = 0
    failures: list[Failure] = field(default_factory=list)
    parsing_errors: list[str] = field(default_factory=list)


def run_checkov(checkov: Sequence[str], framework: str, target: Path, label: str) -> Report:
    """One checkov run over a file (`-f`) or directory (`-d`), parsed from its JSON report."""
    command = [*checkov, "--framework", framework, "-f" if target.is_file() else "-d", str(target)]
    command += ["--skip-download", "--compact", "--quiet", "--output", "json"]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "LOG_LEVEL": "ERROR"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if result.returncode not in (0, 1):  # 1 means "checks failed"; anything else is checkov itself failing
        raise RuntimeError(f"checkov exited {result.returncode} on {target}:\n{result.stderr[-2000:]}")
    document: Any = json.loads(result.stdout) if result.stdout.strip() else []
    report = Report(label, framework)
    # One framework gives one report object, several give a list; nothing to scan gives a bare summary.
    for part in document if isinstance(document, list) else [document]:
        summary = part.get("summary", {})
        report.passed += summary.get("passed", 0)
        report.parsing_errors += part.get("results", {}).get("parsing_errors", [])
        report.failures += [
            Failure(c["check_id"], c["check_name"], c["resource"])
            for c in part.get("results", {}).get("failed_checks", [])
        ]
    return report


def load_skips(path: Path = SKIPS_FILE) -> dict[str, dict[str, str]]:
    document = yaml.safe_load(path.read_text()) or {}
    return {framework: dict(checks or {}) for framework, checks in document.items()}


def write_terraform_plan(stack: str, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{stack.replace('/', '-')}.tfplan.json"
    document = terraform_plan(plan_stack_file(stack_file_of(stack)))
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path


def scan(checkov: Sequence[str], stacks: Sequence[str], *, repo_files: bool, out_dir: Path) -> list[Report]:
    reports = [
        run_checkov(checkov, "terraform_plan", write_terraform_plan(stack, out_dir), f"stack {stack}")
        for stack in stacks
    ]
    if repo_files:
        for framework, target in (("dockerfile", DOCKERFILE), ("github_actions", WORKFLOWS_DIR)):
            if target.exists():
                reports.append(run_checkov(checkov, framework, target, str(target.relative_to(PROJECT_DIR))))
            else:
                print(f"{framework}: {target.relative_to(PROJECT_DIR)} does not exist yet, not scanned")
    return reports


def judge(reports: Sequence[Report], skips: dict[str, dict[str, str]], *, strict_skips: bool) -> list[str]:
    """Print each report; return the problems that fail the scan."""
    problems: list[str] = []
    used: set[tuple[str, str]] = set()
    for report in reports:
        accepted = skips.get(report.framework, {})
        open_failures = [f for f in report.failures if f.check_id not in accepted]
        used |= {(report.framework, f.check_id) for f in report.failures if f.check_id in accepted}
        print(
            f"{report.target} ({report.framework}): {report.passed} passed, {len(open_failures)} failed, "
            f"{len(report.failures) - len(open_failures)} accepted in {SKIPS_FILE.name}"
        )
        problems += [f"{report.target}: {failure}" for failure in open_failures]
        problems += [f"{report.target}: parsing error in {error}" for error in report.parsing_errors]
    if strict_skips:
        scanned = {report.framework for report in reports}
        problems += [
            f"{SKIPS_FILE.name}: {framework} {check_id} no longer fails: remove the skip"
            for framework, checks in skips.items()
            if framework in scanned
            for check_id in checks
            if (framework, check_id) not in used
        ]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make scan", description=__doc__)
    parser.add_argument(
        "--stack",
        action="append",
        default=[],
        help="stack to plan and scan (repeatable): dev, or access/dev for the access project's",
    )
    parser.add_argument("--no-repo-files", action="store_true", help="scan only the plans, not Dockerfile/workflows")
    parser.add_argument("--strict-skips", action="store_true", help="fail on a skip that matches no failure")
    parser.add_argument("--checkov", default=str(CHECKOV), help="the checkov command (default: make scan-deps's)")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="where the Terraform plan documents go")
    args = parser.parse_args(argv)
    try:
        reports = scan(shlex.split(args.checkov), args.stack, repo_files=not args.no_repo_files, out_dir=args.out)
    except ConfigError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INVALID_CONFIG
    problems = judge(reports, load_skips(), strict_skips=args.strict_skips)
    for problem in problems:
        print(f"FAILED {problem}", file=sys.stderr)
    return EXIT_FAILED if problems else 0


if __name__ == "__main__":
    sys.exit(main())
