"""A stack file's bytes to text, and YAML's parse errors in words: what went wrong, on which line and key, and the
likely fix. The reader (components/config/stack_file.py) turns both into one ConfigIssue naming the file.

Owns only the telling. What YAML reads a file as, and what config can hold, is stack_file.py's.
"""

from __future__ import annotations

import codecs
import re

import yaml

SAVE_AS_UTF8 = (
    "save it as UTF-8 (editors: 'Save with encoding' > UTF-8; PowerShell: `Set-Content -Encoding utf8` rather "
    "than `>`, which writes UTF-16)"
)
_BOMS = (
    (codecs.BOM_UTF32_LE, "UTF-32"),
    (codecs.BOM_UTF32_BE, "UTF-32"),
    (codecs.BOM_UTF16_LE, "UTF-16"),
    (codecs.BOM_UTF16_BE, "UTF-16"),
)
"""UTF-32's little-endian mark starts with UTF-16's, so it is tried first."""


class NotUtf8(ValueError):
    """The file is not UTF-8 text: `str(error)` says what it is and how to re-save it; `line` is where (1-based)."""

    def __init__(self, message: str, line: int | None, source: str | None):
        super().__init__(message)
        self.line = line
        self.source = source


def utf8_text(data: bytes) -> str:
    """The file's text, or NotUtf8. Stack files are UTF-8 (the CI scripts read and write them so, and git shows
    other encodings as binary); a UTF-8 byte-order mark is dropped, as YAML readers drop it."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            raise NotUtf8(
                f"the file is {encoding} (it starts with {encoding}'s byte-order mark): {SAVE_AS_UTF8}", 1, None
            )
    if b"\x00" in data:
        raise NotUtf8(f"the file holds NUL bytes, as UTF-16 text does: {SAVE_AS_UTF8}", None, None)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        source = data.splitlines()[line - 1].decode("latin-1").strip()  # as a Latin-1 editor shows it
        byte = data[error.start]
        raise NotUtf8(
            f"not UTF-8: byte 0x{byte:02x} on line {line} (a Latin-1 or Windows-1252 character, like é or ü, "
            f"written by an editor in that encoding): {SAVE_AS_UTF8}",
            line,
            source,
        ) from None


def _key_of(text: str) -> str | None:
    """The key a line sets (`key: value`, `- key: value`), or None."""
    match = re.match(r"^\s*(?:-\s+)*([^\s#][^#]*?):(\s|$)", text)
    return match.group(1) if match else None


def _indent(text: str) -> int:
    return len(text) - len(text.lstrip(" "))


def _key_column(text: str) -> int:
    """Where a line's key starts: past a list item's `- `."""
    return len(text) - len(re.sub(r"^\s*(?:-\s+)*", "", text))


def _previous(lines: list[str], index: int) -> tuple[int, str] | None:
    """The nearest non-blank, non-comment line above `index` (0-based), with its index."""
    for i in range(index - 1, -1, -1):
        if lines[i].strip() and not lines[i].lstrip().startswith("#"):
            return i, lines[i]
    return None


def _named(text: str) -> str:
    key = _key_of(text)
    return f"`{key}`" if key else "it"


def explain(lines: list[str], error: yaml.YAMLError) -> tuple[int | None, str]:
    """The line (0-based) the mistake is on and what to do about it, for PyYAML's common errors: a tab, a line
    indented deeper or shallower than its siblings, a value holding `: `, a key without a space after its colon.
    Anything else keeps YAML's own words, with where."""
    problem = getattr(error, "problem", None) or str(error)
    mark = getattr(error, "problem_mark", None)
    context = getattr(error, "context_mark", None)
    if mark is None:
        return None, f"malformed YAML: {problem}"
    index = mark.line
    text = lines[index] if index < len(lines) else ""
    where = f"line {index + 1}"
    if "'\\t'" in problem:
        return index, (
            f"{where} is indented with a tab, and YAML indents with spaces only: replace the tab with spaces "
            f"(as many as its siblings have)"
        )
    if problem.startswith("expected a mapping or list of mappings for merging"):
        return index, f"`<<` on {where} merges a mapping (`<<: *defaults`) or a list of them (`<<: [*a, *b]`), not text"
    if problem.startswith("found undefined alias"):
        alias = problem.rpartition(" ")[2].strip("'")
        return index, f"`*{alias}` on {where} names no anchor: define `&{alias}` on the value it stands for, above it"
    if problem == "could not find expected ':'" and context is not None and context.line < len(lines):
        return context.line, (
            f"line {context.line + 1} has no `: ` after its key, so YAML reads it as text running into line "
            f"{index + 1}: write `key: value`, a space after the colon"
        )
    if "recursive" in problem:
        return index, f"an alias on {where} refers to the very node it is in (`&a [*a]`): YAML can't build that"
    if problem == "mapping values are not allowed here":
        key = _key_of(text)
        value = text[text.index(key) + len(key) + 1 :] if key is not None else ""
        if key is not None and re.search(r":(\s|$)", value):
            return index, (
                f"the value of `{key}` on {where} holds `: `, which YAML reads as another key: quote the value "
                f'({key}: "…")'
            )
        above = _previous(lines, index)
        if above is not None and _key_of(above[1]) is None and ":" in above[1]:
            return above[0], (
                f"line {above[0] + 1} has no space after its key's colon, so YAML reads it as text running into "
                f"line {index + 1}: write `key: value`, a space after the colon"
            )
        if above is not None and _indent(text) > _key_column(above[1]):
            return index, (
                f"{where} ({_named(text)}) is indented deeper ({_indent(text)} spaces) than line {above[0] + 1} "
                f"({_key_column(above[1])}), which already has a value: indent it as its siblings are"
            )
    if problem.startswith("expected <block end>"):
        above = _previous(lines, index)
        if above is not None:
            return index, (
                f"{where} ({_named(text)}) is indented {_indent(text)} spaces, and line {above[0] + 1} above it "
                f"{_key_column(above[1])}: keys side by side start in the same column; indent it as its siblings are"
            )
    start = context.line if context is not None and context.line < len(lines) else index
    for closing in ("}", "]"):
        if f"'{closing}'" in problem and context is not None:
            return start, (
                f"the `{'{' if closing == '}' else '['}` on line {start + 1} is never closed (YAML reached line "
                f"{index + 1}, column {mark.column + 1}): end it with `{closing}`, or write the block style"
            )
    started = f" (in what starts at line {start + 1})" if start != index else ""
    return start, f"malformed YAML at line {index + 1}, column {mark.column + 1}{started}: {problem}"
