"""Clanker targets: where a clanker runs. Each module owns one target: its config model, its rules, its component
and its outputs entry, in the `TARGET` it defines (components/targets/base.py says what a target is).

The program (components/program.py), the config (components/config/clankers.py) and the single-harness deploy
(ci/deploy_targets.py) walk `TARGETS`; a new target is a module here, a line below, and its outputs entry in the
published contract (viberator_contract/clankers.py).
"""

from __future__ import annotations

from typing import Any

from components.targets import docker, ecs, lambda_
from components.targets.base import ClankerTarget

TARGETS: tuple[ClankerTarget[Any], ...] = (lambda_.TARGET, ecs.TARGET, docker.TARGET)
"""In the order error messages list them."""
