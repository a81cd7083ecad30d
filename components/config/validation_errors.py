"""Pydantic's validation errors as ConfigIssues: the key path as the YAML spells it, the value the user wrote,
and a message that says what to write instead (a pattern's hint, the key that was meant, YAML's type gotchas).

Owns the translation only; the models say what is valid (components/config_model/clankers.py, stack.py).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Collection, Mapping
from typing import Any, get_args

from components.aws_ids import SHAPES
from components.config_model.fields import (
    CREDENTIAL_ERROR,
    DIGEST_PATTERN,
    ENV_VAR_PATTERN,
    IMAGE_REVISION_PATTERN,
    NAME_PATTERN,
    REVIEW_EXPIRES_PATTERN,
    STACK_REFERENCE_PATTERN,
    ConfigModel,
)
from components.config_model.issues import REDACTED, ConfigIssue, Key, key_path, written_at
from components.config_model.stack import StackConfig
from components.targets import CLANKER_MODELS
from components.targets.lambda_ import LAMBDA_ENV_VAR_PATTERN

PATTERN_HINTS = {
    **SHAPES,
    NAME_PATTERN: "use lowercase letters, digits and hyphens (not at either end)",
    ENV_VAR_PATTERN: "an environment variable name: letters, digits and underscores, not starting with a digit",
    LAMBDA_ENV_VAR_PATTERN: "a Lambda variable name: a letter, then letters, digits and underscores (2 or more)",
    IMAGE_REVISION_PATTERN: "a tag-safe revision: letters, digits, `.`, `_` and `-`",
    STACK_REFERENCE_PATTERN: "must be a fully qualified stack name <org>/<project>/<stack>",
    DIGEST_PATTERN: "must be an image digest, sha256: and 64 hex digits",
    REVIEW_EXPIRES_PATTERN: 'a UTC time as YYYY-MM-DDTHH:MM:SSZ, quoted ("2026-12-08T00:00:00Z")',
}

_KEY_MARKER = "[key]"
"""Pydantic's marker for an error in a mapping's key, which the path already names."""


def _key(loc: tuple[str | int, ...]) -> Key:
    """The key the user wrote (`("clankers", 1, "memoryMb")`) from pydantic's loc, without discriminated-union tags
    (the union member pydantic tried) and mapping-key markers."""
    return tuple(
        part
        for index, part in enumerate(loc)
        if part != _KEY_MARKER and not (index > 0 and isinstance(loc[index - 1], int) and part in CLANKER_MODELS)
    )


def _model_in(annotation: Any) -> type[ConfigModel] | None:
    """The config model a field's type holds: the model itself, or inside `| None`, a list or a mapping."""
    if isinstance(annotation, type) and issubclass(annotation, ConfigModel):
        return annotation
    return next((model for arg in get_args(annotation) if (model := _model_in(arg)) is not None), None)


def _model_at(loc: tuple[str | int, ...]) -> type[ConfigModel]:
    """The top-level model, or the nested block's whose key `loc` ends with, read from the models' own field
    types (`images.signing` is a PinnedKeyConfig because ImageSourceConfig says so), so no block is missed."""
    model: type[ConfigModel] = StackConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue  # an item of a list: the list's own field named the model
        fields = {field.alias or name: field for name, field in model.model_fields.items()}
        nested = _model_in(fields[part].annotation) if part in fields else None
        if nested is None:
            break
        model = nested
    return model


def _unknown_key_message(loc: tuple[str | int, ...]) -> str:
    key = str(loc[-1])
    target = next((part for part in loc if part in CLANKER_MODELS), None)
    if target is not None:
        elsewhere = [other for other, model in CLANKER_MODELS.items() if key in model.yaml_keys()]
        if elsewhere:
            targets = " and ".join(elsewhere)
            article = "an" if targets[0] in "aeiou" else "a"
            hint = "; set them where the container is started (docker run -e, compose)" if target == "docker" else ""
            return f"`{key}` is {article} {targets} field; this clanker's target is {target}{hint}"
        known = CLANKER_MODELS[str(target)].yaml_keys()
    else:
        known = _model_at(loc).yaml_keys()
    close = difflib.get_close_matches(key, known, n=1)
    return f"unknown key: did you mean {close[0]}?" if close else f"unknown key; known: {', '.join(known)}"


def _message(error: Mapping[str, Any]) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "string_pattern_mismatch":
        return PATTERN_HINTS.get(error.get("ctx", {}).get("pattern", ""), message)
    if error["type"] == "extra_forbidden":
        return _unknown_key_message(tuple(error["loc"]))
    if error["type"] == "string_type" and isinstance(error.get("input"), bool | int | float):
        kind = "boolean" if isinstance(error["input"], bool) else "number"
        return f'YAML read {json.dumps(error["input"])} as a {kind}; this is text: quote it ("{error["input"]}")'
    targets = list(CLANKER_MODELS)
    if error["type"] == "union_tag_invalid":
        return f"target must be one of: {', '.join(targets)}"
    if error["type"] == "union_tag_not_found":
        return f"missing key `target` ({', '.join(targets[:-1])} or {targets[-1]})"
    return message


def issue_of(data: Mapping[str, Any], error: Mapping[str, Any], secret_keys: Collection[str] = ()) -> ConfigIssue:
    """The issue for one of pydantic's errors over `data`, the `viberator:` values as the parser read them
    (`secret_keys`: the top-level keys set as secrets, whose values are never shown)."""
    loc = tuple(error["loc"])
    if error["type"] in ("union_tag_invalid", "union_tag_not_found"):
        loc = (*loc, "target")  # the discriminator key is what the user got wrong
    key, value = written_at(data, _key(loc), secret_keys)
    # A credential is never echoed back (ConfigIssue redacts any value holding one; this type names them).
    if error["type"] == CREDENTIAL_ERROR:
        value = REDACTED
    return ConfigIssue(path=key_path(key), value=value, message=_message(error))
