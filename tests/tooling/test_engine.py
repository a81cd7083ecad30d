"""The docker CLI wrapper against a fake docker binary: output parsing, error kinds, time bounds, the lock."""

from __future__ import annotations

import os
import sys
import textwrap
from pathlib import Path

import pytest

from workers.tooling.engine import (
    DOCKER_ENV_VAR,
    Engine,
    PullError,
    PullFailure,
    classify_pull_error,
    docker_binary,
    push_digest,
)
from workers.tooling.lock import LockTimeout, exclusive
from workers.tooling.process import EngineError, StreamTimeout, stream

DIGEST = "sha256:" + "ab" * 32


@pytest.mark.parametrize(
    ("output", "kind"),
    [
        ("manifest for r:t not found: manifest unknown: manifest unknown", PullFailure.NOT_FOUND),
        (
            'Get "http://127.0.0.1:5001/v2/": dial tcp 127.0.0.1:5001: connect: connection refused',
            PullFailure.UNREACHABLE,
        ),
        ("Get https://x/v2/: dial tcp: lookup x: no such host", PullFailure.UNREACHABLE),
        ("pull access denied for r, repository does not exist", PullFailure.UNAUTHORIZED),
        ("no basic auth credentials", PullFailure.UNAUTHORIZED),
        ("something else entirely", PullFailure.OTHER),
    ],
)
def test_pull_errors_are_classified(output: str, kind: PullFailure) -> None:
    assert classify_pull_error(output) is kind


def test_push_digest_is_read_from_the_last_line() -> None:
    output = f"abc: Pushed\ndev-1: digest: {DIGEST} size: 1234\n"
    assert push_digest(output) == DIGEST
    with pytest.raises(EngineError, match="no digest"):
        push_digest("abc: Pushed\n")


def test_docker_binary_is_configurable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(DOCKER_ENV_VAR, "/opt/docker/bin/docker")
    assert docker_binary() == "/opt/docker/bin/docker"
    assert Engine().binary == "/opt/docker/bin/docker"


def test_stream_gives_up_on_a_silent_command_at_its_silence_bound_and_ends_it(tmp_path: Path) -> None:
    finished = tmp_path / "finished"  # the command's last act, and a name only its command line holds
    silent = [sys.executable, "-c", "import sys, time; time.sleep(30); open(sys.argv[1], 'w')", str(finished)]
    # The silence bound (0.5 s), not the whole run's (60 s), is the one named.
    with pytest.raises(StreamTimeout, match=r"no answer after 0\.5 s"):
        stream(silent, timeout=60, silence_timeout=0.5)
    assert not finished.exists()  # it gave up while the command still ran, not once it had ended
    assert not _running(str(finished))  # and ended it


def _running(argument: str) -> list[int]:
    """The processes whose command line holds `argument`."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if argument.encode() in (entry / "cmdline").read_bytes().split(b"\0"):
                found.append(int(entry.name))
        except (OSError, ValueError):  # gone meanwhile, or not a process
            continue
    return found


def test_stream_lets_a_talking_command_run_past_the_silence_bound() -> None:
    lines: list[str] = []
    result = stream(
        ["sh", "-c", "echo one; sleep 0.6; echo two >&2"],
        timeout=10,
        silence_timeout=0.3,
        on_line=lines.append,
    )
    assert result.returncode == 0 and lines == ["one", "two"]


def test_stream_bounds_the_whole_run() -> None:
    with pytest.raises(StreamTimeout, match=r"not finished after 0\.5 s"):
        stream(["sh", "-c", "echo started; sleep 30"], timeout=0.5)


@pytest.fixture
def fake_docker(tmp_path: Path) -> Engine:
    """A docker stand-in: `pull` fails as the daemon does for a missing tag; `inspect` knows one image."""
    script = tmp_path / "docker"
    script.write_text(
        textwrap.dedent(
            """\
            #!/bin/sh
            case "$1 $2" in
            "pull present:1") echo "1: Pulling from present"; echo "Status: Downloaded"; exit 0 ;;
            "pull "*) echo "Error response from daemon: manifest for $2 not found: manifest unknown" >&2
                exit 1 ;;
            "image inspect")
                if [ "$3" = present:1 ]; then
                    echo '[{"Id": "sha256:1", "Size": 42, "Os": "linux", "Architecture": "arm64",
                            "RepoDigests": [], "Config": {"Labels": {"a": "b"}}}]'
                else
                    echo "Error: No such image: $3" >&2; exit 1
                fi ;;
            "version --format") echo "Cannot connect to the Docker daemon" >&2; exit 1 ;;
            esac
            """
        )
    )
    script.chmod(0o755)
    return Engine(str(script))


def test_inspect_reads_labels_size_and_platform(fake_docker: Engine) -> None:
    info = fake_docker.inspect("present:1")
    assert info is not None
    assert (info.labels, info.size, info.platform) == ({"a": "b"}, 42, "linux/arm64")
    assert fake_docker.inspect("absent:1") is None


def test_pull_failure_carries_its_kind_and_the_daemons_words(fake_docker: Engine) -> None:
    fake_docker.pull("present:1", silence_timeout=5, timeout=5)
    with pytest.raises(PullError) as failed:
        fake_docker.pull("absent:1", silence_timeout=5, timeout=5)
    assert failed.value.kind is PullFailure.NOT_FOUND
    assert "manifest unknown" in failed.value.detail


def test_no_engine_is_a_clear_error(fake_docker: Engine) -> None:
    with pytest.raises(EngineError, match="no Docker engine answers"):
        fake_docker.server()


def test_a_missing_binary_names_the_setting() -> None:
    with pytest.raises(EngineError, match=DOCKER_ENV_VAR):
        Engine("/nonexistent/docker").inspect("x")


def test_the_lock_is_exclusive_and_bounded(tmp_path: Path) -> None:
    with exclusive("kimi:local", timeout=1, directory=tmp_path):
        # The waiter gives up on its own deadline (0.3 s, named) while the holder still holds the lock.
        with (
            pytest.raises(LockTimeout, match=r"more than 0\.3 s"),
            exclusive("kimi:local", timeout=0.3, directory=tmp_path),
        ):
            pass
        with exclusive("claude:local", timeout=0.3, directory=tmp_path):
            pass
    with exclusive("kimi:local", timeout=0.3, directory=tmp_path):
        pass


def test_stream_ends_the_command_when_the_caller_is_interrupted() -> None:
    pids: list[int] = []

    def interrupt(line: str) -> None:
        pids.append(int(line))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        stream(["sh", "-c", "echo $$; exec sleep 30"], timeout=60, on_line=interrupt)
    with pytest.raises(ProcessLookupError):
        os.kill(pids[0], 0)
