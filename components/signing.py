"""SigningKey: the KMS key the deploy workflow signs the image stack's digests with (cosign `awskms://`), and the
public key everything that runs or promotes a digest verifies against (workers/tooling/signature.py).

Only the image stack creates it: the stack that builds and pushes the digests is the one whose deploy signs them.
A promoting stack verifies with the key pinned in its own config (`viberator:images.signing`); it holds no key.

The key is asymmetric (ECC_NIST_P256, SIGN_VERIFY): cosign signs with ECDSA_SHA_256 through kms:Sign, and the
public key is read once with GetPublicKey (`aws.kms.get_public_key`), so verifying needs no AWS access at all.

Who may do what is the key policy's alone (`key_policy`), which names roles and never the account, so no IAM
policy grants anything on the key (AWS KMS Developer Guide, "Determining access to an AWS KMS key": without the
account's `root` in the key policy, IAM policies are not consulted):
- the key admins (`viberator:signing.keyAdmins`, a human break-glass role the bootstrap recipe creates) manage it
  (its policy, tags, deletion) and never sign: no cryptographic operation, no grant. Only they can change the key
  policy, so no dev-account administrator, and no role a push to main drives, can add a signer.
- the roles that run the program (`viberator:signing.programRoles`: the access project's `viberator-ci-read` for
  previews, `viberator-ci-deploy` for `up`) read the key as pulumi-aws refreshes it, read its public key and create
  its alias. A change to the key itself (policy, tags, description) is therefore `pulumi up` run by a key admin.
- the one signer, a role named in config (`viberator:signing.signerRole`, the access project's
  `viberator-ci-signer`), never the identity running the program: so a preview by the read role plans the same
  policy as the deploy, and a laptop's `pulumi up` never makes the laptop's role the signer.
- an explicit Deny of kms:Sign and kms:CreateGrant to every other principal: a Deny in the key policy wins over any
  IAM policy or grant, so neither an IAM policy granting kms:* nor a grant lets anyone else sign.

Deleting the key would make every signature unverifiable, so an image stack whose repositories are protected
protects and retains its key too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import pulumi
import pulumi_aws as aws

from components.config import NAMESPACE, ConfigError, ConfigIssue, StackConfig
from components.policies import policy_document
from viberator_contract import Signing

KEY_SPEC = "ECC_NIST_P256"
KEY_USAGE = "SIGN_VERIFY"
SIGNING_ALGORITHM: Final = "ECDSA_SHA_256"
"""What cosign asks KMS for with an ECC_NIST_P256 key (sigstore/sigstore pkg/signature/kms/aws)."""
SIGNER_ACTIONS = ("kms:DescribeKey", "kms:GetPublicKey", "kms:Sign")
"""Every KMS call `cosign sign --key awskms://…` makes: cosign's signerFromKeyRef (sigstore/cosign
cmd/cosign/cli/sign/sign.go) loads the key through sigstore's SignerVerifierFromKeyRef → kms.Get →
sigstore/sigstore pkg/signature/kms/aws/client.go `LoadSignerVerifier`, whose `sign` first calls `getCMK` →
`fetchCMK`: `fetchPublicKey` (GetPublicKey) and `fetchKeyMetadata` (DescribeKey, for the signing algorithm),
then Sign with MessageType DIGEST. Without DescribeKey the first signature fails."""
ADMINISTRATOR_ACTIONS = (
    "kms:CancelKeyDeletion",
    "kms:CreateAlias",
    "kms:Delete*",
    "kms:Describe*",
    "kms:Disable*",
    "kms:Enable*",
    "kms:Get*",
    "kms:List*",
    "kms:Put*",
    "kms:Revoke*",
    "kms:ScheduleKeyDeletion",
    "kms:TagResource",
    "kms:UntagResource",
    "kms:Update*",
)
"""The key admins': AWS's key administrators statement ("Default key policy", "Allows key administrators to
administer the KMS key") with `kms:Create*` narrowed to CreateAlias, as it also covers CreateGrant: managing,
tagging, describing and scheduling the deletion of the key, and none of its cryptographic operations."""
PROGRAM_ACTIONS = (
    "kms:CreateAlias",
    "kms:DescribeKey",
    "kms:GetKeyPolicy",
    "kms:GetKeyRotationStatus",
    "kms:GetPublicKey",
    "kms:ListResourceTags",
)
"""What the roles running the program call on the key: terraform-provider-aws internal/service/kms/key.go
`resourceKeyRead` → `findKeyInfo` (DescribeKey, GetKeyPolicy, GetKeyRotationStatus for an AWS_KMS-origin key,
ListResourceTags; `resourceKeyCreate` waits on the same GetKeyPolicy and ListResourceTags), `aws.kms.get_public_key`
(GetPublicKey) and the alias's CreateAlias, which KMS authorises on the key too (AWS KMS Developer Guide,
"Controlling access to aliases"). None changes the key or its policy."""
DENIED_TO_OTHERS = ("kms:CreateGrant", "kms:Sign")
"""Denied to every principal but the signer (who is allowed no grant either): a grant is another way to sign."""
DELETION_WINDOW_DAYS = 30
"""KMS's longest: a deletion scheduled by mistake can be cancelled for a month."""


def alias_name(environment: str) -> str:
    return f"alias/viberator-{environment}-image-signing"


@dataclass(frozen=True)
class KeyRoles:
    """The roles the key policy names (`viberator:signing`); none of them is the account."""

    key_admins: tuple[str, ...] = ()
    program_roles: tuple[str, ...] = ()
    signer_role: str | None = None
    """None: nobody can sign yet."""


