"""A committed stack's offline plan as the digest `pulumi preview --json --show-sames` prints for it: what the deploy
reads to choose a single harness's targets (ci/deploy_targets.py).

The shape is Pulumi's (pulumi/pulumi pkg/display/json.go `PreviewDigest`, `PreviewStep`; each state an
sdk/go/common/apitype/core.go `ResourceV3`); tests/ci/preview-digest.json is one written by hand from that source,
which proves the reader against the shape independently of this converter. An existing stack's preview shows every
unchanged resource as a `same` step with both states; a stack's first preview shows every resource as a `create`
with only its new state (pkg/backend/display/json.go `getPreviewMetadataStep`: a state only where the step has
one).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.config.stack_file import stack_file_config
from offline_plan.engine import Plan, Registration
from workers.catalog import PROJECT_DIR

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"


def _key(resource: Registration) -> str:
    # The plan records a parent as `type::name`; type and name together are unique within a program.
    return f"{resource.type}::{resource.name}"


def engine_urn(resource: Registration, by_key: Mapping[str, Registration], *, stack: str, project: str) -> str:
    """The URN the Pulumi engine gives `resource`.

    The engine prefixes a child's type with its parent's full qualified type, except when the parent is the root
    stack (sdk/go/common/resource/urn/urn.go `New`, called with the parent URN's `QualifiedType`). The mock monitor
    the offline plan runs under keeps only the parent's last type segment and does prefix the root stack, so its
    URNs are not the real ones.
    """
    qualified = resource.type
    parent = resource.parent
    while parent is not None:
        owner = by_key[parent]
        if owner.type == ROOT_STACK_TYPE:
            break
        qualified = f"{owner.type}${qualified}"
        parent = owner.parent
    return f"urn:pulumi:{stack}::{project}::{qualified}::{resource.name}"


def root_stack_urn(plan: Plan) -> str:
    # The Python SDK names the root stack `<project>-<stack>` (sdk/python/lib/pulumi/runtime/stack.py, `Stack`).
    return f"urn:pulumi:{plan.stack}::{plan.project}::{ROOT_STACK_TYPE}::{plan.project}-{plan.stack}"


def _step(op: str, state: dict[str, Any], *, first: bool) -> dict[str, Any]:
    step: dict[str, Any] = {"op": op, "urn": state["urn"], "newState": state, "detailedDiff": None}
    if not first:
        step["oldState"] = state
    return step


def preview_digest(plan: Plan, file_name: str) -> dict[str, Any]:
    """The digest of `plan`'s stack (`file_name`, its `Pulumi.<stack>.yaml`): `create` steps in a first preview,
    else `same` steps; a stack reference as a `read`."""
    first = plan.first_preview
    by_key = {_key(r): r for r in plan.resources}
    root = root_stack_urn(plan)

    def state(resource: Registration, *, external: bool = False) -> dict[str, Any]:
        parent = by_key.get(resource.parent or "")
        state: dict[str, Any] = {
            "urn": engine_urn(resource, by_key, stack=plan.stack, project=plan.project),
            "custom": resource.custom,
            "type": resource.type,
            "inputs": resource.inputs,
            "parent": root if parent is None else engine_urn(parent, by_key, stack=plan.stack, project=plan.project),
        }
        return state | ({"external": True} if external else {})

    stack_state = {"urn": root, "custom": False, "type": ROOT_STACK_TYPE}
    steps = [_step("create" if first else "same", stack_state, first=first)]
    steps += [_step("create" if first else "same", state(r), first=first) for r in plan.resources]
    steps += [_step("read", state(r, external=True), first=first) for r in plan.reads]
    config, _ = stack_file_config(PROJECT_DIR / file_name)
    return {
        "config": config,
        "steps": steps,
        "duration": 1_500_000_000,
        "changeSummary": {"create" if first else "same": len(steps)},
    }
