"""Every process a job started ends with the job, including those that detached or changed session.

The worker makes itself a child subreaper (prctl(2) PR_SET_CHILD_SUBREAPER): a process whose parent exits is
re-parented to the nearest subreaper ancestor instead of init, so a double fork or `setsid` can leave the
agent's process group and session but never the worker's tree. After the agent exits, the worker kills every
descendant it did not have before the job and reaps them. prctl is a plain syscall that Docker's default
seccomp profile (so ECS on Fargate and local docker) and Lambda (under AWS's RIE too, tests/images) allow;
it needs no capability. Where it fails, the worker says so on stderr: orphans would then escape to init.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import signal
import sys
import time
from pathlib import Path

# From <linux/prctl.h>.
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
END_TIMEOUT_SECONDS = 10.0
"""How long the worker keeps killing a job's processes (a fork loop respawns) before it reports failure."""


@functools.cache
def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> int:
    """prctl(2) with one argument: 0, or the errno it failed with."""
    return 0 if _libc().prctl(option, value, 0, 0, 0) == 0 else ctypes.get_errno()


def become_undumpable() -> None:
    """Make this process's /proc/<pid>/environ (and mem, maps…) root's, unreadable to its agents.

    An agent runs as the worker's user, and the kernel lets a process of the same user read another's initial
    environment (proc(5): /proc/<pid>/environ, ptrace access mode PTRACE_MODE_READ_FSCREDS), which the worker's
    clears nothing of: every secret of the clanker and, on Lambda, the role's credentials. A process that is not
    dumpable (prctl(2) PR_SET_DUMPABLE 0) has its /proc files owned by root and refused to the same user
    (ptrace(2), "Ptrace access mode checking"). An agent the worker starts is dumpable again (execve(2) resets it),
    so nothing of its own changes. Where prctl fails the job must not run: the secrets would be one read away."""
    error = _prctl(PR_SET_DUMPABLE, 0)
    if error:
        raise OSError(error, "prctl(PR_SET_DUMPABLE, 0): the worker's environment would be readable")


def become_subreaper() -> bool:
    error = _prctl(PR_SET_CHILD_SUBREAPER, 1)
    if not error:
        return True
    print(
        f"viberator-worker: prctl(PR_SET_CHILD_SUBREAPER) failed ({os.strerror(error)}): "
        "processes an agent detaches may outlive its job",
        file=sys.stderr,
    )
    return False


def _parents(*, living: bool = False) -> dict[int, int]:
    """{pid: ppid} of every process this worker can see (`living`: zombies left out, they are only an exit
    status waiting to be collected)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # exited meanwhile
            continue
        # The command name is in parentheses and may hold spaces or parentheses: fields follow the last ')'.
        state, ppid = stat.rpartition(")")[2].split()[:2]
        if not (living and state == "Z"):
            parents[int(entry.name)] = int(ppid)
    return parents


def descendants(root: int | None = None, *, living: bool = False) -> set[int]:
    """Every process below `root` (default: this one)."""
    root = os.getpid() if root is None else root
    children: dict[int, list[int]] = {}
    for pid, ppid in _parents(living=living).items():
        children.setdefault(ppid, []).append(pid)
    found: set[int] = set()
    pending = list(children.get(root, ()))
    while pending:
        pid = pending.pop()
        if pid not in found:
            found.add(pid)
            pending += children.get(pid, ())
    return found


def _reap() -> None:
    """Collects every exited child (the killed ones, and orphans re-parented here)."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def end_job_processes(kept: set[int], timeout: float = END_TIMEOUT_SECONDS) -> bool:
    """SIGKILLs every descendant not in `kept` (and whatever they spawn meanwhile) until none is left; True
    when none is. `kept`: the descendants the worker had before the job (none in the worker itself)."""
    deadline = time.monotonic() + timeout
    while True:
        left = {pid for pid in descendants(living=True) if pid not in kept and not _under(pid, kept)}
        if not left:
            if not kept:
                _reap()
            return True
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if not kept:
            _reap()
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def _under(pid: int, kept: set[int]) -> bool:
    parents = _parents()
    while pid in parents:
        pid = parents[pid]
        if pid in kept:
            return True
    return False
