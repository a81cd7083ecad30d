"""The providers' own settings (`aws:*`, `docker-build:*`) checked against the schema each provider declares:
every key known at every depth (an unknown one is refused with the close name: `aws:assumeRole` →
`aws:assumeRoles`, an endpoint `lamda` → `lambda`), every value of its declared type.

Why refuse what the provider would: the provider's CheckConfig runs its Terraform schema over the config
(terraform-plugin-sdk, helper/schema/schema.go `validateObject`: an extra key is the error "Invalid or unknown
key"; `validatePrimitive`: "Attribute must be a single value, not a list"), which `pulumi preview` reports and
`make plan` would not, and a nested key the schema lacks would otherwise be a setting that silently does nothing.

The schema is read from each provider's Pulumi SDK, not copied here: `pulumi_aws.provider.ProviderArgs` is
generated from pulumi-aws's schema (itself terraform-provider-aws's, internal/provider/sdkv2/provider.go and the
generated endpoint list in provider_gen.go), so a provider upgrade brings its new keys and endpoint services along.

Owns the keys and the shapes; the values' own rules (durations, ARNs, STS bounds, ConflictsWith) are
aws_provider.py's.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import json
import re
import typing
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pulumi._types import input_type_types, is_input_type

from components.config_model.issues import REDACTED, ConfigIssue, shown

PROVIDER_PACKAGES = {"aws": "pulumi_aws", "docker-build": "pulumi_docker_build"}
"""The namespaces whose settings are a provider's, and the Pulumi SDK that declares them (`<package>.provider`
`ProviderArgs`: the provider resource's inputs, which are its config keys)."""

CREDENTIALS = {
    "accessKey": "better: a profile, `aws:profile`, or the CI's OIDC role",
    "secretKey": "better: a profile, `aws:profile`, or the CI's OIDC role",
    "token": "better: a profile, `aws:profile`, or the CI's OIDC role",
    "webIdentityToken": "better: webIdentityTokenFile, the CI's OIDC token file",
    "password": "",
}
"""The providers' settings that are credentials, at any depth, and the better way: the AWS provider's
`access_key`, `secret_key`, `token` and `assume_role_with_web_identity.web_identity_token` (provider.go), and
docker-build's registry `password` (pulumi_docker_build RegistryArgs). A stack file is committed: in plain text,
each is refused; set with `pulumi config set --secret`, it is stored encrypted."""


@dataclass(frozen=True)
class Shape:
    """One value's declared type: `kind` is text, bool, int, float, list, map (text values) or block (fields)."""

    kind: str
    item: Shape | None = None
    fields: Mapping[str, Shape] | None = None


_SCALARS = {str: "text", bool: "bool", int: "int", float: "float"}


def _shape(declared: Any) -> Shape:
    """A Shape from the SDK's annotation. Inputs are `Union[T, Awaitable[T], Output[T]]`: T is the value's type."""
    origin = typing.get_origin(declared)
    if origin is typing.Union:
        return _shape(typing.get_args(declared)[0])
    if origin is not None and issubclass(origin, Mapping):
        return Shape("map", item=_shape(typing.get_args(declared)[1]))
    if origin is not None and issubclass(origin, Sequence):
        return Shape("list", item=_shape(typing.get_args(declared)[0]))
    if is_input_type(declared):
        # `input_type_types` is how the SDK itself maps a block's camelCase keys to types (pulumi/_types.py).
        return Shape("block", fields={key: _shape(value) for key, value in input_type_types(declared).items()})
    return Shape(_SCALARS[declared])


@functools.cache
def provider_settings(namespace: str) -> Mapping[str, Shape]:
    """Each top-level key of a provider's config and its Shape, as its Pulumi SDK declares them."""
    module = importlib.import_module(f"{PROVIDER_PACKAGES[namespace]}.provider")
    return {key: _shape(declared) for key, declared in input_type_types(module.ProviderArgs).items()}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def close_name(name: str, known: Iterable[str]) -> str | None:
    """The known key a mistyped `name` most likely meant: Terraform's snake_case spelling of it (`assume_role`),
    another case (`RoleArn`), or the nearest by spelling (`lamda`)."""
    names = sorted(known)
    by_case = {key.lower(): key for key in names}
    camel = _camel(name)
    if camel.lower() in by_case:
        return by_case[camel.lower()]
    close = difflib.get_close_matches(camel, names, n=1) or difflib.get_close_matches(camel.lower(), names, n=1)
    return close[0] if close else None


_KIND_TEXT = {
    "text": "text",
    "bool": "true or false",
    "int": "a whole number",
    "float": "a number",
    "list": "a list, even of one",
    "map": "a block of key: text",
}


def _wanted(shape: Shape) -> str:
    if shape.kind != "block":
        return _KIND_TEXT[shape.kind]
    fields = ", ".join(sorted(shape.fields or ()))
    return f"a block of {fields}" if len(fields) < 120 else "a block of settings (`key: value` lines)"


