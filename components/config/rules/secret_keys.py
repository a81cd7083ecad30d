"""Rules over `viberator:secretKeys`: each names a whole secret some clanker reads, and a key that can encrypt it.

Secrets Manager encrypts a secret with a symmetric KMS key of the secret's own account and region (Secrets
Manager User Guide, "Secret encryption and decryption": "any symmetric encryption customer managed key in the
same AWS account and Region"), so a key elsewhere is a typo that would leave the roles without kms:Decrypt.
"""

from __future__ import annotations

from collections.abc import Iterator

from components.aws_ids import whole_secret
from components.config_model.fields import secret_arn
from components.config_model.issues import ConfigIssue
from components.config_model.parsed_stack import ParsedStack


def secret_keys_name_read_secrets_and_their_keys(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    read = {whole_secret(arn) for _, arn in parsed.secrets()}
    for secret, key in parsed.config.secret_keys.items():
        entry = ("secretKeys", secret)
        try:
            parts = secret_arn(secret)
        except ValueError as error:
            yield parsed.issue(entry, str(error))
            continue
        if parts["selector"]:
            yield parsed.issue(entry, "name the whole secret, without ECS's json-key selector")
        elif secret not in read:
            yield parsed.issue(entry, "no clanker reads this secret: remove it")
        _, _, _, region, account, _ = key.split(":", 5)
        if (account, region) != (secret.split(":")[4], parts["region"]):
            yield parsed.issue(
                entry,
                f"a key of account {account} in {region}, and the secret is in account "
                f"{secret.split(':')[4]} in {parts['region']}: Secrets Manager encrypts a secret only with a key of "
                "its own account and region",
            )
