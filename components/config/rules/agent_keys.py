"""A cloud clanker's agent gets its API key: its secrets (or what it grants the agent) hold one of the variables
its agent CLI reads (workers/catalog.py, from the runtime's agents.json). Switching a clanker from gemini to codex
while its secrets hold only GEMINI_API_KEY would deploy a clanker whose every job fails: it is a config error,
before anything is registered. A clanker that declares no secrets at all is not checked: its agent's credentials
come some other way the config cannot see (a scratch stack's keyless clanker, a docker-style test fixture).
Docker clankers take no secrets (whoever runs the container passes the key)."""

from __future__ import annotations

from collections.abc import Iterator

from components.config_model.clankers import CloudClanker
from components.config_model.issues import ConfigIssue
from components.config_model.parsed_stack import ParsedStack, clanker_key
from workers.catalog import HARNESSES

ROLE_CREDENTIALS = "AWS_SECRET_ACCESS_KEY"
"""Granting the function's own AWS credentials (`agentEnvironment`) is a credential too: an agent on Bedrock."""


def clankers_hold_their_agent_s_key(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    for i, clanker in parsed.clankers():
        harness = HARNESSES.get(clanker.agent)
        if not isinstance(clanker, CloudClanker) or harness is None or not clanker.secrets:
            continue  # an unknown agent is reported by per_clanker.clanker_agents_have_an_image
        keys = harness.key_variables
        reaching = set(clanker.secrets) | set(clanker.agent_environment)
        if reaching & set(keys) or ROLE_CREDENTIALS in clanker.agent_environment:
            continue
        runs = f"agent {harness.agents[0]}" if len(harness.agents) == 1 else f"agents {', '.join(harness.agents)}"
        yield ConfigIssue(
            path=f"{clanker_key(i)}.secrets",
            value=sorted(clanker.secrets),
            message=f"clanker {clanker.name!r} runs the {clanker.agent} image ({runs}), whose CLI reads its API key "
            f"from {' or '.join(keys)}: none of its secrets is one; add it under `secrets` "
            f"(or grant the function's AWS credentials with `agentEnvironment` for Bedrock)",
        )
