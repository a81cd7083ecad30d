"""Fixtures of the real-build tier (`make test-images`, marker `images`): a running engine and registry,
every harness image built once per session, and the fake agent ready to mount into a container.

The engine and registry are started (idempotently) but not stopped here: `make test-images` stops what it
started; a developer running pytest directly keeps a warm engine and `.ci/docker-engine.sh stop` ends it.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import image_engine
import pytest

from tests.tooling import realengine
from workers.catalog import BUILD_CONTEXT, HARNESS_NAMES
from workers.revision import BuildRevision, build_revision
from workers.tooling.run_job import FAKE_MOUNT

# The tooling's real-engine fixtures, for the tier's test_tooling_* modules: pytest finds a conftest's fixtures
# among its attributes, under the attribute's name.
docker_engine = realengine.docker_engine
registry = realengine.registry
authenticated_registry = realengine.authenticated_registry
silent_registry = realengine.silent_registry
scratch = realengine.scratch
environment = realengine.scratch_environment
signing_key = realengine.signing_key

FAKE_AGENT = Path(__file__).resolve().parents[1] / "worker_runtime" / "fake_agent.py"
# The clean-slate scenario (runtime_jobs) is the fast tier's too: one definition, run on the host and here.
sys.path.insert(0, str(FAKE_AGENT.parent))

# multi-agent first: it builds every payload stage, so the single-agent targets after it are cache hits.
BUILD_ORDER = ("multi-agent", *(name for name in HARNESS_NAMES if name != "multi-agent"))


@pytest.fixture(scope="session")
def engine() -> None:
    image_engine.engine("start")
    image_engine.engine("registry-start")


@pytest.fixture(scope="session")
def revision() -> BuildRevision:
    return build_revision(BUILD_CONTEXT)


@pytest.fixture(scope="session")
def images(engine: None, revision: BuildRevision) -> dict[str, str]:
    """{harness: local image reference}, all built from the one context by `python -m workers build`."""
    return image_engine.build_images(BUILD_ORDER, revision)


@pytest.fixture(scope="session")
def fake_agents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A directory to mount at FAKE_MOUNT: the fake agent plus a wrapper under every CLI's executable name."""
    from viberator_worker.agents import AGENTS

    root = tmp_path_factory.mktemp("fake-agents")
    shutil.copy(FAKE_AGENT, root / "fake_agent.py")
    (root / "bin").mkdir()
    for agent in AGENTS.values():
        wrapper = root / "bin" / agent.executable
        wrapper.write_text(f'#!/bin/sh\nexec python3 {FAKE_MOUNT}/fake_agent.py "$@"\n')
        wrapper.chmod(0o755)
    root.chmod(0o755)
    return root


@pytest.fixture
def job_dirs(tmp_path: Path) -> tuple[Path, Path]:
    """(bootstrap, results) directories for one container run; results writable by the image's user."""
    bootstrap, results = tmp_path / "bootstrap", tmp_path / "results"
    bootstrap.mkdir()
    results.mkdir()
    results.chmod(0o777)
    tmp_path.chmod(0o755)
    return bootstrap, results
