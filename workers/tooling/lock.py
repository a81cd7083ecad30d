"""A named, machine-wide exclusive lock with a deadline, so two `ensure` runs for one image take turns.

The lock is an advisory `flock` on a file in the system temp directory: the kernel releases it when the
holder exits however it exits, so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
import re
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

_POLL_SECONDS = 0.1


class LockTimeout(TimeoutError):
    pass


def lock_path(name: str, directory: Path | None = None) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    return (directory or Path(tempfile.gettempdir())) / f"viberator-{safe}.lock"


@contextmanager
def exclusive(name: str, *, timeout: float, directory: Path | None = None) -> Iterator[None]:
    """Hold the lock `name` for the block; LockTimeout after `timeout` seconds of waiting."""
    path = lock_path(name, directory)
    # Read-only is enough for flock, and lets users other than the file's creator take the lock too.
    fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise LockTimeout(f"another run held {path} for more than {timeout:g} s; try again later") from None
                time.sleep(_POLL_SECONDS)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
