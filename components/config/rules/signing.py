"""Rules over who signs a stack's digests and what a promoting stack verifies them with (components/signing.py,
README "Supply chain"): the signer is named in config, and a production stack pins its image stack's key."""

from __future__ import annotations

from collections.abc import Iterator

from components.config.issues import MISSING, ConfigIssue
from components.config.rules.context import KEY, ParsedStack


def signing_only_where_a_key_is_created(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    # A promoting stack's `signing` is reported by promoting_stack_sets_no_build_setting.
    if config.signing is not None and config.builds_images and not config.creates_signing_key:
        yield ConfigIssue(
            path=f"{KEY}signing",
            value=config.signing.model_dump(by_alias=True),
            message="only a stack that owns the repositories it pushes to creates a signing key (a review stack, "
            "or one with repositories: existing, creates none): remove it",
        )


def signer_is_of_the_stack_account(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    signing = parsed.config.signing
    if signing is None or parsed.account is None:
        return
    account = signing.signer_role.split(":")[4]
    if account != parsed.account:
        yield ConfigIssue(
            path=f"{KEY}signing.signerRole",
            value=signing.signer_role,
            message=f"the signer is a role of this stack's account {parsed.account} (aws:allowedAccountIds), "
            f"not of {account}",
        )


def production_pins_the_image_stack_key(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    if config.images is not None and config.is_production and config.images.signing is None:
        yield ConfigIssue(
            path=f"{KEY}images.signing",
            value=MISSING,
            message=f"a production stack verifies {config.images.from_}'s digests with a key pinned here, never "
            "with one read from that stack's outputs: copy its `signing` output's keyArn and publicKey "
            "(README 'Supply chain')",
        )
