"""Supply chain (issue 17), without a Docker engine: every agent CLI and Python environment of the images is
installed from a committed lockfile, and the Dockerfile installs nothing any other way."""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import pytest
import yaml

from workers.catalog import ALL_AGENTS, BUILD_CONTEXT, DOCKERFILE
from workers.tooling.sbom import SBOM_DIR
from workers.tooling.sbom.document import validate

LOCKS = BUILD_CONTEXT / "locks"
PYPI_LOCKS = ("mistral", "worker", "cyclonedx-py")
"""Python environments of the build: the mistral agent, the worker runtime, and the SBOM tool."""
NPM_LOCKS = (*(agent for agent in ALL_AGENTS if agent not in PYPI_LOCKS), "cyclonedx-npm")
RUN_INSTRUCTION = re.compile(r"^RUN (?:.*\\\n)*.*$", re.MULTILINE)


def _runs() -> list[str]:
    return [match.group(0) for match in RUN_INSTRUCTION.finditer(DOCKERFILE.read_text())]


def test_every_agent_and_tool_has_exactly_one_lock() -> None:
    assert {path.name for path in LOCKS.iterdir()} == {*NPM_LOCKS, *PYPI_LOCKS}
    assert set(ALL_AGENTS) <= {*NPM_LOCKS, *PYPI_LOCKS}


@pytest.mark.parametrize("name", NPM_LOCKS)
def test_npm_lock_pins_one_exact_version_and_keeps_every_integrity_hash(name: str) -> None:
    manifest = json.loads((LOCKS / name / "package.json").read_text())
    lock = json.loads((LOCKS / name / "package-lock.json").read_text())
    (version,) = manifest["dependencies"].values()
    assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: pin an exact version, not {version!r}"
    # `npm ci` refuses a lock that disagrees with package.json; the lock must be the one `make locks` wrote.
    assert lock["lockfileVersion"] >= 2
    assert lock["packages"][""]["dependencies"] == manifest["dependencies"]
    packages = {path: entry for path, entry in lock["packages"].items() if path}
    assert packages
    missing = [path for path, entry in packages.items() if not str(entry.get("integrity", "")).startswith("sha512-")]
    assert missing == [], f"{name}: lock entries without a sha512 integrity hash"


@pytest.mark.parametrize("name", PYPI_LOCKS)
def test_pypi_lock_hashes_every_requirement(name: str) -> None:
    text = (LOCKS / name / "requirements.txt").read_text()
    requirements = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==\S+(.*?)(?=^\S|\Z)", text, re.MULTILINE | re.DOTALL)
    assert requirements
    unhashed = [pin for pin, rest in requirements if "--hash=sha256:" not in rest]
    assert unhashed == []
    assert (LOCKS / name / "requirements.in").exists(), "make locks compiles requirements.txt from requirements.in"


def test_the_dockerfile_installs_only_from_the_locks() -> None:
    runs = _runs()
    npm = [run for run in runs if re.search(r"\bnpm (?:install|i|add|update)\b", run)]
    assert npm == [], "npm install resolves a tree at build time; use `npm ci` with a lock under locks/"
    pip = [run for run in runs if re.search(r"\bpip install\b", run)]
    assert pip and all("--require-hashes" in run for run in pip), "every pip install must be --require-hashes"
    assert not any(re.search(r"\b(?:npx|yarn|pnpm|pipx|uv pip|curl|wget)\b", run) for run in runs)
    text = DOCKERFILE.read_text()
    for name in NPM_LOCKS:
        assert f"COPY locks/{name}/ " in text, f"{name}'s lock is not what the build installs"
    for name in PYPI_LOCKS:
        assert f"COPY locks/{name}/requirements.txt " in text, f"{name}'s lock is not what the build installs"


def test_each_payload_writes_its_sbom_fragment() -> None:
    text = DOCKERFILE.read_text()
    for name in (*ALL_AGENTS, "worker"):
        assert f"{SBOM_DIR}/{name}.cdx.json" in text.replace("/out/", "/"), name


