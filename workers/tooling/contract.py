"""The job-contract label of worker images, and which job contracts this checkout can hand a job to.

Every worker image is labelled (in `workers/image/Dockerfile`) with the version of the job contract its worker
runtime implements: the job and result documents the Docker-target invoker writes and reads (the labels set per
build, the revision among them, are `workers.labels`'). Versions are `MAJOR[.MINOR]`: a minor step adds optional fields
that either side may ignore, a major step breaks one of the documents, so compatibility is an equal major.

This checkout's own contract version is read from the Dockerfile's `ARG JOB_CONTRACT=` default, which the
worker runtime's tests keep equal to its `JOB_CONTRACT_VERSION`: the version its images are built with, so
there is no third copy to drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# The version this checkout's images implement (and its invoker writes): the catalog's, as the program exports it.
from workers.catalog import job_contract as tool_contract

CONTRACT_LABEL = "io.viberator.job-contract"

_VERSION = re.compile(r"(?P<major>0|[1-9][0-9]*)(?:\.(?P<minor>0|[1-9][0-9]*))?")


@dataclass(frozen=True)
class ContractCheck:
    compatible: bool
    reason: str
    """For an incompatible image, what is wrong in words a user can act on."""


def check_contract(image_labels: dict[str, str], tool_version: str | None = None) -> ContractCheck:
    """Whether an image with these labels accepts the jobs this checkout writes."""
    tool_version = tool_version or tool_contract()
    image_version = image_labels.get(CONTRACT_LABEL)
    if image_version is None:
        return ContractCheck(False, f"it has no {CONTRACT_LABEL} label, so it is not a viberator worker image")
    image_match = _VERSION.fullmatch(image_version.strip())
    if image_match is None:
        return ContractCheck(False, f"its {CONTRACT_LABEL} label {image_version!r} is not MAJOR[.MINOR]")
    tool_match = _VERSION.fullmatch(tool_version)
    if tool_match is None:
        raise ValueError(f"tool job-contract version {tool_version!r} is not MAJOR[.MINOR]")
    if image_match["major"] != tool_match["major"]:
        return ContractCheck(
            False,
            f"it implements job contract {image_version} and this checkout writes jobs for contract "
            f"{tool_version} (the major versions differ)",
        )
    return ContractCheck(True, "")
