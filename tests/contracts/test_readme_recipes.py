"""README.md's everyday recipes, and docs/add-a-harness.md's (add and retire a harness), work as written: every `make`
target and variable their commands name exists, with values the project accepts (a harness of the catalog, a clanker
of the committed stack, a file that is there); every `gh workflow run` names a workflow with those
`workflow_dispatch` inputs and choices; every file path and config key they quote exists. So a renamed target,
input, file or key fails here, naming the recipe's text to fix."""

from __future__ import annotations

import re
from typing import Any

import pytest
import yaml

from tests.ci.test_make_help import TARGET
from tests.conftest import committed_config
from workers.catalog import HARNESS_NAMES, PROJECT_DIR, WORKFLOWS_DIR

README = PROJECT_DIR / "README.md"
HARNESS_RECIPES = PROJECT_DIR / "docs" / "add-a-harness.md"
MAKEFILES = [PROJECT_DIR / "Makefile", *sorted((PROJECT_DIR / "make").glob("*.mk"))]

MAKE = re.compile(r"\bmake ([a-z][a-z0-9-]*)((?: +[A-Z][A-Z0-9_]*=[^\s`]*)*)")
WORKFLOW_RUN = re.compile(r"\bgh workflow run ([\w.-]+)((?: +(?:--ref|-f) +[^\s`]+)*)")
PATH = re.compile(r"(?<![\w./<>:-])\.?[\w-]+(?:[/.][\w-]+)*(?:\.(?:py|ya?ml|json|md|sh|txt)|/)(?![\w<>])")
CONFIG_KEY = re.compile(r"\bviberator:([a-zA-Z]+)")
CODE = re.compile(r"```[a-z]*\n(.*?)```|`([^`\n]+)`", re.DOTALL)


def recipes() -> str:
    """README's "Everyday recipes" section, and the add-a-harness page it sends the harness recipes to."""
    text = README.read_text()
    start = text.index("## Everyday recipes")
    return text[start : text.index("\n## ", start + 1)] + "\n" + HARNESS_RECIPES.read_text()


def code() -> str:
    """The recipes' code blocks and spans: the commands (prose may say "make" too)."""
    return "\n".join(block or span for block, span in CODE.findall(recipes()))


def placeholder(value: str) -> bool:
    return "<" in value or "…" in value


def make_commands() -> list[tuple[str, dict[str, str]]]:
    found = [
        (target, dict(word.split("=", 1) for word in variables.split())) for target, variables in MAKE.findall(code())
    ]
    assert found, "the recipes name no make command: the pattern no longer reads them"
    return found


def make_text() -> str:
    return "\n".join(path.read_text() for path in MAKEFILES)


@pytest.mark.parametrize(("target", "variables"), make_commands(), ids=lambda value: str(value))
def test_each_make_command_names_a_target_and_variables_it_reads(target: str, variables: dict[str, str]) -> None:
    defined = {name for path in MAKEFILES for name in TARGET.findall(path.read_text())}
    assert target in defined, f"the recipes run `make {target}`, which no Makefile defines"
    text = make_text()
    for name in variables:
        # A variable the Makefiles read: `$(NAME)`, `$(value NAME)`, a helper's `…,NAME)` or `NAME ?=`.
        read = rf"(\$\((value )?{name}\)|,{name}\)|^{name} *[?:]?=)"
        assert re.search(read, text, re.MULTILINE), f"`make {target} {name}=…`: no Makefile reads {name}"


@pytest.mark.parametrize(("target", "variables"), make_commands(), ids=lambda value: str(value))
def test_each_make_commands_values_exist(target: str, variables: dict[str, str]) -> None:
    values = {name: value for name, value in variables.items() if not placeholder(value)}
    if "HARNESS" in values:
        assert values["HARNESS"] in HARNESS_NAMES, f"`make {target} HARNESS={values['HARNESS']}`: no such harness"
    if "CLANKER" in values:
        stack = values.get("STACK", "dev")
        clankers = {clanker.name for clanker in committed_config(f"Pulumi.{stack}.yaml").clankers}
        assert values["CLANKER"] in clankers, (
            f"the recipes' `make {target} CLANKER={values['CLANKER']}` names no clanker of Pulumi.{stack}.yaml: "
            "change the recipe to one it has"
        )
    for name in ("JOB", "CONFIG"):
        if name in values:
            assert (PROJECT_DIR / values[name]).is_file(), f"`make {target} {name}={values[name]}`: no such file"