def key_policy(roles: KeyRoles) -> str:
    """The key policy: the key admins administer, the program's roles read, `roles.signer_role` alone signs."""
    statements: list[dict[str, object]] = []
    if roles.key_admins:
        statements.append(_allow("KeyAdminsAdministerNeverSign", roles.key_admins, ADMINISTRATOR_ACTIONS))
    if roles.program_roles:
        statements.append(_allow("ProgramReadsTheKey", roles.program_roles, PROGRAM_ACTIONS))
    deny: dict[str, object] = {
        "Sid": "NobodySigns" if roles.signer_role is None else "OnlyTheSignerSigns",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": list(DENIED_TO_OTHERS),
        "Resource": "*",
    }
    if roles.signer_role is not None:
        statements.append(_allow("SignerSigns", (roles.signer_role,), SIGNER_ACTIONS))
        # aws:PrincipalArn is the role's ARN for each of its sessions (IAM User Guide, global condition context keys).
        deny["Condition"] = {"ArnNotEquals": {"aws:PrincipalArn": roles.signer_role}}
    return policy_document([*statements, deny])


def _allow(sid: str, principals: tuple[str, ...], actions: tuple[str, ...]) -> dict[str, object]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": list(principals) if len(principals) > 1 else principals[0]},
        "Action": list(actions),
        "Resource": "*",
    }


@dataclass(frozen=True)
class SigningKeyArgs:
    environment: str
    roles: KeyRoles = field(default_factory=KeyRoles)
    """Who administers, reads and signs (`viberator:signing`)."""
    protect: bool = False
    resource_tags: Mapping[str, str] = field(default_factory=dict)


class SigningKey(pulumi.ComponentResource):
    key_arn: pulumi.Output[str]
    alias: str
    public_key_pem: pulumi.Output[str]
    """Unknown until the key exists (a first preview): GetPublicKey needs it."""

    def __init__(self, name: str, args: SigningKeyArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("viberator:workers:SigningKey", name, None, opts)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        if args.roles.signer_role is None:
            pulumi.log.warn(
                f"viberator:signing is not set: nobody can sign {args.environment}'s digests with its key, and no "
                "role would administer or read it (the policy names no account), so KMS's lockout check refuses "
                "the key at a real `pulumi up`: set signerRole, keyAdmins and programRoles first",
                resource=self,
            )
        key = aws.kms.Key(
            f"{name}-key",
            description=f"Signs the viberator worker image digests of {args.environment} (cosign)",
            key_usage=KEY_USAGE,
            customer_master_key_spec=KEY_SPEC,
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            policy=key_policy(args.roles),
            # CreateKey and PutKeyPolicy refuse a policy that does not let the caller PutKeyPolicy afterwards (the
            # lockout safety check, AWS KMS API Reference, CreateKey/PutKeyPolicy `BypassPolicyLockoutSafetyCheck`:
            # "Use this parameter only when you intend to prevent the principal that is making the request from
            # making a subsequent PutKeyPolicy request"). That is the intent: the caller is the deploy role, which
            # must never administer the key; the key admins named in config do (and KMS refuses a policy naming a
            # role that does not exist), so the key stays manageable. Without key admins the check stays on: KMS then
            # refuses the key rather than create one that nobody can ever administer.
            bypass_policy_lockout_safety_check=bool(args.roles.key_admins),
            tags=dict(args.resource_tags),
            opts=pulumi.ResourceOptions(parent=self, protect=args.protect, retain_on_delete=args.protect),
        )
        self.alias = alias_name(args.environment)
        aws.kms.Alias(
            f"{name}-alias", name=self.alias, target_key_id=key.key_id, opts=pulumi.ResourceOptions(parent=self)
        )
        self.key_arn = key.arn
        self.public_key_pem = aws.kms.get_public_key_output(key_id=key.arn, opts=invoke).public_key_pem
        self.register_outputs({"keyArn": self.key_arn, "publicKeyPem": self.public_key_pem})

    def outputs(self) -> Signing:
        """The `signing` stack output, unvalidated (its values are Outputs)."""
        return Signing.model_construct(
            key_arn=self.key_arn, alias=self.alias, algorithm=SIGNING_ALGORITHM, public_key=self.public_key_pem
        )


def promoted_signing(config: StackConfig, exported: Any, source_environment: str) -> Signing | None:
    """The `signing` block this stack's images are verified with: the key pinned in its own config
    (`viberator:images.signing`), never the one the image stack's outputs name, which anyone who can write that
    stack's state chooses. An image stack exporting another key is a config error (it was rotated or replaced:
    re-pin it after review); None when nothing is pinned (nothing verifies, so `run-job` and the prod check refuse
    every digest)."""
    assert config.images is not None
    pinned = config.images.signing
    if pinned is None:
        return None
    exported = exported if isinstance(exported, dict) else {}
    differs = [
        name
        for name, mine in (("publicKey", pinned.public_key), ("keyArn", pinned.key_arn))
        if name in exported and str(exported[name]).strip() != mine.strip()
    ]
    if differs:
        raise ConfigError(
            [
                ConfigIssue(
                    path=f"{NAMESPACE}:images.signing",
                    value=pinned.key_arn,
                    message=f"the image stack {config.images.from_} exports another signing key (its signing."
                    f"{' and signing.'.join(differs)} differ): its digests are verified only with the key pinned "
                    "here; if the key was replaced on purpose, pin the new one after review "
                    "(docs/images-tooling.md 'Supply chain')",
                )
            ]
        )
    return Signing(
        key_arn=pinned.key_arn,
        alias=alias_name(source_environment),
        algorithm=SIGNING_ALGORITHM,
        public_key=pinned.public_key,
    )
