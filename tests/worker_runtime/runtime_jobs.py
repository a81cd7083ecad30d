"""Job documents for the worker runtime tests, and the clean-slate scenario every tier runs: the fast tier on
the host under AWS's RIE binary, the images tier under the RIE in a container and in job mode (one warm
environment, two jobs, a hostile fake agent)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from viberator_worker import JOB_CONTRACT_VERSION

Run = Callable[[dict[str, Any]], dict[str, Any]]
"""Runs one job on the warm environment under test and returns its result document."""

AGENT_KEY = "sk-ant-agents-own-key-0123456789"
"""The claude agent's API key in the tested environments (a secret the agent may see, and prints)."""
OTHER_AGENT_KEY = "sk-openai-someone-elses-key-9876543210"
AWS_CREDENTIALS = {
    "AWS_ACCESS_KEY_ID": "ASIAEXAMPLEFUNCTION1",
    "AWS_SECRET_ACCESS_KEY": "function-role-secret-access-key-EXAMPLE",
    "AWS_SESSION_TOKEN": "function-role-session-token-EXAMPLE",
}
SECRETS_ENV = {"ANTHROPIC_API_KEY": AGENT_KEY, "OPENAI_API_KEY": OTHER_AGENT_KEY, **AWS_CREDENTIALS}
"""What the worker's environment holds besides its settings: the clanker's secrets and the role's credentials."""
NEVER_SEEN = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API",
    "OPENAI_API_KEY",
)
FLAG_PROMPT = "--openai-base-url=https://attacker.invalid"
EMULATOR = "aws-lambda-rie"


def job_document(prompt: str, **fields: object) -> dict[str, object]:
    """A valid contract-1 job for the fake agent; `fields` override or add job fields."""
    return {"contract": JOB_CONTRACT_VERSION, "id": "job-1", "agent": "claude", "prompt": prompt, **fields}


def report(result: dict[str, Any], prefix: str) -> dict[str, Any]:
    """The fake agent's JSON report line (PLANTED, PROBE, PROMPT) in a result's output_tail."""
    for line in result["output_tail"].splitlines():
        if line.startswith(prefix + " "):
            return dict(json.loads(line.removeprefix(prefix + " ")))
    raise AssertionError(f"no {prefix} line in the result: {result}")


def two_jobs_on_one_environment(run: Run, shared_dirs: Sequence[str], *, unprivileged: bool) -> None:
    """Job 1 plants files (home, workdir, TMPDIR, every shared dir), a detached process, and prints the secrets
    it sees; job 2, on the same warm environment, finds none of it. Neither sees what it must not.

    `unprivileged`: the agent runs as the image's user, as in every clanker, so what the kernel refuses it
    through /proc is checked too; on the host the tests run as root, whom the kernel refuses nothing."""
    marker = f"planted-{uuid.uuid4().hex[:12]}"
    first = run(job_document(f"plant {marker} {' '.join(shared_dirs)}", id="job-plants"))
    assert first["status"] == "succeeded", first
    planted = report(first, "PLANTED")
    assert len(planted["files"]) == 3 + len(shared_dirs), planted  # every place was writable to the job
    assert planted["secrets"] == {"ANTHROPIC_API_KEY": "[REDACTED]"}, planted
    assert AGENT_KEY not in json.dumps(first)
    assert not set(NEVER_SEEN) & set(planted["env"]), planted["env"]
    assert not any(name.startswith("VIBERATOR_") for name in planted["env"]), planted["env"]
    if unprivileged:
        # Nor through /proc/<pid>/environ of a process above it (the worker's, tini's: they hold every secret).
        # The emulator stands in for Lambda's own init, whose environment is AWS's, not the image's.
        assert planted["uid"] != 0, planted
        readable = {
            process: sorted(set(names) & {*NEVER_SEEN, "ANTHROPIC_API_KEY"})
            for process, names in planted["ancestors"].items()
            if names != "unreadable" and EMULATOR not in process
        }
        assert not any(readable.values()), readable

    second = run(job_document(f"probe {marker} {' '.join(planted['files'])}", id="job-probes"))
    assert second["status"] == "succeeded", second
    probed = report(second, "PROBE")
    assert probed["files"] == [], probed
    assert probed["processes"] == [], probed
    assert not set(NEVER_SEEN) & set(probed["env"]), probed["env"]


def jobs_are_data(run: Run, agents: Sequence[str]) -> None:
    """A job that would configure the agent is invalid, naming the field; a flag-like prompt reaches each CLI
    as its prompt."""
    for name in ("ANTHROPIC_BASE_URL", "LD_PRELOAD"):
        refused = run(job_document("say hi", env={name: "x"}))
        assert refused["status"] == "invalid" and f"env: '{name}'" in refused["error"], refused
    refused = run(job_document("say hi", extra_args=["--settings=/tmp/evil.json"]))
    assert refused["status"] == "invalid" and refused["error"].startswith("extra_args/0: "), refused
    for agent in agents:
        echoed = run(job_document(FLAG_PROMPT, agent=agent))
        assert echoed["status"] == "succeeded", echoed
        carried = report(echoed, "PROMPT")
        assert carried["prompt"] == FLAG_PROMPT, carried
        assert carried["argv"][-2:] == ["--", FLAG_PROMPT] or carried["argv"][-1] == f"--prompt={FLAG_PROMPT}"