@pytest.mark.parametrize(
    ("dockerfile_line", "why"),
    [
        ('RUN npm install --prefix /tmp/pkg "@openai/codex@1.0.0"', "npm install"),
        ("RUN pip install mistral-vibe==3.0.2", "pip without hashes"),
    ],
)
def test_the_lock_check_catches_a_bypass(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, dockerfile_line: str, why: str
) -> None:
    """The check above fails on the bypasses it exists for (an unlocked npm install, an unhashed pip install)."""
    patched = tmp_path / "Dockerfile"
    patched.write_text(DOCKERFILE.read_text() + f"\n{dockerfile_line}\n")
    monkeypatch.setattr(sys.modules[__name__], "DOCKERFILE", patched)
    with pytest.raises(AssertionError):
        test_the_dockerfile_installs_only_from_the_locks()


def test_a_missing_lock_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:

    copy = tmp_path / "locks"
    shutil.copytree(LOCKS, copy)
    (copy / "gemini" / "package-lock.json").unlink()
    monkeypatch.setattr(sys.modules[__name__], "LOCKS", copy)
    with pytest.raises(FileNotFoundError):
        test_npm_lock_pins_one_exact_version_and_keeps_every_integrity_hash("gemini")


FROM_LINE = re.compile(r"^FROM (?:--platform=\S+ )?(?P<base>\S+)(?: AS (?P<stage>\S+))?$", re.MULTILINE)
PINNED_IMAGE = re.compile(r"^[a-z0-9./-]+:[\w.-]+@sha256:[0-9a-f]{64}$")
"""`name:tag@sha256:<digest>`: the digest decides what is pulled, the tag says what it is (and lets Dependabot
propose the next digest under it)."""


def test_every_base_image_is_pinned_by_digest_and_the_defaults_name_those_pins() -> None:
    text = DOCKERFILE.read_text()
    stages = {m["stage"] for m in FROM_LINE.finditer(text) if m["stage"]}
    images = [m["base"] for m in FROM_LINE.finditer(text) if not m["base"].startswith("$") and m["base"] not in stages]
    assert images and all(PINNED_IMAGE.match(image) for image in images), images
    # The ARG defaults the FROM lines expand name the pinned stages, never an image by tag.
    defaults = dict(re.findall(r"^ARG (\w+_BASE)=(\S+)$", text, re.MULTILINE))
    assert set(defaults) == {"NODE_BASE", "NODE_BUILD_BASE", "SLIM_BASE"}
    assert set(defaults.values()) <= stages
    # The offline stand-ins replace every one of them (.ci/docker-engine.sh offline-bases).
    engine = (BUILD_CONTEXT.parents[1] / ".ci" / "docker-engine.sh").read_text()
    assert all(f"{name}=$OFFLINE_" in engine for name in defaults)


def test_dependabot_proposes_new_base_image_digests() -> None:
    config = yaml.safe_load((BUILD_CONTEXT.parents[1] / ".github" / "dependabot.yml").read_text())
    (docker,) = [u for u in config["updates"] if u["package-ecosystem"] == "docker"]
    assert docker["directory"] == "/" + str(BUILD_CONTEXT.relative_to(BUILD_CONTEXT.parents[1]))


def test_the_sbom_check_reads_the_cyclonedx_schema_and_its_date_time_format() -> None:
    """`validate` (workers/tooling/sbom/document.py) without the json-validation extra (pyproject.toml): the schema
    and the date-time format it names are still checked (rfc3339-validator), as before."""
    minimal = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.6",
        "version": 1,
        "metadata": {"timestamp": "2026-12-07T10:00:00Z"},
    }
    assert validate(minimal) is None
    assert "'SPDX' is not one of" in str(validate({**minimal, "bomFormat": "SPDX"}))
    assert "'yesterday' is not a 'date-time'" in str(validate({**minimal, "metadata": {"timestamp": "yesterday"}}))
