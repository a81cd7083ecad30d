"""A `Pulumi.<stack>.yaml` read into the config map the Pulumi CLI hands the program.

The CLI passes config to the language host as a map of strings (`PULUMI_CONFIG`, read by
`pulumi.runtime.config`): a top-level scalar as its text (`viberator:keepImages: 10` arrives as "10"; `pulumi
config set` docs: "Top level entries are always treated as strings") and an object or list as its JSON text,
which `Config.get_object` decodes ("available to Pulumi programs as JSON strings", pulumi/pulumi#3342).
`stack_file_config` builds that map, so the offline plan sees what `pulumi up` sees.

Before that, the file must mean one thing to every YAML reader. YAML 1.1 readers (PyYAML, many editors'
linters) and YAML 1.2 readers disagree on plain scalars such as `0022` (octal 18), `15:00` (900 in base 60),
`yes`/`on`/`NO` (booleans) and `1_000`; a date (`2024-06-01`) or `.inf` has no JSON form at all; and a
duplicated key silently keeps only its last value. Each is refused, naming its key path and what YAML read.

Merge keys and anchors are resolved as yaml.v3 (which the CLI reads stack files with) resolves them; a file that
is not UTF-8, or that YAML can't parse, is one issue naming the file, the line and the likely fix
(components/config/yaml_mistakes.py).
"""

from __future__ import annotations

import datetime
import json
import math
import re
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.config import ConfigError, ConfigIssue
from components.config.yaml_mistakes import NotUtf8, explain, utf8_text

SECRET_TEXT = "[secret]"
"""Secure values can't be decrypted offline; they become this placeholder, marked secret."""

PLAIN_INT = re.compile(r"^[-+]?(0|[1-9][0-9]*)$")
LEADING_ZERO_DIGITS = re.compile(r"^[-+]?0[0-9]+$")
PLAIN_FLOAT = re.compile(r"^[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$")
PLAIN_BOOL = ("true", "false")
"""The only spellings YAML 1.1 and 1.2 both read as these numbers and booleans."""


@dataclass(frozen=True)
class Refused:
    """A YAML value the config can't take as written; `_plain` reports it at its key path."""

    written: str
    """The scalar as the file has it."""
    read_as: Any
    """What YAML read, shown as the issue's value."""
    message: str


def _number_kind(text: str) -> str:
    body = text.lstrip("+-")
    if ":" in body:
        return " (base 60)"
    if "_" in body:
        return " (underscores dropped)"
    if body[:1] == "0" and len(body) > 1 and body[1:2].isdigit():
        return " (octal)"
    return ""


def _read_as_a_number(text: str, shown: Any, *, write: str) -> Refused:
    """A plain scalar YAML read as a number its writer may have meant as text."""
    return Refused(
        text,
        shown,
        f'YAML read {text} as the number {shown}{_number_kind(text)}: quote it ("{text}") if you meant the text, '
        f"or write {write}",
    )


MERGE_TAG = "tag:yaml.org,2002:merge"
MERGE_KEY = "<<"


class StackFileLoader(yaml.SafeLoader):
    """SafeLoader that refuses, rather than silently reads, what YAML readers disagree on."""

    def construct_yaml_bool(self, node: yaml.ScalarNode) -> Any:
        value = super().construct_yaml_bool(node)
        if node.value.lower() in PLAIN_BOOL:
            return value
        written = json.dumps(value)
        return Refused(
            node.value,
            value,
            f'YAML 1.1 reads {node.value} as {written}, YAML 1.2 as the text "{node.value}": write {written}, '
            "or quote it",
        )

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        value = super().construct_yaml_int(node)
        if PLAIN_INT.match(node.value):
            return value
        return _read_as_a_number(node.value, value, write=str(value))

    def construct_yaml_float(self, node: yaml.ScalarNode) -> Any:
        value = super().construct_yaml_float(node)
        if PLAIN_FLOAT.match(node.value):
            return value
        shown = value if math.isfinite(value) else node.value
        return _read_as_a_number(node.value, shown, write="a plain number")

    def construct_yaml_str(self, node: yaml.ScalarNode) -> Any:
        value = super().construct_yaml_str(node)
        # A plain 012345678901 (an 8 or 9 keeps it from being octal) is text to YAML 1.1 readers, but a number
        # to YAML 1.2's core schema (`[-+]?[0-9]+`) and to Go's yaml.v3, which Pulumi reads stack files with
        # (it falls back from octal to a float): an account id would lose its leading zero.
        if node.style is None and LEADING_ZERO_DIGITS.match(node.value):
            return Refused(
                node.value,
                node.value,
                f"YAML readers disagree on {node.value}: text to YAML 1.1, the number {int(node.value)} to YAML 1.2 "
                f'and Pulumi\'s reader: quote it ("{node.value}")',
            )
        return value

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        return Refused(
            node.value,
            node.value,
            f'YAML read {node.value} as a date, which config can\'t hold: quote it ("{node.value}")',
        )

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        # Merge keys (`<<: *defaults`, `<<: [*a, *b]`) as Go's yaml.v3, which the Pulumi CLI reads stack files
        # with, resolves them (go-yaml/yaml decode.go, `mapping` and `merge`): the mapping's own keys win wherever
        # they are written, and of a list of merged mappings the first that has a key gives it. PyYAML's
        # `flatten_mapping` gives the same result. A key written twice in one mapping is refused, as yaml.v3's
        # Unmarshal refuses it ("mapping key already defined", uniqueKeys), and so are two `<<` keys.
        written = list(node.value)  # before merged keys are flattened in: those may be overridden
        mapping = super().construct_mapping(node, deep=True)
        lines: dict[Hashable, list[int]] = {}
        for key_node, _ in written:
            key = MERGE_KEY if key_node.tag == MERGE_TAG else self.construct_object(key_node, deep=True)
            lines.setdefault(key, []).append(key_node.start_mark.line + 1)
        for key, on_lines in lines.items():
            if len(on_lines) > 1:
                mapping[key] = Refused(
                    str(key),
                    mapping.get(key),
                    f"duplicate key `{key}` on lines {', '.join(map(str, on_lines))}; "
                    + ("YAML keeps only the last: keep one" if key != MERGE_KEY else "merge them in one: <<: [*a, *b]"),
                )
        return mapping


