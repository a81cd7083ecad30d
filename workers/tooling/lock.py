"""A named, machine-wide exclusive lock with a deadline, so two `ensure` runs for one image take turns.

filelock's `FileLock` on a file in the system temp directory: an advisory `flock` that the kernel releases
when the holder exits however it exits, so a killed run never leaves a stale lock behind.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout


class LockTimeout(TimeoutError):
    pass


def lock_path(name: str, directory: Path | None = None) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", name)
    return (directory or Path(tempfile.gettempdir())) / f"viberator-{safe}.lock"


@contextmanager
def exclusive(name: str, *, timeout: float, directory: Path | None = None) -> Iterator[None]:
    """Hold the lock `name` for the block; LockTimeout after `timeout` seconds of waiting."""
    path = lock_path(name, directory)
    # Readable and writable by all: another user's run must be able to take the lock this one created.
    lock = FileLock(path, mode=0o666)
    try:
        lock.acquire(timeout=timeout)
    except Timeout:
        raise LockTimeout(f"another run held {path} for more than {timeout:g} s; try again later") from None
    try:
        yield
    finally:
        lock.release()
