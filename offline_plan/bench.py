"""`make bench-plan`: median wall times of the plan program alone and of `make plan … FORMAT=json` as a user
runs it, so the second minus the first is what make adds (target ≤ 0.1 s).

Cases: the dev stack, a generated stack of 100 clankers, and `DIFF=HEAD` of dev (two plans, run at once; target:
no more than two plans). Asserts nothing (targets: dev ≤ 1.5 s, 100 clankers ≤ 4 s).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from rich.table import Table

from offline_plan.engine import PROJECT_DIR
from offline_plan.render import plan_console

RUNS = 5
TARGETS = {"dev": 1.5, "100 clankers": 4.0}
MAKE_OVERHEAD_TARGET = 0.1


def generated_stack(directory: Path, clankers: int = 100) -> Path:
    """A stack with `clankers` clankers cycling through the three targets and all nine harnesses."""
    targets: list[dict[str, object]] = [
        {"target": "lambda", "memoryMb": 2048},
        {"target": "ecs", "cpu": 1024, "memoryMb": 4096},
        {"target": "docker"},
    ]
    harnesses = ["claude", "codex", "qwen", "gemini", "opencode", "mistral", "kimi", "multi-agent", "claude-code-ecs"]
    config = {
        "aws:region": "us-east-1",
        "viberator:clankers": [
            {"name": f"clanker-{i:03d}", "agent": harnesses[i % len(harnesses)], **targets[i % len(targets)]}
            for i in range(clankers)
        ],
    }
    path = directory / "Pulumi.bench.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def measure(command: list[str]) -> tuple[float, dict[str, object]]:
    """Median seconds over RUNS runs of `command` (which prints one JSON document), and that document."""
    seconds, document = [], {}
    for _ in range(RUNS):
        start = time.perf_counter()
        result = subprocess.run(command, cwd=PROJECT_DIR, check=True, capture_output=True, text=True)
        seconds.append(time.perf_counter() - start)
        document = json.loads(result.stdout)
    return statistics.median(seconds), document


def make_plan(*args: str) -> list[str]:
    return ["make", "--no-print-directory", "-s", "plan", "FORMAT=json", *args]


def program(*args: str) -> list[str]:
    return [sys.executable, "-m", "offline_plan", "--format", "json", *args]


def main() -> None:
    table = Table(title=f"offline plan, median of {RUNS} runs")
    for column in ("case", "resources", "program s", "make plan s", "make adds s", "target s"):
        table.add_column(column, justify="right" if column != "case" else "left")
    with tempfile.TemporaryDirectory() as scratch:
        stack = generated_stack(Path(scratch))
        cases = {"dev": ["--stack", "dev"], "100 clankers": ["--config", str(stack)]}
        make_args = {"dev": ["STACK=dev"], "100 clankers": [f"CONFIG={stack}"]}
        for name, args in cases.items():
            alone, document = measure(program(*args))
            made, _ = measure(make_plan(*make_args[name]))
            resources = document["resources"]
            assert isinstance(resources, list)
            target, overhead = TARGETS[name], made - alone
            table.add_row(
                name,
                str(len(resources)),
                f"{alone:.2f}",
                f"{made:.2f} {_verdict(made <= target)}",
                f"{overhead:.2f} {_verdict(overhead <= MAKE_OVERHEAD_TARGET)}",
                f"{target}, make adds ≤ {MAKE_OVERHEAD_TARGET}",
            )
            if name == "dev":
                diff_alone, _ = measure(program(*args, "--diff", "HEAD"))
                diff_made, _ = measure(make_plan(*make_args[name], "DIFF=HEAD"))
                table.add_row(
                    "dev DIFF=HEAD",
                    "",
                    f"{diff_alone:.2f}",
                    f"{diff_made:.2f} {_verdict(diff_made <= 2 * made)}",
                    f"{diff_made - diff_alone:.2f}",
                    f"≤ 2 plans ({2 * made:.2f})",
                )
    plan_console().print(table)


def _verdict(met: bool) -> str:
    return "[green]met[/green]" if met else "[red]missed[/red]"


if __name__ == "__main__":
    main()
