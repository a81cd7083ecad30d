"""`make bench-plan [BASE=<git ref>]`: median wall times of the plan program alone and of `make plan … FORMAT=json`
as a user runs it, so the second minus the first is what make adds (target ≤ 0.1 s).

Cases: the dev stack, a generated stack of 100 clankers, and `DIFF=HEAD` of dev (two plans, run at once; target:
no more than two plans). With `BASE`, the program of that commit (a temporary git worktree, the same interpreter)
plans the same two stacks in the same run, taking turns with this checkout's runs, so the figures compare code,
not the machine's mood. Asserts nothing (targets: dev ≤ 1.5 s, 100 clankers ≤ 4 s).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import yaml
from rich.table import Table

from offline_plan.render import plan_console
from workers.catalog import HARNESS_NAMES, HARNESSES, PROJECT_DIR

RUNS = 5
TARGETS = {"dev": 1.5, "100 clankers": 4.0}
MAKE_OVERHEAD_TARGET = 0.1


def generated_stack(directory: Path, clankers: int = 100) -> Path:
    """A stack with `clankers` clankers cycling through the three targets and every harness; each cloud clanker
    holds its agent's API key, as a valid stack must."""
    targets: list[dict[str, object]] = [
        {"target": "lambda", "memoryMb": 2048},
        {"target": "ecs", "cpu": 1024, "memoryMb": 4096},
        {"target": "docker"},
    ]

    def clanker(i: int) -> dict[str, object]:
        harness, target = HARNESS_NAMES[i % len(HARNESS_NAMES)], targets[i % len(targets)]
        key = HARNESSES[harness].key_variables[0]
        secret = f"arn:aws:secretsmanager:us-east-1:123456789012:secret:bench/{harness}-AbCdEf"
        secrets = {} if target["target"] == "docker" else {"secrets": {key: secret}}
        return {"name": f"clanker-{i:03d}", "agent": harness, **target, **secrets}

    config = {"aws:region": "us-east-1", "viberator:clankers": [clanker(i) for i in range(clankers)]}
    path = directory / "Pulumi.bench.yaml"
    path.write_text(yaml.safe_dump({"config": config}))
    return path


def measure(*commands: tuple[list[str], Path]) -> list[tuple[float, float, dict[str, object]]]:
    """For each `(command, cwd)` (a command printing one JSON document): the median wall seconds and CPU seconds
    (user + system, its process tree's) over RUNS runs, and that document. The commands take turns within each
    round, so a change in the machine's load falls on all; CPU seconds hardly move with the load at all."""
    wall: list[list[float]] = [[] for _ in commands]
    cpu: list[list[float]] = [[] for _ in commands]
    documents: list[dict[str, object]] = [{} for _ in commands]
    for _ in range(RUNS):
        for i, (command, cwd) in enumerate(commands):
            used, start = _children_cpu(), time.perf_counter()
            result = subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True)
            wall[i].append(time.perf_counter() - start)
            cpu[i].append(_children_cpu() - used)
            documents[i] = json.loads(result.stdout)
    return [
        (statistics.median(w), statistics.median(c), document)
        for w, c, document in zip(wall, cpu, documents, strict=True)
    ]


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@contextlib.contextmanager
def checkout_of(ref: str, scratch: Path) -> Iterator[Path]:
    """A detached worktree of `ref`, removed afterwards."""
    path = scratch / "base"
    subprocess.run(["git", "worktree", "add", "--detach", "-q", str(path), ref], cwd=PROJECT_DIR, check=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=PROJECT_DIR, check=False)


def make_plan(*args: str) -> list[str]:
    return ["make", "--no-print-directory", "-s", "plan", "FORMAT=json", *args]


def program(*args: str) -> list[str]:
    return [sys.executable, "-m", "offline_plan", "--format", "json", *args]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="make bench-plan", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", metavar="GIT_REF", help="also time the program of this commit, in the same run")
    base_ref = parser.parse_args(argv).base
    table = Table(title=f"offline plan, median of {RUNS} runs")
    base_column = (f"{base_ref} program s (cpu)",) if base_ref else ()
    columns = ("case", "resources", *base_column, "program s (cpu)", "make plan s")
    for column in (*columns, "make adds s", "target s"):
        table.add_column(column, justify="right" if column != "case" else "left")
    with tempfile.TemporaryDirectory() as scratch, contextlib.ExitStack() as stack_of_checkouts:
        base = stack_of_checkouts.enter_context(checkout_of(base_ref, Path(scratch))) if base_ref else None
        stack = generated_stack(Path(scratch))
        cases = {"dev": ["--stack", "dev"], "100 clankers": ["--config", str(stack)]}
        make_args = {"dev": ["STACK=dev"], "100 clankers": [f"CONFIG={stack}"]}
        for name, args in cases.items():
            commands = [(program(*args), PROJECT_DIR), (make_plan(*make_args[name]), PROJECT_DIR)]
            (alone, alone_cpu, document), (made, _, _), *based = measure(
                *commands, *([(program(*args), base)] if base else [])
            )
            before = tuple(f"{wall:.2f} ({cpu:.2f})" for wall, cpu, _ in based)
            resources = document["resources"]
            assert isinstance(resources, list)
            target, overhead = TARGETS[name], made - alone
            table.add_row(
                name,
                str(len(resources)),
                *before,
                f"{alone:.2f} ({alone_cpu:.2f})",
                f"{made:.2f} {_verdict(made <= target)}",
                f"{overhead:.2f} {_verdict(overhead <= MAKE_OVERHEAD_TARGET)}",
                f"{target}, make adds ≤ {MAKE_OVERHEAD_TARGET}",
            )
            if name == "dev":
                (diff_alone, diff_cpu, _), (diff_made, _, _) = measure(
                    (program(*args, "--diff", "HEAD"), PROJECT_DIR),
                    (make_plan(*make_args[name], "DIFF=HEAD"), PROJECT_DIR),
                )
                table.add_row(
                    "dev DIFF=HEAD",
                    "",
                    *(("",) if base else ()),
                    f"{diff_alone:.2f} ({diff_cpu:.2f})",
                    f"{diff_made:.2f} {_verdict(diff_made <= 2 * made)}",
                    f"{diff_made - diff_alone:.2f}",
                    f"≤ 2 plans ({2 * made:.2f})",
                )
    plan_console().print(table)


def _verdict(met: bool) -> str:
    return "[green]met[/green]" if met else "[red]missed[/red]"


if __name__ == "__main__":
    main()
