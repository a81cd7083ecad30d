"""How a cloud clanker's agents reach Amazon Bedrock, read from its config once for two readers: the config rule
that an agent can authenticate (components/config/rules/agent_keys.py) and the targets, which grant the role whose
credentials an agent calls Bedrock with exactly those calls (`bedrock_use`, components/policies.py).

An agent calls Bedrock when its CLI's switch is on (or it has none: opencode) and it sees credentials: a Bedrock API
key (an `AWS_BEARER_TOKEN_BEDROCK` secret, granted), which needs no IAM permission, or else the role's credentials
(the target's `role_credentials`, granted), which need the role to be allowed the CLI's calls.
"""

from __future__ import annotations

from components.config_model.clankers import CloudClanker
from components.policies import BedrockUse
from workers.catalog import BEDROCK_API_KEY, BEDROCK_ROUTES, HARNESSES, BedrockRoute

REGION = "AWS_REGION"
SWITCHED_ON = ("1", "true", "yes", "on")
"""What turns a CLI's switch on: Claude Code's isEnvTruthy (its src/utils/envUtils.ts) takes these, any case."""


def switched_to_bedrock(clanker: CloudClanker, agent: str) -> bool:
    route = BEDROCK_ROUTES.get(agent)
    if route is None or route.switch is None:
        return False
    return clanker.environment.get(route.switch, "").strip().lower() in SWITCHED_ON


def _api_key(clanker: CloudClanker) -> bool:
    return BEDROCK_API_KEY in clanker.secrets and BEDROCK_API_KEY in clanker.agent_environment


def bedrock_missing(clanker: CloudClanker, route: BedrockRoute) -> list[str]:
    """What the agent lacks to call Bedrock: the credentials' variables, then the region (empty: nothing)."""
    granted = set(clanker.agent_environment)
    missing = [] if _api_key(clanker) else [name for name in clanker.role_credentials if name not in granted]
    if route.needs_region and REGION not in granted and REGION not in clanker.environment:
        missing.append(REGION)
    return missing


def _region_called(clanker: CloudClanker, route: BedrockRoute, region: str) -> str:
    """Where the agent sends its requests: the AWS_REGION it sees (set in `environment`, or the worker's, which
    Lambda and ECS set to where it runs, granted), else the CLI's default."""
    if REGION in clanker.environment:
        return clanker.environment[REGION]
    if REGION in clanker.agent_environment:
        return region
    assert route.default_region is not None, "bedrock_missing reports the region of a CLI that needs one"
    return route.default_region


def bedrock_use(clanker: CloudClanker, region: str) -> BedrockUse | None:
    """What the clanker's agents call of Bedrock with its role's credentials, running in `region`; None when none
    does (no agent on Bedrock, or only with an API key)."""
    if _api_key(clanker):
        return None
    routes = [
        route
        for agent in HARNESSES[clanker.agent].agents
        if (route := BEDROCK_ROUTES.get(agent)) is not None
        and (route.switch is None or switched_to_bedrock(clanker, agent))
        and not bedrock_missing(clanker, route)
    ]
    if not routes:
        return None
    return BedrockUse(
        regions=tuple(sorted({_region_called(clanker, route, region) for route in routes})),
        calls=tuple(sorted({call for route in routes for call in route.calls})),
    )