def workflow_runs() -> list[tuple[str, list[str]]]:
    found = [(name, options.split()) for name, options in WORKFLOW_RUN.findall(code())]
    assert found, "the recipes name no `gh workflow run`: the pattern no longer reads them"
    return found


@pytest.mark.parametrize(("workflow", "options"), workflow_runs(), ids=lambda value: str(value))
def test_each_workflow_dispatch_names_its_inputs_and_choices(workflow: str, options: list[str]) -> None:
    path = WORKFLOWS_DIR / workflow
    assert path.is_file(), f"the recipes run `gh workflow run {workflow}`: no such workflow"
    document: dict[Any, Any] = yaml.safe_load(path.read_text())
    # PyYAML reads the bare key `on` as True (YAML 1.1).
    triggers = document.get("on", document.get(True)) or {}
    assert "workflow_dispatch" in triggers, f"{workflow} cannot be dispatched (no workflow_dispatch trigger)"
    inputs = (triggers["workflow_dispatch"] or {}).get("inputs") or {}
    given = dict(value.split("=", 1) for flag, value in zip(options[::2], options[1::2], strict=True) if flag == "-f")
    for name, value in given.items():
        assert name in inputs, f"`gh workflow run {workflow} -f {name}=…`: {workflow} has no input {name!r}"
        choices = inputs[name].get("options")
        if choices and not placeholder(value):
            assert value in choices, f"`-f {name}={value}`: {workflow} offers {choices}"
    missing = {name for name, spec in inputs.items() if spec.get("required") and "default" not in spec} - set(given)
    assert not missing, f"`gh workflow run {workflow}` lacks the required inputs {sorted(missing)}"


def quoted_paths() -> list[str]:
    """Paths in the recipes' text, relative to the project (links, code spans, commands, comments); of bare file
    names, the root's stack files and the workflows (others, like `agents.json`, are named beside their folder)."""
    return sorted(
        path
        for path in set(PATH.findall(recipes()))
        if "/" in path or re.fullmatch(r"Pulumi\.[\w.-]+\.yaml|[\w-]+\.yml", path)
    )


@pytest.mark.parametrize("path", quoted_paths())
def test_each_file_a_recipe_names_exists(path: str) -> None:
    # A bare workflow file name is one of .github/workflows/.
    assert (PROJECT_DIR / path).exists() or (WORKFLOWS_DIR / path).is_file(), f"the recipes name {path}: not there"


def test_each_config_key_a_recipe_names_is_documented() -> None:
    reference = (PROJECT_DIR / "docs" / "configuration-reference.md").read_text()
    keys = set(CONFIG_KEY.findall(recipes()))
    assert keys, "the recipes name no config key: the pattern no longer reads them"
    assert {key for key in keys if f"`viberator:{key}`" not in reference} == set()


def test_the_urns_the_retire_recipe_unprotects_are_urns_a_stack_has() -> None:
    """`pulumi state unprotect 'urn:…::<type>::<name>-repository'`: that type and name shape, for some harness."""
    shapes = re.findall(r"'urn:…::([\w:/]+)::<name>(-[\w-]+)'", recipes())
    assert shapes, "the retire recipe names no URN: the pattern no longer reads it"
    snapshot = (PROJECT_DIR / "tests" / "urns" / "Pulumi.dev.yaml.txt").read_text().splitlines()
    for kind, suffix in shapes:
        assert any(urn.endswith(f"{kind}::{name}{suffix}") for urn in snapshot for name in HARNESS_NAMES), (
            f"no URN of dev ends {kind}::<harness>{suffix}: fix the retire recipe's `pulumi state unprotect`"
        )


def test_the_engine_scripts_commands_exist() -> None:
    script = PROJECT_DIR / ".ci" / "docker-engine.sh"
    usage = next(line for line in script.read_text().splitlines() if "usage:" in line)
    for command in re.findall(r"\.ci/docker-engine\.sh ([a-z-]+)", code()):
        assert re.search(rf"\b{command}\b", usage), f"`.ci/docker-engine.sh {command}`: not one of its commands"


def test_the_patterns_read_what_the_recipes_hold() -> None:
    """The readers above find what they check (a reader that finds nothing would pass anything)."""
    assert ("run-job", {"CLANKER": "local-kimi", "JOB": "examples/bootstrap/job.json"}) in make_commands()
    assert any(name == "deploy-viberators.yml" for name, _ in workflow_runs())
    assert "Pulumi.dev.yaml" in quoted_paths() and "examples/bootstrap/job.json" in quoted_paths()