def _wrong(path: str, value: Any, shape: Shape, secret: bool) -> ConfigIssue:
    hint = ""
    if shape.kind == "text" and isinstance(value, bool | int | float):
        # The SDK would turn the number into text, but YAML has already read it as a number: leading zeros, `1e3`
        # and `0x1F` are lost. Quoted, the text is what was written.
        hint = f': quote it ("{value}")'
    elif shape.kind == "list" and not isinstance(value, list | dict):
        hint = f": [{json.dumps(value)}]"
    elif shape.kind == "block" and isinstance(value, list):
        # A block's list written straight under the key (`ignoreTags: [a, b]` for `ignoreTags: {keys: [a, b]}`).
        lists = [key for key, field in (shape.fields or {}).items() if field.kind == "list"]
        hint = f" (like {min(lists, key=len)}: {json.dumps(value)})" if lists else ""
    return ConfigIssue(
        path=path, value=REDACTED if secret else shown(value), message=f"the provider takes {_wanted(shape)}{hint}"
    )


def _unknown_key_message(path: str, key: str, fields: Mapping[str, Shape]) -> str:
    close = close_name(key, fields)
    if close is not None:
        return f"not a key of {path}: did you mean {close}?"
    if len(fields) == 1:
        # `defaultTags: {Team: platform}` for `defaultTags: {tags: {Team: platform}}`: the block's one key left out.
        (only,) = fields
        return f"not a key of {path}, which takes only {only}: put `{key}: …` under `{only}:`"
    return f"not a key of {path}, which takes {', '.join(sorted(fields))}"


def _plain_credential(field: str, path: str) -> ConfigIssue:
    key, _, nested = path.partition(".")
    how = f"--path '{path}'" if nested else key
    return ConfigIssue(
        path=path,
        value=REDACTED,
        message=f"a credential in plain text: `pulumi config set --secret {how} …`"
        + (f" ({CREDENTIALS[field]})" if CREDENTIALS[field] else ""),
    )


def value_issues(path: str, value: Any, shape: Shape, secret: bool = False) -> Iterator[ConfigIssue]:
    """Each place where a (decoded) `value` is not of its declared `shape`, or holds a key the shape lacks."""
    if shape.kind == "block":
        if not isinstance(value, dict):
            yield _wrong(path, value, shape, secret)
            return
        fields = shape.fields or {}
        for key, item in value.items():
            if key not in fields:
                yield ConfigIssue(
                    path=f"{path}.{key}",
                    value=REDACTED if secret else shown(item),
                    message=_unknown_key_message(path, key, fields),
                )
            elif key in CREDENTIALS and isinstance(item, str) and not secret:
                yield _plain_credential(key, f"{path}.{key}")
            else:
                yield from value_issues(f"{path}.{key}", item, fields[key], secret)
    elif shape.kind in ("list", "map"):
        if not isinstance(value, list if shape.kind == "list" else dict):
            yield _wrong(path, value, shape, secret)
            return
        items = enumerate(value) if isinstance(value, list) else value.items()
        for key, item in items:
            where = f"{path}[{key}]" if isinstance(value, list) else f"{path}.{key}"
            yield from value_issues(where, item, shape.item or Shape("text"), secret)
    elif not _fits(value, shape.kind):
        yield _wrong(path, value, shape, secret)


def _fits(value: Any, kind: str) -> bool:
    if kind == "text":
        return isinstance(value, str)
    if kind == "bool":
        return isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, int | float) and not isinstance(value, bool)


def _top_level(raw: str, shape: Shape) -> Any:
    """A top-level setting as the provider decodes the CLI's text: as it is where it takes text, otherwise as
    JSON (pulumi-terraform-bridge, pkg/tfbridge/config_encoding.go `convertStringToPropertyValue`), so `yes` is
    no bool and `"5"` is the number 5. Text that is not JSON stays text, which the shape check then refuses."""
    if shape.kind == "text":
        return json.loads(raw) if raw.lstrip().startswith(("[", "{")) and _is_json(raw) else raw
    return json.loads(raw) if _is_json(raw) else raw


def _is_json(raw: str) -> bool:
    try:
        json.loads(raw)
    except ValueError:
        return False
    return True


_SETTING = re.compile(r"[^.\[]+")


def settings_issues(config: Mapping[str, str], secret_keys: typing.Collection[str]) -> Iterator[ConfigIssue]:
    """Each provider setting of `config` (the CLI's text) that its provider does not declare or whose value is
    not of the declared shape."""
    for key, raw in config.items():
        namespace, _, name = key.partition(":")
        if namespace not in PROVIDER_PACKAGES:
            continue
        settings = provider_settings(namespace)
        setting = (_SETTING.match(name) or [name])[0]
        secret = key in secret_keys
        if setting not in settings:
            close = close_name(setting, settings)
            yield ConfigIssue(
                path=key,
                value=REDACTED if secret else shown(_top_level(raw, Shape("text"))),
                message=f"not a setting of the {namespace} provider"
                + (f": did you mean {namespace}:{close}? It takes {_wanted(settings[close])}" if close else ""),
            )
            continue
        shape = settings[setting]
        if setting in CREDENTIALS and not secret:
            yield _plain_credential(setting, key)
            continue
        if secret and shape.kind != "text" and not _is_json(raw):
            # An encrypted object or number the plan cannot read (the offline plan has no key to decrypt it);
            # under `pulumi up` it arrives decrypted, and a wrong one is the provider's to report.
            continue
        yield from value_issues(key, _top_level(raw, shape), shape, secret)
