"""The outputs contract of viberator-workers: what `pulumi stack output --json` returns, as pydantic models.

No Pulumi here: the backend (and the local tooling) import it to read a stack's outputs, the program builds
its outputs from it, a promoting stack parses its image stack's with it, and the JSON Schema beside it
(`outputs.schema.json`, `make schema`) is generated from it.

    from viberator_contract import StackOutputs
    outputs = StackOutputs.model_validate_json(subprocess.check_output(["pulumi", "stack", "output", "--json"]))
    outputs.clankers["multi-agent"].deployment_config  # a LambdaDeployment, as its entry's `target` says
    outputs.skipped_clankers  # those of a target newer than this package: reported, not dispatched

It depends on pydantic alone: harnesses, agent CLIs and platforms are data here, never the project's lists
(docs/contract.md: the rules of `schemaVersion`, and a dispatcher written against the contract alone).
"""

from viberator_contract.clankers import (
    KNOWN_TARGETS,
    Clanker,
    ClankerEntry,
    DockerClankerEntry,
    DockerDeployment,
    EcsClankerEntry,
    EcsDeployment,
    LambdaClankerEntry,
    LambdaDeployment,
)
from viberator_contract.images import Image, Lifecycle, Manifest, Replica, Signing
from viberator_contract.outputs import SCHEMA_VERSION, SkippedClanker, StackOutputs

__all__ = [
    "KNOWN_TARGETS",
    "SCHEMA_VERSION",
    "Clanker",
    "ClankerEntry",
    "DockerClankerEntry",
    "DockerDeployment",
    "EcsClankerEntry",
    "EcsDeployment",
    "Image",
    "LambdaClankerEntry",
    "LambdaDeployment",
    "Lifecycle",
    "Manifest",
    "Replica",
    "Signing",
    "SkippedClanker",
    "StackOutputs",
]
