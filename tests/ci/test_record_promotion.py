"""Recording prod's promotion on the registry, against the prod plan's outputs and a stubbed ECR client.

The sample document is what the committed prod stack exports (its images are the dev plan's), so the tags and
digests here are the ones the real program produces; the Stubber pins every ECR call's exact parameters.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.stub import Stubber

from ci.promotion_plan import (
    INDEX,
    INDEX_MEDIA_TYPES,
    MANIFEST_MEDIA_TYPES,
    Promotion,
    PromotionError,
    plan_promotions,
    source_revision,
)
from ci.record_promotion import EXIT_REGISTRY, main
from ci.script import EXIT_UNUSABLE
from tests import multi_platform_stacks
from tests.conftest import committed_config, committed_plan

MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
INDEX_MEDIA_TYPE = "application/vnd.oci.image.index.v1+json"
OTHER_DIGEST = "sha256:" + "e" * 64


@pytest.fixture
def outputs() -> dict[str, Any]:
    return copy.deepcopy(committed_plan("Pulumi.prod.yaml").outputs)


def _dev_revision_tag(harness: str) -> str:
    """The dev plan's immutable tag for a harness (on its index, for a multi-platform one): what prod's promotion
    tag must carry the revision of."""
    image = committed_plan("Pulumi.dev.yaml").outputs["images"][harness]
    (tag,) = [
        ref.rpartition(":")[2]
        for ref in (image.get("index") or image)["tags"]
        if not ref.endswith(("-latest", ":latest"))
    ]
    return tag


def _name(reference: str) -> str:
    return reference.rpartition(":")[2]


def _client() -> Any:
    return botocore.session.get_session().create_client(
        "ecr", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def _accepted(promotion: Promotion) -> list[str]:
    """What ECR is asked for: exactly the kind of manifest the digest is (an index only for a harness's index)."""
    return INDEX_MEDIA_TYPES if promotion.platform == INDEX else MANIFEST_MEDIA_TYPES


def _media_type(promotion: Promotion) -> str:
    return INDEX_MEDIA_TYPE if promotion.platform == INDEX else MEDIA_TYPE


def _manifest(promotion: Promotion) -> str:
    return json.dumps({"schemaVersion": 2, "mediaType": _media_type(promotion), "layers": [], "for": promotion.harness})


def _expect_get(stubber: Stubber, promotion: Promotion) -> None:
    where = {"repositoryName": promotion.repository_name, "registryId": promotion.registry_id}
    stubber.add_response(
        "batch_get_image",
        {
            "images": [
                {
                    **where,
                    "imageId": {"imageDigest": promotion.digest},
                    "imageManifest": _manifest(promotion),
                    "imageManifestMediaType": _media_type(promotion),
                }
            ],
            "failures": [],
        },
        {**where, "imageIds": [{"imageDigest": promotion.digest}], "acceptedMediaTypes": _accepted(promotion)},
    )


def _put_params(promotion: Promotion) -> dict[str, Any]:
    return {
        "repositoryName": promotion.repository_name,
        "registryId": promotion.registry_id,
        "imageManifest": _manifest(promotion),
        "imageManifestMediaType": _media_type(promotion),
        "imageTag": promotion.tag,
        "imageDigest": promotion.digest,
    }


def _run(tmp_path: Path, outputs: dict[str, Any], client: Any) -> int:
    document = tmp_path / "outputs.json"
    document.write_text(json.dumps(outputs))
    return main([str(document), "--environment", "prod"], client_for=lambda region: client)


def _tagged(stubber: Stubber, promotion: Promotion) -> None:
    """ECR tags the digest as asked."""
    stubber.add_response("put_image", {"image": {"imageId": {"imageDigest": promotion.digest}}}, _put_params(promotion))


def _promote(tmp_path: Path, outputs: dict[str, Any], answer_put: Callable[[Stubber, Promotion], None]) -> int:
    """Runs the promotion of `outputs` against a stubbed ECR expecting, for each planned promotion in turn, the read
    of its manifest and then its put (queued by `answer_put`); every queued call must have been made."""
    client = _client()
    with Stubber(client) as stubber:
        for promotion in plan_promotions(outputs, "prod"):
            _expect_get(stubber, promotion)
            answer_put(stubber, promotion)
        exit_code = _run(tmp_path, outputs, client)
        stubber.assert_no_pending_responses()
    return exit_code


def test_every_digest_a_prod_clanker_runs_gets_the_prod_tag_of_its_dev_revision(outputs: dict[str, Any]):
    promotions = plan_promotions(outputs, "prod")

    runners: dict[str, list[str]] = {}  # harness -> its clankers, from the committed stack's config
    for clanker in committed_config("Pulumi.prod.yaml").clankers:
        runners.setdefault(clanker.agent, []).append(clanker.name)
    assert {p.harness for p in promotions} == set(runners)
    for promotion in promotions:
        image = outputs["images"][promotion.harness]
        assert promotion.repository_name == image["repositoryName"]
        assert promotion.registry_id == image["repositoryUrl"].split(".")[0]
        assert promotion.region == "us-east-1"
        if promotion.platform is None or promotion.platform == INDEX:
            # What carries the harness's revision: the image, or the index joining a multi-platform one's images
            # (each platform's tag is checked by the multi-platform tests below).
            dev_tag = _dev_revision_tag(promotion.harness)
            assert promotion.source_tag == dev_tag
            assert promotion.tag == "prod-" + dev_tag.removeprefix("dev-")
            assert promotion.digest == (image.get("index") or image)["digest"]
            assert promotion.clankers == tuple(sorted(runners[promotion.harness]))
        else:
            assert set(promotion.clankers) <= set(runners[promotion.harness])


def test_success_tags_each_digest_without_rebuilding(
    outputs: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    promotions = plan_promotions(outputs, "prod")
    assert _promote(tmp_path, outputs, _tagged) == 0

    summary = capsys.readouterr().out
    for promotion in promotions:
        assert (
            f"`{promotion.repository_name}@{promotion.digest}` (`{promotion.source_tag}`) tagged `{promotion.tag}`"
            in summary
        )


def test_an_already_tagged_digest_is_success(
    outputs: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    def already_tagged(stubber: Stubber, promotion: Promotion) -> None:
        stubber.add_client_error(
            "put_image",
            service_error_code="ImageAlreadyExistsException",
            service_message="Image with digest and tag already exists",
            expected_params=_put_params(promotion),
        )

    assert _promote(tmp_path, outputs, already_tagged) == 0

    assert capsys.readouterr().out.count("already tagged `prod-") == len(plan_promotions(outputs, "prod"))


def test_a_tag_naming_another_digest_fails_naming_repository_tag_and_digests(
    outputs: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    first = plan_promotions(outputs, "prod")[0]

    def conflict_on_first(stubber: Stubber, promotion: Promotion) -> None:
        if promotion != first:  # one conflict does not stop the other images' tags
            _tagged(stubber, promotion)
            return
        stubber.add_client_error(
            "put_image",
            service_error_code="ImageTagAlreadyExistsException",
            service_message="tag is immutable",
            expected_params=_put_params(first),
        )
        stubber.add_response(
            "batch_get_image",
            {"images": [{"imageId": {"imageDigest": OTHER_DIGEST, "imageTag": first.tag}}], "failures": []},
            {
                "repositoryName": first.repository_name,
                "registryId": first.registry_id,
                "imageIds": [{"imageTag": first.tag}],
                "acceptedMediaTypes": MANIFEST_MEDIA_TYPES,
            },
        )

    assert _promote(tmp_path, outputs, conflict_on_first) == EXIT_REGISTRY

    captured = capsys.readouterr()
    for text in (first.repository_name, first.tag, OTHER_DIGEST, first.digest):
        assert text in captured.err
    assert "**failed**" in captured.out


def test_a_floating_clanker_is_refused_before_any_registry_call(
    outputs: dict[str, Any], tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    url = outputs["images"]["codex"]["repositoryUrl"]
    outputs["clankers"]["codex-floating"] = {
        "agent": "codex",
        "target": "lambda",
        "deploymentConfig": {"imageUri": f"{url}:dev-latest"},
    }
    client = _client()
    with Stubber(client):  # no responses queued: any call would fail the test
        assert _run(tmp_path, outputs, client) == EXIT_UNUSABLE

    error = capsys.readouterr().err
    assert "codex-floating" in error
    assert "not a digest" in error
    with pytest.raises(PromotionError, match="codex-floating"):
        plan_promotions(outputs, "prod")


def test_the_image_stack_itself_has_nothing_to_promote():
    dev = copy.deepcopy(committed_plan("Pulumi.dev.yaml").outputs)
    # dev may run floating clankers (refused, as in any stack); the pinned ones are the point here.
    dev["clankers"] = {name: c for name, c in dev["clankers"].items() if "@" in str(c["deploymentConfig"])}

    with pytest.raises(PromotionError, match="builds its images"):
        plan_promotions(dev, "dev")


def test_the_wrong_stack_outputs_are_refused(outputs: dict[str, Any]):
    with pytest.raises(PromotionError, match="environment 'prod', not 'staging'"):
        plan_promotions(outputs, "staging")


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (["r/x:dev-abc123", "r/x:dev-latest", "r/x:latest"], ("dev", "abc123", "dev-abc123")),
        (["r/x:pre-prod-1.2.3", "r/x:pre-prod-latest"], ("pre-prod", "1.2.3", "pre-prod-1.2.3")),
    ],
)
def test_the_revision_is_read_by_the_naming_rules(tags: list[str], expected: tuple[str, str, str]):
    assert source_revision(tags) == expected


@pytest.mark.parametrize("tags", [["r/x:dev-latest", "r/x:latest"], ["r/x:dev-a", "r/x:dev-b", "r/x:dev-latest"]])
def test_an_ambiguous_or_missing_revision_tag_is_refused(tags: list[str]):
    with pytest.raises(PromotionError, match="exactly one"):
        source_revision(tags)


def test_a_multi_platform_harness_has_each_platform_tagged_under_its_own_tag_and_its_index_too():
    outputs = multi_platform_stacks.promoting_stack_outputs()
    claude = outputs["images"]["claude"]
    source_tags = {
        platform: _name(manifest["tags"][0])
        for platform, manifest in {**claude["platforms"], INDEX: claude["index"]}.items()
    }

    promotions = {p.platform: p for p in plan_promotions(outputs, "prod") if p.harness == "claude"}

    assert set(promotions) == {"linux/amd64", "linux/arm64", INDEX}
    for platform, promotion in promotions.items():
        manifest = claude["index"] if platform == INDEX else claude["platforms"][platform]
        assert promotion.digest == manifest["digest"]
        assert promotion.source_tag == source_tags[platform]
        assert promotion.tag == "prod-" + source_tags[platform].removeprefix("dev-")
    assert promotions["linux/arm64"].tag.endswith("-arm64") and promotions["linux/amd64"].tag.endswith("-amd64")
    assert promotions["linux/arm64"].clankers == ("claude-arm",)
    assert promotions["linux/amd64"].clankers == ("claude-x86",)
    assert promotions[INDEX].clankers == ("claude-arm", "claude-x86")
    # A single-platform harness beside it is promoted as before.
    assert [(p.harness, p.clankers) for p in plan_promotions(outputs, "prod") if p.platform is None] == [
        (multi_platform_stacks.BESIDE["agent"], (multi_platform_stacks.BESIDE["name"],))
    ]


def test_a_multi_platform_promotion_puts_each_manifest_of_its_own_kind(tmp_path: Path):
    outputs = multi_platform_stacks.promoting_stack_outputs()
    assert _promote(tmp_path, outputs, _tagged) == 0


def test_a_platform_image_without_its_own_revision_tag_is_refused():
    outputs = multi_platform_stacks.promoting_stack_outputs()
    arm64 = outputs["images"]["claude"]["platforms"]["linux/arm64"]
    arm64["tags"] = [tag.replace(":dev-", ":qa-") for tag in arm64["tags"]]

    with pytest.raises(PromotionError, match="exactly one `dev-<revision>` tag"):
        plan_promotions(outputs, "prod")
