"""parliament's findings on an IAM policy document (its copy of the Service Authorization Reference: actions exist,
resources fit the actions, condition types match), bar two it makes of the Bedrock grants by design
(components/policies.py BEDROCK_GRANTS): RESOURCE_MISMATCH, which says a statement leaves some of an action's
resource types out (the point: no provisioned, imported, custom or marketplace model, prompt router or async
invocation), and bedrock:CountTokens unknown, which parliament 1.6.4's copy predates (botocore's bedrock-runtime
model has the CountTokens operation)."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # parliament imports pkg_resources, which setuptools deprecates.
    warnings.simplefilter("ignore")
    import parliament


def _by_design(issue: str, detail: object) -> bool:
    if issue == "UNKNOWN_ACTION":
        return detail == "Unknown action bedrock:CountTokens"
    if issue == "RESOURCE_MISMATCH" and isinstance(detail, list):
        return all(str(entry.get("action", "")).startswith("bedrock:") for entry in detail)
    return False


def findings(document: str) -> list[str]:
    """`issue: detail` of each finding but those above."""
    return [
        f"{f.issue}: {f.detail}"
        for f in parliament.analyze_policy_string(document).findings
        if not _by_design(f.issue, f.detail)
    ]
