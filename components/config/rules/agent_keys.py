"""A cloud clanker's agent can authenticate: a job of it reaches its model provider, or the clanker is a config
error before anything is registered (switching a clanker from gemini to codex while its secrets hold only
GEMINI_API_KEY, or forgetting `secrets` altogether, would deploy a clanker whose every job fails).

The agent's environment is an allow-list (workers/image/viberator_worker/environment.py), so everything it can
authenticate with is in the config:
- a `secrets` entry named after an API-key variable its CLI reads (workers/catalog.py, from the runtime's
  agents.json), which the worker passes to that agent and no other;
- or, for a CLI that can call Amazon Bedrock (catalog.BEDROCK_ROUTES), the function's role credentials granted by
  `agentEnvironment` (the variables its target puts them in: `role_credentials`) or a Bedrock API key secret
  granted likewise, plus AWS_REGION where the CLI needs it and the CLI's own switch in `environment`.
A harness of several agents passes when one of them can authenticate. Docker clankers take no secrets: whoever
starts the container passes the key. A clanker whose agent calls Bedrock with its role's credentials gets that
CLI's calls on its role (components/config_model/bedrock.py, `bedrock_use`, read by the targets).
"""

from __future__ import annotations

from collections.abc import Iterator

from components.config_model.bedrock import REGION, bedrock_missing, switched_to_bedrock
from components.config_model.clankers import CloudClanker
from components.config_model.issues import ConfigIssue
from components.config_model.parsed_stack import ParsedStack
from workers.catalog import BEDROCK_API_KEY, BEDROCK_ROUTES, HARNESSES, BedrockRoute, Harness, agent_key_variables


def clankers_hold_their_agent_s_key(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    for i, clanker in parsed.cloud_clankers():
        harness = HARNESSES.get(clanker.agent)
        if harness is None:
            continue  # an unknown agent is reported by per_clanker.clanker_agents_have_an_image
        if any(_authenticates(clanker, agent) for agent in harness.agents):
            continue
        switched = [agent for agent in harness.agents if switched_to_bedrock(clanker, agent)]
        if switched:
            yield parsed.issue(("clankers", i, "agentEnvironment"), _bedrock_incomplete(clanker, switched[0]))
        else:
            yield parsed.issue(("clankers", i, "secrets"), _no_key(clanker, harness))


def _authenticates(clanker: CloudClanker, agent: str) -> bool:
    route = BEDROCK_ROUTES.get(agent)
    on_bedrock = route is not None and not bedrock_missing(clanker, route)
    if switched_to_bedrock(clanker, agent):
        return on_bedrock  # the switch makes the CLI ignore its provider's API key
    return bool(set(clanker.secrets) & set(agent_key_variables()[agent])) or (
        on_bedrock and route is not None and route.switch is None
    )


def _bedrock_grant(clanker: CloudClanker, route: BedrockRoute) -> str:
    names = [*clanker.role_credentials, *([REGION] if route.needs_region else [])]
    region = ", and the region" if route.needs_region else ""
    return f"`agentEnvironment: [{', '.join(names)}]` (its role's credentials on {clanker.target}{region})"


def _no_key(clanker: CloudClanker, harness: Harness) -> str:
    reads = "whose CLI reads its API key" if len(harness.agents) == 1 else "whose CLIs read their API keys"
    holds = "none of its secrets is one" if clanker.secrets else "it declares no secrets"
    granted = [name for name in clanker.agent_environment if name in harness.key_variables]
    if granted:  # a grant lets the agent see a variable of the worker's; only a secret sets one
        holds += f" (`agentEnvironment` grants {', '.join(granted)}, but nothing sets it: a secret does)"
    bedrock = "".join(
        f"; or run {agent} on Amazon Bedrock: "
        + (f'`environment: {{{route.switch}: "1"}}` and ' if route.switch else "")
        + _bedrock_grant(clanker, route)
        for agent in harness.agents
        if (route := BEDROCK_ROUTES.get(agent)) is not None
    )
    return (
        f"clanker {clanker.name!r}: its `agent` {harness.name} runs {', '.join(harness.agents)}, {reads} "
        f"from {', '.join(harness.key_variables)}, and {holds}; add one under `secrets` "
        f"(`{harness.key_variables[0]}: <Secrets Manager secret ARN>`){bedrock}"
    )


def _bedrock_incomplete(clanker: CloudClanker, agent: str) -> str:
    route = BEDROCK_ROUTES[agent]
    return (
        f"clanker {clanker.name!r} sets {route.switch}, so {agent} calls Amazon Bedrock with the AWS "
        f"credentials it sees instead of an API key, and it lacks {', '.join(bedrock_missing(clanker, route))}: "
        f"grant {_bedrock_grant(clanker, route)}, or a Bedrock API key (an `{BEDROCK_API_KEY}` secret, listed "
        f"in `agentEnvironment` too)"
    )
