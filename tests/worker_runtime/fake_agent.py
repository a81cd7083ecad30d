#!/usr/bin/env python3
"""A stand-in for every agent CLI, for the worker runtime tests (fast tier and inside built images).

Installed under each CLI's executable name. It finds the prompt the way the runtime passes it (last argument,
or `--prompt=...`) and obeys it, one directive per prompt (a prompt starting with '-' is printed back as
"PROMPT" with the argv that carried it):
  say <text>          print <text> on stdout and a line on stderr, exit 0
  exit <code>         exit with <code>
  sleep <seconds>     print "sleeping", then sleep (SIGTERM ends it with code 143)
  stubborn <seconds>  like sleep, but ignore SIGTERM (only SIGKILL stops it)
  grandchild <file>   start a child that sleeps, write its pid to <file>, then sleep
  env <NAME>          print NAME=<value or <unset>>
  argv                print the argv as JSON
  flood <bytes>       write <bytes> bytes of output, ending in "END"
A hostile agent, for the clean-slate tests (each prints one line, a prefix and JSON):
  plant <marker> <dir>...   write a file named <marker> in HOME, the workdir, TMPDIR and each <dir>; start
                            a process that leaves the session (double fork, setsid, SIGTERM and SIGHUP
                            ignored); print "PLANTED" with the files, that process's pid, the environment's
                            names and the values of its *_KEY / *_TOKEN variables (which must come out redacted),
                            and, for each process above it, the names its initial environment holds where
                            /proc/<pid>/environ lets it read them (the worker's and tini's hold every secret)
  probe <marker> <path>...  print "PROBE" with which <path>s exist, the processes another job's `plant` with
                            <marker> left, and the environment's names
Standard library only: it runs on the image's python3.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ORPHAN_TAG = "viberator-orphan-"


def prompt_of(argv: list[str]) -> str:
    for arg in argv:
        if arg.startswith("--prompt="):
            return arg.removeprefix("--prompt=")
    return argv[-1]


def sleep_announced(seconds: float) -> None:
    print("sleeping", flush=True)
    time.sleep(seconds)


def detach(marker: str) -> int:
    """A process that left the agent's session and process group (and ignores the polite signals)."""
    read, write = os.pipe()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            signal.signal(signal.SIGHUP, signal.SIG_IGN)
            os.write(write, str(os.getpid()).encode())
            os.close(write)
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(600)", ORPHAN_TAG + marker])
        os._exit(0)
    os.close(write)
    pid = int(os.read(read, 32))
    os.wait()  # the middle process: its child now belongs to the nearest subreaper (or init)
    return pid


def plant(marker: str, *dirs: str) -> None:
    written = []
    for place in (os.environ.get("HOME", "/nonexistent"), os.getcwd(), os.environ.get("TMPDIR", "/tmp"), *dirs):
        path = Path(place) / marker
        try:
            path.write_text("left by an earlier job\n")
        except OSError:
            continue
        written.append(str(path))
    secrets = {name: value for name, value in os.environ.items() if name.endswith(("_KEY", "_TOKEN"))}
    report = {
        "files": written,
        "pid": detach(marker),
        "env": sorted(os.environ),
        "secrets": secrets,
        "ancestors": ancestors_environ(),
        "uid": os.geteuid(),
    }
    print("PLANTED " + json.dumps(report), flush=True)


def ancestors_environ() -> dict[str, object]:
    """`<pid> <program>` of each process above this one, up to the namespace's init, and of that init (PID 1: a
    `docker exec`'d worker is not its child): the variable names its initial environment holds, or "unreadable"
    where the kernel refuses (a process that is not dumpable)."""
    seen: dict[str, object] = {}
    pid, visited = os.getppid(), set()
    while pid not in visited:
        visited.add(pid)
        parent = _environ_of(pid, seen)
        pid = parent if parent > 0 else 1
    return seen


def _environ_of(pid: int, seen: dict[str, object]) -> int:
    """Records `pid`'s environment (its names, or "unreadable") in `seen`; its parent's pid (0: none or gone)."""
    proc = Path(f"/proc/{pid}")
    try:
        program = (proc / "cmdline").read_bytes().split(b"\0")[0].decode(errors="replace")
        parent = int((proc / "stat").read_text().rpartition(")")[2].split()[1])
    except OSError:
        return 0
    try:
        entries = (proc / "environ").read_bytes().split(b"\0")
        seen[f"{pid} {program}"] = sorted({e.split(b"=", 1)[0].decode(errors="replace") for e in entries if e})
    except OSError:
        seen[f"{pid} {program}"] = "unreadable"
    return parent


def probe(marker: str, *paths: str) -> None:
    survivors = []
    for entry in Path("/proc").iterdir():
        try:
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if (ORPHAN_TAG + marker).encode() in cmdline:
            survivors.append(int(entry.name))
    found = [path for path in paths if os.path.lexists(path)]
    print("PROBE " + json.dumps({"files": found, "processes": survivors, "env": sorted(os.environ)}), flush=True)


def main() -> int:
    prompt = prompt_of(sys.argv[1:])
    if prompt.startswith("-"):
        # What a flag-like prompt became: the whole prompt, and the argv that carried it.
        print("PROMPT " + json.dumps({"prompt": prompt, "argv": sys.argv[1:]}), flush=True)
        return 0
    directive, _, arg = prompt.partition(" ")
    if directive == "say":
        print(arg, flush=True)
        print("fake agent on stderr", file=sys.stderr, flush=True)
        return 0
    if directive == "exit":
        return int(arg)
    if directive == "sleep":
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        sleep_announced(float(arg))
        return 0
    if directive == "stubborn":
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        sleep_announced(float(arg))
        return 0
    if directive == "grandchild":
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open(arg, "w") as pid_file:
            pid_file.write(str(child.pid))
        sleep_announced(600)
        return 0
    if directive == "env":
        print(f"{arg}={os.environ.get(arg, '<unset>')}", flush=True)
        return 0
    if directive == "argv":
        print(json.dumps(sys.argv), flush=True)
        return 0
    if directive == "plant":
        plant(*arg.split())
        return 0
    if directive == "probe":
        probe(*arg.split())
        return 0
    if directive == "flood":
        sys.stdout.write("x" * (int(arg) - 3) + "END")
        return 0
    print(f"fake agent: unknown directive {directive!r}", file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main())
