"""`make bench-test`: how long `make test` takes, and where the time goes. Runs the same pytest selection as
`make test` once, with a JUnit report, and prints the wall time, each test folder's (layer's) share and the
slowest tests, with the machine's load average before and after (a figure taken on a busy machine says so).
Asserts nothing: issue 30's target is `make test` ≤ 90 s on a quiet 2-core machine.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from offline_plan.render import plan_console
from workers.catalog import PROJECT_DIR

SELECTION = ["-n", "2", "--dist", "loadfile", "-m", "not images and not checkov"]
"""`make test`'s selection (Makefile, `test`)."""
SLOWEST = 15


def _layer(classname: str) -> str:
    """`tests.config.test_x.TestY` -> `tests/config`; a file directly in tests/ -> `tests/`."""
    parts = classname.split(".")
    return "tests/" if len(parts) < 3 or parts[1].startswith("test_") else f"tests/{parts[1]}"


def main() -> None:
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "junit.xml"
        command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SELECTION, f"--junitxml={report}"]
        started = time.perf_counter()
        completed = subprocess.run(command, cwd=PROJECT_DIR, capture_output=True, text=True)
        wall = time.perf_counter() - started
        cases = ElementTree.parse(report).getroot().iter("testcase")
        timed = [(case.get("classname", ""), case.get("name", ""), float(case.get("time", 0))) for case in cases]
    load_after = os.getloadavg()
    console = plan_console()
    summary = completed.stdout.strip().splitlines()[-1] if completed.stdout.strip() else "(no summary)"
    console.print(f"pytest ({' '.join(SELECTION)}): {wall:.1f} s wall, {summary}")
    console.print(f"load average before {load_before[0]:.2f}, after {load_after[0]:.2f} (2 cores: above ~0.5 is busy)")
    by_layer: dict[str, float] = collections.defaultdict(float)
    counts: collections.Counter[str] = collections.Counter()
    for classname, _, seconds in timed:
        by_layer[_layer(classname)] += seconds
        counts[_layer(classname)] += 1
    layers = Table(title="time per test folder (sum of test times, setup included)")
    for column in ("folder", "tests", "seconds"):
        layers.add_column(column, justify="left" if column == "folder" else "right")
    for layer, seconds in sorted(by_layer.items(), key=lambda item: -item[1]):
        layers.add_row(layer, str(counts[layer]), f"{seconds:.1f}")
    console.print(layers)
    slowest = Table(title=f"the {SLOWEST} slowest tests")
    slowest.add_column("test")
    slowest.add_column("seconds", justify="right")
    for classname, name, seconds in sorted(timed, key=lambda t: -t[2])[:SLOWEST]:
        slowest.add_row(escape(f"{classname}::{name}"), f"{seconds:.1f}")  # ids in [...] are not markup
    console.print(slowest)
    if completed.returncode != 0:
        console.print(f"[red]pytest exited {completed.returncode}[/red]: the figures are of a failing run")
        sys.exit(completed.returncode)


if __name__ == "__main__":
    main()
