"""Who CI is: every workflow job that gets AWS credentials, the OIDC subject it presents, the role it assumes and
the Pulumi team token it gets. The one table the trust policies, the tests and the README's table are made from.

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

from dataclasses import dataclass
from enum import StrEnum


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


def environment(name: str) -> Context:
    return Context("environment", name)


PULL_REQUEST = Context("pull_request")
ON_MAIN = Context("ref", MAIN)


@dataclass(frozen=True)
class Job:
    """One workflow job (or one leg of a matrix job) that assumes a role."""

    workflow: str
    """The file under .github/workflows/ that holds the job (the called file, for a reusable workflow)."""
    job: str
    """The job's id in that file, and the leg (`refresh-preview (prod)`) for a matrix job."""
    role: Role
    account: Account
    context: Context
    ref: str
    """The workflow file's ref in `job_workflow_ref`: main, or a pull request's merge ref."""
    timeout_minutes: int
    """The job's `timeout-minutes`: the role's MaxSessionDuration covers it."""
    pulumi_team: str
    """The Pulumi Cloud team whose token the job gets (its issuer policy matches the same subject)."""
    steps: str
    """What the job does with the credentials (for the README's table)."""

    def subject(self, repository: str) -> str:
        workflow = f"{repository}/.github/workflows/{self.workflow}@{self.ref}"
        return f"repo:{repository}:{self.context}:job_workflow_ref:{workflow}"

    @property
    def from_pull_request(self) -> bool:
        return self.context.from_pull_request or self.ref == PULL_REQUEST_MERGE


JOBS: tuple[Job, ...] = (
    Job(
        "preview.yml", "preview (dev)", Role.READ, Account.DEV, PULL_REQUEST, PULL_REQUEST_MERGE, 30,
        "viberator-read-dev", "a same-repository pull request's `pulumi preview` of dev",
    ),
    Job(
        "preview.yml", "preview-prod", Role.READ, Account.PROD, ON_MAIN, MAIN, 30,
        "viberator-read-prod", "`pulumi preview` of prod from main; pull requests get the offline plan diff",
    ),
    Job(
        "drift.yml", "refresh-preview (dev)", Role.READ, Account.DEV, ON_MAIN, MAIN, 30,
        "viberator-read-dev", "`pulumi refresh --preview-only` of dev",
    ),
    Job(
        "drift.yml", "refresh-preview (prod)", Role.READ, Account.PROD, ON_MAIN, MAIN, 30,
        "viberator-read-prod", "`pulumi refresh --preview-only` of prod",
    ),
    Job(
        "deploy-viberators.yml", "candidate", Role.READ, Account.DEV, ON_MAIN, MAIN, 15,
        "viberator-read-dev", "reads dev's outputs: what a prod dispatch promotes",
    ),
    Job(
        "review-stack.yml", "select", Role.READ, Account.DEV, ON_MAIN, MAIN, 15,
        "viberator-read-dev", "lists the review stacks the daily sweep destroys",
    ),
    Job(
        "deploy-stack.yml", "deploy (dev)", Role.DEPLOY, Account.DEV, environment("dev"), MAIN, 120,
        "viberator-deploy-dev", "builds and pushes, `pulumi up` of dev, SBOM referrers",
    ),
    Job(
        "deploy-stack.yml", "deploy (dev) signing step", Role.SIGNER, Account.DEV, environment("dev"), MAIN, 120,
        "viberator-deploy-dev", "`cosign sign` of each pushed digest with the image stack's KMS key",
    ),
    Job(
        "deploy-stack.yml", "deploy (prod)", Role.DEPLOY, Account.PROD, environment("prod"), MAIN, 120,
        "viberator-deploy-prod", "after approval: verifies dev's signatures, `pulumi up` of prod",
    ),
    Job(
        "prune-signatures.yml", "prune", Role.DEPLOY, Account.DEV, environment("dev"), MAIN, 15,
        "viberator-read-dev", "deletes the `.sig` manifests of expired images (DescribeImages, BatchDeleteImage)",
    ),
    Job(
        "deploy-viberators.yml", "record-promotion", Role.RECORD_PROMOTION, Account.DEV, environment("dev"), MAIN, 15,
        "viberator-read-prod", "tags the digests prod runs `prod-<revision>` (BatchGetImage, PutImage)",
    ),
    Job(
        "review-stack.yml", "up", Role.REVIEW, Account.DEV, environment("review"), PULL_REQUEST_MERGE, 90,
        "viberator-review", "after a reviewer approved the run: `pulumi up` of `pr-<n>` and its smoke jobs",
    ),
    Job(
        "review-stack.yml", "destroy (pull request)", Role.REVIEW, Account.DEV, environment("review"),
        PULL_REQUEST_MERGE, 60, "viberator-review", "after approval: `pulumi destroy` of a closed pull request's stack",
    ),
    Job(
        "review-stack.yml", "destroy (sweep)", Role.REVIEW, Account.DEV, environment("review-sweep"), MAIN, 60,
        "viberator-review", "the daily sweep's `pulumi destroy` of expired and closed review stacks",
    ),
)  # fmt: skip


def jobs_of(role: Role, account: Account) -> tuple[Job, ...]:
    return tuple(job for job in JOBS if job.role is role and job.account is account)


def subjects_of(role: Role, account: Account, repository: str) -> tuple[str, ...]:
    """Every subject the role trusts in the account: exactly those of the jobs that assume it."""
    return tuple(sorted({job.subject(repository) for job in jobs_of(role, account)}))


def session_seconds(role: Role, account: Account) -> int:
    """MaxSessionDuration: the longest timeout of its jobs, and IAM's minimum of one hour."""
    return max([3600, *(job.timeout_minutes * 60 for job in jobs_of(role, account))])
