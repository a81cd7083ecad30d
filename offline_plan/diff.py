"""What a change does to a stack: two plans matched by URN, as `pulumi preview --diff` would report them.

`make plan DIFF=<git ref>` plans the stack twice: at the ref, in a temporary `git worktree` running the ref's own
program (so the base is what the base code registers), and in this checkout; `DIFF=<plan.json>` takes the base
from a `make plan FORMAT=json` document instead. The two plans run at the same time, so a diff costs about one.

A resource whose URN is only in the head plan is created, only in the base deleted; one in both is updated
when an input differs, and replaced when a differing input is one the provider can't change in place (its
schema marks it ForceNew, so Terraform, and Pulumi through the bridge, delete and recreate). The values are the
plans' own, so a secret is `[secret]` on both sides: a changed secret value is not seen, never shown.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.config import ConfigError, ConfigIssue
from workers.catalog import PROJECT_DIR

OPS = ("create", "update", "replace", "delete")

# Inputs the provider can't update in place, by Pulumi type (camelCase names of terraform-provider-aws's
# ForceNew attributes, internal/service/<service>/<resource>.go): a changed physical name is a new resource.
FORCE_NEW: dict[str, frozenset[str]] = {
    "aws:ecr/repository:Repository": frozenset({"name", "encryptionConfigurations"}),  # ecr/repository.go
    "aws:ecr/lifecyclePolicy:LifecyclePolicy": frozenset({"repository"}),  # ecr/lifecycle_policy.go
    "aws:ecr/repositoryPolicy:RepositoryPolicy": frozenset({"repository"}),  # ecr/repository_policy.go
    "aws:lambda/function:Function": frozenset({"name", "packageType"}),  # lambda/function.go: function_name
    "aws:cloudwatch/logGroup:LogGroup": frozenset({"name", "namePrefix"}),  # logs/group.go
    "aws:ecs/cluster:Cluster": frozenset({"name"}),  # ecs/cluster.go
    "aws:iam/role:Role": frozenset({"name", "namePrefix", "path"}),  # iam/role.go
    "aws:iam/rolePolicy:RolePolicy": frozenset({"name", "namePrefix", "role"}),  # iam/role_policy.go
    "aws:iam/policy:Policy": frozenset({"name", "namePrefix", "description", "path"}),  # iam/policy.go
    "aws:ec2/securityGroup:SecurityGroup": frozenset({"name", "namePrefix", "description", "vpcId"}),
}
# Resources that are immutable but for these inputs: every other attribute of an ECS task definition is ForceNew
# (ecs/task_definition.go; a task definition revision can't be edited), so any other change registers a new one.
UPDATABLE_ONLY: dict[str, frozenset[str]] = {
    "aws:ecs/taskDefinition:TaskDefinition": frozenset({"tags"}),
}


@dataclass(frozen=True)
class ValueChange:
    path: str
    """`imageUri`, `environment.variables.LOG_LEVEL`, `policy.Statement[1].Resource[0]`."""
    before: Any
    after: Any
    """ABSENT on the side that has no value at `path`."""


class _Absent:
    def __repr__(self) -> str:
        return "(none)"


ABSENT: Any = _Absent()


def _document(value: Any) -> Any:
    """The JSON a string holds (an IAM policy, ECS container definitions), else the value itself: a change
    inside a policy is then named by its path, not as two whole documents."""
    if isinstance(value, str) and value[:1] in ("{", "["):
        with contextlib.suppress(ValueError):
            return json.loads(value)
    return value


def value_changes(before: Any, after: Any, path: str = "") -> list[ValueChange]:
    """Every leaf that differs between `before` and `after`, by path."""
    before, after = _document(before), _document(after)
    if isinstance(before, dict) and isinstance(after, dict):
        return [
            change
            for key in [*before, *(k for k in after if k not in before)]
            for change in value_changes(
                before.get(key, ABSENT), after.get(key, ABSENT), f"{path}.{key}" if path else str(key)
            )
        ]
    if isinstance(before, list) and isinstance(after, list):
        return [
            change
            for i in range(max(len(before), len(after)))
            for change in value_changes(
                before[i] if i < len(before) else ABSENT, after[i] if i < len(after) else ABSENT, f"{path}[{i}]"
            )
        ]
    return [] if before == after else [ValueChange(path, before, after)]


def _op(type_: str, changed: list[str]) -> str:
    if set(changed) & FORCE_NEW.get(type_, frozenset()):
        return "replace"
    if type_ in UPDATABLE_ONLY and not set(changed) <= UPDATABLE_ONLY[type_]:
        return "replace"
    return "update"


OPTION_PREFIX = "options."
"""Resource options compared like inputs (`options.protect`): unprotecting a production repository is a change a
reviewer must see, though no provider input moves."""


def _compared(resource: Mapping[str, Any]) -> dict[str, Any]:
    """A resource's inputs and its options (`options.protect`, `options.retainOnDelete`), as one mapping."""
    options = {f"{OPTION_PREFIX}{key}": value for key, value in (resource.get("options") or {}).items()}
    return {**resource["inputs"], **options}


