"""The revision of a build context: the `<sha>` in `<env>-<sha>-<hash>` and the build's SOURCE_DATE_EPOCH.

The revision is the last commit that changed the build context, not HEAD, so an unrelated commit (a README
edit, a new test) changes no image input: previews stay quiet and nothing rebuilds. A context with
uncommitted changes gets a revision that can never equal a clean commit's (the immutable tag of a clean build
must never name other bytes), and outside a git checkout the revision is a content hash.
"""

from __future__ import annotations

import functools
import hashlib
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from docker.utils.build import exclude_paths

SHORT_SHA = 12
"""Characters of the commit hash used in tags: unambiguous in practice and readable in consoles."""


@dataclass(frozen=True)
class BuildRevision:
    revision: str
    """The tag-safe revision string."""
    source_date_epoch: int
    """SOURCE_DATE_EPOCH for the build (the commit time; 0 without git); recorded, not applied to layer times here."""
    note: str | None = None
    """Why the revision is not a clean commit, for the user to see."""


def _git(context: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(context), *args], check=True, capture_output=True, text=True).stdout.strip()


def _content_hash(context: Path, files: list[Path]) -> str:
    """Names, permission bits and bytes of `files`: what docker-build's context hash covers (it writes each
    file's relative path, `fileMode.String()` and contents; provider/internal/context.go `hashBuildContext`)."""
    digest = hashlib.sha256()
    for path in sorted(files):
        digest.update(str(path.relative_to(context)).encode() + b"\0")
        if path.is_file():
            digest.update(oct(stat.S_IMODE(path.stat().st_mode)).encode() + b"\0" + path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def _context_files(context: Path) -> list[Path]:
    """What a build sends: the files `.dockerignore` lets through, as BuildKit applies it (Moby's pattern
    matcher, through the Docker SDK's port). Not git's view: a gitignored file inside the context (a cache
    directory, a local override) is still sent, and hashed by the provider."""
    ignore = context / ".dockerignore"
    patterns = ignore.read_text().splitlines() if ignore.is_file() else []
    sent = (context / name for name in exclude_paths(str(context), patterns))
    return [path for path in sent if path.is_file()]


@functools.cache
def context_digest(context: Path) -> str:
    """A hash of the build context's files with their modes: changes whenever docker-build's context hash can,
    also where the revision cannot see it (a mode-only change, an `imageRevision` override)."""
    return _content_hash(context, _context_files(context))


@functools.cache
def build_revision(context: Path) -> BuildRevision:
    """The revision of `context` (cached: a plan asks once per harness, git answers once)."""
    try:
        sha = _git(context, "log", "-1", "--format=%H %ct", "--", ".")
    except (OSError, subprocess.CalledProcessError):
        sha = ""
    if not sha:
        content = context_digest(context)
        return BuildRevision(
            revision=f"content-{content[:SHORT_SHA]}",
            source_date_epoch=0,
            note=f"{context} has no git history: the revision is a hash of its content",
        )
    commit, epoch = sha.split()
    changed = _git(context, "status", "--porcelain", "--untracked-files=all", "--", ".")
    if not changed:
        return BuildRevision(revision=commit[:SHORT_SHA], source_date_epoch=int(epoch))
    content = context_digest(context)
    return BuildRevision(
        revision=f"{commit[:SHORT_SHA]}-dirty-{content[:8]}",
        source_date_epoch=int(epoch),
        note=f"{context} has uncommitted changes: tagged as a dirty revision of {commit[:SHORT_SHA]}",
    )


def override_revision(revision: str) -> BuildRevision:
    """A revision given in config (`viberator:imageRevision`), e.g. by a release pipeline."""
    return BuildRevision(revision=revision, source_date_epoch=0)
