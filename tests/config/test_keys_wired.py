"""Every key wired in every mode, by construction: each key of the stack's and the clankers' models, in each stack
mode (image stack, `repositories: existing`, promoting, review taking or building images) and with each clanker
target, set to a value other than the one it has there must change the plan (its resources, reads or outputs) or
be refused with a message naming it. A key accepted where it changes nothing is the bug this test exists for: the
user believes a setting the stack never reads. A new key fails `test_every_key_has_a_value_to_try` until it has a
value here, and then this test until it is read or refused in every mode."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, get_args

import pytest

from components.config import ConfigError, StackConfig, parse_pulumi_config, parsing
from components.config.rules import RULES, repositories
from components.config.stack_file import stack_file_config
from components.config_model.clankers import ClankerBase
from components.config_model.fields import ConfigModel
from components.config_model.stack import (
    BuilderConfig,
    ImageSourceConfig,
    NetworkConfig,
    ReplicaConfig,
    ReviewConfig,
)
from components.config_model.supply_chain import BuildCacheConfig, SigningConfig
from components.targets import CLANKER_MODELS
from offline_plan.engine import run_program
from tests.agent_secrets import with_agent_key
from tests.conftest import pinned_dev_key

ACCOUNT = "123456789012"
IMAGE_STACK = "viberator/viberator-workers/dev"
OTHER_IMAGE_STACK = "viberator/viberator-workers/prod"
SECRET = f"arn:aws:secretsmanager:us-east-1:{ACCOUNT}:secret:viberator/qa/anthropic-AbCdEf"

MODES: dict[str, tuple[str, dict[str, Any]]] = {
    "image": ("qa", {"harnesses": ["claude"]}),
    "existing": ("qa", {"harnesses": ["claude"], "repositories": "existing"}),
    "promoting": ("stage", {"images": {"from": IMAGE_STACK, "harnesses": ["claude"]}}),
    "review": (
        "pr-7",
        {
            "images": {"from": IMAGE_STACK, "harnesses": ["claude"]},
            "review": {"pullRequest": 7, "expires": "2026-12-08T00:00:00Z"},
        },
    ),
    "review-build": (
        "pr-7",
        {
            "harnesses": ["claude"],
            "forceDelete": True,
            "review": {"pullRequest": 7, "expires": "2026-12-08T00:00:00Z"},
        },
    ),
}
"""Each mode's stack name and `viberator:` values (clankers apart): what the stacks of that kind set (a review
stack takes dev's images, or builds its own as `ci.review_stacks stack-file --builds` writes it)."""

CLANKERS: dict[str, dict[str, Any]] = {
    target: with_agent_key({"name": "worker", "agent": "claude", "target": target})
    for target in ("lambda", "ecs", "docker")
}

Value = Callable[[StackConfig], Any] | Any
"""The value to try: a constant, or one computed from the parsed reference (the other boolean, say)."""

STACK_VALUES: dict[str, Value] = {
    "environment": "qa2",
    "harnesses": ["claude", "kimi"],
    "platform": "linux/arm64",
    "harnessPlatforms": {"claude": ["linux/amd64", "linux/arm64"]},
    "pushLatest": lambda config: not config.pushes_latest,
    "keepImages": 5,
    "repositories": lambda config: "create" if config.repositories == "existing" else "existing",
    "sharedEnvironments": ["prod"],
    "protect": lambda config: not config.protect_resources,
    "forceDelete": lambda config: not config.force_delete,
    "imageRevision": "rev2",
    "logRetentionDays": 90,
    "network": {"vpcId": "vpc-0a1b2c3d", "subnetIds": ["subnet-0a1b2c3d"]},
    "images": lambda config: (
        {"from": IMAGE_STACK, "harnesses": ["claude"]}
        if config.images is None
        else {"from": IMAGE_STACK, "harnesses": ["claude", "codex"]}
    ),
    "builder": {"name": "remote"},
    "buildCache": {"writerRole": f"arn:aws:iam::{ACCOUNT}:role/viberator-ci-deploy"},
    "signing": {
        "signerRole": f"arn:aws:iam::{ACCOUNT}:role/viberator-ci-signer",
        "keyAdmins": [f"arn:aws:iam::{ACCOUNT}:role/viberator-key-admin"],
        "programRoles": [f"arn:aws:iam::{ACCOUNT}:role/viberator-ci-deploy"],
    },
    "consumerAccounts": ["210987654321"],
    "secretAccounts": ["210987654321"],
    "secretKeys": {SECRET: f"arn:aws:kms:us-east-1:{ACCOUNT}:key/0b6d1c4e-2f3a-4b5c-8d9e-0f1a2b3c4d5e"},
    "replicas": [{"region": "us-west-2"}],
    "review": lambda config: (
        {"pullRequest": 8, "expires": "2026-12-08T00:00:00Z"}
        if config.review is None
        else {"pullRequest": 7, "expires": "2026-12-09T00:00:00Z"}
    ),
    "clankers": lambda config: [],
}
"""For each top-level key (`images`, `review` and `repositories` also make the modes; `clankers` is the list
the clanker keys below are tried in: emptied, it must change the plan too)."""

