"""The workflows (.github/workflows) and local composite actions (.github/actions) as the workflow tests read
them: each file parsed once, a job's steps with every local action expanded into its own steps, and the names
of the workflows several test modules check.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import yaml

from workers.catalog import PROJECT_DIR, WORKFLOWS_DIR

WORKFLOW_FILES = sorted(WORKFLOWS_DIR.glob("*.yml"))
ACTION_FILES = sorted((PROJECT_DIR / ".github" / "actions").glob("*/action.yml"))
STACKS = sorted(p.name.removeprefix("Pulumi.").removesuffix(".yaml") for p in PROJECT_DIR.glob("Pulumi.*.yaml"))


@cache
def workflow(name: str) -> dict[str, Any]:
    document = yaml.safe_load((WORKFLOWS_DIR / name).read_text())
    # YAML 1.1 reads the bare key `on` as the boolean true.
    document["on"] = document.pop(True, document.get("on"))
    return document


def _uses(step: dict[str, Any]) -> str:
    return str(step.get("uses", "")).split("@")[0]


@cache
def local_action(uses: str) -> dict[str, Any]:
    return yaml.safe_load((PROJECT_DIR / uses.removeprefix("./") / "action.yml").read_text())


def expanded(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A job's steps with each local composite action replaced by its own steps."""
    result = []
    for step in steps:
        if _uses(step).startswith("./.github/actions/"):
            result += expanded(local_action(_uses(step))["runs"]["steps"])
        else:
            result.append(step)
    return result


def _steps(name: str) -> list[tuple[str, dict[str, Any]]]:
    return [(job_id, step) for job_id, job in workflow(name)["jobs"].items() for step in expanded(job.get("steps", []))]


def _job_steps(name: str, job_id: str) -> list[dict[str, Any]]:
    return expanded(workflow(name)["jobs"][job_id]["steps"])


def _runs(name: str, job_id: str) -> str:
    return "\n".join(step.get("run", "") for step in _job_steps(name, job_id))


def _step(name: str, job_id: str, step_name: str) -> dict[str, Any]:
    (found,) = [step for step in workflow(name)["jobs"][job_id]["steps"] if step.get("name") == step_name]
    return found


DEPLOY = "deploy-viberators.yml"
STACK_DEPLOY = "deploy-stack.yml"


def _callers(stack: str) -> dict[str, Any]:
    (job,) = [job for job in workflow(DEPLOY)["jobs"].values() if job.get("with", {}).get("stack") == stack]
    return job


REVIEW = "review-stack.yml"
REVIEW_WRITERS = {"up", "destroy"}
"""The review stack's jobs that write: `viberator-review`'s token writes only `pr-*` stacks."""