for _tag, _constructor in (
    ("bool", StackFileLoader.construct_yaml_bool),
    ("int", StackFileLoader.construct_yaml_int),
    ("float", StackFileLoader.construct_yaml_float),
    ("timestamp", StackFileLoader.construct_yaml_timestamp),
    ("str", StackFileLoader.construct_yaml_str),
):
    StackFileLoader.add_constructor(f"tag:yaml.org,2002:{_tag}", _constructor)


def _is_secure(value: Any) -> bool:
    return isinstance(value, dict) and set(value) == {"secure"}


def _holds_secret(value: Any) -> bool:
    if isinstance(value, dict):
        return _is_secure(value) or any(_holds_secret(item) for item in value.values())
    return isinstance(value, list) and any(_holds_secret(item) for item in value)


def _child(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _plain(value: Any, path: str, issues: list[ConfigIssue]) -> Any:
    """`value` as JSON holds it; what JSON can't hold (or YAML refused) becomes an issue at `path`."""
    if isinstance(value, Refused):
        issues.append(ConfigIssue(path=path, value=_plain(value.read_as, path, issues), message=value.message))
        return None
    if _is_secure(value):
        return SECRET_TEXT
    if isinstance(value, dict):
        plain = {}
        for key, item in value.items():
            if isinstance(key, str):
                plain[key] = _plain(item, _child(path, key), issues)
            elif isinstance(key, Refused):
                issues.append(
                    ConfigIssue(
                        path=_child(path, key.written),
                        value=_plain(item, _child(path, key.written), []),
                        message=f"YAML read the key {key.written} as {json.dumps(key.read_as)}: "
                        f'quote it ("{key.written}")',
                    )
                )
            else:
                issues.append(ConfigIssue(path=_child(path, key), value=key, message="a key is text: quote it"))
        return plain
    if isinstance(value, list):
        return [_plain(item, f"{path}[{i}]", issues) for i, item in enumerate(value)]
    if value is None or isinstance(value, str | bool | int) or (isinstance(value, float) and math.isfinite(value)):
        return value
    shown = value.isoformat() if isinstance(value, datetime.date) else repr(value)
    issues.append(
        ConfigIssue(path=path, value=shown, message=f"YAML read a {type(value).__name__}, which config can't hold")
    )
    return None


def _cli_text(value: Any) -> str:
    """A top-level value as the CLI passes it: a scalar's text, an object's or list's JSON."""
    return value if isinstance(value, str) else json.dumps(value)  # true/false, numbers, objects, lists


def _yaml_issue(path: Path, text: str, error: yaml.YAMLError) -> ConfigIssue:
    """The mistake in words, with the line it is on (an unclosed `{` is reported where it starts)."""
    lines = text.splitlines()
    line, message = explain(lines, error)
    source = lines[line].strip() if line is not None and line < len(lines) else None
    return ConfigIssue(path=str(path), value=source, message=message)


def _load(path: Path) -> dict[Hashable, Any]:
    try:
        text = utf8_text(path.read_bytes())
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(path=str(path), value=None, message="no such stack config file")]) from None
    except NotUtf8 as error:
        raise ConfigError([ConfigIssue(path=str(path), value=error.source, message=str(error))]) from None
    except OSError as error:
        raise ConfigError(
            [ConfigIssue(path=str(path), value=None, message=f"can't read it: {error.strerror}")]
        ) from None
    try:
        document = yaml.load(text, Loader=StackFileLoader)  # a SafeLoader subclass
    except yaml.YAMLError as error:
        raise ConfigError([_yaml_issue(path, text, error)]) from None
    if not isinstance(document, dict) or not isinstance(document.get("config"), dict):
        raise ConfigError(
            [ConfigIssue(path=f"{path}: config", value=None, message="the file needs a `config:` mapping")]
        )
    return document["config"]


def stack_file_config(path: Path) -> tuple[dict[str, str], list[str]]:
    """The `config:` of a Pulumi.<stack>.yaml as the CLI passes it, and the keys that hold secrets.

    Raises ConfigError for a file that is missing or malformed, or that YAML readers would read differently.
    """
    config = _load(path)
    issues: list[ConfigIssue] = []
    plain = _plain(config, "", issues)
    for key, value in plain.items():
        if value is None and config[key] is None:
            issues.append(
                ConfigIssue(
                    path=key, value=None, message='YAML read no value: give one (`""` for no text) or remove the key'
                )
            )
    if issues:
        raise ConfigError(issues)
    return {key: _cli_text(value) for key, value in plain.items()}, [k for k in plain if _holds_secret(config[k])]
