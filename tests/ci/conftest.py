"""Fixtures for the CI scripts: the committed stacks' offline plans, planned once per session.

The deploy-target mapping and the build summary are tested against what the real program registers and
exports, not against hand-written copies that could drift from it.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest

from offline_plan.engine import Plan
from tests.conftest import committed_plan


@pytest.fixture(scope="session")
def ci_dev_plan() -> Plan:
    return committed_plan("Pulumi.dev.yaml")


@pytest.fixture(scope="session")
def ci_prod_plan() -> Plan:
    return committed_plan("Pulumi.prod.yaml")


PLAN_MODES = ("up", "preview", "first-preview")
"""ci/deploy_targets.py maps a harness to URNs: the same in an up, an update's preview and a stack's first
preview, where nothing computed is known."""


def _plan(file_name: str, mode: str) -> Plan:
    return committed_plan(file_name, preview=mode == "preview", first_preview=mode == "first-preview")


@pytest.fixture(scope="session", params=PLAN_MODES)
def dev_plan_any_mode(request: pytest.FixtureRequest) -> Plan:
    return _plan("Pulumi.dev.yaml", request.param)


@pytest.fixture(scope="session", params=PLAN_MODES)
def prod_plan_any_mode(request: pytest.FixtureRequest) -> Plan:
    return _plan("Pulumi.prod.yaml", request.param)


@pytest.fixture
def dev_outputs(ci_dev_plan: Plan) -> dict[str, Any]:
    """A sample `pulumi stack output --json` document: the dev plan's outputs (a copy each test may change)."""
    return copy.deepcopy(ci_dev_plan.outputs)


@pytest.fixture
def prod_outputs(ci_prod_plan: Plan) -> dict[str, Any]:
    return copy.deepcopy(ci_prod_plan.outputs)


def approved_manifest(image: dict[str, Any]) -> dict[str, Any]:
    """The manifest a reviewer approves for a harness (viberator_contract's `Image.approved_digest`): a
    multi-platform harness's index, which commits to every platform's image, else the one image. Tests change its
    digest to move "the harness's digest" whatever platforms the committed stacks build it for."""
    return image["index"] if image.get("index") else image


def signed_references(outputs: dict[str, Any]) -> list[str]:
    """Every `<repository>@<digest>` of the image stack's outputs the deploy signs: each platform's image, and each
    multi-platform harness's index (what `verify_promotion pushed --indexes` lists), sorted."""
    references = set()
    for image in outputs["images"].values():
        indexes = [image["index"]] if image.get("index") else []
        for manifest in [image, *(image.get("platforms") or {}).values(), *indexes]:
            references.add(f"{image['repositoryUrl']}@{manifest['digest']}")
    return sorted(references)
