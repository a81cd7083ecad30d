"""Taking images from an image stack: the filter, missing harnesses and malformed outputs."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.config import ConfigError, StackConfig, parse_stack_config
from components.promotion import promoted_images
from tests import multi_platform_stacks
from tests.agent_secrets import with_agent_keys
from tests.conftest import committed_plan, pinned_dev_key
from viberator_contract import Image
from workers.ecr_url import parse_repository_url

SOURCE = "viberator/viberator-workers/dev"


NETWORK = {"vpcId": "vpc-0123456789abcdef0", "subnetIds": ["subnet-0123456789abcdef0"]}
"""prod is protected: its ecs clankers need a network of their own."""


def config(**images: Any) -> StackConfig:
    clankers = with_agent_keys([{"name": "w", "agent": "claude-code-ecs", "target": "ecs"}])
    return parse_stack_config(
        {"images": {"from": SOURCE, "signing": pinned_dev_key(), **images}, "network": NETWORK, "clankers": clankers},
        stack="prod",
        region="us-east-1",
    )


def dev_images() -> dict[str, Any]:
    return dict(committed_plan("Pulumi.dev.yaml").outputs["images"])


def test_all_exported_images_by_default_and_the_filter_limits_them() -> None:
    assert sorted(promoted_images(config(), dev_images(), "dev")) == sorted(dev_images())
    filtered = promoted_images(config(harnesses=["claude-code-ecs"]), dev_images(), "dev")
    assert list(filtered) == ["claude-code-ecs"]
    assert filtered["claude-code-ecs"].platforms["linux/amd64"].image_uri == dev_images()["claude-code-ecs"]["imageUri"]


def test_repository_arn_is_derived_from_the_url() -> None:
    image = Image.model_validate(dev_images()["claude"])
    parsed = parse_repository_url(image.repository_url)
    assert parsed is not None and parsed.arn == "arn:aws:ecr:us-east-1:123456789012:repository/viberator-worker-claude"


def test_missing_harnesses_are_named_together() -> None:
    exported = {k: v for k, v in dev_images().items() if k not in ("claude-code-ecs", "kimi")}
    with pytest.raises(ConfigError) as raised:
        promoted_images(config(harnesses=["kimi", "claude-code-ecs"]), exported, "dev")
    assert [issue.path for issue in raised.value.issues] == [
        "viberator:images.harnesses[0]",
        "viberator:images.harnesses[1]",
        "viberator:clankers[0].agent",
    ]
    assert "exports no kimi image" in str(raised.value)


def test_an_explicit_architecture_must_match_the_promoted_image() -> None:
    exported = dev_images()
    arm64 = {key: exported["claude-code-ecs"][key] for key in ("digest", "imageUri", "tags")}
    exported["claude-code-ecs"] = {
        **exported["claude-code-ecs"],
        "platform": "linux/arm64",
        "platforms": {"linux/arm64": arm64},
    }
    stack = parse_stack_config(
        {
            "images": {"from": SOURCE, "signing": pinned_dev_key()},
            "network": NETWORK,
            "clankers": with_agent_keys(
                [{"name": "w", "agent": "claude-code-ecs", "target": "ecs", "architecture": "x86_64"}]
            ),
        },
        stack="prod",
        region="us-east-1",
    )
    with pytest.raises(ConfigError) as raised:
        promoted_images(stack, exported, "dev")
    assert [str(i) for i in raised.value.issues] == [
        'viberator:clankers[0].architecture = "x86_64": the promoted claude-code-ecs image is built for linux/arm64 '
        f"only: the image stack {SOURCE} must build linux/amd64 too: set `viberator:harnessPlatforms: "
        "{claude-code-ecs: [linux/arm64, linux/amd64]}` in its Pulumi.dev.yaml and deploy it first, or give this "
        "clanker the architecture of a platform the image has"
    ]


def test_malformed_outputs_are_refused() -> None:
    exported = dev_images()
    exported["claude-code-ecs"] = {**exported["claude-code-ecs"], "digest": "latest"}
    with pytest.raises(ConfigError, match=r"images.claude-code-ecs output is malformed"):
        promoted_images(config(), exported, "dev")
    with pytest.raises(ConfigError, match="exports no `images`"):
        promoted_images(config(), None, "dev")


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        (lambda image: image.pop("repositoryUrl"), "repositoryUrl", "Field required"),
        (lambda image: image.update(platform="linux riscv64"), "platform", "String should match pattern"),
        (lambda image: image.update(tags="latest"), "tags", "Input should be a valid list"),
        (
            lambda image: image["platforms"]["linux/amd64"].update(digest=7),
            "platforms.linux/amd64.digest",
            "Input should be a valid string",
        ),
    ],
)
def test_a_bad_image_entry_is_a_config_error_naming_the_image_stack_and_the_field(
    change: Any, field: str, problem: str
) -> None:
    exported = copy.deepcopy(dev_images())  # the committed plan is cached: never change it
    change(exported["claude-code-ecs"])
    with pytest.raises(ConfigError) as raised:
        promoted_images(config(), exported, "dev")
    (issue,) = raised.value.issues
    assert (issue.path, issue.value) == ("viberator:images.from", SOURCE)
    assert issue.message.startswith(f"its images.claude-code-ecs output is malformed: {field}: {problem}")


def test_a_platform_this_program_does_not_run_is_left_out_and_an_image_with_no_other_is_an_error() -> None:
    """The contract's platforms are open: a later image stack may build for one this program does not know."""
    exported = copy.deepcopy(dev_images())  # the committed plan is cached: never change it
    image = exported["claude-code-ecs"]
    built = set(image["platforms"])  # what dev builds it for, one platform or more
    image["platforms"]["linux/riscv64"] = image["platforms"][image["platform"]]
    promoted = promoted_images(config(), exported, "dev")["claude-code-ecs"]
    assert set(promoted.platforms) == built

    image.update(platform="linux/riscv64", platforms={"linux/riscv64": image["platforms"]["linux/riscv64"]})
    with pytest.raises(ConfigError) as raised:
        promoted_images(config(), exported, "dev")
    assert [issue.message for issue in raised.value.issues] == [
        "its claude-code-ecs image is built for linux/riscv64, none of which this program runs (linux/amd64, "
        "linux/arm64)"
    ]