NESTED: dict[str, tuple[Any, dict[str, Value]]] = {
    "network": (NetworkConfig, {"vpcId": "vpc-0f0e0d0c", "subnetIds": ["subnet-0f0e0d0c"], "assignPublicIp": True}),
    "images": (
        ImageSourceConfig,
        {
            "from": OTHER_IMAGE_STACK,
            "harnesses": ["claude", "codex"],
            "digests": {"claude": "sha256:" + "a" * 64},
            "replicaRepositories": "existing",
            "signing": lambda config: pinned_dev_key(),
        },
    ),
    "replicas": (ReplicaConfig, {"region": "eu-west-1", "account": "210987654321"}),
    "review": (ReviewConfig, {"pullRequest": 9, "expires": "2026-12-09T00:00:00Z"}),
    "builder": (BuilderConfig, {"name": "other"}),
    "buildCache": (BuildCacheConfig, {"writerRole": f"arn:aws:iam::{ACCOUNT}:role/viberator-ci-build"}),
    "signing": (
        SigningConfig,
        {
            "signerRole": f"arn:aws:iam::{ACCOUNT}:role/another-signer",
            "keyAdmins": [f"arn:aws:iam::{ACCOUNT}:role/another-key-admin"],
            "programRoles": [f"arn:aws:iam::{ACCOUNT}:role/another-deployer"],
        },
    ),
}
"""Each nested model's keys, tried inside the value its parent has in the mode, else inside STACK_VALUES'."""

EVERY_CLANKER: dict[str, Value] = {"name": "other", "agent": "codex", "image": "floating", "architecture": "arm64"}
CLOUD_CLANKER: dict[str, Value] = {
    **EVERY_CLANKER,
    "environment": {"LOG_LEVEL": "debug"},
    "secrets": {"ANTHROPIC_API_KEY": SECRET},
    "agentEnvironment": ["GITHUB_TOKEN"],
}
CLANKER_VALUES: dict[str, dict[str, Value]] = {
    "lambda": {
        **CLOUD_CLANKER,
        "memoryMb": 2048,
        "timeoutSeconds": 600,
        "ephemeralStorageMb": 1024,
        "reservedConcurrency": 2,
    },
    "ecs": {**CLOUD_CLANKER, "cpu": 2048, "memoryMb": 8192, "ephemeralStorageGb": 30},
    "docker": {**EVERY_CLANKER, "network": "host"},
}


READ_OUTSIDE_THE_PLAN = {
    "review.expires": "the review workflow tags the stack with it and the daily sweep destroys the stack by that "
    "tag (ci/review_stacks.py, EXPIRES_TAG); the plan carries it only on the clankers' resources",
}
"""Keys read by something other than the program; a change to one alone may leave the plan as it was."""


HOW = "give each new key a value to try here (then every mode must read it or refuse it)"


def _models_in(annotation: Any) -> set[type]:
    """The config models a field's type holds (`X | None`, `list[X]`, ...)."""
    if isinstance(annotation, type) and issubclass(annotation, ConfigModel):
        return {annotation}
    return {model for arg in get_args(annotation) for model in _models_in(arg)}


def test_every_key_has_a_value_to_try() -> None:
    assert set(STACK_VALUES) == set(StackConfig.yaml_keys()), f"STACK_VALUES: {HOW}"
    nested = {
        field.alias or name: models - {ClankerBase}
        for name, field in StackConfig.model_fields.items()
        if (models := _models_in(field.annotation)) - {ClankerBase}
    }
    assert {parent: {model} for parent, (model, _) in NESTED.items()} == nested, f"NESTED: {HOW}"
    for parent, (model, values) in NESTED.items():
        assert set(values) == set(model.yaml_keys()), f"NESTED[{parent!r}]: {HOW}"
    for target, model in CLANKER_MODELS.items():
        assert set(CLANKER_VALUES[target]) == set(model.yaml_keys()) - {"target"}, f"CLANKER_VALUES[{target!r}]: {HOW}"


@functools.cache
def image_stack_outputs() -> Mapping[str, Any]:
    config, secret_keys = stack_file_config(Path("Pulumi.dev.yaml"))
    return run_program("dev", config, secret_keys=secret_keys).outputs


def pulumi_config(values: Mapping[str, Any]) -> dict[str, str]:
    """Values as the CLI passes them: a scalar's text, an object's or list's JSON."""
    config = {"aws:region": "us-east-1", "aws:allowedAccountIds": json.dumps([ACCOUNT])}
    for key, value in values.items():
        text = json.dumps(value) if not isinstance(value, str) else value
        config[f"viberator:{key}"] = text
    return config


