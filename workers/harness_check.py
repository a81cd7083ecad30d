"""Every place a harness needs, and which of them are missing: `python -m workers.harness_check [NAME ...]`
(`make harness-check [HARNESS=NAME]`). The recipe that fills them is docs/add-a-harness.md.

A harness is one worker image (workers/catalog.py); each of its agent CLIs needs its own places too (a lock,
a payload stage, the runtime's invocation and settings, the job schema). Lists that enumerate every harness
(or every agent) are found by what they hold, not by where they are: a workflow input, or a schema enum, that
lists every *other* harness must list this one too, so a new list of harnesses is checked without a line here.

Exit codes: 0 every place is there; 1 a place is missing (each named with its file and what to add there).
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from workers.catalog import ALL_AGENTS, HARNESSES, PROJECT_DIR, Harness
from workers.dockerfile_stages import DockerfileError, Stage, stages

IMAGE = "workers/image"
DOCKERFILE = f"{IMAGE}/Dockerfile"
LOCKS = f"{IMAGE}/locks"
AGENT_SETTINGS = f"{IMAGE}/viberator_worker/agents.json"
AGENT_TABLE = f"{IMAGE}/viberator_worker/agents.py"
JOB_SCHEMA = f"{IMAGE}/viberator_worker/schemas/job.schema.json"
OUTPUTS_SCHEMA = "viberator_contract/outputs.schema.json"
WORKFLOWS = ".github/workflows"
DEPENDABOT = ".github/dependabot.yml"
CATALOG = "workers/catalog.py"
LOCK_FILES = {"npm": ("package.json", "package-lock.json"), "pip": ("requirements.in", "requirements.txt")}
"""Per Dependabot ecosystem, the files of a lock: the pin, and what `make locks` resolves from it."""


@dataclass(frozen=True)
class Place:
    file: str
    """Relative to the repository root."""
    needs: str
    """What the file must hold for the harness: the thing to add when it is missing."""
    present: bool

    def __str__(self) -> str:
        return f"{'ok     ' if self.present else 'MISSING'} {self.file}: {self.needs}"


@dataclass(frozen=True)
class _Tree:
    """What the places are read from, each file read once per check."""

    root: Path
    stages: dict[str, Stage]
    runtime_agents: frozenset[str]
    runtime_error: str | None
    choices: tuple[tuple[str, str, tuple[Any, ...]], ...]
    """(workflow file, input, options) of every workflow_dispatch choice input."""
    dependabot: dict[str, frozenset[str]]
    """Per package ecosystem, the directories Dependabot updates."""
    agent_settings: dict[str, Any]
    job_enums: tuple[tuple[str, list[Any]], ...]
    outputs_enums: tuple[tuple[str, list[Any]], ...]


def _read(root: Path) -> _Tree:
    """A Dockerfile that does not parse raises DockerfileError (naming the file): nothing about its stages can be
    said."""
    agents, error = _runtime_agents(root)
    return _Tree(
        root=root,
        stages=dict(stages(root / DOCKERFILE)),
        runtime_agents=agents,
        runtime_error=error,
        choices=tuple(
            (f"{WORKFLOWS}/{path.name}", key, tuple(options))
            for path in sorted((root / WORKFLOWS).glob("*.y*ml"))
            for key, options in _dispatch_choices(path)
        ),
        dependabot=_dependabot_directories(root),
        agent_settings=json.loads((root / AGENT_SETTINGS).read_text()),
        job_enums=tuple(_enums(json.loads((root / JOB_SCHEMA).read_text()))),
        outputs_enums=tuple(_enums(json.loads((root / OUTPUTS_SCHEMA).read_text()))),
    )


def places(harness: Harness, root: Path = PROJECT_DIR) -> list[Place]:
    """Every place `harness` needs in the tree at `root`, each marked present or not.

    The catalog itself is this process's (workers.catalog); every file is read under `root`."""
    return _places(harness, _read(root))


def _places(harness: Harness, tree: _Tree) -> list[Place]:
    return [*_harness_places(harness, tree), *(p for agent in harness.agents for p in _agent_places(agent, tree))]


