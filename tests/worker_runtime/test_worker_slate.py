"""The pieces of a clean slate, one by one: the agent's environment allow-list, the redaction of secrets split
across reads, the slate's removal of what a job locked, the sweep, and the kill of a detached process."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from runtime_jobs import AGENT_KEY, AWS_CREDENTIALS, OTHER_AGENT_KEY, SECRETS_ENV, job_document
from viberator_worker import processes
from viberator_worker.agents import agent
from viberator_worker.contract import parse_job
from viberator_worker.environment import IMAGE_SETTINGS, agent_environment, secret_values
from viberator_worker.redact import MARK, Redactor
from viberator_worker.slate import fresh_slate

from workers.catalog import DOCKERFILE, HARNESSES

WORKER_ENV = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "LC_CTYPE": "C.UTF-8",
    "DISABLE_AUTOUPDATER": "1",
    "AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001",
    "AWS_REGION": "us-east-1",
    "VIBERATOR_SECRET_ARNS": "{}",
    "LD_PRELOAD": "/evil.so",
    "HOME": "/home/worker",
    **SECRETS_ENV,
}


def environment_of(worker_env: dict[str, str], tmp_path: Path, **job: object) -> dict[str, str]:
    with fresh_slate({"VIBERATOR_SCRATCH_DIR": str(tmp_path)}) as slate:
        return agent_environment(worker_env, agent("claude"), parse_job(job_document("p", **job)), slate)


def test_the_agent_gets_an_allow_list_not_the_worker_s_environment(tmp_path: Path) -> None:
    env = environment_of(WORKER_ENV, tmp_path, env={"JOB_TICKET": "T-1"})
    home, tmp, pwd = env.pop("HOME"), env.pop("TMPDIR"), env.pop("PWD")
    assert Path(home).parent == Path(tmp).parent == Path(pwd).parent  # one slate
    assert env == {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "LC_CTYPE": "C.UTF-8",
        "DISABLE_AUTOUPDATER": "1",
        "ANTHROPIC_API_KEY": AGENT_KEY,
        "JOB_TICKET": "T-1",
    }


def test_the_clanker_grants_what_else_the_agent_sees_but_never_the_worker_s_settings(tmp_path: Path) -> None:
    grant = ",".join([*AWS_CREDENTIALS, "AWS_REGION", "VIBERATOR_SECRET_ARNS", "AWS_LAMBDA_RUNTIME_API"])
    env = environment_of({**WORKER_ENV, "VIBERATOR_AGENT_ENV": grant}, tmp_path)
    assert {name: env[name] for name in AWS_CREDENTIALS} == AWS_CREDENTIALS
    assert env["AWS_REGION"] == "us-east-1"
    assert not {"VIBERATOR_SECRET_ARNS", "AWS_LAMBDA_RUNTIME_API", "VIBERATOR_AGENT_ENV", "OPENAI_API_KEY"} & set(env)


def test_the_image_s_settings_for_the_clis_are_the_dockerfile_s() -> None:
    """IMAGE_SETTINGS passes the Dockerfile's ENV for the CLIs (self-updaters off) and nothing else."""
    block = re.search(r"^ENV LANG=C\.UTF-8 \\\n((?:    .*\n)+)", DOCKERFILE.read_text(), re.MULTILINE)
    assert block is not None
    names = {line.strip().split("=")[0] for line in block.group(1).splitlines()}
    assert names == IMAGE_SETTINGS


def test_secrets_are_every_agent_s_keys_the_aws_credentials_and_resolved_ones() -> None:
    values = secret_values({**WORKER_ENV, "GITHUB_TOKEN": "ghp-resolved-value"}, ["GITHUB_TOKEN"])
    assert set(values) == {AGENT_KEY, OTHER_AGENT_KEY, *AWS_CREDENTIALS.values(), "ghp-resolved-value"}
    granted = secret_values(
        {"VIBERATOR_AGENT_ENV": "DEPLOY_TOKEN,LOG_LEVEL", "DEPLOY_TOKEN": "t" * 12, "LOG_LEVEL": "debug-verbose"}
    )
    assert granted == ["t" * 12]


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_a_secret_split_across_reads_is_still_redacted(size: int) -> None:
    stream = f"key={AGENT_KEY}; again {AGENT_KEY}{AGENT_KEY} end {OTHER_AGENT_KEY[:10]}".encode()
    redactor = Redactor([AGENT_KEY, "short"])
    out = b"".join(redactor.feed(stream[i : i + size]) for i in range(0, len(stream), size)) + redactor.flush()
    assert out == f"key={MARK.decode()}; again {MARK.decode() * 2} end {OTHER_AGENT_KEY[:10]}".encode()


