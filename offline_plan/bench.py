"""`make bench-plan`: median wall time of `make plan … FORMAT=json`, run as a user runs it.

Prints figures for the dev stack and for a generated stack of 100 clankers; asserts nothing (targets: dev ≤ 1.5 s,
100 clankers ≤ 4 s).
"""

from __future__ import annotations

import json
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from offline_plan.engine import PROJECT_DIR

RUNS = 5
TARGETS = {"dev": 1.5, "100 clankers": 4.0}


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


def measure(args: list[str]) -> tuple[float, int]:
    """Median seconds over RUNS runs, and the number of resources planned."""
    seconds, resources = [], 0
    for _ in range(RUNS):
        start = time.perf_counter()
        result = subprocess.run(
            ["make", "--no-print-directory", "-s", "plan", "FORMAT=json", *args],
            cwd=PROJECT_DIR,
            check=True,
            capture_output=True,
            text=True,
        )
        seconds.append(time.perf_counter() - start)
        resources = len(json.loads(result.stdout)["resources"])
    return statistics.median(seconds), resources


def main() -> None:
    table = Table(title=f"make plan FORMAT=json (median of {RUNS} runs)")
    for column in ("stack", "resources", "median s", "resources/s", "target s"):
        table.add_column(column, justify="right" if column != "stack" else "left")
    with tempfile.TemporaryDirectory() as scratch:
        cases = {"dev": ["STACK=dev"], "100 clankers": [f"CONFIG={generated_stack(Path(scratch))}"]}
        for name, args in cases.items():
            median, resources = measure(args)
            target = TARGETS[name]
            verdict = "[green]met[/green]" if median <= target else "[red]missed[/red]"
            table.add_row(name, str(resources), f"{median:.2f}", f"{resources / median:.0f}", f"{target} {verdict}")
    Console().print(table)


if __name__ == "__main__":
    main()
