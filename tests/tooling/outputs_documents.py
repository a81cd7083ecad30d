"""Small stack outputs documents for the tooling's tests: what `pulumi stack output --json` of a stack holding only
the given clankers would print, in the contract's shape (the tooling reads nothing else), with only the fields the
contract requires beside the ones a test names.
"""

from __future__ import annotations

from typing import Any

from viberator_contract import SCHEMA_VERSION

ARN_PREFIX = "arn:aws:lambda:us-east-1:123456789012:function:"


def outputs_document(signing: dict[str, Any] | None = None, **clankers: dict[str, Any]) -> dict[str, Any]:
    """Stack outputs holding `clankers` (by name) and no images."""
    document = {"schemaVersion": SCHEMA_VERSION, "environment": "dev", "images": {}, "clankers": clankers}
    return document if signing is None else {**document, "signing": signing}


def docker_clanker(image: str, harness: str = "kimi", **config: Any) -> dict[str, Any]:
    deployment = {"containerImage": image, "architecture": "x86_64", **config}
    return {"agent": harness, "harness": harness, "target": "docker", "deploymentConfig": deployment}


def lambda_clanker(image: str, harness: str = "kimi") -> dict[str, Any]:
    function = f"viberator-dev-{harness}"
    deployment = {
        "imageUri": image,
        "functionName": function,
        "functionArn": ARN_PREFIX + function,
        "architecture": "x86_64",
    }
    return {
        "agent": harness,
        "harness": harness,
        "target": "lambda",
        "region": "us-east-1",
        "deploymentConfig": deployment,
    }


def signing(public_key_pem: str) -> dict[str, str]:
    """A `signing` output naming `public_key_pem` (a stand-in for the image stack's KMS key)."""
    return {
        "keyArn": "arn:aws:kms:us-east-1:123456789012:key/00000000-0000-4000-8000-000000000000",
        "alias": "alias/viberator-dev-image-signing",
        "algorithm": "ECDSA_SHA_256",
        "publicKey": public_key_pem,
    }
