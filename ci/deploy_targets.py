"""Turn "deploy harness H to stack S" into the `pulumi up` arguments that touch only H.

A single-harness deploy updates that harness's image (its `HarnessImage` component and children: repository,
lifecycle policy, build) and every clanker whose agent is H (the clanker component and its function or task
definition, role, log group). Everything else in the stack is left as recorded in state.

The URNs come from the offline plan of the same stack file, so they are the program's real resource names and
a rename in `components/` cannot silently turn a targeted deploy into a no-op: the tests compare them with the
plan. Each resource is listed explicitly (component and all descendants) rather than relying on the engine to
expand a component into its children, and `--target-dependents` additionally pulls in anything else whose
inputs depend on those resources.

    python -m ci.deploy_targets --stack dev --harness claude   # one argument per line on stdout
    python -m ci.deploy_targets --stack prod --harness all     # prints nothing: deploy the whole stack

Exit codes: 0 arguments printed (none for `all`); 2 unknown harness or stack, or nothing of that harness in the
stack (a deploy that would silently change nothing is an operator error worth seeing).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.config import ConfigError
from components.harness_image import HarnessImage
from components.targets import TARGETS
from offline_plan.engine import PROJECT_DIR, Plan, Registration
from offline_plan.stacks import plan_stack_file
from workers.catalog import HARNESS_NAMES

ALL = "all"
"""The dispatch choice that deploys the whole stack (no targets)."""

CLANKER_TYPES = frozenset(kind for target in TARGETS for kind in target.component_types)
"""Clanker components that own AWS resources, as each target names them (docker clankers register none: they run
on a developer's engine)."""

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
EXIT_USAGE = 2


class NothingToDeploy(ValueError):
    """The stack has neither an image nor a clanker for the harness."""


@dataclass(frozen=True)
class DeployScope:
    stack: str
    harness: str
    targets: tuple[str, ...]
    """Engine URNs, in plan order; empty means the whole stack."""

    def cli_args(self) -> list[str]:
        if not self.targets:
            return []
        return [*(f"--target={urn}" for urn in self.targets), "--target-dependents"]


def _key(resource: Registration) -> str:
    # The plan records a parent as `type::name`; type and name together are unique within a program.
    return f"{resource.type}::{resource.name}"


def engine_urn(resource: Registration, by_key: Mapping[str, Registration], *, stack: str, project: str) -> str:
    """The URN the Pulumi engine gives `resource`.

    The engine prefixes a child's type with its parent's full qualified type, except when the parent is the root
    stack (pkg/resource/deploy: `generateURN`). The mock monitor the offline plan runs under keeps only the
    parent's last type segment and does prefix the root stack, so its URNs are not the real ones.
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


def _with_descendants(roots: Iterable[Registration], resources: Sequence[Registration]) -> list[Registration]:
    children: dict[str, list[Registration]] = {}
    for resource in resources:
        if resource.parent is not None:
            children.setdefault(resource.parent, []).append(resource)
    selected: dict[str, Registration] = {}
    pending = list(roots)
    while pending:
        resource = pending.pop()
        if _key(resource) not in selected:
            selected[_key(resource)] = resource
            pending.extend(children.get(_key(resource), []))
    order = {_key(r): i for i, r in enumerate(resources)}
    return sorted(selected.values(), key=lambda r: order[_key(r)])


def clankers_running(outputs: Mapping[str, Any], harness: str) -> list[str]:
    """Names of the stack's clankers whose agent (the image they run) is `harness`, from the stack outputs."""
    clankers = outputs.get("clankers", {})
    return sorted(name for name, clanker in clankers.items() if clanker.get("agent") == harness)


def harness_roots(plan: Plan, harness: str) -> list[Registration]:
    """The components a deploy of `harness` owns: its image (when this stack builds it) and its clankers."""
    wanted_clankers = set(clankers_running(plan.outputs, harness))
    return [
        resource
        for resource in plan.resources
        if (resource.type == HarnessImage.TYPE and resource.name == harness)
        or (resource.type in CLANKER_TYPES and resource.name in wanted_clankers)
    ]


def deploy_scope(plan: Plan, harness: str) -> DeployScope:
    if harness == ALL:
        return DeployScope(plan.stack, harness, ())
    if harness not in HARNESS_NAMES:
        raise ValueError(f"unknown harness {harness!r}; known: {', '.join((*HARNESS_NAMES, ALL))}")
    roots = harness_roots(plan, harness)
    if not roots:
        raise NothingToDeploy(
            f"stack {plan.stack!r} has no image and no AWS clanker for harness {harness!r}: nothing to deploy"
        )
    by_key = {_key(r): r for r in plan.resources}
    urns = tuple(
        engine_urn(r, by_key, stack=plan.stack, project=plan.project) for r in _with_descendants(roots, plan.resources)
    )
    return DeployScope(plan.stack, harness, urns)


def stack_file(stack: str, project_dir: Path = PROJECT_DIR) -> Path:
    path = project_dir / f"Pulumi.{stack}.yaml"
    if not path.is_file():
        raise ValueError(f"no stack config {path.name} in {project_dir}")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ci.deploy_targets", description=__doc__.split("\n\n")[0])
    parser.add_argument("--stack", required=True, help="stack name, as in Pulumi.<stack>.yaml (dev, prod)")
    parser.add_argument("--harness", required=True, help=f"one of {', '.join((*HARNESS_NAMES, ALL))}")
    args = parser.parse_args(argv)
    try:
        scope = deploy_scope(plan_stack_file(stack_file(args.stack)), args.harness)
    except (ValueError, ConfigError) as error:  # NothingToDeploy is a ValueError
        print(f"error: {error}", file=sys.stderr)
        return EXIT_USAGE
    for argument in scope.cli_args():
        print(argument)
    return 0


if __name__ == "__main__":
    sys.exit(main())
