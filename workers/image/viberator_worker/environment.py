"""What the agent's environment holds: an allow-list, never the worker's environment minus a few names.

The agent gets:
- PATH, the locale (LANG, LANGUAGE, LC_*), TZ and TERM from the worker;
- the image's own settings for the CLIs (self-updaters off, unbuffered Python: the Dockerfile's ENV);
- HOME, TMPDIR and its working directory in the job's fresh slate;
- the API-key variables its own CLI reads (agents.json), never another agent's;
- the names the clanker's config grants it: $VIBERATOR_AGENT_ENV, comma-separated (the Pulumi program sets it
  from the clanker's `environment` keys and `agentEnvironment`; whoever runs a docker clanker sets it
  themselves), e.g. AWS_ACCESS_KEY_ID,AWS_SECRET_ACCESS_KEY,AWS_SESSION_TOKEN,AWS_REGION for Claude Code on
  Bedrock with the function's role;
- the job's `env` (names the job schema allows: JOB_*, git's identity, TZ).
So by default it never sees the function's AWS credentials, AWS_LAMBDA_RUNTIME_API, or the worker's own
VIBERATOR_* settings; no grant can pass those last two.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from viberator_worker.agents import Agent, agent_settings
from viberator_worker.contract import Job
from viberator_worker.slate import Slate

GRANT_VAR = "VIBERATOR_AGENT_ENV"
BASE_NAMES = frozenset({"PATH", "LANG", "LANGUAGE", "TZ", "TERM"})
IMAGE_SETTINGS = frozenset(
    {
        "PYTHONUNBUFFERED",
        "DISABLE_AUTOUPDATER",
        "OPENCODE_DISABLE_AUTOUPDATE",
        "KIMI_CODE_NO_AUTO_UPDATE",
        "KIMI_CLI_NO_AUTO_UPDATE",
        "NO_UPDATE_NOTIFIER",
        "npm_config_update_notifier",
    }
)
"""The Dockerfile's ENV for the CLIs (a test keeps the two equal)."""
NEVER_GRANTED_PREFIXES = ("VIBERATOR_", "AWS_LAMBDA_RUNTIME_API")
AWS_SECRETS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID")
SECRET_LOOKING = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|CREDENTIAL", re.IGNORECASE)
"""A granted variable named like this is redacted too: on ECS the platform injects secrets as plain
variables, so the worker cannot tell them from the rest by where they came from."""


def granted(worker_env: Mapping[str, str]) -> frozenset[str]:
    names = (name.strip() for name in worker_env.get(GRANT_VAR, "").split(","))
    return frozenset(name for name in names if name and not name.startswith(NEVER_GRANTED_PREFIXES))


def _passes(name: str, agent: Agent, grants: frozenset[str]) -> bool:
    return (
        name in BASE_NAMES
        or name.startswith("LC_")
        or name in IMAGE_SETTINGS
        or name in agent.key_variables
        or name in grants
    )


def agent_environment(worker_env: Mapping[str, str], agent: Agent, job: Job, slate: Slate) -> dict[str, str]:
    grants = granted(worker_env)
    env = {name: value for name, value in worker_env.items() if _passes(name, agent, grants)}
    env.update({"HOME": str(slate.home), "TMPDIR": str(slate.tmp), "PWD": str(slate.workdir)})
    env.update(job.env)
    return env


def secret_values(worker_env: Mapping[str, str], resolved: Iterable[str] = ()) -> list[str]:
    """The values output is redacted of: every agent's API keys, the AWS credentials, granted variables named
    like secrets, and whatever the worker resolved from Secrets Manager (`resolved`: their variable names)."""
    keys = {name for settings in agent_settings().values() for name in settings["keys"]}
    secret_grants = {name for name in granted(worker_env) if SECRET_LOOKING.search(name)}
    names = keys | set(AWS_SECRETS) | secret_grants | set(resolved)
    return [worker_env[name] for name in sorted(names) if worker_env.get(name)]
