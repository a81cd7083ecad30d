"""The access stacks' config (`access/Pulumi.<stack>.yaml`, namespace `viberator-access`), parsed once.

    viberator-access:repository: viberator/viberator-workers   # owner/name: every subject names it
    viberator-access:accounts: {dev: "123456789012", prod: "210987654321"}
    viberator-access:account: dev          # an AWS stack: the OIDC provider and the roles of this account
    viberator-access:reviewSecrets: [arn…] # dev only: the secrets review stacks may read (the boundary's list)
    viberator-access:clankerSecrets: [arn…] # the secrets this account's dev/prod clankers may read (their boundary's)
    viberator-access:github: {…}           # the GitHub stack instead: environments, reviewers, branch protection

A stack is either an AWS stack (`account`) or the GitHub stack (`github`), never both. Invalid config raises
ConfigError naming each key and value before anything is registered.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from access.jobs import Account
from access.policies import AccountIds, account_boundary, boundary, document
from components.config import ConfigError, ConfigIssue

NAMESPACE = "viberator-access"
ACCOUNT_ID = r"^[0-9]{12}$"
SECRET_ARN = r"^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]+$"
MANAGED_POLICY_CHARACTERS = 6144
"""IAM's quota on a managed policy (a boundary is one), white space not counted (IAM User Guide, "IAM and AWS STS
quotas"): past it CreatePolicy fails with LimitExceeded in the middle of an `up`."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Accounts(_Model):
    dev: str = Field(pattern=ACCOUNT_ID)
    prod: str = Field(pattern=ACCOUNT_ID)


class Reviewers(_Model):
    """Who approves a deployment to an environment (GitHub's numeric ids; at most six in all)."""

    teams: list[int] = Field(default_factory=list)
    users: list[int] = Field(default_factory=list)

    @model_validator(mode="after")
    def _some(self) -> Reviewers:
        if (not self.teams and not self.users) or len(self.teams) + len(self.users) > 6:
            raise ValueError("name one to six reviewers (GitHub's limit per environment)")
        return self


class GithubSide(_Model):
    prod_reviewers: Reviewers = Field(alias="prodReviewers", description="approve every prod deploy")
    review_reviewers: Reviewers = Field(alias="reviewReviewers", description="approve every review stack run")
    required_checks: list[str] = Field(
        alias="requiredChecks", min_length=1, description="status checks main's branch protection requires"
    )


class AccessConfig(_Model):
    repository: str = Field(pattern=r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
    accounts: Accounts
    account: Account | None = None
    review_secrets: list[str] = Field(alias="reviewSecrets", default_factory=list)
    clanker_secrets: list[str] = Field(alias="clankerSecrets", default_factory=list)
    github: GithubSide | None = None

    @model_validator(mode="after")
    def _one_side(self) -> AccessConfig:
        if (self.account is None) == (self.github is None):
            raise ValueError("set exactly one of `account` (an AWS stack) and `github` (the GitHub stack)")
        issues = [*self._secrets_issues("reviewSecrets"), *self._secrets_issues("clankerSecrets")]
        if issues:  # not a ValueError: pydantic passes it through with each key and its own value
            raise ConfigError(issues, "access stack config")
        return self

    def _secrets_issues(self, key: Literal["reviewSecrets", "clankerSecrets"]) -> list[ConfigIssue]:
        """A secrets list is the account's own secrets, as many as its boundary policy can name."""
        review = key == "reviewSecrets"
        secrets = self.review_secrets if review else self.clanker_secrets
        account = Account.DEV if review else self.account
        if not secrets:
            return []

        def issue(value: object, message: str) -> list[ConfigIssue]:
            return [ConfigIssue(path=f"{NAMESPACE}.{key}", value=value, message=message)]

        if self.account is None or (review and self.account is not Account.DEV):
            where = "the dev account's stack, where review stacks run" if review else "an account's stack"
            return issue(secrets, f"it belongs to {where}")
        assert account is not None
        for arn in secrets:
            if not _matches(SECRET_ARN, arn) or arn.split(":")[4] != self.ids().of(account):
                return issue(arn, f"not a Secrets Manager secret ARN in {'dev' if review else 'this'} account")
        policy = boundary(self.ids(), secrets) if review else account_boundary(self.ids(), account, secrets)
        size = len(re.sub(r"\s", "", document(policy)))  # IAM counts no white space
        if size > MANAGED_POLICY_CHARACTERS:
            return issue(
                secrets,
                f"{len(secrets)} secrets make the boundary policy {size} characters, and IAM takes at most "
                f"{MANAGED_POLICY_CHARACTERS} in a managed policy: list fewer",
            )
        return []

    @property
    def side(self) -> Literal["aws", "github"]:
        return "aws" if self.account is not None else "github"

    def ids(self, partition: str = "aws") -> AccountIds:
        return AccountIds(self.accounts.dev, self.accounts.prod, partition)


def _matches(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value) is not None


def parse_access_config(config: Mapping[str, str]) -> AccessConfig:
    """From the Pulumi CLI's text form (objects and lists as JSON), or ConfigError with every issue."""
    prefix = f"{NAMESPACE}:"
    values: dict[str, Any] = {}
    for key, text in config.items():
        if key.startswith(prefix):
            try:
                values[key.removeprefix(prefix)] = json.loads(text)
            except ValueError:
                values[key.removeprefix(prefix)] = text
    try:
        return AccessConfig.model_validate(values)
    except ValidationError as error:
        raise ConfigError(
            [
                ConfigIssue(
                    path=NAMESPACE + "".join(f".{part}" if isinstance(part, str) else f"[{part}]" for part in e["loc"])
                    if e["loc"]
                    else NAMESPACE,
                    value=e.get("input"),
                    message=e["msg"],
                )
                for e in error.errors()
            ],
            "access stack config",
        ) from None


def load_access_config() -> AccessConfig:
    """Parse the running stack's config as the language host received it (raises ConfigError)."""
    from pulumi.runtime import config as runtime_config

    keys = sorted(set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env()))
    return parse_access_config({key: str(runtime_config.get_config(key)) for key in keys})
