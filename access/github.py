"""GitHub's side of CI's authority (pulumi-github): the OIDC subject template the roles' trust policies are
written for, the deployment environments and who approves them, and main's branch protection.

- The subject template `repo`, `context`, `job_workflow_ref` puts the workflow file and its ref into `sub`, the one
  claim besides `aud` AWS conditions can read (access/jobs.py).
- `dev`, `prod` and `review-sweep` deploy from main only; `prod` waits for a reviewer. `review` admits pull request
  runs (their ref is the merge ref) and waits for a reviewer on every run: each push is a new run, so an approval
  is bound to the commit it was given for; the pusher cannot approve their own run (`prevent_self_review`).
- main: pull requests only, a code owner's approval (.github/CODEOWNERS: workflows, policy, access code, stack
  configs), re-approval after any push (`require_last_push_approval`, stale reviews dismissed), the required
  checks, signed commits, no force push or deletion, admins included.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_github as github

from access.config import GithubSide, Reviewers

SUBJECT_CLAIMS = ("repo", "context", "job_workflow_ref")
MAIN_ONLY_ENVIRONMENTS = ("dev", "prod", "review-sweep")


@dataclass(frozen=True)
class RepositoryAccessArgs:
    repository: str
    """`owner/name`; the provider's `github:owner` is the owner."""
    settings: GithubSide


class RepositoryAccess(pulumi.ComponentResource):
    TYPE = "viberator:access:RepositoryAccess"

    def __init__(self, name: str, args: RepositoryAccessArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__(self.TYPE, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        repository = args.repository.split("/", 1)[1]
        github.ActionsRepositoryOidcSubjectClaimCustomizationTemplate(
            f"{name}-oidc-subject", repository=repository, use_default=False, include_claim_keys=list(SUBJECT_CLAIMS),
            opts=child,
        )  # fmt: skip
        reviewers = {"prod": args.settings.prod_reviewers, "review": args.settings.review_reviewers}
        for environment in (*MAIN_ONLY_ENVIRONMENTS, "review"):
            main_only = environment in MAIN_ONLY_ENVIRONMENTS
            created = github.RepositoryEnvironment(
                f"{name}-{environment}",
                repository=repository,
                environment=environment,
                can_admins_bypass=False,
                prevent_self_review=environment in reviewers,
                reviewers=[_reviewers(reviewers[environment])] if environment in reviewers else None,
                deployment_branch_policy=github.RepositoryEnvironmentDeploymentBranchPolicyArgs(
                    custom_branch_policies=True, protected_branches=False
                )
                if main_only
                else None,
                opts=child,
            )
            if main_only:
                github.RepositoryEnvironmentDeploymentPolicy(
                    f"{name}-{environment}-main",
                    repository=repository,
                    environment=created.environment,
                    branch_pattern="main",
                    opts=child,
                )
        github.BranchProtection(
            f"{name}-main",
            repository_id=repository,
            pattern="main",
            enforce_admins=True,
            allows_deletions=False,
            allows_force_pushes=False,
            require_conversation_resolution=True,
            # Merges made on GitHub are signed by GitHub; nothing unsigned lands on main (checkov CKV_GIT_6).
            require_signed_commits=True,
            required_pull_request_reviews=[
                github.BranchProtectionRequiredPullRequestReviewArgs(
                    required_approving_review_count=1,
                    require_code_owner_reviews=True,
                    require_last_push_approval=True,
                    dismiss_stale_reviews=True,
                )
            ],
            required_status_checks=[
                github.BranchProtectionRequiredStatusCheckArgs(
                    strict=True, contexts=list(args.settings.required_checks)
                )
            ],
            opts=child,
        )
        self.environments = [*MAIN_ONLY_ENVIRONMENTS, "review"]
        self.register_outputs({"environments": self.environments})


def _reviewers(reviewers: Reviewers) -> github.RepositoryEnvironmentReviewerArgs:
    return github.RepositoryEnvironmentReviewerArgs(teams=list(reviewers.teams), users=list(reviewers.users))
