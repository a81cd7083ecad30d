"""The build context's digest: the files a build sends, as the provider hashes them (path, mode, bytes).

docker-build's Diff sees an update whenever its context hash changes, and its Update pushes every tag again:
the immutable tag carries this digest, so it must change whenever the provider's hash can, and only then.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.revision import context_digest


def digest_of(context: Path) -> str:
    context_digest.cache_clear()
    return context_digest(context)


@pytest.fixture
def context(tmp_path: Path) -> Path:
    (tmp_path / ".dockerignore").write_text("*\n!Dockerfile\n!runtime/**\n**/__pycache__\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\nCOPY runtime /runtime\n")
    (tmp_path / "runtime").mkdir()
    (tmp_path / "runtime" / "main.py").write_text("print('hi')\n")
    (tmp_path / "README.md").write_text("not sent\n")
    return tmp_path


def test_a_file_the_build_sends_changes_the_digest_even_where_git_ignores_it(context: Path) -> None:
    before = digest_of(context)
    # A cache directory inside the context: gitignored in a real checkout, but `!runtime/**` sends it.
    (context / "runtime" / ".pytest_cache").mkdir()
    (context / "runtime" / ".pytest_cache" / "v").write_text("lastfailed\n")
    assert digest_of(context) != before


def test_a_file_the_dockerignore_keeps_out_changes_nothing(context: Path) -> None:
    before = digest_of(context)
    (context / "README.md").write_text("edited, still not sent\n")
    (context / "runtime" / "__pycache__").mkdir()
    (context / "runtime" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\x00compiled")
    assert digest_of(context) == before


def test_a_mode_change_alone_changes_the_digest(context: Path) -> None:
    before = digest_of(context)
    (context / "runtime" / "main.py").chmod(0o755)
    assert digest_of(context) != before
