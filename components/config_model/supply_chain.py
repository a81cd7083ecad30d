"""The supply chain's settings: who signs an image stack's digests (`viberator:signing`), the key a promoting stack
verifies them with (`viberator:images.signing`) and who may write the registry build cache every build imports
(`viberator:buildCache`).

Owns what those blocks may hold. Does not own where they sit in the stack (components/config_model/stack.py) nor the
resources they govern (components/signing.py, components/build_cache.py).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from components.config_model.fields import (
    IAM_ROLE_ARN_PATTERN,
    KMS_KEY_ARN_PATTERN,
    PUBLIC_KEY_PEM_PATTERN,
    ConfigModel,
    no_duplicates,
)

RoleArns = Annotated[list[Annotated[str, Field(pattern=IAM_ROLE_ARN_PATTERN)]], AfterValidator(no_duplicates)]


class SigningConfig(ConfigModel):
    """`viberator:signing` of an image stack: who signs its digests with the stack's KMS key (components/signing.py).
    Named here, never taken from whoever runs the program, so a preview by another role plans the same key policy."""

    signer_role: str = Field(
        pattern=IAM_ROLE_ARN_PATTERN,
        description="The one IAM role that may sign (the access project's `viberator-ci-signer` of this account)",
    )
    key_admins: RoleArns = Field(
        min_length=1,
        description="The IAM roles that administer the key (its policy, tags, deletion) and never sign: a human "
        "break-glass role the bootstrap recipe creates (docs/images-tooling.md 'Supply chain'); the account itself "
        "does not",
    )
    program_roles: RoleArns = Field(
        min_length=1,
        description="The IAM roles that run `pulumi preview`/`up` on this stack (the access project's "
        "`viberator-ci-read` and `viberator-ci-deploy`): they may read the key and create its alias, nothing else",
    )


class PinnedKeyConfig(ConfigModel):
    """`viberator:images.signing` of a promoting stack: the image stack's signing key, pinned here (committed in
    this stack's config) so that nothing written to the image stack's state chooses the key its digests are
    verified with. Copied once from the image stack's `signing` output after its first `up`
    (docs/images-tooling.md "Supply chain")."""

    key_arn: str = Field(pattern=KMS_KEY_ARN_PATTERN, description="The image stack's `signing.keyArn`")
    public_key: str = Field(pattern=PUBLIC_KEY_PEM_PATTERN, description="The image stack's `signing.publicKey`")


class BuildCacheConfig(ConfigModel):
    """`viberator:buildCache`: who may write the registry build cache every build imports
    (components/build_cache.py): CI's build role, the access project's `viberator-ci-deploy` of this account."""

    writer_role: str = Field(
        pattern=IAM_ROLE_ARN_PATTERN,
        description="arn:aws:iam::<account>:role/viberator-ci-deploy: the only principal the cache repositories' "
        "policy lets push; a role of this stack's account",
    )
