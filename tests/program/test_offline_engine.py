"""What the offline plan engine adds to the SDK's mocks: a plan is one document for the same inputs, and its
shortcut (no source positions: offline_plan/engine.py, `_without_source_positions`) changes nothing it records."""

from __future__ import annotations

import pulumi
import pytest
from pulumi.runtime import resource as resource_runtime

from offline_plan import engine
from offline_plan.stacks import plan_stack_file
from tests.conftest import committed_plan
from workers.catalog import PROJECT_DIR


def test_the_locked_sdk_has_the_hook_the_engine_replaces() -> None:
    """Were the SDK to rename it, plans would silently walk the stack again (a fifth of their CPU)."""
    assert callable(getattr(resource_runtime, engine.SOURCE_POSITION_HOOK))


def test_the_hook_is_replaced_only_while_a_program_runs() -> None:
    original = getattr(resource_runtime, engine.SOURCE_POSITION_HOOK)
    seen = []

    def program() -> None:
        seen.append(getattr(resource_runtime, engine.SOURCE_POSITION_HOOK))
        pulumi.ComponentResource("test:index:Thing", "thing")

    engine.run_program("dev", {"aws:region": "us-east-1"}, program=program)
    assert seen and seen[0] is not original
    assert getattr(resource_runtime, engine.SOURCE_POSITION_HOOK) is original


def test_a_plan_without_source_positions_records_what_one_with_them_does(monkeypatch: pytest.MonkeyPatch) -> None:
    shortcut = committed_plan("Pulumi.dev.yaml")
    monkeypatch.setattr(engine, "SOURCE_POSITION_HOOK", "no_such_hook")  # the SDK's own stack walks
    walked = plan_stack_file(PROJECT_DIR / "Pulumi.dev.yaml")
    assert shortcut.to_json() == walked.to_json()
    assert shortcut.reads == walked.reads
    assert shortcut.resources


def test_two_plans_of_the_same_stack_are_the_same_document() -> None:
    """Registrations arrive from the SDK's executor threads in any order; the plan orders them, so a plan file
    compared with another (`make plan DIFF=…`, a reviewer's `diff`) differs only where the program does."""
    assert plan_stack_file(PROJECT_DIR / "Pulumi.dev.yaml").to_json() == committed_plan("Pulumi.dev.yaml").to_json()
