"""A cloud clanker's agent reads no secret it is not granted: the worker passes each agent only its own CLI's key
variables and what `agentEnvironment` grants (workers/image/viberator_worker/environment.py), and a grant of the
role's credentials must not undo that.

On a target whose role's credentials (`role_credentials`) are those of the role that also reads the clanker's
`secrets` (`role_reads_secrets`: lambda's one function role), an agent granted them can call
secretsmanager:GetSecretValue, and kms:Decrypt where a key is set, on every secret the clanker lists
(components/policies.py), whatever the worker passed it: another agent's API key in a multi-agent image, a
GITHUB_TOKEN the agent was not granted. So such a clanker is refused, before anything registers, unless every agent
of its harness (each gets the grant) already sees every secret the role reads.

Conservative on purpose: a grant of any one of the credential variables counts; a secret counts as seen only through
a variable granted by name or one of that agent's key variables, whose ARN names the whole secret (the role reads it
whole, not a JSON key of it). What the role adds to an agent that sees all its secrets is their other versions
(GetSecretValue takes a VersionStage): a rotated-out value of a secret it holds anyway, not another's secret.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from components.aws_ids import whole_secret
from components.config_model.clankers import CloudClanker
from components.config_model.issues import ConfigIssue
from components.config_model.parsed_stack import ParsedStack
from components.targets import TARGETS
from workers.catalog import BEDROCK_API_KEY, HARNESSES, agent_key_variables


def agents_read_only_their_secrets(parsed: ParsedStack) -> Iterator[ConfigIssue]:
    for i, clanker in parsed.cloud_clankers():
        harness = HARNESSES.get(clanker.agent)
        if not clanker.role_reads_secrets or harness is None:
            continue  # an unknown agent is reported by per_clanker.clanker_agents_have_an_image
        granted = [name for name in clanker.role_credentials if name in clanker.agent_environment]
        unseen = unseen_secrets(clanker, harness.agents)
        if granted and unseen:
            yield parsed.issue(("clankers", i, "agentEnvironment"), _leak(clanker, granted, harness.agents, unseen))


def unseen_secrets(clanker: CloudClanker, agents: Sequence[str]) -> dict[str, list[str]]:
    """{a `secrets` variable: the agents of `agents` that do not see its secret, whole}, in the clanker's order."""
    keys = agent_key_variables()
    unseen: dict[str, list[str]] = {}
    for agent in agents:
        seen = {
            arn
            for variable, arn in clanker.secrets.items()
            if (variable in clanker.agent_environment or variable in keys[agent]) and whole_secret(arn) == arn
        }
        for variable, arn in clanker.secrets.items():
            if whole_secret(arn) not in seen:
                unseen.setdefault(variable, []).append(agent)
    return unseen


def _readers(agents: Sequence[str], harness: Sequence[str]) -> str:
    if list(agents) == list(harness):
        return "every agent"
    if len(agents) > len(harness) / 2:
        return "all but " + ", ".join(agent for agent in harness if agent not in agents)
    return ", ".join(agents)


def _leak(clanker: CloudClanker, granted: list[str], agents: Sequence[str], unseen: dict[str, list[str]]) -> str:
    if len(agents) == 1:
        agent, who = "its agent", f"its agent {agents[0]} could read {', '.join(unseen)}, which it is not granted"
    else:
        by = ", ".join(f"{variable} ({_readers(readers, agents)})" for variable, readers in unseen.items())
        agent, who = "its agents", f"its agents could read secrets they are not granted: {by}"
    elsewhere = [
        target.name
        for target in TARGETS
        if issubclass(target.config_model, CloudClanker) and not target.config_model.role_reads_secrets
    ]
    return (
        f"clanker {clanker.name!r} grants {agent} {', '.join(granted)}, the credentials of its {clanker.target} "
        f"role, and that role also reads every one of the clanker's `secrets` (secretsmanager:GetSecretValue), so "
        f"{who}. Grant {agent} every such secret knowingly (add {', '.join(unseen)} to `agentEnvironment`), "
        f"or move the clanker to `target: {' or '.join(elsewhere)}` (there another role reads the secrets), or "
        f"call Amazon Bedrock with an API key instead of the role: an `{BEDROCK_API_KEY}` secret, listed in "
        f"`agentEnvironment` in place of {', '.join(clanker.role_credentials)}"
    )
