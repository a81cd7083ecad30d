"""What a credential and a secret reference look like: the one definition the stack config and the policy pack share.

The config refuses a credential pasted into a plain setting (components/config/); the pack refuses one that reaches
a resource's inputs anyway (policy/rules.py). Kept apart from the config package and free of any import beyond the
standard library, so the pack loads these patterns without loading the config's models: `pulumi preview
--policy-pack policy` runs policy/__main__.py in the project's uv environment (policy/PulumiPolicy.yaml, toolchain
uv; no requirements file of its own), which puts the project directory on sys.path to import this module.
"""

from __future__ import annotations

import re

SECRET_LOOKING_NAME = re.compile(r"(API_?KEY|TOKEN|SECRET|PASSWORD|PRIVATE_KEY|CREDENTIALS?)$", re.IGNORECASE)
SECRET_LOOKING_VALUE = re.compile(
    r"^(sk-[A-Za-z0-9_-]{16,}|sk-ant-[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,}"
    r"|gh[pousr]_[A-Za-z0-9]{30,}|xox[abpr]-[A-Za-z0-9-]{10,}|-----BEGIN [A-Z ]*PRIVATE KEY-----.*)$",
    re.DOTALL,
)
"""Well-known credential shapes (OpenAI/Anthropic, AWS access key, Google API key, GitHub, Slack, PEM)."""

SECRET_ARN_PATTERN = (
    r"^arn:(?P<partition>[^:]+):secretsmanager:(?P<region>[^:]*):\d{12}:secret:(?P<name>[A-Za-z0-9/_+=.@-]+)"
    r"(?P<selector>:[^:]*:[^:]*:[^:]*)?$"
)
"""A Secrets Manager secret ARN, optionally with ECS's `:json-key:version-stage:version-id` selector (ECS
Developer Guide, "Pass Secrets Manager secrets through Amazon ECS environment variables")."""
