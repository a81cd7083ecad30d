"""The prod job's digest check, against the committed stacks' plan outputs as the stack outputs it reads.

The approved set is what the dev job publishes from dev's outputs; "current" is dev's outputs when prod runs
(the same document, or one where a later deploy moved a digest), and prod's own outputs after its `up`. That the
approved digests are signed by the key prod pins is tests/ci/test_verify_promotion_signatures.py's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ci.script import EXIT_UNUSABLE
from ci.verify_promotion import EXIT_MISMATCH, image_digests, main
from tests import multi_platform_stacks
from tests.ci.conftest import approved_manifest, signed_references
from tests.ci.published_digests import LATER_DIGEST, _published, _write
from tests.conftest import committed_config


def test_the_published_digests_are_every_image_of_the_stack(
    tmp_path: Path, dev_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    published = json.loads(_published(tmp_path, dev_outputs, capsys))

    assert published == {
        harness: approved_manifest(image)["digest"] for harness, image in dev_outputs["images"].items()
    }
    assert sorted(published) == sorted(committed_config("Pulumi.dev.yaml").harnesses)


def test_unchanged_image_stack_outputs_pass(
    tmp_path: Path, dev_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    approved = _published(tmp_path, dev_outputs, capsys)

    assert main(["check", "--approved", approved, _write(tmp_path, dev_outputs)]) == 0
    assert f"{len(dev_outputs['images'])} image digests match" in capsys.readouterr().out


def test_a_digest_moved_by_a_later_deploy_fails_naming_harness_and_both_digests(
    tmp_path: Path, dev_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    approved = _published(tmp_path, dev_outputs, capsys)
    moved = approved_manifest(dev_outputs["images"]["multi-agent"])
    before, moved["digest"] = moved["digest"], LATER_DIGEST

    assert main(["check", "--approved", approved, _write(tmp_path, dev_outputs)]) == EXIT_MISMATCH

    err = capsys.readouterr().err
    assert f"multi-agent: approved {before}, found {LATER_DIGEST}" in err
    assert "codex" not in err, "only the harness that moved is named"


def test_a_harness_added_or_removed_since_the_approval_fails(
    tmp_path: Path, dev_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    approved = _published(tmp_path, dev_outputs, capsys)
    removed = dev_outputs["images"].pop("kimi")

    assert main(["check", "--approved", approved, _write(tmp_path, dev_outputs)]) == EXIT_MISMATCH
    assert f"kimi: approved {approved_manifest(removed)['digest']}, found (none)" in capsys.readouterr().err


def test_prod_after_its_up_runs_only_approved_digests(
    tmp_path: Path, dev_outputs: dict[str, Any], prod_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    approved = _published(tmp_path, dev_outputs, capsys)
    assert main(["check", "--promoted", "--approved", approved, _write(tmp_path, prod_outputs, "prod.json")]) == 0

    # A promoting stack may take a subset (`viberator:images.harnesses`): each of its images was approved.
    del prod_outputs["images"]["kimi"]
    prod = _write(tmp_path, prod_outputs, "prod.json")
    assert main(["check", "--promoted", "--approved", approved, prod]) == 0
    assert main(["check", "--approved", approved, prod]) == EXIT_MISMATCH, "as an image stack it is incomplete"
    capsys.readouterr()

    approved_manifest(prod_outputs["images"]["claude-code-ecs"])["digest"] = LATER_DIGEST
    assert main(["check", "--promoted", "--approved", approved, _write(tmp_path, prod_outputs, "prod.json")]) == 1
    assert f"found {LATER_DIGEST}" in capsys.readouterr().err


@pytest.mark.parametrize("approved", ["", "{}", "not json", '["sha256:x"]', '{"claude": 1}'])
def test_nothing_or_garbage_approved_is_unusable_never_a_pass(
    tmp_path: Path, dev_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str], approved: str
):
    assert main(["check", "--approved", approved, _write(tmp_path, dev_outputs)]) == EXIT_UNUSABLE
    assert capsys.readouterr().err.startswith("error: ")


def test_outputs_without_images_or_digests_are_unusable(tmp_path: Path, dev_outputs: dict[str, Any]):
    assert main(["digests", _write(tmp_path, {"error": "no stack"})]) == EXIT_UNUSABLE
    assert main(["digests", str(tmp_path / "missing.json")]) == EXIT_UNUSABLE
    dev_outputs["images"]["claude"]["digest"] = ""
    with pytest.raises(ValueError, match="'claude' has no sha256 digest"):
        image_digests(dev_outputs)


def test_the_source_is_the_image_stack_prod_references(capsys: pytest.CaptureFixture[str]):
    assert main(["source", "--stack", "prod"]) == 0
    assert capsys.readouterr().out.strip() == "viberator/viberator-workers/dev"

    assert main(["source", "--stack", "dev"]) == EXIT_UNUSABLE
    assert "builds its own images" in capsys.readouterr().err


def _pinned_prod(tmp_path: Path, approved: dict[str, str], document: dict[str, Any] | None = None) -> Path:
    """A runner's copy of Pulumi.prod.yaml (or of `document`) after the deploy job's `pin` step."""
    from ci.verify_promotion import pin
    from workers.catalog import PROJECT_DIR

    copy = tmp_path / "Pulumi.prod.yaml"
    copy.write_text((PROJECT_DIR / "Pulumi.prod.yaml").read_text() if document is None else yaml.safe_dump(document))
    pin(copy, approved)
    return copy


def test_prod_up_runs_only_the_pinned_approved_digests(tmp_path: Path, dev_outputs: dict[str, Any]) -> None:
    """`pin` before `up`: the program itself refuses a digest nobody approved, before registering anything."""
    from components.config import ConfigError
    from offline_plan.stacks import plan_stack_file

    source = "viberator/viberator-workers/dev"
    approved = image_digests(dev_outputs)
    planned = plan_stack_file(_pinned_prod(tmp_path, approved), stack_outputs={source: dev_outputs})
    runs = {harness: approved_manifest(image)["digest"] for harness, image in planned.outputs["images"].items()}
    assert runs == {harness: approved[harness] for harness in runs}

    moved = json.loads(json.dumps(dev_outputs))
    approved_manifest(moved["images"]["multi-agent"])["digest"] = LATER_DIGEST
    with pytest.raises(ConfigError) as refused:
        plan_stack_file(_pinned_prod(tmp_path, approved), stack_outputs={source: moved})
    (issue,) = refused.value.issues
    assert issue.path == "viberator:images.digests.multi-agent" and issue.value == approved["multi-agent"]
    assert f"now exports {LATER_DIGEST}" in issue.message


def test_pin_refuses_a_stack_that_promotes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pin", "--stack", "dev", "--approved", json.dumps({"claude": LATER_DIGEST})]) == EXIT_UNUSABLE
    assert "promotes nothing" in capsys.readouterr().err


def test_pushed_lists_every_platform_s_image_and_with_indexes_each_index(
    tmp_path: Path, dev_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    kimi = dev_outputs["images"]["kimi"]
    arm = "sha256:" + "a" * 64
    kimi["platforms"]["linux/arm64"] = {"digest": arm}
    kimi["index"] = {"digest": LATER_DIGEST}
    outputs = _write(tmp_path, dev_outputs)
    indexes = {f"{i['repositoryUrl']}@{i['index']['digest']}" for i in dev_outputs["images"].values() if i.get("index")}

    assert main(["pushed", outputs]) == 0
    images = capsys.readouterr().out.split()
    assert sorted(images) == sorted(set(signed_references(dev_outputs)) - indexes), "each platform's, kimi's arm64 too"
    assert f"{kimi['repositoryUrl']}@{kimi['digest']}" in images and f"{kimi['repositoryUrl']}@{arm}" in images
    assert main(["pushed", "--indexes", outputs]) == 0
    assert set(capsys.readouterr().out.split()) == {*images, *indexes}

    del dev_outputs["images"]["codex"]["digest"]
    assert main(["pushed", _write(tmp_path, dev_outputs)]) == EXIT_UNUSABLE


def test_a_multi_platform_harness_is_published_checked_and_pinned_as_its_index_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """claude on an arm64 Lambda and an x86_64 ECS task: the approval names the index, which commits to both."""
    from components.config import ConfigError
    from offline_plan.stacks import plan_stack_file

    dev = multi_platform_stacks.image_stack_outputs()
    claude = dev["images"]["claude"]
    published = json.loads(approved := _published(tmp_path, dev, capsys))
    assert published["claude"] == claude["index"]["digest"] != claude["digest"]
    assert published["kimi"] == dev["images"]["kimi"]["digest"], "a single-platform harness keeps its own digest"

    prod = _write(tmp_path, multi_platform_stacks.promoting_stack_outputs(), "prod.json")
    assert main(["check", "--promoted", "--approved", approved, prod]) == 0
    before = claude["index"]["digest"]
    claude["index"]["digest"] = LATER_DIGEST  # dev rebuilt claude since the approval (its primary may be the same)
    assert main(["check", "--approved", approved, _write(tmp_path, dev)]) == EXIT_MISMATCH
    assert f"claude: approved {before}, found {LATER_DIGEST}" in capsys.readouterr().err

    source = "viberator/viberator-workers/dev"
    with pytest.raises(ConfigError) as refused:
        pinned = _pinned_prod(tmp_path, published, multi_platform_stacks.promoting_stack_document())
        plan_stack_file(pinned, stack_outputs={source: dev})
    (issue,) = refused.value.issues
    assert issue.path == "viberator:images.digests.claude" and issue.value == before
    assert f"now exports {LATER_DIGEST} (its index)" in issue.message
