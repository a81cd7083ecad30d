"""The job and result documents: parsing, validation against the JSON Schemas in `schemas/`, construction.

The schemas are the contract; this module adds no rule they do not state, so a caller can validate a job
with any JSON Schema tool and get the same answer the worker would.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from typing import Any, Literal

import jsonschema

from viberator_worker import JOB_CONTRACT_VERSION

Status = Literal["succeeded", "failed", "timed_out", "cancelled", "invalid"]

OUTPUT_TAIL_BYTES = 64 * 1024
"""How much agent output the result keeps; the whole stream goes to the worker's stdout (CloudWatch)."""


class InvalidJob(ValueError):
    """The job document is unreadable or breaks the job schema; the message says where and why."""


@functools.cache
def schema(name: Literal["job", "result"]) -> dict[str, Any]:
    text = resources.files("viberator_worker").joinpath("schemas", f"{name}.schema.json").read_text()
    return json.loads(text)


@dataclass(frozen=True)
class Job:
    id: str
    agent: str
    prompt: str
    model: str | None = None
    timeout_seconds: int = 900
    env: dict[str, str] = field(default_factory=dict)
    extra_args: tuple[str, ...] = ()


def _first_error(document: Any, name: Literal["job", "result"]) -> str | None:
    validator = jsonschema.Draft202012Validator(schema(name), format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if not errors:
        return None
    error = errors[0]
    where = "/".join(str(part) for part in error.absolute_path) or "(document)"
    return f"{where}: {error.message}"


def parse_job(raw: str | bytes | dict[str, Any]) -> Job:
    """A validated Job from JSON text or an already-decoded document (a Lambda event)."""
    if isinstance(raw, str | bytes):
        try:
            document = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidJob(f"job is not JSON: {exc}") from None
    else:
        document = raw
    if (error := _first_error(document, "job")) is not None:
        raise InvalidJob(f"invalid job: {error}")
    return Job(
        id=document["id"],
        agent=document["agent"],
        prompt=document["prompt"],
        model=document.get("model"),
        timeout_seconds=document.get("timeout_seconds", Job.timeout_seconds),
        env=dict(document.get("env", {})),
        extra_args=tuple(document.get("extra_args", ())),
    )


def result_document(
    *,
    job_id: str | None,
    agent: str | None,
    status: Status,
    exit_code: int | None,
    started_at: datetime,
    finished_at: datetime,
    output_tail: str = "",
    error: str | None = None,
) -> dict[str, Any]:
    """A result document; raises if it would break the result schema (a runtime bug, never a job's fault)."""
    document = {
        "contract": JOB_CONTRACT_VERSION,
        "job_id": job_id,
        "agent": agent,
        "status": status,
        "exit_code": exit_code,
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "duration_seconds": round((finished_at - started_at).total_seconds(), 3),
        "output_tail": output_tail,
        "error": error,
    }
    if (problem := _first_error(document, "result")) is not None:
        raise AssertionError(f"result document breaks its schema: {problem}")
    return document
