"""The clanker-target registry: every target module is listed once, and the config, the contract and the program
agree on each target's name."""

from __future__ import annotations

import pkgutil
import typing

import pytest

import components.targets
from components.targets import TARGET_BY_NAME, TARGETS, ClankerConfig, parse_clanker
from viberator_contract import Clanker

SHARED_MODULES = {"base", "ecs_cluster"}
"""Modules of the package that are not a target: what a target is, and the ECS target's shared cluster."""


def test_every_target_module_is_registered_once() -> None:
    modules = {m.name for m in pkgutil.iter_modules(components.targets.__path__)} - SHARED_MODULES
    registered = [target.config_model.__module__.rsplit(".", 1)[-1] for target in TARGETS]
    assert sorted(registered) == sorted(modules)
    assert len({target.name for target in TARGETS}) == len(TARGETS)


@pytest.mark.parametrize("target", TARGETS, ids=lambda target: target.name)
def test_each_target_s_model_reads_its_own_name(target: typing.Any) -> None:
    clanker = parse_clanker({"name": "worker", "agent": "claude", "target": target.name})
    assert type(clanker) is target.config_model
    assert TARGET_BY_NAME[target.name] is target


def test_the_parser_s_union_is_the_registry_s_models() -> None:
    """`ClankerConfig` is written out for the type checker: it holds exactly the registered targets' models."""
    union = typing.get_args(typing.get_args(ClankerConfig)[0])
    assert set(union) == {target.config_model for target in TARGETS}


def test_the_contract_has_an_outputs_entry_for_every_target() -> None:
    entries = typing.get_args(typing.get_args(Clanker)[0])
    names = {typing.get_args(entry.model_fields["target"].annotation)[0] for entry in entries}
    assert names == {target.name for target in TARGETS}