def _harness_places(harness: Harness, tree: _Tree) -> Iterator[Place]:
    name = harness.name
    yield Place(CATALOG, f'Harness("{name}", {harness.agents!r}, "<description>") in HARNESSES', name in HARNESSES)
    stage = tree.stages.get(name)
    yield Place(DOCKERFILE, f"a stage `FROM <node-worker|native-worker> AS {name}` (its build target)", bool(stage))
    if stage is not None:
        copies = [copy for s in _lineage(stage, tree.stages) for copy in s.copies]
        for agent in harness.agents:
            payload = f"{agent}-payload"
            yield Place(
                DOCKERFILE,
                f"`COPY --from={payload} /out/ /` in stage {name}",
                any(c.from_stage == payload for c in copies),
            )
        yield Place(
            DOCKERFILE,
            f"`COPY viberator_worker /opt/worker/app/viberator_worker` (the runtime, last) in stage {name}",
            any(c.from_stage is None and "viberator_worker" in c.sources for c in copies),
        )
    others = set(HARNESSES) - {name}
    for workflow, key, options in tree.choices:
        if others <= set(options):
            yield Place(workflow, f"`{name}` in on.workflow_dispatch.inputs.{key}.options", name in options)
    for pointer, enum in tree.outputs_enums:
        if others <= set(enum):
            yield Place(OUTPUTS_SCHEMA, f"`{name}` in the enum at {pointer} (`make schema` writes it)", name in enum)


def _agent_places(agent: str, tree: _Tree) -> Iterator[Place]:
    root = tree.root
    yield Place(CATALOG, f'"{agent}" in ALL_AGENTS', agent in ALL_AGENTS)
    lock = root / LOCKS / agent
    ecosystem = next((kind for kind, files in LOCK_FILES.items() if (lock / files[0]).is_file()), None)
    if ecosystem is None:
        yield Place(
            f"{LOCKS}/{agent}/",
            "the CLI's pin: package.json (npm) or requirements.in (PyPI), then `make locks` for its lock",
            False,
        )
    else:
        pin, resolved = LOCK_FILES[ecosystem]
        yield Place(
            f"{LOCKS}/{agent}/", f"{resolved}, resolved from {pin} by `make locks`", (lock / resolved).is_file()
        )
        directory = f"/{LOCKS}/{agent}"
        yield Place(
            DEPENDABOT,
            f"`{directory}` in the {ecosystem} update's directories",
            directory in tree.dependabot.get(ecosystem, frozenset()),
        )
    payload = tree.stages.get(f"{agent}-payload")
    yield Place(
        DOCKERFILE,
        f"a stage `{agent}-payload` that copies locks/{agent}/ and installs the CLI under /out/",
        payload is not None
        and any(source.startswith(f"locks/{agent}/") for copy in payload.copies for source in copy.sources),
    )
    settings = tree.agent_settings.get(agent)
    yield Place(
        AGENT_SETTINGS,
        f'"{agent}": {{"keys": [<the API-key variables the CLI reads>], "options": {{<what a job may pass>}}}}',
        isinstance(settings, dict) and bool(settings.get("keys")) and isinstance(settings.get("options"), dict),
    )
    unreadable = f" ({AGENT_TABLE} does not read: {tree.runtime_error})" if tree.runtime_error else ""
    yield Place(
        AGENT_TABLE,
        f'Agent("{agent}", <executable>, <headless arguments>, <prompt style>, …) in AGENTS{unreadable}',
        agent in tree.runtime_agents,
    )
    others = set(ALL_AGENTS) - {agent}
    for pointer, enum in tree.job_enums:
        if others <= set(enum):
            yield Place(JOB_SCHEMA, f"`{agent}` in the enum at {pointer}", agent in enum)


def _lineage(stage: Stage, found: dict[str, Stage]) -> Iterator[Stage]:
    """The stage and the stages it is built FROM, nearest first: a target inherits their COPYs."""
    seen: set[str] = set()
    current: Stage | None = stage
    while current is not None and current.name not in seen:
        seen.add(current.name)
        yield current
        current = found.get(current.base.lower())


