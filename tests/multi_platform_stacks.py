"""A multi-platform harness promoted: dev's settings building claude for linux/amd64 and linux/arm64 (every other
harness for linux/amd64 alone), and prod's settings running claude on an arm64 Lambda and on an x86_64 ECS task
beside a single-platform harness's clanker.

The clankers and platforms are these tests' own, not the committed stacks' (which change with every clanker
added: tests/program/test_urns.py pins those); the rest (accounts, signing, network) is as committed. Both are planned
once, as `make plan` plans them, so the outputs the promotion tests read are the program's own.
"""

from __future__ import annotations

import copy
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from offline_plan.engine import Plan
from offline_plan.stacks import plan_stack_file
from tests.conftest import sample_stack_document
from tests.multi_region_stacks import IMAGE_STACK

HARNESS = "claude"
PLATFORMS = ["linux/amd64", "linux/arm64"]
SECRETS = {"ANTHROPIC_API_KEY": "arn:aws:secretsmanager:us-east-1:210987654321:secret:viberator/prod/anthropic-MnOpQr"}
CLANKERS = [
    {"name": "claude-arm", "agent": HARNESS, "target": "lambda", "architecture": "arm64", "secrets": SECRETS},
    {"name": "claude-x86", "agent": HARNESS, "target": "ecs", "cpu": 1024, "memoryMb": 2048, "secrets": SECRETS},
]
BESIDE = {"name": "beside", "agent": "multi-agent", "target": "lambda", "secrets": SECRETS}
"""A clanker of a single-platform harness, promoted beside the multi-platform one."""


def _document(name: str, change: dict[str, Any]) -> dict[str, Any]:
    document = sample_stack_document(name)
    document["config"].update(change)
    return document


def image_stack_document() -> dict[str, Any]:
    """dev's settings, building every harness and claude for both platforms; no clankers of its own."""
    return _document("dev", {"viberator:harnessPlatforms": {HARNESS: PLATFORMS}, "viberator:clankers": []})


def promoting_stack_document() -> dict[str, Any]:
    return _document("prod", {"viberator:clankers": [*CLANKERS, BESIDE]})


def write(folder: Path, document: dict[str, Any], stack: str) -> Path:
    path = folder / f"Pulumi.{stack}.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


@cache
def _plans() -> tuple[Plan, Plan]:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        dev = plan_stack_file(write(folder, image_stack_document(), "dev"))
        prod_file = write(folder, promoting_stack_document(), "prod")
        return dev, plan_stack_file(prod_file, stack_outputs={IMAGE_STACK: dev.outputs})


def image_stack_outputs() -> dict[str, Any]:
    """`pulumi stack output --json` of the image stack (a copy each caller may change)."""
    return copy.deepcopy(_plans()[0].outputs)


def promoting_stack_outputs() -> dict[str, Any]:
    return copy.deepcopy(_plans()[1].outputs)
