"""Rules over whose accounts a stack's settings name: the stack's own account is never one of its consumers, and a
clanker's secrets are in the account it runs in, or in one the stack lists as sharing them.

The stack's account is known offline only when `aws:allowedAccountIds` pins exactly one (ParsedStack.account);
unpinned, these rules have nothing to compare with and stay silent.
"""

from __future__ import annotations

from collections.abc import Iterator

from components.config_model.fields import secret_arn
from components.config_model.issues import ConfigIssue
from components.config_model.parsed_stack import ParsedStack


def _secret_account(arn: str) -> str:
    return secret_arn(arn)["account"]


def consumers_are_other_accounts(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    for i, account in enumerate(parsed.config.consumer_accounts):
        if account == parsed.account:
            yield parsed.issue(
                ("consumerAccounts", i),
                "this stack's own account (aws:allowedAccountIds), whose roles pull its images already: "
                "list other accounts only",
            )


def secrets_are_in_the_clankers_account(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    if parsed.account is None:
        return
    shared = set(parsed.config.secret_accounts)
    for key, arn in parsed.secrets():
        account = _secret_account(arn)
        if account != parsed.account and account not in shared:
            yield parsed.issue(
                key,
                f"a secret of account {account}, and this clanker runs in {parsed.account} "
                "(aws:allowedAccountIds): use the secret of this account, or, once that account shares it "
                f"(its resource policy and its KMS key's policy grant this account), add {account} to "
                "viberator:secretAccounts",
            )


def secret_accounts_share_secrets(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    used = {_secret_account(arn) for _, arn in parsed.secrets()}
    for i, account in enumerate(parsed.config.secret_accounts):
        if account == parsed.account:
            message = "this stack's own account (aws:allowedAccountIds), whose secrets need no sharing: remove it"
        elif account not in used:
            message = "no clanker's secret is in this account: remove it"
        else:
            continue
        yield parsed.issue(("secretAccounts", i), message)
