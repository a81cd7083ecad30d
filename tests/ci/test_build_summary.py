"""The deploy job summary, rendered from sample outputs documents: the dev and prod plans' stack outputs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ci.build_summary import DeployContext, SummaryError, _tag, main, render_summary
from ci.verify_promotion import image_digests, promoted_from
from tests import multi_platform_stacks
from tests.conftest import committed_config
from workers.catalog import PROJECT_DIR

PROD_SOURCE = "viberator/viberator-workers/dev"


def _section(markdown: str, heading: str) -> str:
    """The text of one `### heading` section."""
    start = markdown.index(f"### {heading}")
    end = markdown.find("\n### ", start + 1)
    return markdown[start : end if end != -1 else None]


def _clanker_row(markdown: str, name: str) -> str:
    (row,) = [line for line in _section(markdown, "Clankers").splitlines() if line.startswith(f"| {name} |")]
    return row


def test_sample_outputs_are_a_valid_outputs_document(dev_outputs: dict[str, Any]):
    markdown, valid = render_summary(dev_outputs, DeployContext("dev"))

    assert valid
    assert "Warning" not in markdown


def test_a_full_deploy_lists_every_image_tag_and_digest(dev_outputs: dict[str, Any]):
    markdown, _ = render_summary(dev_outputs, DeployContext("dev"))
    images = _section(markdown, "Images")

    assert dev_outputs["images"], "the dev stack builds images"
    for harness, image in dev_outputs["images"].items():
        assert f"| {harness} |" in images
        assert f"`{image['digest']}`" in images
        for reference in image["tags"]:
            assert f"`{reference.rsplit(':', 1)[1]}`" in images


def test_every_clanker_shows_the_image_it_runs(dev_outputs: dict[str, Any]):
    markdown, _ = render_summary(dev_outputs, DeployContext("dev"))

    for name, clanker in dev_outputs["clankers"].items():
        config = clanker["deploymentConfig"]
        image = config.get("imageUri") or config["containerImage"]
        row = _clanker_row(markdown, name)
        assert f"`{image}`" in row
        assert ("digest" if "@sha256:" in image else "floating tag") in row
        assert row.endswith("| yes |")


def test_a_single_harness_deploy_shows_only_its_image_and_marks_its_clankers(dev_outputs: dict[str, Any]):
    clankers = committed_config("Pulumi.dev.yaml").clankers
    harness = clankers[0].agent
    markdown, _ = render_summary(dev_outputs, DeployContext("dev", harness=harness))
    images = _section(markdown, "Images")

    assert f"harness `{harness}`" in markdown
    assert f"| {harness} |" in images
    assert [row for row in images.splitlines() if row.startswith("| ") and "---" not in row][1:] == [
        _image_row(markdown, harness)
    ], "its image alone, under the table's heading"
    for clanker in clankers:
        marked = "| yes |" if clanker.agent == harness else "| no (unchanged) |"
        assert _clanker_row(markdown, clanker.name).endswith(marked), clanker.name


def _image_row(markdown: str, harness: str) -> str:
    (row,) = [line for line in _section(markdown, "Images").splitlines() if line.startswith(f"| {harness} |")]
    return row


def test_a_deploy_that_changed_nothing_claims_no_pushes(dev_outputs: dict[str, Any]):
    unchanged = image_digests(dev_outputs)  # as `--before` is read

    markdown, _ = render_summary(dev_outputs, DeployContext("dev", digests_before=unchanged))

    assert f"0 of {len(unchanged)} built and pushed" in markdown
    assert all("| unchanged |" in _image_row(markdown, harness) for harness in unchanged)


def test_only_the_images_whose_digest_changed_are_listed_as_pushed(dev_outputs: dict[str, Any]):
    before = image_digests(dev_outputs)
    before["claude"] = "sha256:" + "0" * 64  # the digest claude had before this deploy rebuilt it
    del before["kimi"]  # a harness this deploy added

    markdown, _ = render_summary(dev_outputs, DeployContext("dev", digests_before=before))

    assert f"2 of {len(dev_outputs['images'])} built and pushed" in markdown
    assert "| built and pushed |" in _image_row(markdown, "claude")
    assert "| built and pushed |" in _image_row(markdown, "kimi")
    assert "| unchanged |" in _image_row(markdown, "codex")


def test_cli_compares_with_the_outputs_before_the_deploy(
    tmp_path: Path, dev_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    after = _write(tmp_path, dev_outputs)
    before = tmp_path / "before.json"
    before.write_text(json.dumps(dev_outputs))
    harnesses = len(dev_outputs["images"])
    assert main(["--stack", "dev", "--before", str(before), after]) == 0
    assert f"0 of {harnesses} built and pushed" in capsys.readouterr().out

    before.write_text("{}")  # a new stack exports nothing before its first deploy
    assert main(["--stack", "dev", "--before", str(before), after]) == 0
    assert f"{harnesses} of {harnesses} built and pushed" in capsys.readouterr().out


def test_a_multi_platform_harness_counts_as_built_only_when_its_index_moved(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    outputs = multi_platform_stacks.image_stack_outputs()
    harnesses = len(outputs["images"])
    before = tmp_path / "before.json"
    before.write_text(json.dumps(outputs))
    assert main(["--stack", "dev", "--before", str(before), _write(tmp_path, outputs)]) == 0
    assert f"0 of {harnesses} built and pushed" in capsys.readouterr().out

    outputs["images"][multi_platform_stacks.HARNESS]["index"]["digest"] = "sha256:" + "f" * 64
    assert main(["--stack", "dev", "--before", str(before), _write(tmp_path, outputs)]) == 0
    assert f"1 of {harnesses} built and pushed" in capsys.readouterr().out


def test_a_promoting_stack_claims_no_pushes(prod_outputs: dict[str, Any]):
    markdown, valid = render_summary(prod_outputs, DeployContext("prod", promoted_from=PROD_SOURCE))

    assert valid
    assert f"### Images promoted from `{PROD_SOURCE}`" in markdown
    assert "built and pushed" not in markdown
    assert "Tags pushed" not in markdown
    for image in prod_outputs["images"].values():
        assert f"`{image['imageUri']}`" in markdown


def test_prod_is_recognised_as_promoting_from_its_stack_config():
    assert promoted_from(PROJECT_DIR / "Pulumi.prod.yaml") == PROD_SOURCE
    assert promoted_from(PROJECT_DIR / "Pulumi.dev.yaml") is None


def test_outputs_that_break_the_schema_are_flagged(dev_outputs: dict[str, Any]):
    del next(iter(dev_outputs["images"].values()))["digest"]

    markdown, valid = render_summary(dev_outputs, DeployContext("dev"))

    assert not valid
    assert "**Warning:**" in markdown
    assert "'digest' is a required property" in markdown


def test_table_cells_cannot_break_the_table(dev_outputs: dict[str, Any]):
    clanker = next(iter(dev_outputs["clankers"].values()))
    dev_outputs["clankers"] = {"evil|name\nrow": clanker}

    markdown, _ = render_summary(dev_outputs, DeployContext("dev"))

    assert "| evil\\|name row |" in markdown


def test_a_document_without_images_or_clankers_is_refused():
    with pytest.raises(SummaryError):
        render_summary({"error": "no stack"}, DeployContext("dev"))


def _write(tmp_path: Path, document: object) -> str:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(document))
    return str(path)


def test_cli_renders_markdown_and_reads_promotion_from_the_stack_file(
    tmp_path: Path, prod_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    assert main(["--stack", "prod", "--harness", "all", _write(tmp_path, prod_outputs)]) == 0

    assert f"promoted from `{PROD_SOURCE}`" in capsys.readouterr().out


def test_cli_exit_codes(tmp_path: Path, dev_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]):
    dev_outputs["schemaVersion"] = 2
    assert main(["--stack", "dev", _write(tmp_path, dev_outputs)]) == 1
    assert "Warning" in capsys.readouterr().out

    assert main(["--stack", "dev", _write(tmp_path, ["not", "outputs"])]) == 2
    assert main(["--stack", "dev", str(tmp_path / "missing.json")]) == 2


@pytest.mark.parametrize(
    ("reference", "tag"),
    [
        ("123456789012.dkr.ecr.us-east-1.amazonaws.com/viberator-worker-claude:dev-latest", "dev-latest"),
        ("127.0.0.1:5000/viberator-worker-claude:dev-abc123", "dev-abc123"),
        ("127.0.0.1:5000/viberator-worker-claude", "127.0.0.1:5000/viberator-worker-claude"),
    ],
)
def test_tags_are_shown_without_their_repository(reference: str, tag: str):
    assert _tag(reference) == tag
