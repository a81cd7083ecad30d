"""A fresh slate per job: a new home, workdir and temporary directory, removed when the job ends, and
whatever else the job left in the places every job can write.

The slate is a new private directory (mode 0700, a random name) under $VIBERATOR_SCRATCH_DIR (default: the
system's temporary directory; on Lambda /tmp is the only writable place). The agent's HOME, working
directory and TMPDIR are inside it. A hostile agent may also write elsewhere: the directories named in
$VIBERATOR_SWEEP_DIRS (the image sets /tmp, /var/tmp, /dev/shm, its user's home and /workspace) lose every
entry that appeared during the job. The sweep is the image's setting, never a default: the worker's tests run
on a developer's machine, whose /tmp is not the job's to clean. The worker runs every job as the same uid
(Lambda's is fixed and setuid is not permitted there), so the slate's mode keeps nobody but the worker's
own jobs out: what keeps one job from the next is that nothing of the first is left when the second starts.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

SCRATCH_DIR_VAR = "VIBERATOR_SCRATCH_DIR"
SWEEP_DIRS_VAR = "VIBERATOR_SWEEP_DIRS"


class NoScratchSpace(OSError):
    """The job's slate could not be made (the scratch directory is missing, full or not writable)."""


@dataclass(frozen=True)
class Slate:
    root: Path
    home: Path
    workdir: Path
    tmp: Path


def _writable(path: Path) -> Path:
    """Makes `path` (a directory the job may have locked with chmod) writable and searchable again."""
    with contextlib.suppress(OSError):
        path.chmod(stat.S_IRWXU)
    return path


def remove(path: Path) -> None:
    """Removes a file or tree the job made, including directories it made unwritable; reports (never raises)
    what could not be removed."""

    def retry(function: object, failed: str, _exc: object) -> None:
        _writable(Path(failed).parent)
        target = Path(failed)
        if target.is_dir() and not target.is_symlink():
            _writable(target)
            shutil.rmtree(target, ignore_errors=True)
        else:
            target.unlink(missing_ok=True)

    try:
        if path.is_dir() and not path.is_symlink():
            _writable(path)
            shutil.rmtree(path, onerror=retry)
        else:
            path.unlink(missing_ok=True)
    except OSError as exc:
        print(f"viberator-worker: could not remove {path}: {exc.strerror}", file=sys.stderr)
    if os.path.lexists(path):
        print(f"viberator-worker: {path} survived its job", file=sys.stderr)


def _sweep_dirs(worker_env: Mapping[str, str]) -> list[Path]:
    names = [name for name in worker_env.get(SWEEP_DIRS_VAR, "").split(":") if name]
    return [Path(name) for name in names if os.path.isdir(name) and os.access(name, os.W_OK)]


def _entries(directories: list[Path]) -> dict[Path, set[str]]:
    listed = {}
    for directory in directories:
        try:
            listed[directory] = set(os.listdir(directory))
        except OSError:
            listed[directory] = set()
    return listed


@contextlib.contextmanager
def fresh_slate(worker_env: Mapping[str, str]) -> Iterator[Slate]:
    """A new slate for one job; on exit (after the job's processes ended) it is removed, and so is every entry
    the job added to the sweep directories."""
    sweep = _sweep_dirs(worker_env)
    before = _entries(sweep)
    base = worker_env.get(SCRATCH_DIR_VAR) or None
    try:
        root = Path(tempfile.mkdtemp(prefix="viberator-job-", dir=base))
    except OSError as exc:
        raise NoScratchSpace(
            f"no scratch directory for the job under {base or tempfile.gettempdir()}: {exc.strerror}"
        ) from None
    slate = Slate(root=root, home=root / "home", workdir=root / "work", tmp=root / "tmp")
    try:
        for directory in (slate.home, slate.workdir, slate.tmp):
            directory.mkdir(mode=0o700)
        yield slate
    finally:
        remove(root)
        for directory, names in _entries(sweep).items():
            for name in sorted(names - before[directory]):
                remove(directory / name)
