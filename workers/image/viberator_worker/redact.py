"""Secret values the worker read never reach the log stream or the result: the agent's output is redacted as
it streams, so what goes to stdout (CloudWatch) and what the result's output_tail keeps are the same text.

A secret may arrive split across two reads of the pipe, so the redactor holds back the last (longest secret
- 1) bytes of what it has seen until more output, or the end, shows whether they begin a secret.
"""

from __future__ import annotations

from collections.abc import Iterable

MIN_SECRET_LENGTH = 8
"""Shorter values are not redacted: replacing every `1` or `true` in the output would hide the output, not a
secret. API keys and AWS credentials are far longer."""
MARK = b"[REDACTED]"


class Redactor:
    def __init__(self, secrets: Iterable[str]) -> None:
        values = {value.encode() for value in secrets if len(value) >= MIN_SECRET_LENGTH}
        # Longest first, so a secret that contains another is replaced whole.
        self._secrets = sorted(values, key=len, reverse=True)
        self._hold = max((len(value) for value in self._secrets), default=1) - 1
        self._pending = b""

    def feed(self, chunk: bytes) -> bytes:
        """The redacted output that is safe to emit now."""
        text = self._replace(self._pending + chunk)
        if self._hold == 0:
            self._pending = b""
            return text
        self._pending = text[-self._hold :] if len(text) > self._hold else text
        return text[: len(text) - len(self._pending)]

    def flush(self) -> bytes:
        """Whatever was held back, at the end of the stream."""
        text, self._pending = self._pending, b""
        return text

    def _replace(self, text: bytes) -> bytes:
        for value in self._secrets:
            text = text.replace(value, MARK)
        return text
