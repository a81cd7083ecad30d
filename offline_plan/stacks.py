"""Plan a stack file: `Pulumi.<stack>.yaml`, its config checked first, and the image stack it takes images
from planned too when that is a stack of this project."""

from __future__ import annotations

import runpy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from components.config import NAMESPACE, ConfigError, ConfigIssue, parse_pulumi_config
from components.config.stack_file import stack_file_config
from offline_plan.engine import Plan, run_program
from workers.catalog import PROJECT_DIR, PROJECT_NAME, stack_config_file

ACCESS_DIR = PROJECT_DIR / "access"
ACCESS_PROJECT = "viberator-access"
"""The access project (access/Pulumi.yaml): CI's authority, planned by the same engine."""
PROJECTS = {"workers": PROJECT_DIR, "access": ACCESS_DIR}
"""`make plan PROJECT=…`: where each project's `Pulumi.<stack>.yaml` files are."""


def stack_file_of(stack: str) -> Path:
    """`dev` -> Pulumi.dev.yaml; `access/dev` -> access/Pulumi.dev.yaml (the access project's)."""
    project, _, name = stack.rpartition("/")
    return stack_config_file(name, PROJECTS[project or "workers"])


def stack_name_of(path: Path) -> str:
    """`Pulumi.dev.yaml` -> `dev`."""
    name = path.name
    if not (name.startswith("Pulumi.") and name.endswith((".yaml", ".yml"))):
        raise ConfigError(
            [ConfigIssue(path=str(path), value=name, message="a stack config file is named Pulumi.<stack>.yaml")]
        )
    return name.removeprefix("Pulumi.").rsplit(".", 1)[0]


def plan_stack_file(
    path: Path,
    *,
    preview: bool = False,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    first_preview: bool = False,
    stale_registry_credentials: bool = False,
) -> Plan:
    """Plan a `Pulumi.<stack>.yaml`, from wherever it is. The config is checked first (nothing else is planned
    for an invalid one); then a referenced image stack of this project is planned when its outputs were not
    given, so `make plan STACK=prod` works on its own. A stack file of access/ plans the access project."""
    stack = stack_name_of(path)
    config, secret_keys = stack_file_config(path)
    if path.resolve().parent == ACCESS_DIR:
        return plan_access_config(stack, config, secret_keys, preview=preview, first_preview=first_preview)
    parsed = parse_pulumi_config(config, stack=stack, secret_keys=secret_keys)
    outputs = dict(stack_outputs or {})
    if parsed.images is not None and parsed.images.from_ not in outputs:
        outputs[parsed.images.from_] = _image_stack_outputs(parsed.images.from_, path, outputs)
    plan = run_program(
        stack,
        config,
        secret_keys=secret_keys,
        preview=preview,
        first_preview=first_preview,
        stack_outputs=outputs,
        stale_registry_credentials=stale_registry_credentials,
    )
    plan.harnesses = list(parsed.harnesses)
    plan.clankers = [clanker.name for clanker in parsed.clankers]
    return plan


def own_stack_file(source: str) -> Path | None:
    """The `Pulumi.<stack>.yaml` of `org/project/stack` when that is a stack of this project, else None."""
    _org, project, stack = source.split("/")
    stack_file = stack_config_file(stack)
    return stack_file if project == PROJECT_NAME and stack_file.exists() else None


def _image_stack_outputs(source: str, planning: Path, known: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The outputs of the image stack `source`: planned here when it is a stack of this project (its
    `Pulumi.<stack>.yaml` in the project directory), else a config error saying how to give them."""
    path = f"{NAMESPACE}:images.from"
    if (stack_file := own_stack_file(source)) is not None:
        if stack_file.resolve() == planning.resolve():
            raise ConfigError([ConfigIssue(path=path, value=source, message="a stack can't take images from itself")])
        try:
            return plan_stack_file(stack_file, stack_outputs=known).outputs
        except ConfigError as error:
            raise ConfigError(error.issues, f"config of the image stack {source} ({stack_file.name})") from None
    stacks = ", ".join(f"{PROJECT_NAME}/{stack_name_of(p)}" for p in sorted(PROJECT_DIR.glob("Pulumi.*.yaml")))
    raise ConfigError(
        [
            ConfigIssue(
                path=path,
                value=source,
                message=f"not a stack of this project ({stacks}); for any other stack give its outputs: make plan "
                f"STACK_OUTPUTS={source}=<file> (`pulumi stack output --json`, or a `make plan FORMAT=json` document)",
            )
        ]
    )


def plan_access_config(
    stack: str, config: dict[str, str], secret_keys: list[str], *, preview: bool = False, first_preview: bool = False
) -> Plan:
    """Plan the access project's `__main__.py` for one of its stacks (its config checked first)."""
    # Imported here: the workers project plans without the access package (a base commit before it existed).
    from access.config import parse_access_config

    parse_access_config(config)
    return run_program(
        stack,
        config,
        secret_keys=secret_keys,
        preview=preview,
        first_preview=first_preview,
        project=ACCESS_PROJECT,
        program=_access_main,
    )


def _access_main() -> None:
    runpy.run_path(str(ACCESS_DIR / "__main__.py"), run_name="__main__")
