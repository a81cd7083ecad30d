"""Adding a harness is a recipe (docs/add-a-harness.md): the harness check names every place a harness needs and
each one that is missing, and the plan refuses a built harness whose Dockerfile has no stage of its name."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from offline_plan.__main__ import EXIT_INVALID_CONFIG, main
from workers import catalog, harness_check
from workers.catalog import HARNESS_NAMES, HARNESSES, PROJECT_DIR, Harness
from workers.dockerfile_stages import DockerfileError, stages
from workers.harness_check import places

SCRATCH = Harness("scratch", ("scratch",), "A harness that exists nowhere yet")
EVERY_KIND = {
    harness_check.CATALOG,
    harness_check.DOCKERFILE,
    harness_check.AGENT_SETTINGS,
    harness_check.AGENT_TABLE,
    harness_check.JOB_SCHEMA,
    f"{harness_check.WORKFLOWS}/deploy-viberators.yml",
    harness_check.DEPENDABOT,
}
"""Files every harness has a place in, whatever else lists harnesses (the outputs schema may stop enumerating)."""


@pytest.mark.parametrize("name", HARNESS_NAMES)
def test_every_catalog_harness_has_every_place(name: str) -> None:
    found = places(HARNESSES[name])
    assert [str(place) for place in found if not place.present] == []
    assert {place.file for place in found} >= EVERY_KIND
    assert {f"{harness_check.LOCKS}/{agent}/" for agent in HARNESSES[name].agents} <= {p.file for p in found}


def test_an_incomplete_harness_names_each_missing_place_and_what_to_add() -> None:
    gaps = [place for place in places(SCRATCH) if not place.present]
    assert EVERY_KIND - {harness_check.DEPENDABOT} | {f"{harness_check.LOCKS}/scratch/"} <= {p.file for p in gaps}
    needs = "\n".join(str(place) for place in gaps)
    for expected in (
        'Harness("scratch", (\'scratch\',), "<description>") in HARNESSES',
        '"scratch" in ALL_AGENTS',
        "a stage `FROM <node-worker|native-worker> AS scratch`",
        "a stage `scratch-payload` that copies locks/scratch/",
        "`scratch` in on.workflow_dispatch.inputs.harness.options",
        '"scratch": {"keys": [',
        'Agent("scratch", <executable>',
        "`scratch` in the enum at /properties/agent/enum",
    ):
        assert expected in needs
    # The lock is missing, so which Dependabot update will carry it is not known yet: not named until it is.
    assert harness_check.DEPENDABOT not in {place.file for place in gaps}


def _tree(tmp_path: Path) -> Path:
    """A copy of what the check reads, for a test to add a scratch harness to."""
    for part in ("workers/image", ".github", "viberator_contract"):
        shutil.copytree(PROJECT_DIR / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _edit_json(path: Path, change: object) -> None:
    document = json.loads(path.read_text())
    change(document)  # type: ignore[operator]
    path.write_text(json.dumps(document))


def test_each_place_filled_in_a_copy_of_the_tree_is_found(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    dockerfile = root / harness_check.DOCKERFILE
    dockerfile.write_text(
        dockerfile.read_text()
        + "\nFROM npm-builder AS scratch-payload\nCOPY locks/scratch/ /out/opt/agents/scratch/\n"
        # A target whose COPYs come partly from the stage it is built FROM.
        + "\nFROM node-worker AS scratch-base\nCOPY --from=scratch-payload /out/ /\n"
        + "\nfrom scratch-base as Scratch\nCOPY viberator_worker /opt/worker/app/viberator_worker\n"
    )
    (root / harness_check.LOCKS / "scratch").mkdir()
    for name in ("package.json", "package-lock.json"):
        (root / harness_check.LOCKS / "scratch" / name).write_text("{}")
    dependabot = root / harness_check.DEPENDABOT
    config = yaml.safe_load(dependabot.read_text())
    next(u for u in config["updates"] if u["package-ecosystem"] == "npm")["directories"].append(
        "/workers/image/locks/scratch"
    )
    dependabot.write_text(yaml.safe_dump(config))
    _edit_json(
        root / harness_check.AGENT_SETTINGS, lambda d: d.update(scratch={"keys": ["SCRATCH_API_KEY"], "options": {}})
    )
    table = root / harness_check.AGENT_TABLE
    table.write_text(
        table.read_text().replace(
            '        Agent("kimi",',
            '        Agent("scratch", "scratch", (), "option", "--prompt", None),\n        Agent("kimi",',
        )
    )
    _edit_json(root / harness_check.JOB_SCHEMA, lambda d: d["properties"]["agent"]["enum"].append("scratch"))
    workflow = root / harness_check.WORKFLOWS / "deploy-viberators.yml"
    workflow.write_text(workflow.read_text().replace("          - all\n", "          - scratch\n          - all\n"))
    schema = root / harness_check.OUTPUTS_SCHEMA
    schema.write_text(schema.read_text().replace('"claude-code-ecs"', '"claude-code-ecs", "scratch"'))

    # Only the catalog is left: the check reads it from this process, never from the copy.
    assert {str(place) for place in places(SCRATCH, root) if not place.present} == {
        f'MISSING {harness_check.CATALOG}: Harness("scratch", (\'scratch\',), "<description>") in HARNESSES',
        f'MISSING {harness_check.CATALOG}: "scratch" in ALL_AGENTS',
    }


def test_a_target_that_does_not_copy_its_agent_s_payload_is_named(tmp_path: Path) -> None:
    root = _tree(tmp_path)
    dockerfile = root / harness_check.DOCKERFILE
    text = dockerfile.read_text()
    dockerfile.write_text(
        text.replace("FROM node-worker AS kimi\nCOPY --from=kimi-payload /out/ /\n", "FROM node-worker AS kimi\n")
    )
    gaps = [str(place) for place in places(HARNESSES["kimi"], root) if not place.present]
    assert gaps == [f"MISSING {harness_check.DOCKERFILE}: `COPY --from=kimi-payload /out/ /` in stage kimi"]


def test_the_command_lists_the_gaps_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert harness_check.main(["kimi"]) == 0
    assert harness_check.main(["kimi", "scratch"]) == 1
    out = capsys.readouterr().out
    count = len(places(HARNESSES["kimi"]))
    assert f"kimi: {count} of {count} places there" in out
    assert f"MISSING {harness_check.DOCKERFILE}: a stage `FROM <node-worker|native-worker> AS scratch`" in out


def test_stage_names_are_read_as_buildkit_reads_them(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "ARG BASE=x\n"
        "FROM --platform=$BUILDPLATFORM ${BASE} AS Builder\n"
        "# FROM base AS commented-out\n"
        "COPY --from=other a b /c/\n"
        "from builder \\\n    as two-lines\n"
        "FROM builder\n"
    )
    found = stages(dockerfile)
    assert list(found) == ["builder", "two-lines"]
    assert found["builder"].copies[0].from_stage == "other"
    assert found["builder"].copies[0].sources == ("a", "b")
    assert found["two-lines"].base == "builder"
    with pytest.raises(DockerfileError, match="no-such-file"):
        stages(tmp_path / "no-such-file")


def test_the_plan_refuses_a_built_harness_with_no_stage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        catalog.DOCKERFILE.read_text().replace("FROM node-worker AS kimi\n", "FROM node-worker AS kimo\n")
    )
    monkeypatch.setattr(catalog, "DOCKERFILE", dockerfile)
    monkeypatch.chdir(PROJECT_DIR)
    assert main(["--stack", "dev", "--format", "json"]) == EXIT_INVALID_CONFIG
    captured = capsys.readouterr()
    assert captured.out == ""
    # dev builds the default harnesses (it sets no viberator:harnesses), so the issue names that unset key.
    assert (
        f"  - viberator:harnesses = (missing): {dockerfile} has no stage `FROM … AS kimi` to build harness kimi"
        in captured.err
    )
    assert "Traceback" not in captured.err
