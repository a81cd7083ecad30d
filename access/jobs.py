"""Who CI is: every workflow job that gets AWS credentials, the OIDC subject it presents, the role it assumes and
the Pulumi team token it gets. The table, one row per job, is access/jobs.toml, read here strictly (`Job`'s
columns, nothing else); the trust policies, the tests and docs/ci.md's table are made from it.

Subjects follow the repository's OIDC subject template `repo`, `context`, `job_workflow_ref` (access/github.py
sets it with `ActionsRepositoryOidcSubjectClaimCustomizationTemplate`): `repo:<owner/name>:<context>:
job_workflow_ref:<owner/name>/.github/workflows/<file>@<ref>` (GitHub docs, "Customizing the subject claims":
`repo:octo-org/octo-repo:environment:prod:job_workflow_ref:octo-org/octo-automation/.github/workflows/oidc.yml@
refs/heads/main`, one string).
The workflow file and its ref go into `sub` because AWS conditions can read only the token's standard claims
(`aud`, `sub`): GitHub's "Configuring OpenID Connect in Amazon Web Services" notes that AWS does not support custom
claims. For a job in a reusable workflow (deploy-stack.yml), `job_workflow_ref` names the called file at the
caller's ref.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field, TypeAdapter, ValidationError

from workers.catalog import WORKFLOWS_DIR


class Account(StrEnum):
    """The AWS accounts CI acts in (their ids are the access stacks' config)."""

    DEV = "dev"
    PROD = "prod"


class Role(StrEnum):
    """One role per kind of job, named `viberator-ci-<value>` in each account that has it."""

    READ = "read"
    DEPLOY = "deploy"
    REVIEW = "review"
    RECORD_PROMOTION = "record-promotion"
    SIGNER = "signer"

    @property
    def role_name(self) -> str:
        return f"viberator-ci-{self.value}"


ROLE_ACCOUNTS: dict[Role, tuple[Account, ...]] = {
    Role.READ: (Account.DEV, Account.PROD),
    Role.DEPLOY: (Account.DEV, Account.PROD),
    Role.REVIEW: (Account.DEV,),
    Role.RECORD_PROMOTION: (Account.DEV,),
    Role.SIGNER: (Account.DEV,),
}
"""Which accounts hold which role: review stacks, promotion tags and the signing key live in dev's."""

MAIN = "refs/heads/main"
PULL_REQUEST_MERGE = "refs/pull/*/merge"
"""The ref of a `pull_request` run: the pull request's merge commit, so its workflow files are the branch's."""


@dataclass(frozen=True)
class Context:
    """The `context` part of a subject: `environment:<name>`, `pull_request`, or `ref:<ref>`."""

    kind: str
    value: str = ""

    def __str__(self) -> str:
        return f"{self.kind}:{self.value}" if self.value else self.kind

    @property
    def from_pull_request(self) -> bool:
        return self.kind == "pull_request"


CONTEXT_VALUES = {
    "pull_request": re.compile(""),
    "environment": re.compile(r"[A-Za-z0-9_-]+"),
    "ref": re.compile(r"refs/heads/[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*"),
}
"""Each kind of context and the values it takes: names, never a pattern (`*` or `?` in a subject makes the trust
policy match with StringLike, access/policies.py)."""
CONTEXT_FORMS = "pull_request, environment:<name>, ref:refs/heads/<branch>"


def parse_context(text: Any) -> Context:
    """A subject's context as the jobs table writes it: `pull_request`, `environment:<name>` or `ref:<ref>`."""
    kind, _, value = str(text).partition(":")
    pattern = CONTEXT_VALUES.get(kind)
    if pattern is None or pattern.fullmatch(value) is None:
        raise ValueError(f"{text!r} is not a subject context ({CONTEXT_FORMS})")
    return Context(kind, value)


def workflow_file(name: str) -> str:
    """A workflow file of this repository by its bare name: one subject names one file, never a pattern."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+\.ya?ml", name) or not (WORKFLOWS_DIR / name).is_file():
        raise ValueError(f"{name!r} is not a file under .github/workflows/")
    return name


@dataclass(frozen=True)
class Job:
    """One workflow job (or one leg of a matrix job) that assumes a role: a row of access/jobs.toml."""

    __pydantic_config__ = ConfigDict(extra="forbid")

    workflow: Annotated[str, AfterValidator(workflow_file)]
    """The file under .github/workflows/ that holds the job (the called file, for a reusable workflow)."""
    job: str
    """The job's id in that file, and the leg (`refresh-preview (prod)`) for a matrix job."""
    role: Role
    account: Account
    context: Annotated[Context, BeforeValidator(parse_context)]
    ref: Literal["refs/heads/main", "refs/pull/*/merge"]
    """The workflow file's ref in `job_workflow_ref`: main (MAIN), or a pull request's merge ref (the one
    pattern a row may hold: PULL_REQUEST_MERGE)."""
    timeout_minutes: Annotated[int, Field(strict=True, gt=0)]
    """The job's `timeout-minutes`: the role's MaxSessionDuration covers it."""
    pulumi_team: str
    """The Pulumi Cloud team whose token the job gets (its issuer policy matches the same subject)."""
    steps: str
    """What the job does with the credentials (for docs/ci.md's table)."""

    def subject(self, repository: str) -> str:
        workflow = f"{repository}/.github/workflows/{self.workflow}@{self.ref}"
        return f"repo:{repository}:{self.context}:job_workflow_ref:{workflow}"

    @property
    def from_pull_request(self) -> bool:
        return self.context.from_pull_request or self.ref == PULL_REQUEST_MERGE


JOBS_TABLE = Path(__file__).with_name("jobs.toml")
_JOB_ROWS = TypeAdapter(tuple[Job, ...])


def read_jobs(table: Path) -> tuple[Job, ...]:
    """The table's rows as jobs; a row with a key it lacks, a key Job does not have, or a value outside its
    type is an error naming the row and the key."""
    try:
        rows = tomllib.loads(table.read_text()).get("job")
        return _JOB_ROWS.validate_python(rows)
    except (tomllib.TOMLDecodeError, ValidationError) as error:
        raise ValueError(f"{table.name}: {error}") from None


JOBS = read_jobs(JOBS_TABLE)
"""Every job that assumes a role, in the table's order."""


def jobs_of(role: Role, account: Account) -> tuple[Job, ...]:
    return tuple(job for job in JOBS if job.role is role and job.account is account)


def subjects_of(role: Role, account: Account, repository: str) -> tuple[str, ...]:
    """Every subject the role trusts in the account: exactly those of the jobs that assume it."""
    return tuple(sorted({job.subject(repository) for job in jobs_of(role, account)}))


def session_seconds(role: Role, account: Account) -> int:
    """MaxSessionDuration: the longest timeout of its jobs, and IAM's minimum of one hour."""
    return max([3600, *(job.timeout_minutes * 60 for job in jobs_of(role, account))])