@functools.cache
def outcome(stack: str, frozen: str) -> tuple[str, Any]:
    """("refused", issues) or ("planned", the plan's resources and outputs), for `viberator:` values as JSON."""
    config = pulumi_config(json.loads(frozen))
    try:
        parse_pulumi_config(config, stack=stack)
        outputs = image_stack_outputs()
        plan = run_program(stack, config, stack_outputs={IMAGE_STACK: outputs, OTHER_IMAGE_STACK: outputs})
    except ConfigError as error:
        return "refused", error.issues
    resources, reads = (
        sorted((r.to_json() for r in rs), key=lambda r: r["urn"]) for rs in (plan.resources, plan.reads)
    )
    return "planned", (resources, reads, plan.outputs)


def value_for(value: Value, config: StackConfig) -> Any:
    return value(config) if callable(value) else value


def check(stack: str, reference: dict[str, Any], changed: dict[str, Any], key: str) -> str | None:
    """None when the change is read (the plan differs) or refused naming `key`; else what is wrong."""
    before = outcome(stack, json.dumps(reference, sort_keys=True))
    if before[0] == "refused":
        return None  # the key's parent is refused in this mode, naming itself (the parent's own case)
    after = outcome(stack, json.dumps(changed, sort_keys=True))
    if after[0] == "refused":
        leaf = key.rsplit(".", 1)[-1]
        named = [
            i
            for i in after[1]
            if i.path.startswith(f"viberator:{key}") or f"`{leaf}`" in i.message or f"viberator:{key}" in i.message
        ]
        named += [i for i in after[1] if i.path.rsplit(".", 1)[-1].split("[")[0] == leaf]
        return None if named else f"refused, but not naming {key}: {[str(i) for i in after[1]]}"
    if after != before or any(_only_changes(reference, changed, k) for k in READ_OUTSIDE_THE_PLAN):
        return None
    return "accepted, and the plan is the same: read it or refuse it"


def _only_changes(reference: dict[str, Any], changed: dict[str, Any], key: str) -> bool:
    """Whether `changed` differs from `reference` in `key` (`parent.child`) and nowhere else."""
    parent, _, child = key.partition(".")
    if {k for k in reference.keys() | changed.keys() if reference.get(k) != changed.get(k)} != {parent}:
        return False
    before, after = reference.get(parent) or {}, changed.get(parent) or {}
    return {k for k in before.keys() | after.keys() if before.get(k) != after.get(k)} == {child}


def reference_of(mode: str, target: str) -> tuple[str, dict[str, Any]]:
    stack, values = MODES[mode]
    return stack, {**values, "clankers": [CLANKERS[target]]}


def parsed(stack: str, values: dict[str, Any]) -> StackConfig:
    return parse_pulumi_config(pulumi_config({k: v for k, v in values.items() if k != "clankers"}), stack=stack)


def unread_keys(mode: str, target: str) -> list[str]:
    """Each key of the models that this mode and target accept and never read, with what is wrong."""
    stack, reference = reference_of(mode, target)
    assert outcome(stack, json.dumps(reference, sort_keys=True))[0] == "planned", "each mode's stack plans"
    config = parsed(stack, reference)
    found = []
    for key in STACK_VALUES:
        changed = {**reference, key: value_for(STACK_VALUES[key], config)}
        if (problem := check(stack, reference, changed, key)) is not None:
            found.append(f"{key}: {problem}")
    for parent, (_, values) in NESTED.items():
        holder = reference.get(parent) or value_for(STACK_VALUES[parent], config)
        item = holder[0] if isinstance(holder, list) else holder
        for child, value in values.items():
            changed_item = {**item, child: value_for(value, config)}
            with_parent = {**reference, parent: [item] if isinstance(holder, list) else item}
            changed = {**reference, parent: [changed_item] if isinstance(holder, list) else changed_item}
            key = f"{parent}[0].{child}" if isinstance(holder, list) else f"{parent}.{child}"
            if (problem := check(stack, with_parent, changed, key)) is not None:
                found.append(f"{parent}.{child}: {problem}")
    for key, value in CLANKER_VALUES[target].items():
        changed = {**reference, "clankers": [{**CLANKERS[target], key: value_for(value, config)}]}
        if (problem := check(stack, reference, changed, f"clankers[0].{key}")) is not None:
            found.append(f"clankers[0].{key}: {problem}")
    return found


@pytest.fixture(autouse=True)
def _in_the_project(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])


@pytest.mark.parametrize("target", sorted(CLANKERS))
@pytest.mark.parametrize("mode", sorted(MODES))
def test_every_key_is_read_or_refused(mode: str, target: str) -> None:
    assert unread_keys(mode, target) == []


def test_a_key_left_unwired_in_one_mode_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check finds what it is for: without the rule that refuses the repositories' own settings to a stack
    that doesn't own them, `keepImages` is accepted there and changes nothing, and is reported."""
    stack, reference = reference_of("existing", "lambda")
    changed = {**reference, "keepImages": 5}
    assert check(stack, reference, changed, "keepImages") is None
    unwired = tuple(rule for rule in RULES if rule is not repositories.only_the_owner_sets_repository_settings)
    monkeypatch.setattr(parsing, "RULES", unwired)
    outcome.cache_clear()
    try:
        assert check(stack, reference, changed, "keepImages") == (
            "accepted, and the plan is the same: read it or refuse it"
        )
    finally:
        outcome.cache_clear()
