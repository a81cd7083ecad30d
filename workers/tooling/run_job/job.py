"""The job run-job hands a clanker and the result it reads back: the request, the job document checked
against the worker's job schema, the result document, and the exit codes and error every runner raises.

Runners (`local`, `cloud`) build on these; this module runs nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from viberator_contract import Clanker
from workers.catalog import BUILD_CONTEXT
from workers.tooling.signature import Verifier

EXIT_SUCCEEDED, EXIT_JOB_FAILED, EXIT_USAGE, EXIT_REFUSED, EXIT_NOT_RUN = 0, 1, 2, 3, 4

JOB_SCHEMA = BUILD_CONTEXT / "viberator_worker" / "schemas" / "job.schema.json"
RESULT_LINE_PREFIX = "VIBERATOR_RESULT "
"""How the worker's job mode ends its output (viberator_worker.job_mode; a test keeps the two equal)."""


@dataclass
class RunJobError(Exception):
    message: str
    exit_code: int

    def __str__(self) -> str:
        return self.message


def load_job(path: Path) -> dict[str, Any]:
    """The job document, checked against the job schema the worker implements."""
    try:
        job = json.loads(path.read_text())
    except OSError as error:
        raise RunJobError(f"cannot read the job {path}: {error.strerror}", EXIT_USAGE) from None
    except ValueError as error:
        raise RunJobError(f"the job {path} is not JSON: {error}", EXIT_USAGE) from None
    from jsonschema import Draft202012Validator  # about a second to import: only run-job needs it

    validator = Draft202012Validator(json.loads(JOB_SCHEMA.read_text()))
    problems = sorted(validator.iter_errors(job), key=lambda error: list(error.absolute_path))
    if problems:
        lines = [f"  - {'.'.join(map(str, p.absolute_path)) or '(the job)'}: {p.message}" for p in problems]
        raise RunJobError(f"the job {path} does not match {JOB_SCHEMA.name}:\n" + "\n".join(lines), EXIT_USAGE)
    return job


REFUSE_UNVERIFIABLE = Verifier(None, "no public key was given")


@dataclass(frozen=True)
class JobRequest:
    clanker: str
    deployment: Clanker
    """The clanker's entry of the stack outputs, as the contract reads it (its target's `deploymentConfig` model;
    `workers.tooling.stack_outputs`)."""
    job: Mapping[str, Any]
    placeholder: bool
    """The outputs are an offline plan's: run the local alias, never pull a placeholder reference."""
    local: bool = False
    """Lambda clankers: run the image under the emulator instead of invoking the function in AWS."""
    fake_agent: bool = False
    """Run the fake agent of the runtime tests instead of the real CLI (no API key, no network)."""
    network: str | None = None
    """A docker clanker's network, overriding its deploymentConfig's (bridge when that names none)."""
    verify: Callable[[str], None] = REFUSE_UNVERIFIABLE
    """Checks a digest pulled from the stack (`signature.Verifier`); the default refuses every one."""


def parse_result(text: str, where: str) -> dict[str, Any]:
    """The result document `where` (an image, a function, a task) returned; RunJobError when it is not one."""
    try:
        result = json.loads(text)
    except ValueError:
        raise RunJobError(f"{where} returned no result document: {text[:500]}", EXIT_NOT_RUN) from None
    if not isinstance(result, dict) or "status" not in result:
        raise RunJobError(f"{where} returned no result document: {text[:500]}", EXIT_NOT_RUN)
    return result