def test_a_promoted_image_speaks_the_job_contract_its_image_stack_exported() -> None:
    exported = copy.deepcopy(dev_images())  # the committed plan is cached: never change it
    exported["claude-code-ecs"]["jobContract"] = "7.1"
    del exported["claude"]["jobContract"]  # an image stack's outputs from before the field
    promoted = promoted_images(config(), exported, "dev")
    assert (promoted["claude-code-ecs"].job_contract, promoted["claude"].job_contract) == ("7.1", None)


def test_a_bad_replicas_output_is_a_config_error_naming_each_field() -> None:
    replicas = [{"region": "us-west-2"}, {"region": "Mars", "registryId": "123456789012"}]
    with pytest.raises(ConfigError) as raised:
        promoted_images(config(), dev_images(), "dev", replicas)
    assert [issue.message for issue in raised.value.issues] == [
        "its replicas output is malformed: [0].registryId: Field required",
        "its replicas output is malformed: [1].region: String should match pattern "
        "'^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]+$'",
    ]


def test_a_multi_platform_harness_is_approved_by_its_index_digest_never_its_primary_alone() -> None:
    exported = multi_platform_stacks.image_stack_outputs()["images"]
    claude = exported["claude"]
    mine = parse_stack_config(
        {
            "images": {"from": SOURCE, "signing": pinned_dev_key(), "digests": {"claude": claude["index"]["digest"]}},
            "clankers": [],
        },
        stack="prod",
        region="us-east-1",
    )
    assert promoted_images(mine, exported, "dev")["claude"].index is not None

    primary_only = parse_stack_config(
        {
            "images": {"from": SOURCE, "signing": pinned_dev_key(), "digests": {"claude": claude["digest"]}},
            "clankers": [],
        },
        stack="prod",
        region="us-east-1",
    )
    with pytest.raises(ConfigError) as refused:
        promoted_images(primary_only, exported, "dev")
    (issue,) = refused.value.issues
    assert issue.path == "viberator:images.digests.claude" and issue.value == claude["digest"]
    assert f"now exports {claude['index']['digest']} (its index)" in issue.message
