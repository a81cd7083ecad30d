"""`viberator:` values to a StackConfig: each clanker and the top-level keys validated on their own, then every
rule that spans keys, all issues reported together in one ConfigError."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from typing import Any

from pydantic import ValidationError

from components.config.rules import RULES, ParsedStack
from components.config.validation_errors import issue_of
from components.config_model.clankers import ClankerBase
from components.config_model.fields import NAMESPACE
from components.config_model.issues import REDACTED, ConfigError, ConfigIssue
from components.config_model.stack import StackConfig
from components.credentials import credentials_in
from components.targets import parse_clanker


def credential_issues(values: Mapping[str, Any], namespace: str, secret_keys: Collection[str]) -> list[ConfigIssue]:
    """A credential in any plain value (nested, or inside other text: a token in a URL's user-info), by the one
    check the policy pack shares (components/credentials.py). A value set with `pulumi config set --secret` is
    encrypted in the file, so it is not looked into."""
    return [
        ConfigIssue(
            path=f"{namespace}{path}",
            value=REDACTED,
            message=f"holds {kind}, and stack config is committed in plain text: "
            + (
                "keep it in Secrets Manager and list the secret's ARN under the clanker's `secrets`"
                if namespace == f"{NAMESPACE}:"
                else f"set it with `pulumi config set --secret {key}`, which stores it encrypted"
            ),
        )
        for key, value in values.items()
        if key not in secret_keys
        for path, kind in credentials_in(value, key)
    ]


def parse_stack_config(
    values: Mapping[str, Any],
    *,
    stack: str,
    region: str | None,
    account: str | None = None,
    source: str = "stack config",
    secret_keys: Collection[str] = (),
) -> StackConfig:
    """Parse the `viberator:` namespace (keys without the prefix) into a StackConfig, or raise ConfigError.
    `account`: the stack's account when its config pins exactly one (`allowed_accounts`), else unknown (None);
    `secret_keys`: the keys (without the prefix) set as secrets."""
    credentials = credential_issues(values, f"{NAMESPACE}:", secret_keys)
    data = {"environment": stack, **values}
    if region is not None:
        data["aws:region"] = region
    # Clankers are validated one by one, so that the cross-field rules still run over the valid ones and every
    # mistake in the file is reported in one run, not one per run.
    raw_clankers = data.get("clankers", [])
    clankers: list[tuple[int, ClankerBase]] = []
    clanker_issues: list[ConfigIssue] = []
    reported: list[str] = []
    """The key paths of the refused fields of clankers checked without them: said once, by the model."""
    declared_targets: set[str] = set()
    if isinstance(raw_clankers, list):
        declared_targets = {str(raw.get("target")) for raw in raw_clankers if isinstance(raw, Mapping)}
        for i, raw in enumerate(raw_clankers):
            try:
                clankers.append((i, parse_clanker(raw)))
            except ValidationError as error:
                clanker_issues += [
                    issue_of(data, {**e, "loc": ("clankers", i, *e["loc"])}, secret_keys) for e in error.errors()
                ]
                # The rest of it still meets the rules that span keys (its agent, its name among the others):
                # a second mistake in the same clanker is reported in this run too.
                repaired = _without_refused_fields(raw, error)
                if repaired is not None:
                    clankers.append((i, repaired[0]))
                    reported += [f"{NAMESPACE}:clankers[{i}].{key}" for key in repaired[1]]
        data_without_clankers = {**data, "clankers": []}
    else:
        data_without_clankers = data  # the model reports that `clankers` is not a list
    # Where a value holds a credential, that is the one thing said of it.
    flagged = {issue.path for issue in credentials}
    clanker_issues = [issue for issue in clanker_issues if issue.path not in flagged]
    try:
        config = StackConfig.model_validate(data_without_clankers)
    except ValidationError as error:
        issues = [issue_of(data, e, secret_keys) for e in error.errors()]
        raise ConfigError(credentials + [i for i in issues if i.path not in flagged] + clanker_issues, source) from None
    config = config.model_copy(update={"clankers": [clanker for _, clanker in clankers]})
    parsed = ParsedStack(
        config=config,
        positions=tuple(i for i, _ in clankers),
        declared_targets=frozenset(declared_targets),
        account=account,
        written=data,
        secret_keys=frozenset(secret_keys),
    )
    ruled = [issue for rule in RULES for issue in rule(parsed) if not _under(issue.path, reported)]
    issues = credentials + clanker_issues + ruled
    if issues:
        raise ConfigError(sorted(issues, key=_clanker_position), source)
    return config


def _without_refused_fields(raw: Any, error: ValidationError) -> tuple[ClankerBase, list[str]] | None:
    """The clanker as its target's model reads it without the fields the model refused (each then its default),
    and those fields; None when that is not a clanker either (a required field or the target refused)."""
    if not isinstance(raw, Mapping):
        return None
    refused = []
    for each in error.errors():
        location = [part for part in each["loc"] if part != raw.get("target")]  # the union's tag comes first
        if location and isinstance(location[0], str) and location[0] in raw:
            refused.append(location[0])
    if not refused:
        return None
    try:
        return parse_clanker({key: value for key, value in raw.items() if key not in refused}), sorted(set(refused))
    except ValidationError:
        return None


def _under(path: str, reported: list[str]) -> bool:
    return any(path == key or path.startswith((f"{key}.", f"{key}[")) for key in reported)


def _clanker_position(issue: ConfigIssue) -> tuple[int, int]:
    """Stack-level issues first, then each clanker's in list order (a stable sort keeps the rest in place)."""
    match = re.match(rf"^{NAMESPACE}:clankers\[(\d+)\]", issue.path)
    return (1, int(match.group(1))) if match else (0, 0)
