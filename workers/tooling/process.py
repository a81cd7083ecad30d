"""Running one docker CLI command bounded in time: its output streamed line by line as it arrives, its last lines
kept for the error, and the client (and with it the daemon's pull or build) stopped when time runs out or the
user interrupts. workers/tooling/engine.py says which commands.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

_TAIL_LINES = 40


class EngineError(RuntimeError):
    """A docker command failed; `detail` holds the last lines it printed."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.args[0]}: {self.detail}" if self.detail else str(self.args[0])


@dataclass
class StreamResult:
    returncode: int
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=_TAIL_LINES))

    @property
    def text(self) -> str:
        return "\n".join(self.tail)


class StreamTimeout(EngineError):
    pass


def _stop(process: subprocess.Popen[str]) -> None:
    # The docker client is the group leader we created; ending it closes its API request, which makes
    # the daemon cancel the pull or build it was serving.
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=5)
    except ProcessLookupError:  # the group is gone already: only the leader's exit is left to collect
        process.wait()
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):  # it may end between the wait and the kill
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def stream(
    argv: Sequence[str],
    *,
    on_line: Callable[[str], None] = lambda _line: None,
    timeout: float,
    silence_timeout: float | None = None,
    env: dict[str, str] | None = None,
) -> StreamResult:
    """Run `argv`, handing each output line (stdout and stderr merged) to `on_line` as it arrives.

    `silence_timeout` bounds the wait for the first line only: the registry's first answer, after which a
    long download may take its time within `timeout`.
    """
    process = subprocess.Popen(
        list(argv),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        env=env,
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    result = StreamResult(returncode=-1)
    started = time.monotonic()
    seen_output = False
    try:
        while True:
            limit = silence_timeout if (silence_timeout is not None and not seen_output) else timeout
            remaining = started + limit - time.monotonic()
            try:
                line = lines.get(timeout=max(remaining, 0))
            except queue.Empty:
                what = "no answer" if not seen_output else "not finished"
                raise StreamTimeout(f"{argv[0]} {argv[1]}: {what} after {limit:g} s", result.text) from None
            if line is None:
                break
            seen_output = True
            result.tail.append(line)
            on_line(line)
    except BaseException:
        # Its own session keeps the client out of the terminal's Ctrl-C, so ending it is up to us.
        _stop(process)
        raise
    result.returncode = process.wait()
    return result
