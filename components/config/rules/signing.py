"""Rules over who signs a stack's digests and what a promoting stack verifies them with (components/signing.py,
docs/images-tooling.md "Supply chain"): the signer is named in config, and a production stack pins its image
stack's key."""

from __future__ import annotations

from collections.abc import Iterator

from components.config_model.issues import ConfigIssue, Key
from components.config_model.parsed_stack import ParsedStack


def signing_only_where_a_key_is_created(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    # A promoting stack's `signing` is reported by promoting_stack_sets_no_build_setting.
    if config.signing is not None and config.builds_images and not config.creates_signing_key:
        yield parsed.issue(
            "signing",
            "only a stack that owns the repositories it pushes to creates a signing key (a review stack, "
            "or one with repositories: existing, creates none): remove it",
        )


def signing_roles_are_of_the_stack_account(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    """The key policy names these roles; a role of another account would let that account in."""
    signing = parsed.config.signing
    if signing is None or parsed.account is None:
        return
    roles: list[tuple[Key, str]] = [(("signing", "signerRole"), signing.signer_role)]
    roles += [(("signing", "keyAdmins", i), arn) for i, arn in enumerate(signing.key_admins)]
    roles += [(("signing", "programRoles", i), arn) for i, arn in enumerate(signing.program_roles)]
    for key, arn in roles:
        account = arn.split(":")[4]
        if account != parsed.account:
            yield parsed.issue(
                key,
                f"a role the signing key's policy names is of this stack's account {parsed.account} "
                f"(aws:allowedAccountIds), not of {account}",
            )


def signing_roles_are_separate(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    """A key admin may rewrite the key policy, so the signer and the roles CI runs the program with (which any
    push to main can drive) are never one: otherwise that role alone could make itself a signer."""
    signing = parsed.config.signing
    if signing is None:
        return
    for i, arn in enumerate(signing.key_admins):
        if arn == signing.signer_role or arn in signing.program_roles:
            yield parsed.issue(
                ("signing", "keyAdmins", i),
                "a key admin is neither the signer nor a role that runs the program (programRoles, "
                "signerRole): name a separate break-glass role",
            )


def production_pins_the_image_stack_key(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    config = parsed.config
    if config.images is not None and config.is_production and config.images.signing is None:
        yield parsed.issue(
            ("images", "signing"),
            f"a production stack verifies {config.images.from_}'s digests with a key pinned here, never "
            "with one read from that stack's outputs: copy its `signing` output's keyArn and publicKey "
            "(docs/images-tooling.md 'Supply chain')",
        )
