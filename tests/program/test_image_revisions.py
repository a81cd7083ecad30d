"""Image revisions follow the build context, not HEAD: a context change moves the revision (a dirty tree never
reuses a clean tag), and without git the revision is a content hash. That an unrelated commit changes no image
input is checked through `make plan DIFF=<ref>` (tests/program/test_plan_views.py, the diff against a git ref: a
README-only commit there changes nothing but the agent switch before it).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import git, project_repository
from workers.catalog import PROJECT_DIR
from workers.labels import REVISION_LABEL
from workers.revision import build_revision


def _image_inputs(cwd: Path) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "offline_plan", "--stack", "dev", "--format", "json"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return {
        r["name"]: r["inputs"]
        for r in json.loads(result.stdout)["resources"]
        if r["type"] == "docker-build:index:Image"
    }


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """The project in a repository of its own, its dev stack narrowed to claude's image: a plan there is a fresh
    interpreter running the copy's code, reading the copy's git history."""
    config = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())["config"]
    narrowed = {k: v for k, v in config.items() if k != "viberator:clankers"} | {"viberator:harnesses": ["claude"]}
    return project_repository(tmp_path / "project", narrowed)


def _revision_of(project: Path) -> str:
    """The revision of `project`'s build context as its program reads it, read again now (build_revision caches
    each context's for the process)."""
    return build_revision.__wrapped__(project / "workers" / "image").revision


def test_a_build_context_change_moves_the_revision_and_dirty_never_reuses_a_clean_tag(
    project_copy: Path,
) -> None:
    clean = _revision_of(project_copy)
    (project_copy / "workers" / "image" / "NOTE").write_text("uncommitted\n")
    # The dirty state is the one planned (a fresh interpreter running the copy): the program labels its images
    # with that revision as it is, never with the clean one it starts with. The other states are read directly.
    dirty = _image_inputs(project_copy)["claude-image"]["labels"][REVISION_LABEL]
    assert dirty == _revision_of(project_copy)
    assert dirty.startswith(f"{clean}-dirty-")
    git(project_copy, "add", "-A")
    git(project_copy, "commit", "-qm", "context change")
    committed = _revision_of(project_copy)
    assert committed not in (clean, dirty) and "dirty" not in committed


def test_without_git_the_revision_is_a_content_hash(tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text("FROM scratch\n")

    revision = build_revision(context)
    assert revision.revision.startswith("content-")
    assert revision.note and "no git history" in revision.note