def test_the_slate_goes_even_where_the_job_locked_it_and_the_sweep_takes_what_it_left(tmp_path: Path) -> None:
    shared, scratch = tmp_path / "shared", tmp_path / "scratch"
    shared.mkdir()
    scratch.mkdir()
    (shared / "before").write_text("kept: it was there before the job")
    with fresh_slate({"VIBERATOR_SCRATCH_DIR": str(scratch), "VIBERATOR_SWEEP_DIRS": str(shared)}) as slate:
        locked = slate.workdir / "locked"
        (locked / "deep").mkdir(parents=True)
        (locked / "deep" / "file").write_text("x")
        (locked / "deep").chmod(0)
        locked.chmod(0)
        (shared / "left").mkdir()
        (shared / "left" / "file").write_text("x")
        (shared / "link").symlink_to("/etc")
    assert not any(scratch.iterdir())
    assert sorted(path.name for path in shared.iterdir()) == ["before"]


def test_a_process_that_left_the_session_is_found_and_killed(tmp_path: Path) -> None:
    """The worker's kill of a job's processes, in a child that is a subreaper as the worker makes itself."""
    script = f"""
import os, subprocess, sys, time
sys.path[:0] = {[str(Path(processes.__file__).parents[1])]!r}
from viberator_worker import processes
assert processes.become_subreaper()
kept = processes.descendants()
sleeper = [sys.executable, "-c", "import time; time.sleep(600)"]
detach = f"import subprocess; subprocess.Popen({{sleeper!r}}, start_new_session=True)"
subprocess.run([sys.executable, "-c", detach])  # the middle process exits: its child is an orphan
orphans = processes.descendants() - kept
assert orphans, "the detached grandchild was re-parented to the subreaper"
assert processes.end_job_processes(kept)
print(sorted(orphans))
assert not any(os.path.exists(f"/proc/{{pid}}") for pid in orphans)
"""
    completed = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert completed.returncode == 0, completed.stderr


def test_a_harness_s_key_variables_are_its_agents_ones() -> None:
    assert HARNESSES["codex"].key_variables == agent("codex").key_variables
    multi = HARNESSES["multi-agent"].key_variables
    assert len(multi) == len(set(multi))
    assert {name for cli in HARNESSES["multi-agent"].agents for name in agent(cli).key_variables} == set(multi)


def test_codex_s_access_token_reaches_codex_only_and_is_redacted(tmp_path: Path) -> None:
    """The pinned codex reads CODEX_ACCESS_TOKEN (openai/codex codex-rs/login/src/auth/manager.rs,
    CODEX_ACCESS_TOKEN_ENV_VAR; its 0.169.0 binary lists it with OPENAI_API_KEY and CODEX_API_KEY as the auth
    variables): a clanker holding only that token runs codex, and no other agent sees it."""
    token = "at-codex-workspace-token-0123456789"
    worker_env = {**WORKER_ENV, "CODEX_ACCESS_TOKEN": token}
    job = parse_job(job_document("p"))
    with fresh_slate({"VIBERATOR_SCRATCH_DIR": str(tmp_path)}) as slate:
        seen = {cli: agent_environment(worker_env, agent(cli), job, slate) for cli in ("codex", "claude", "opencode")}
    assert seen["codex"]["CODEX_ACCESS_TOKEN"] == token
    assert "CODEX_ACCESS_TOKEN" not in seen["claude"] and "CODEX_ACCESS_TOKEN" not in seen["opencode"]
    assert token in secret_values(worker_env)
