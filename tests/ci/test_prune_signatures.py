"""The daily clean-up of signatures whose image is gone (ci/prune_signatures.py), against the dev plan's outputs and
a stubbed ECR client: the Stubber checks every call's parameters against ECR's own model."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest
import yaml
from botocore.stub import Stubber

from ci.prune_signatures import (
    DELETE_BATCH,
    EXIT_REGISTRY,
    Orphan,
    delete,
    main,
    orphans,
    repositories,
)
from ci.script import EXIT_UNUSABLE
from tests.conftest import committed_plan
from workers.catalog import WORKFLOWS_DIR
from workers.ecr_url import RepositoryUrl

LIVE = "sha256:" + "1" * 64
GONE = "sha256:" + "2" * 64
SIG_OF_LIVE = "sha256:" + "3" * 64
SIG_OF_GONE = "sha256:" + "4" * 64
SBOM = "sha256:" + "5" * 64


def _client() -> Any:
    return botocore.session.get_session().create_client(
        "ecr", region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def _detail(digest: str, *tags: str) -> dict[str, Any]:
    return {"imageDigest": digest, **({"imageTags": list(tags)} if tags else {})}


def _tag(digest: str, suffix: str) -> str:
    return digest.replace(":", "-") + suffix


@pytest.fixture
def outputs() -> dict[str, Any]:
    return copy.deepcopy(committed_plan("Pulumi.dev.yaml").outputs)


def test_only_a_signature_whose_image_is_gone_is_deleted_after_every_page_is_read(tmp_path: Path) -> None:
    repository = RepositoryUrl("123456789012", "us-east-1", "viberator-worker-claude")
    where = {"repositoryName": repository.name, "registryId": repository.account}
    client = _client()
    with Stubber(client) as stub:
        # The orphan's page comes before its subject's would: nothing is judged before the last page.
        stub.add_response(
            "describe_images",
            {"imageDetails": [_detail(SIG_OF_GONE, _tag(GONE, ".sig")), _detail(SBOM, _tag(LIVE, ".sbom"))],
             "nextToken": "page-2"},
            where,
        )  # fmt: skip
        stub.add_response(
            "describe_images",
            {"imageDetails": [_detail(LIVE, "dev-abc"), _detail(SIG_OF_LIVE, _tag(LIVE, ".sig"))]},
            {**where, "nextToken": "page-2"},
        )
        found = orphans(client, repository)
    assert [(o.signature_digest, o.subject) for o in found] == [(SIG_OF_GONE, GONE)]


def test_main_deletes_the_orphans_of_every_repository_by_their_digest(
    tmp_path: Path, outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(outputs))
    targets = repositories(outputs)
    assert len(targets) == len(outputs["images"])  # one repository a harness, all in us-east-1
    client = _client()
    with Stubber(client) as stub:
        for target in targets:
            where = {"repositoryName": target.name, "registryId": target.account}
            if target.name == "viberator-worker-claude":
                stub.add_response(
                    "describe_images", {"imageDetails": [_detail(SIG_OF_GONE, _tag(GONE, ".sig"))]}, where
                )
                stub.add_response(
                    "batch_delete_image",
                    {"imageIds": [{"imageDigest": SIG_OF_GONE}], "failures": []},
                    {**where, "imageIds": [{"imageDigest": SIG_OF_GONE}]},
                )
            else:
                stub.add_response("describe_images", {"imageDetails": [_detail(LIVE, "dev-abc")]}, where)
        assert main([str(path)], client_for=lambda region: client) == 0
        stub.assert_no_pending_responses()
    assert f"`viberator-worker-claude` (us-east-1): deleted the signature of `{GONE}`" in capsys.readouterr().out


def test_a_dry_run_deletes_nothing_and_a_failed_call_fails_the_run(
    tmp_path: Path, outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    outputs["images"] = {"claude": outputs["images"]["claude"]}
    path = tmp_path / "dev.json"
    path.write_text(json.dumps(outputs))
    where = {"repositoryName": "viberator-worker-claude", "registryId": "123456789012"}
    client = _client()
    with Stubber(client) as stub:
        stub.add_response("describe_images", {"imageDetails": [_detail(SIG_OF_GONE, _tag(GONE, ".sig"))]}, where)
        assert main([str(path), "--dry-run"], client_for=lambda region: client) == 0
    assert "would delete the signature of" in capsys.readouterr().out
    with Stubber(client) as stub:
        stub.add_client_error("describe_images", "AccessDeniedException", expected_params=where)
        assert main([str(path)], client_for=lambda region: client) == EXIT_REGISTRY
    assert "error: viberator-worker-claude (us-east-1)" in capsys.readouterr().err


def test_replica_regions_are_pruned_too_and_bad_outputs_are_unusable(tmp_path: Path, outputs: dict[str, Any]) -> None:
    regions = {r.region for r in repositories(outputs, ("us-west-2",))}
    assert regions == {"us-east-1", "us-west-2"}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"images": {}}))
    assert main([str(path)]) == EXIT_UNUSABLE


def test_deletes_go_in_batches_ecr_accepts() -> None:
    repository = RepositoryUrl("123456789012", "us-east-1", "viberator-worker-claude")
    where = {"repositoryName": repository.name, "registryId": repository.account}
    gone = [Orphan(repository, f"sha256:{i:064x}", f"sha256:{i + 1000:064x}") for i in range(DELETE_BATCH + 1)]
    client = _client()
    with Stubber(client) as stub:
        for batch in (gone[:DELETE_BATCH], gone[DELETE_BATCH:]):
            ids = [{"imageDigest": o.signature_digest} for o in batch]
            stub.add_response("batch_delete_image", {"imageIds": ids, "failures": []}, {**where, "imageIds": ids})
        assert delete(client, gone) == []
        stub.assert_no_pending_responses()


def test_a_daily_workflow_prunes_dev_s_repositories() -> None:
    workflow = yaml.safe_load((WORKFLOWS_DIR / "prune-signatures.yml").read_text())
    assert workflow[True]["schedule"]  # YAML 1.1 reads the key `on` as true
    (job,) = workflow["jobs"].values()
    script = job["steps"][-1]["run"]
    assert 'pulumi stack output --json --stack "$PULUMI_ORG/dev"' in script
    assert "python -m ci.prune_signatures" in script and "--dry-run" in script
