"""A multi-platform harness promoted: dev as committed, building claude for linux/amd64 and linux/arm64, and the
committed prod over it running claude on an arm64 Lambda and on an x86_64 ECS task beside its own clankers.

Both are planned once, as `make plan` plans them, so the outputs the promotion tests read are the program's own.
"""

from __future__ import annotations

import copy
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from offline_plan.engine import PROJECT_DIR, Plan
from offline_plan.stacks import plan_stack_file
from tests.multi_region_stacks import IMAGE_STACK

HARNESS = "claude"
PLATFORMS = ["linux/amd64", "linux/arm64"]
CLANKERS = [
    {"name": "claude-arm", "agent": HARNESS, "target": "lambda", "architecture": "arm64"},
    {"name": "claude-x86", "agent": HARNESS, "target": "ecs", "cpu": 1024, "memoryMb": 2048},
]


def _stack_file(folder: Path, name: str, change: dict[str, Any]) -> Path:
    document = yaml.safe_load((PROJECT_DIR / f"Pulumi.{name}.yaml").read_text())
    document["config"].update(change)
    path = folder / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@cache
def _plans() -> tuple[Plan, Plan]:
    with tempfile.TemporaryDirectory() as folder:
        dev = plan_stack_file(_stack_file(Path(folder), "dev", {"viberator:harnessPlatforms": {HARNESS: PLATFORMS}}))
        prod_clankers = yaml.safe_load((PROJECT_DIR / "Pulumi.prod.yaml").read_text())["config"]["viberator:clankers"]
        prod_file = _stack_file(Path(folder), "prod", {"viberator:clankers": prod_clankers + CLANKERS})
        return dev, plan_stack_file(prod_file, stack_outputs={IMAGE_STACK: dev.outputs})


def image_stack_outputs() -> dict[str, Any]:
    """`pulumi stack output --json` of the image stack (a copy each caller may change)."""
    return copy.deepcopy(_plans()[0].outputs)


def promoting_stack_outputs() -> dict[str, Any]:
    return copy.deepcopy(_plans()[1].outputs)
