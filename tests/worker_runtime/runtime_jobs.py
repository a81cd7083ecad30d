"""Job documents for the worker runtime tests (shared by the fast tier and the images tier)."""

from __future__ import annotations


def job_document(prompt: str, **fields: object) -> dict[str, object]:
    """A valid contract-1 job for the fake agent; `fields` override or add job fields."""
    return {"contract": 1, "id": "job-1", "agent": "claude", "prompt": prompt, **fields}
