"""Target platforms for builds: parsing `--platform`, and whether this machine can emulate a foreign one.

A build for another CPU runs the image's `RUN` steps under QEMU, which the kernel finds through binfmt_misc.
Without a handler the build fails deep inside the first `RUN` with `exec format error`; checking up front
turns that into one sentence that says what to install.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

BINFMT_DIR = Path("/proc/sys/fs/binfmt_misc")

# Docker's architecture names mapped to the names QEMU registers its binfmt handlers under.
_QEMU_NAMES = {
    "amd64": "x86_64",
    "386": "i386",
    "arm64": "aarch64",
    "arm": "arm",
    "ppc64le": "ppc64le",
    "s390x": "s390x",
    "riscv64": "riscv64",
}
_PLATFORM = re.compile(r"(?P<os>[a-z0-9]+)/(?P<arch>[a-z0-9_]+)(?:/(?P<variant>[a-z0-9]+))?")


class PlatformError(ValueError):
    pass


@dataclass(frozen=True)
class Platform:
    os: str
    architecture: str
    variant: str = ""

    @classmethod
    def parse(cls, text: str) -> Platform:
        match = _PLATFORM.fullmatch(text.strip())
        if not match:
            raise PlatformError(f"platform {text!r}: expected OS/ARCH[/VARIANT], e.g. linux/arm64")
        return cls(match["os"], match["arch"], match["variant"] or "")

    def __str__(self) -> str:
        return "/".join(filter(None, (self.os, self.architecture, self.variant)))

    @property
    def tag_suffix(self) -> str:
        """`linux-arm64`: the platform as a tag fragment for the per-platform images of a manifest list."""
        return str(self).replace("/", "-")


def parse_platforms(text: str | None) -> tuple[Platform, ...]:
    """`linux/amd64,linux/arm64` → platforms in the given order, duplicates rejected; empty → ()."""
    if not text:
        return ()
    platforms = tuple(Platform.parse(part) for part in text.split(",") if part.strip())
    if len(set(platforms)) != len(platforms):
        raise PlatformError(f"platform list {text!r} names a platform twice")
    return platforms


def missing_emulation(
    platforms: tuple[Platform, ...], engine_architecture: str, binfmt_dir: Path = BINFMT_DIR
) -> list[str]:
    """Problems that stop this kernel from running the foreign platforms' build steps (empty: none).

    Only meaningful when the engine shares this machine's kernel; the caller decides that.
    """
    problems = []
    for platform in platforms:
        if platform.architecture == engine_architecture:
            continue
        qemu = _QEMU_NAMES.get(platform.architecture)
        if qemu is None:
            problems.append(f"{platform}: no known QEMU emulator for architecture {platform.architecture!r}")
            continue
        handler = binfmt_dir / f"qemu-{qemu}"
        if not handler.is_file():
            problems.append(f"{platform}: no binfmt_misc handler {handler}")
            continue
        status = handler.read_text()
        if not status.startswith("enabled"):
            problems.append(f"{platform}: binfmt_misc handler {handler} is disabled")
        elif not re.search(r"^flags:.*F", status, re.MULTILINE):
            # Without the F (fix-binary) flag the kernel looks the interpreter up inside the build
            # container, where it does not exist.
            problems.append(f"{platform}: binfmt_misc handler {handler} lacks the F (fix binary) flag")
    return problems


EMULATION_HELP = (
    "cross-platform builds need QEMU user emulation registered with binfmt_misc on the engine's host; "
    "on Debian or Ubuntu: sudo apt-get install qemu-user-static binfmt-support "
    "(its handlers carry the F flag Docker needs); running the images needs QEMU 9.0 or later, whose "
    "prctl(PR_SET_CHILD_SUBREAPER) their tini -s calls (Debian bookworm: add -t bookworm-backports)"
)
