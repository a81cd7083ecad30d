"""docs/ci.md's tables of CI's authority, made from access/jobs.py and access/actions.py (never written by hand).

`python -m access.docs` prints them; `--write docs/ci.md` (`make access-docs`) replaces the text between
the page's markers; tests/access/test_docs.py fails when its copy is stale.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from access.actions import BOUNDARY_GRANTS, GRANTS, Grant
from access.jobs import JOBS, ROLE_ACCOUNTS, session_seconds
from access.policies import ACCOUNT_STACKS
from components.review_iam import BOUNDARY_POLICY_NAME, CLANKER_BOUNDARY_NAME

START = "<!-- access tables: made by `make access-docs` from access/jobs.py and access/actions.py -->"
END = "<!-- end of access tables -->"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def jobs_table() -> list[str]:
    lines = [
        "| Workflow job | OIDC subject (`repo:<owner/name>:` …) | Role | Account | Pulumi team | What it does |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for job in JOBS:
        subject = f"`{job.context}:job_workflow_ref:…/{job.workflow}@{job.ref}`"
        lines.append(
            f"| `{job.workflow}` {_cell(job.job)} | {subject} | `{job.role.role_name}` | {job.account.value} "
            f"| `{job.pulumi_team}` | {_cell(job.steps)} |"
        )
    return lines


def _grant_row(grant: Grant) -> str:
    actions = ", ".join(f"`{a}`" for a in sorted(grant.actions))
    resources = ", ".join(f"`{r}`" for r in grant.resources)
    condition = "; ".join(
        f"`{key}` {operator} `{value}`" for operator, pairs in grant.condition.items() for key, value in pairs.items()
    )
    where = resources + (f" if {condition}" if condition else "")
    return f"| {grant.sid} | {grant.effect} | {actions} | {_cell(where)} | {_cell(grant.source)} |"


def actions_tables() -> list[str]:
    lines: list[str] = []
    for role, accounts in ROLE_ACCOUNTS.items():
        for account in accounts:
            seconds = session_seconds(role, account)
            lines += ["", f"**`{role.role_name}`** in {account.value} (MaxSessionDuration {seconds} s)", ""]
            lines += ["| Statement | Effect | Actions | Resources | Called by |", "| --- | --- | --- | --- | --- |"]
            lines += [_grant_row(g) for g in GRANTS[role][account.value]]
    boundaries = (
        f"**`{BOUNDARY_POLICY_NAME}`** (every review stack role's permissions boundary, `{{names}}` `viberator-pr`) "
        f"and **`{CLANKER_BOUNDARY_NAME}`** (in each account, every other stack's clanker roles', `{{names}}` "
        f"`{ACCOUNT_STACKS}`): what the program may grant a clanker role (components/policies.py CLANKER_GRANTS), "
        "plus `secretsmanager:GetSecretValue` on the access stack's `viberator-access:reviewSecrets` (review) or "
        "`clankerSecrets`, and `kms:Decrypt` on the account's keys if `kms:EncryptionContext:SecretARN` is one of "
        "them; the review boundary without the Bedrock statements (ClankerGrant.in_review: paid per call in dev's "
        "account)"
    )
    lines += ["", boundaries, ""]
    lines += ["| Statement | Effect | Actions | Resources | Called by |", "| --- | --- | --- | --- | --- |"]
    lines += [_grant_row(g) for g in BOUNDARY_GRANTS]
    return lines


def tables() -> str:
    """`{p}` is the partition, `{account}` the role's account, `{dev}` dev's, `{names}` the stacks' name prefix."""
    return "\n".join([START, *jobs_table(), *actions_tables(), END])


def replaced(readme: str) -> str:
    before, start, rest = readme.partition(START)
    _, end, after = rest.partition(END)
    if not start or not end:
        raise SystemExit(f"the page has no section between {START!r} and {END!r}")
    return before + tables() + after


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m access.docs", description=__doc__)
    parser.add_argument("--write", type=Path, help="replace the tables in this file (README.md)")
    args = parser.parse_args(argv)
    if args.write:
        args.write.write_text(replaced(args.write.read_text()))
    else:
        print(tables())
    return 0


if __name__ == "__main__":
    sys.exit(main())
