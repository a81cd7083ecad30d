"""SigningKey: the KMS key the deploy workflow signs the image stack's digests with (cosign `awskms://`), and the
public key everything that runs or promotes a digest verifies against (workers/tooling/signature.py).

Only the image stack creates it: the stack that builds and pushes the digests is the one whose deploy signs them.
A promoting stack verifies with the key pinned in its own config (`viberator:images.signing`); it holds no key.

The key is asymmetric (ECC_NIST_P256, SIGN_VERIFY): cosign signs with ECDSA_SHA_256 through kms:Sign, and the
public key is read once with GetPublicKey (`aws.kms.get_public_key`), so verifying needs no AWS access at all.

Who may do what is the key policy's alone (`key_policy`):
- the account administers the key through IAM (the deploy role that runs `pulumi up`, a break-glass admin) with
  management actions only: no cryptographic operation and no grant, so no dev-account administrator can sign
  through this policy. The account stays a principal, so the key never becomes unmanageable and the lockout safety
  check that CreateKey/PutKeyPolicy run (the caller may still PutKeyPolicy afterwards) passes for the deploy role
  (AWS KMS Developer Guide, "Default key policy": "Allows access to the AWS account and enables IAM policies").
- the one signer, a role named in config (`viberator:signing.signerRole`, the access project's
  `viberator-ci-signer`), never the identity running the program: so a preview by the read role plans the same
  policy as the deploy, and a laptop's `pulumi up` never makes the laptop's role the signer.
- an explicit Deny of kms:Sign and kms:CreateGrant to every other principal: a Deny in the key policy wins over any
  IAM policy or grant (AWS KMS Developer Guide, "Determining access to an AWS KMS key"), so neither an IAM policy
  granting kms:* nor a grant lets anyone else sign. What remains is PutKeyPolicy itself (an administrator can
  rewrite this policy): the access project's boundaries and CloudTrail govern that, and `pulumi preview` shows it
  as drift.

Deleting the key would make every signature unverifiable, so an image stack whose repositories are protected
protects and retains its key too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final

import pulumi
import pulumi_aws as aws

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
"""AWS's key administrators statement ("Default key policy", "Allows key administrators to administer the KMS
key") with `kms:Create*` narrowed to CreateAlias, as it also covers CreateGrant: managing, tagging, describing and
scheduling the deletion of the key, and none of its cryptographic operations."""
DENIED_TO_OTHERS = ("kms:CreateGrant", "kms:Sign")
"""Denied to every principal but the signer (who is allowed no grant either): a grant is another way to sign."""
DELETION_WINDOW_DAYS = 30
"""KMS's longest: a deletion scheduled by mistake can be cancelled for a month."""


def alias_name(environment: str) -> str:
    return f"alias/viberator-{environment}-image-signing"


def key_policy(partition: str, account: str, signer_role: str | None) -> str:
    """The key policy: the account administers, `signer_role` alone signs (None: nobody can sign yet)."""
    administer: dict[str, object] = {
        "Sid": "AccountAdministersNeverSigns",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
        "Action": list(ADMINISTRATOR_ACTIONS),
        "Resource": "*",
    }
    deny: dict[str, object] = {
        "Sid": "NobodySigns" if signer_role is None else "OnlyTheSignerSigns",
        "Effect": "Deny",
        "Principal": {"AWS": "*"},
        "Action": list(DENIED_TO_OTHERS),
        "Resource": "*",
    }
    if signer_role is None:
        return policy_document([administer, deny])
    sign: dict[str, object] = {
        "Sid": "SignerSigns",
        "Effect": "Allow",
        "Principal": {"AWS": signer_role},
        "Action": list(SIGNER_ACTIONS),
        "Resource": "*",
    }
    # aws:PrincipalArn is the role's ARN for each of its sessions (IAM User Guide, global condition context keys).
    deny["Condition"] = {"ArnNotEquals": {"aws:PrincipalArn": signer_role}}
    return policy_document([administer, sign, deny])


@dataclass(frozen=True)
class SigningKeyArgs:
    environment: str
    partition: pulumi.Input[str]
    signer_role: str | None = None
    """The one role that may sign (`viberator:signing.signerRole`); None: nobody can, until config names one."""
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
        if args.signer_role is None:
            pulumi.log.warn(
                f"viberator:signing.signerRole is not set: nobody can sign {args.environment}'s digests with its key",
                resource=self,
            )
        # The account only: the same for whichever role runs the program.
        account = aws.get_caller_identity_output(opts=invoke).account_id
        key = aws.kms.Key(
            f"{name}-key",
            description=f"Signs the viberator worker image digests of {args.environment} (cosign)",
            key_usage=KEY_USAGE,
            customer_master_key_spec=KEY_SPEC,
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            policy=pulumi.Output.all(args.partition, account).apply(lambda v: key_policy(v[0], v[1], args.signer_role)),
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
