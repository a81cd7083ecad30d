"""An issue of a rule shows its key's value as the stack file has it (ParsedStack.issue,
components/config_model/issues.py): read by the key, never re-typed by the rule, and `(missing)` where the file
does not set the key, whatever default the model gave it."""

from __future__ import annotations

from typing import Any

import pytest

from components.config_model.issues import MISSING, Key
from components.config_model.parsed_stack import ParsedStack
from components.config_model.stack import StackConfig

SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:viberator/dev/claude.key-AbCdEf"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/0b6d1c4e-2f3a-4b5c-8d9e-0f1a2b3c4d5e"
WRITTEN = {
    "environment": "dev",
    "keepImages": "10",  # a top-level value arrives as text, as the Pulumi CLI passes it
    "protect": "false",
    "network": {"vpcId": "vpc-0a1b2c3d4e5f60718", "subnetIds": ["subnet-0a1b2c3d4e5f60001"], "assignPublicIp": True},
    "secretKeys": {SECRET: KMS_KEY},
    "clankers": [{"name": "worker", "agent": "claude", "target": "lambda", "secrets": {}}],
}


@pytest.mark.parametrize(
    ("key", "path", "value"),
    [
        ("keepImages", "viberator:keepImages", 10),
        ("protect", "viberator:protect", False),
        ("forceDelete", "viberator:forceDelete", MISSING),
        (("network", "assignPublicIp"), "viberator:network.assignPublicIp", True),
        (("network", "subnetIds", 0), "viberator:network.subnetIds[0]", "subnet-0a1b2c3d4e5f60001"),
        (("network", "subnetIds", 1), "viberator:network.subnetIds[1]", MISSING),
        (("harnesses", 6), "viberator:harnesses", MISSING),  # never a key inside one the file does not set
        (("clankers", 0, "environment", "X"), "viberator:clankers[0].environment", MISSING),
        (("secretKeys", SECRET), f"viberator:secretKeys.{SECRET}", KMS_KEY),
        (("clankers", 0, "secrets"), "viberator:clankers[0].secrets", {}),
        (("clankers", 0, "image"), "viberator:clankers[0].image", MISSING),
    ],
)
def test_an_issue_shows_the_value_the_stack_file_has_at_its_key(key: str | Key, path: str, value: Any) -> None:
    parsed = ParsedStack(
        config=StackConfig.model_validate({"aws:region": "us-east-1", **WRITTEN, "clankers": []}),
        positions=(),
        declared_targets=frozenset(),
        account=None,
        written=WRITTEN,
    )
    issue = parsed.issue(key, "what is wrong")
    assert (issue.path, issue.value, issue.message) == (path, value, "what is wrong")