def _dispatch_choices(path: Path) -> Iterator[tuple[str, list[Any]]]:
    document = _yaml(path)
    # YAML 1.1 reads the bare key `on` as the boolean true (PyYAML does); GitHub reads it as "on".
    triggers = document.get("on", document.get(True)) or {}
    dispatch = triggers.get("workflow_dispatch") if isinstance(triggers, dict) else None
    for key, spec in ((dispatch or {}).get("inputs") or {}).items():
        if isinstance(spec, dict) and spec.get("type") == "choice":
            yield key, list(spec.get("options") or [])


def _enums(node: Any, pointer: str = "") -> Iterator[tuple[str, list[Any]]]:
    """Every `enum` of a JSON Schema, with its JSON pointer."""
    if isinstance(node, dict):
        if isinstance(node.get("enum"), list):
            yield f"{pointer}/enum", node["enum"]
        for key, value in node.items():
            yield from _enums(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _enums(value, f"{pointer}/{i}")


def _dependabot_directories(root: Path) -> dict[str, frozenset[str]]:
    config = _yaml(root / DEPENDABOT)
    found: dict[str, set[str]] = {}
    for update in config.get("updates") or []:
        directories = [*(update.get("directories") or []), *filter(None, [update.get("directory")])]
        found.setdefault(update.get("package-ecosystem"), set()).update(d.rstrip("/") for d in directories)
    return {ecosystem: frozenset(directories) for ecosystem, directories in found.items()}


def _yaml(path: Path) -> Any:
    # libyaml's loader where PyYAML has it: the pure-Python one takes a second over the workflows on a busy machine.
    return yaml.load(path.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}


def _runtime_agents(root: Path) -> tuple[frozenset[str], str | None]:
    """The agent names of the runtime's invocation table (`AGENTS = {… for agent in (Agent("<name>", …), …)}` in
    viberator_worker/agents.py) of the tree at `root`, read from its syntax tree: importing the runtime would find
    this process's already imported one, and in a process of its own costs seconds (jsonschema's format checkers
    build a grammar at import). tests/worker_runtime holds the imported table to the catalog's agents."""
    path = root / AGENT_TABLE
    try:
        module = ast.parse(path.read_text(), filename=str(path))
    except (OSError, SyntaxError) as unreadable:
        return frozenset(), str(unreadable)
    tables = [
        node.value
        for node in module.body
        if isinstance(node, ast.AnnAssign | ast.Assign)
        and any(isinstance(target, ast.Name) and target.id == "AGENTS" for target in _targets(node))
    ]
    if not tables or tables[0] is None:
        return frozenset(), "it assigns no AGENTS table"
    return frozenset(
        call.args[0].value
        for call in ast.walk(tables[0])
        if isinstance(call, ast.Call)
        and isinstance(call.func, ast.Name)
        and call.func.id == "Agent"
        and call.args
        and isinstance(call.args[0], ast.Constant)
        and isinstance(call.args[0].value, str)
    ), None


def _targets(node: ast.AnnAssign | ast.Assign) -> list[ast.expr]:
    return [node.target] if isinstance(node, ast.AnnAssign) else node.targets


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workers.harness_check",
        description="List every place a harness needs (docs/add-a-harness.md) and say which are missing.",
    )
    parser.add_argument("names", nargs="*", metavar="NAME", help="harnesses to check (default: the catalog's)")
    args = parser.parse_args(argv)
    try:
        tree = _read(PROJECT_DIR)
    except DockerfileError as unreadable:
        print(f"error: {unreadable}", file=sys.stderr)
        return 1
    failed = False
    for name in args.names or list(HARNESSES):
        # A name the catalog lacks has no agents yet: its harness-wide places are checked, and its catalog entry
        # is the first thing missing.
        harness = HARNESSES.get(name) or Harness(name, (), "")
        found = _places(harness, tree)
        gaps = [place for place in found if not place.present]
        failed |= bool(gaps)
        print(f"{name}: {len(found) - len(gaps)} of {len(found)} places there" + (", missing:" if gaps else ""))
        for place in found if gaps else []:
            print(f"  {place}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
