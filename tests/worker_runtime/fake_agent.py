#!/usr/bin/env python3
"""A stand-in for every agent CLI, for the worker runtime tests (fast tier and inside built images).

Installed under each CLI's executable name. It finds the prompt the way the runtime passes it (last argument,
or `--prompt=...`) and obeys it, one directive per prompt:
  say <text>          print <text> on stdout and a line on stderr, exit 0
  exit <code>         exit with <code>
  sleep <seconds>     print "sleeping", then sleep (SIGTERM ends it with code 143)
  stubborn <seconds>  like sleep, but ignore SIGTERM (only SIGKILL stops it)
  grandchild <file>   start a child that sleeps, write its pid to <file>, then sleep
  env <NAME>          print NAME=<value or <unset>>
  argv                print the argv as JSON
  flood <bytes>       write <bytes> bytes of output, ending in "END"
Standard library only: it runs on the image's python3.
"""

import json
import os
import signal
import subprocess
import sys
import time


def prompt_of(argv: list[str]) -> str:
    for arg in argv:
        if arg.startswith("--prompt="):
            return arg.removeprefix("--prompt=")
    return argv[-1]


def sleep_announced(seconds: float) -> None:
    print("sleeping", flush=True)
    time.sleep(seconds)


def main() -> int:
    directive, _, arg = prompt_of(sys.argv[1:]).partition(" ")
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
    if directive == "flood":
        sys.stdout.write("x" * (int(arg) - 3) + "END")
        return 0
    print(f"fake agent: unknown directive {directive!r}", file=sys.stderr)
    return 64


if __name__ == "__main__":
    sys.exit(main())
