"""`make help` lists every target the Makefiles define, each with what it does (issue 31: it hid test-images-arm64)."""

from __future__ import annotations

import re
import subprocess

from workers.catalog import PROJECT_DIR

TARGET = re.compile(r"^([A-Za-z0-9_-]+):(?!=)", re.MULTILINE)


def test_make_help_lists_every_target() -> None:
    makefiles = [PROJECT_DIR / "Makefile", *sorted((PROJECT_DIR / "make").glob("*.mk"))]
    defined = {name for path in makefiles for name in TARGET.findall(path.read_text())}
    listed = subprocess.run(
        ["make", "--no-print-directory", "-s", "help"], cwd=PROJECT_DIR, capture_output=True, text=True, check=True
    ).stdout
    described = {line.split()[0] for line in listed.splitlines() if len(line.split()) > 1}
    assert defined - described == set(), "add `## what it does` after the target's colon"
