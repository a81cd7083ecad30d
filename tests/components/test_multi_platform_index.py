"""A multi-platform harness's Index as docker-build really leaves it: after a refresh with an expired registry
password (`ref` = the bare tag), the next plan still knows the index digest and changes nothing; a floating
clanker waits for the Index that moves `<env>-latest`."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml

from components.harness_image import HarnessImage
from components.images import ImageRef
from offline_plan.engine import Plan, run_program
from offline_plan.stacks import plan_stack_file
from tests.agent_secrets import with_agent_key
from tests.builders import claude_image_args
from tests.conftest import Recorder
from workers.catalog import PROJECT_DIR

PLATFORMS = ["linux/amd64", "linux/arm64"]
FLOATING_ECS = with_agent_key(
    {"name": "claude-latest", "agent": "claude", "target": "ecs", "image": "floating", "cpu": 1024}
)


def two_platform_dev(*, stale_registry_credentials: bool = False) -> Plan:
    """The committed dev stack with claude built for two platforms and a floating ECS clanker running it."""
    document = yaml.safe_load((PROJECT_DIR / "Pulumi.dev.yaml").read_text())
    document["config"]["viberator:harnessPlatforms"] = {"claude": PLATFORMS}
    document["config"]["viberator:clankers"].append(FLOATING_ECS)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "Pulumi.dev.yaml"
        path.write_text(yaml.safe_dump(document))
        return plan_stack_file(path, stale_registry_credentials=stale_registry_credentials)


def test_after_a_refresh_with_an_expired_password_the_plan_succeeds_and_changes_nothing() -> None:
    fresh = two_platform_dev()
    refreshed = two_platform_dev(stale_registry_credentials=True)
    index = refreshed.outputs["images"]["claude"]["index"]
    assert index["digest"].startswith("sha256:") and index["imageUri"].endswith(f"@{index['digest']}")
    # What the next `up` would register and export is what it would have without the refresh: no spurious change.
    assert refreshed.outputs == fresh.outputs
    # (Registrations arrive as their inputs resolve, in no fixed order.)
    assert {r.urn: r.inputs for r in refreshed.resources} == {r.urn: r.inputs for r in fresh.resources}


def test_the_mocks_answer_the_bare_tag_as_docker_build_does_after_such_a_refresh() -> None:
    answers: dict[str, Any] = {}

    def program() -> None:
        image = HarnessImage("claude", ARGS)
        image.floating_pushed.apply(lambda ref: answers.setdefault("floating", ref))

    run_program("dev", {"aws:region": "us-east-1"}, program=program, stale_registry_credentials=True)
    assert "@" not in answers["floating"] and answers["floating"].endswith(":dev-latest")


ARGS = claude_image_args(platforms=tuple(PLATFORMS))


def test_a_floating_reference_waits_for_the_index_that_moves_the_floating_tag(record: Recorder) -> None:
    waits_for: set[str] = set()

    async def program() -> None:
        image = HarnessImage("claude", ARGS)
        reference = ImageRef.built(image, "dev", "us-east-1").reference("floating", "x86_64")
        # The resources an Output depends on are what a resource taking it as an input waits for.
        waits_for.update(resource._name for resource in await reference.resources())  # type: ignore[attr-defined]

    record(program)
    assert "claude-index-dev-latest" in waits_for, "the Index that moves dev-latest"
    assert "claude-index" not in waits_for, "not the Index that pushes the immutable tag"
