"""SigningKey: the KMS key the deploy workflow signs the image stack's digests with (cosign `awskms://`), and the
public key everything that runs or promotes a digest verifies against (workers/tooling/signature.py).

Only the image stack creates it: the stack that builds and pushes the digests is the one whose deploy signs them.
A promoting stack verifies with the public key the image stack exports; it never holds a key of its own.

The key is asymmetric (ECC_NIST_P256, SIGN_VERIFY): cosign signs with ECDSA_SHA_256 through kms:Sign, and the
public key is read once with GetPublicKey (`aws.kms.get_public_key`), so verifying needs no AWS access at all.
Its policy gives the account root full control (the key stays manageable through IAM, never orphaned: AWS KMS
"Default key policy") and lets the identity that deploys the image stack, in CI the dev deploy role (README "AWS
OIDC trust"), sign and read the public key. Deleting the key would make every signature unverifiable, so an image
stack whose repositories are protected protects and retains its key too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from components.policies import policy_document
from viberator_contract import Signing

KEY_SPEC = "ECC_NIST_P256"
KEY_USAGE = "SIGN_VERIFY"
SIGNING_ALGORITHM = "ECDSA_SHA_256"
"""What cosign asks KMS for with an ECC_NIST_P256 key (sigstore/sigstore pkg/signature/kms/aws)."""
SIGNER_ACTIONS = ("kms:Sign", "kms:GetPublicKey")
DELETION_WINDOW_DAYS = 30
"""KMS's longest: a deletion scheduled by mistake can be cancelled for a month."""


def alias_name(environment: str) -> str:
    return f"alias/viberator-{environment}-image-signing"


def key_policy(partition: str, account: str, signer_arn: str) -> str:
    return policy_document(
        [
            {
                "Sid": "AccountRoot",
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:{partition}:iam::{account}:root"},
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "DeployRoleSigns",
                "Effect": "Allow",
                "Principal": {"AWS": signer_arn},
                "Action": list(SIGNER_ACTIONS),
                "Resource": "*",
            },
        ]
    )


@dataclass(frozen=True)
class SigningKeyArgs:
    environment: str
    partition: pulumi.Input[str]
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
        caller = aws.get_caller_identity_output(opts=invoke)
        # The role behind the deploy's assumed-role session (the caller ARN names the session, not the role).
        signer = aws.iam.get_session_context_output(arn=caller.arn, opts=invoke).issuer_arn
        key = aws.kms.Key(
            f"{name}-key",
            description=f"Signs the viberator worker image digests of {args.environment} (cosign)",
            key_usage=KEY_USAGE,
            customer_master_key_spec=KEY_SPEC,
            deletion_window_in_days=DELETION_WINDOW_DAYS,
            policy=pulumi.Output.all(args.partition, caller.account_id, signer).apply(lambda v: key_policy(*v)),
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
