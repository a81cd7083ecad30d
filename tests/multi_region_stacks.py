"""Stack files for the multi-region tests: the committed dev (us-east-1) replicating to other regions, and the
committed prod moved to us-west-2, each written where a test wants it and planned as `make plan` plans them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from offline_plan.engine import Plan
from offline_plan.stacks import plan_stack_file
from workers.catalog import PROJECT_DIR

IMAGE_STACK = "viberator/viberator-workers/dev"
WEST = "us-west-2"


def _committed(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((PROJECT_DIR / f"Pulumi.{name}.yaml").read_text()))


def image_stack_file(folder: Path, replicas: list[dict[str, str]] | None) -> Path:
    """dev, replicating to `replicas` (none: dev as committed)."""
    document = _committed("dev")
    if replicas is not None:
        document["config"]["viberator:replicas"] = replicas
    path = folder / "Pulumi.dev.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def promoting_stack_file(folder: Path, region: str = WEST, clankers: list[dict[str, Any]] | None = None) -> Path:
    """prod in `region` (its secrets moved there too), over dev; `clankers` replaces prod's."""
    document = _committed("prod")
    config = document["config"]
    config["aws:region"] = region
    if clankers is not None:
        config["viberator:clankers"] = clankers
    for clanker in config["viberator:clankers"]:
        if "secrets" in clanker:  # a docker clanker has none
            clanker["secrets"] = {k: v.replace(":us-east-1:", f":{region}:") for k, v in clanker["secrets"].items()}
    path = folder / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump(document))
    return path


def image_stack_outputs(folder: Path, replicas: list[dict[str, str]] | None) -> dict[str, Any]:
    """What `pulumi stack output --json` of that image stack would say."""
    return plan_stack_file(image_stack_file(folder, replicas)).outputs


def plan_promoting(folder: Path, image_outputs: dict[str, Any], **promoting: Any) -> Plan:
    return plan_stack_file(promoting_stack_file(folder, **promoting), stack_outputs={IMAGE_STACK: image_outputs})
