"""Fixtures for the worker runtime tests: the fake agent CLI installed under every real CLI's name."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from viberator_worker.agents import AGENTS

FAKE_AGENT = Path(__file__).with_name("fake_agent.py")
WORKER_PACKAGE_ROOT = Path(__file__).resolve().parents[2] / "workers" / "image"


@pytest.fixture
def fake_bin(tmp_path: Path) -> Path:
    """A directory holding the fake agent under each CLI executable name (claude, codex, ..., vibe)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # A wrapper, not a symlink: the fake must run on this interpreter, whatever python3 is on PATH.
    for agent in AGENTS.values():
        wrapper = bin_dir / agent.executable
        wrapper.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_AGENT}" "$@"\n')
        wrapper.chmod(0o755)
    return bin_dir


@pytest.fixture
def worker_env(fake_bin: Path, tmp_path: Path) -> dict[str, str]:
    """A clean environment for a worker process: fake agents first on PATH, results and slates under tmp_path."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    return {
        "PATH": f"{fake_bin}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path),
        "PYTHONPATH": str(WORKER_PACKAGE_ROOT),
        "VIBERATOR_RESULT_PATH": str(tmp_path / "results" / "result.json"),
        "VIBERATOR_BOOTSTRAP_DIR": str(tmp_path / "bootstrap"),
        "VIBERATOR_SCRATCH_DIR": str(scratch),
    }
