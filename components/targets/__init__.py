"""Clanker targets: where a clanker runs. Each module owns one target: its config model, its rules, its component
and its outputs entry, in the `TARGET` it defines (components/targets/base.py says what a target is). This module
is their registry: the program (components/program.py), the config parser (components/config/) and the
single-harness deploy (ci/deploy_targets.py) ask it, and it imports none of them.

A new target is a module here, a line in `TARGETS` and in `ClankerConfig`, and its outputs entry in the published
contract (viberator_contract/clankers.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from components.config_model.clankers import ClankerBase
from components.targets import docker, ecs, lambda_
from components.targets.base import ClankerTarget

TARGETS: tuple[ClankerTarget[Any], ...] = (lambda_.TARGET, ecs.TARGET, docker.TARGET)
"""In the order error messages list them."""

TARGET_BY_NAME: Mapping[str, ClankerTarget[Any]] = MappingProxyType({target.name: target for target in TARGETS})
"""Each target by its `target` name (the key of `viberator:clankers[]` and of the outputs' clanker entries)."""

CLANKER_MODELS: Mapping[str, type[ClankerBase]] = MappingProxyType(
    {name: target.config_model for name, target in TARGET_BY_NAME.items()}
)
"""Each `target` and its config model."""

ClankerConfig = Annotated[
    lambda_.LambdaClankerConfig | ecs.EcsClankerConfig | docker.DockerClankerConfig, Field(discriminator="target")
]
"""One `viberator:clankers[]` entry: the discriminator picks the target's model."""
_CLANKER: TypeAdapter[ClankerConfig] = TypeAdapter(ClankerConfig)


def target_of(clanker: ClankerBase) -> ClankerTarget[Any]:
    return TARGET_BY_NAME[clanker.target]


def parse_clanker(raw: Any) -> ClankerBase:
    """One `viberator:clankers[]` entry as its target's model (raises pydantic's ValidationError)."""
    return _CLANKER.validate_python(raw)
