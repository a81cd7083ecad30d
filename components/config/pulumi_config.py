"""A stack's whole Pulumi config, as the CLI passes it (every namespace; values as text, objects and lists as
JSON), to a StackConfig: the `viberator:` keys decoded for the parser, the keys `pulumi up` would silently ignore
reported (another namespace's), and the providers' settings checked (provider_schema.py: keys and types;
aws_provider.py: the AWS provider's value rules).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping
from typing import Any

import pulumi

from components.config.aws_provider import provider_issues
from components.config.parsing import credential_issues, parse_stack_config
from components.config.provider_schema import PROVIDER_PACKAGES, provider_settings, settings_issues
from components.config_model.fields import NAMESPACE
from components.config_model.issues import REDACTED, ConfigError, ConfigIssue, shown
from components.config_model.stack import StackConfig

PROVIDER_NAMESPACES = ("aws", "docker-build", "pulumi")
"""The providers' namespaces (aws:region, aws:profile, aws:allowedAccountIds, aws:defaultTags, …; docker-build:
host, registries) and Pulumi's own: their keys are theirs to read and check, so any of them is allowed."""


def decode_config_value(raw: str) -> Any:
    """A value as the program's settings take it. The CLI passes an object or list as JSON text and any other
    value as its text ("10", "true", "20240601"), which stays text: the model coerces it where a setting is a
    number or a boolean, and keeps it where a setting is text. No scalar setting starts with `{` or `[`."""
    if raw.lstrip().startswith(("{", "[")):
        try:
            return json.loads(raw)
        except ValueError:
            return raw  # the model reports that the text is not the object or list it expects
    return raw


def _foreign_key_issue(key: str, raw: str, secret: bool) -> ConfigIssue:
    """A key outside the namespaces the program and its providers read: `pulumi up` would silently ignore it."""
    namespace, _, name = key.rpartition(":")
    setting = name.split(".")[0].split("[")[0]
    value = REDACTED if secret else shown(decode_config_value(raw))
    provider = next((ns for ns in PROVIDER_PACKAGES if setting in provider_settings(ns)), None)
    if provider is not None:
        # `AWS:region`, `aws-native:profile`, `docker:host`: a provider's setting under a namespace no provider
        # of this program reads.
        message = f"did you mean {provider}:{setting}? " + (
            f"`pulumi config set {provider}:{setting} {raw}`"
            if not raw.lstrip().startswith(("{", "["))
            else f"rename the key in the stack file to {provider}:{setting}"
        )
    elif setting in StackConfig.yaml_keys():
        where = f"the namespace {namespace}" if namespace else "no namespace"
        how = (
            f"`pulumi config set {NAMESPACE}:{setting} {raw}`"
            if not raw.lstrip().startswith(("{", "["))
            else f"rename the key in the stack file to {NAMESPACE}:{setting}"
        )
        message = f"{where}, which this program never reads: did you mean {NAMESPACE}:{setting}? {how}"
    else:
        message = (
            f"this program reads only {NAMESPACE}:* and its providers' "
            f"{', '.join(f'{ns}:*' for ns in PROVIDER_NAMESPACES)}"
        )
    return ConfigIssue(path=key, value=value, message=message)


def allowed_accounts(config: Mapping[str, str]) -> tuple[str, ...]:
    """`aws:allowedAccountIds`: the provider refuses credentials of any other account, so the stack's resources
    can only be in one of these. Empty when unset or malformed (the provider reports that)."""
    try:
        allowed = json.loads(config.get("aws:allowedAccountIds", "[]"))
    except ValueError:
        return ()
    return tuple(str(account) for account in allowed) if isinstance(allowed, list) else ()


def parse_pulumi_config(
    config: Mapping[str, str], *, stack: str, secret_keys: Collection[str] = (), source: str = "stack config"
) -> StackConfig:
    """Parse a stack's whole config as the Pulumi CLI passes it (every namespace; values as text, objects and
    lists as JSON) into a StackConfig, or raise ConfigError with every issue, keys of unknown namespaces too."""
    prefix = f"{NAMESPACE}:"
    issues = [
        _foreign_key_issue(key, raw, key in secret_keys)
        for key, raw in config.items()
        if not key.startswith(prefix) and key.partition(":")[0] not in PROVIDER_NAMESPACES
    ]
    credentials = credential_issues(
        {key: decode_config_value(raw) for key, raw in config.items() if not key.startswith(prefix)}, "", secret_keys
    )
    # A credential's shape found in a provider setting that is itself a credential: reported once.
    flagged = {issue.path for issue in credentials}
    provider = [*settings_issues(config, secret_keys), *provider_issues(config)]
    issues += credentials + [issue for issue in provider if issue.path not in flagged]
    values = {
        key.removeprefix(prefix): decode_config_value(raw) for key, raw in config.items() if key.startswith(prefix)
    }
    try:
        allowed = allowed_accounts(config)
        parsed = parse_stack_config(
            values,
            stack=stack,
            region=config.get("aws:region"),
            account=allowed[0] if len(allowed) == 1 else None,
            source=source,
            secret_keys={key.removeprefix(prefix) for key in secret_keys if key.startswith(prefix)},
        )
    except ConfigError as error:
        raise ConfigError(issues + error.issues, source) from None
    if issues:
        raise ConfigError(issues, source)
    return parsed


def load_stack_config() -> StackConfig:
    """Parse the running stack's config as the language host received it (raises ConfigError)."""
    from pulumi.runtime import config as runtime_config

    keys = sorted(set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env()))
    secret_keys = set(runtime_config.get_config_secret_keys_env())
    secret_keys |= {key for key in keys if runtime_config.is_config_secret(key)}
    config = {key: str(runtime_config.get_config(key)) for key in keys}
    return parse_pulumi_config(config, stack=pulumi.get_stack(), secret_keys=secret_keys)