def diff_plans(base: Mapping[str, Any], head: Mapping[str, Any], base_label: Any) -> dict[str, Any]:
    """The changes from the `base` plan to the `head` plan (both `make plan FORMAT=json` documents).

    Per change: `changedInputs` the top-level inputs that differ; `before`/`after` those inputs' values (a
    create has no `before`, a delete no `after`: the whole inputs are on the other side). `outputs`: every
    output path that differs, with `before` and/or `after` (absent where the path has no value)."""
    old = {r["urn"]: r for r in base["resources"]}
    new = {r["urn"]: r for r in head["resources"]}
    changes = []
    for urn in sorted(old.keys() | new.keys()):  # a component's resources together, under its URN
        before, after = old.get(urn), new.get(urn)
        if before is None or after is None:
            resource = after or before
            assert resource is not None
            op = "create" if before is None else "delete"
            changed = sorted(resource["inputs"])
            before_inputs = None if before is None else before["inputs"]
            after_inputs = None if after is None else after["inputs"]
        else:
            old_values, new_values = _compared(before), _compared(after)
            changed = sorted(
                key
                for key in old_values.keys() | new_values.keys()
                if value_changes(old_values.get(key, ABSENT), new_values.get(key, ABSENT))
            )
            if not changed:
                continue
            resource, op = after, _op(after["type"], changed)
            before_inputs = {k: old_values[k] for k in changed if k in old_values}
            after_inputs = {k: new_values[k] for k in changed if k in new_values}
        changes.append(
            {
                "urn": urn,
                "type": resource["type"],
                "name": resource["name"],
                "op": op,
                "changedInputs": changed,
                "before": before_inputs,
                "after": after_inputs,
            }
        )
    outputs = {
        c.path: {side: value for side, value in (("before", c.before), ("after", c.after)) if value is not ABSENT}
        for c in sorted(value_changes(base["outputs"], head["outputs"]), key=lambda c: c.path)
    }
    return {
        "stack": head["stack"],
        "base": base_label,
        "changes": changes,
        "outputs": outputs,
        "summary": {op: sum(c["op"] == op for c in changes) for op in OPS},
    }


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(PROJECT_DIR), *args], check=True, capture_output=True, text=True
    ).stdout.strip()


def _refused(base: str, message: str) -> ConfigError:
    return ConfigError([ConfigIssue(path="DIFF", value=base, message=message)], "diff base")


class BasePlanError(Exception):
    """The base's own program failed (its message and exit code are the base code's)."""


@dataclass
class PendingBase:
    """The base plan, being planned (or read) while the head plan runs."""

    label: dict[str, str]
    process: subprocess.Popen[str] | None = None
    document: dict[str, Any] | None = None

    def result(self) -> dict[str, Any]:
        if self.process is not None:
            stdout, stderr = self.process.communicate()
            if self.process.returncode != 0:
                raise BasePlanError(
                    f"planning the base {self.label['ref']} failed (exit {self.process.returncode}):\n{stderr}"
                )
            self.document = json.loads(stdout)
        assert self.document is not None
        return self.document


def _plan_file(base: str, stack: str) -> PendingBase:
    try:
        document = json.loads(Path(base).read_text())
    except (OSError, ValueError) as error:
        raise _refused(base, str(error)) from None
    if not (isinstance(document, dict) and {"stack", "resources", "outputs"} <= set(document)):
        raise _refused(base, "not a plan: give a `make plan FORMAT=json` document or a git ref")
    if document["stack"] != stack:
        raise _refused(base, f"a plan of stack {document['stack']}, not of {stack}")
    return PendingBase(label={"file": base}, document=document)


@contextlib.contextmanager
def base_plan(base: str, stack: str, stack_file: Path, program_args: list[str]) -> Iterator[PendingBase]:
    """Start planning the base: `base` is a plan JSON file or a git ref. For a ref, the ref's own program plans
    `stack_file` (its path in the ref's tree when it is in this project) with `program_args` in a temporary
    worktree, removed on exit; a stack the ref doesn't have yet has no resources there."""
    if Path(base).is_file():
        yield _plan_file(base, stack)
        return
    try:
        commit = _git("rev-parse", "--verify", "--quiet", f"{base}^{{commit}}")
    except subprocess.CalledProcessError:
        raise _refused(base, "neither a plan JSON file nor a git commit of this checkout") from None
    label = {"ref": base, "commit": commit}
    with tempfile.TemporaryDirectory(prefix="viberator-plan-base-") as scratch:
        worktree = Path(scratch) / "base"
        _git("worktree", "add", "--detach", "--quiet", str(worktree), commit)
        pending = PendingBase(label=label)
        try:
            resolved = stack_file.resolve()
            in_project = resolved.is_relative_to(PROJECT_DIR)
            base_stack_file = worktree / resolved.relative_to(PROJECT_DIR) if in_project else resolved
            if base_stack_file.exists():
                # This checkout's interpreter and locked environment run the ref's code (its own modules come
                # first on the path, from the working directory).
                pending.process = subprocess.Popen(
                    [sys.executable, "-m", "offline_plan", "--config", str(base_stack_file), *program_args],
                    cwd=worktree,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            else:
                pending.document = {"stack": stack, "resources": [], "outputs": {}}
            yield pending
        finally:
            if pending.process is not None and pending.process.poll() is None:
                pending.process.kill()
                pending.process.communicate()
            _git("worktree", "remove", "--force", str(worktree))
