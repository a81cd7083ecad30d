"""Waiting for replication before a promoting stack's `up`, against a stubbed ECR client (botocore's model
validates every request and response) and the outputs the real program plans for a replicating image stack."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

import botocore.session
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ci import wait_for_replicas
from ci.script import EXIT_UNUSABLE
from ci.wait_for_replicas import EXIT_MISSING, Expected, expected_images, main, wait_for
from tests.conftest import sample_clankers
from tests.multi_region_stacks import WEST, image_stack_outputs, promoting_stack_file
from workers.catalog import stack_config_file

DEV_ACCOUNT = "123456789012"


@pytest.fixture(scope="module")
def replicated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """A us-west-2 prod stack file (the tests' own clankers: a Lambda and an ECS task) and the outputs of a dev that
    replicates to us-west-2."""
    folder = tmp_path_factory.mktemp("wait")
    return promoting_stack_file(folder, clankers=sample_clankers("prod")), image_stack_outputs(
        folder, [{"region": WEST}]
    )


def _client(region: str = WEST) -> Any:
    return botocore.session.get_session().create_client(
        "ecr", region_name=region, aws_access_key_id="testing", aws_secret_access_key="testing"
    )


def _expect(stubber: Stubber, image: Expected, *, present: bool) -> None:
    params = {
        "registryId": image.registry_id,
        "repositoryName": image.repository_name,
        "imageIds": [{"imageDigest": image.digest}],
    }
    if present:
        details = {
            "registryId": image.registry_id,
            "repositoryName": image.repository_name,
            "imageDigest": image.digest,
        }
        stubber.add_response("describe_images", {"imageDetails": [details]}, params)
    else:
        stubber.add_client_error("describe_images", "ImageNotFoundException", expected_params=params)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_the_stack_waits_for_the_west_copy_of_each_digest_its_clankers_run(
    replicated: tuple[Path, dict[str, Any]],
) -> None:
    stack_file, outputs = replicated
    images = expected_images(stack_file, outputs)
    assert [(i.harness, i.region, i.registry_id, i.repository_name) for i in images] == [
        ("claude-code-ecs", WEST, DEV_ACCOUNT, "viberator-worker-claude-code-ecs"),
        ("multi-agent", WEST, DEV_ACCOUNT, "viberator-worker-multi-agent"),
    ]
    assert [i.digest for i in images] == [outputs["images"][i.harness]["digest"] for i in images]


def test_a_stack_in_the_image_stacks_region_waits_for_nothing(tmp_path: Path) -> None:
    outputs = image_stack_outputs(tmp_path, [{"region": WEST}])
    assert expected_images(promoting_stack_file(tmp_path, region="us-east-1"), outputs) == []


def test_polls_until_every_digest_arrived(replicated: tuple[Path, dict[str, Any]]) -> None:
    first, second = expected_images(*replicated)
    client, clock = _client(), Clock()
    with Stubber(client) as stubber:
        _expect(stubber, first, present=False)
        _expect(stubber, second, present=True)
        _expect(stubber, first, present=True)  # the second poll asks only for what was missing
        assert (
            wait_for([first, second], lambda _region: client, timeout=60, interval=15, clock=clock, sleep=clock.sleep)
            == []
        )
        stubber.assert_no_pending_responses()
    assert clock.now == 15


def test_a_timeout_names_region_and_digest(
    replicated: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_file, outputs = replicated
    (_, image) = expected_images(stack_file, outputs)
    client = _client()
    monkeypatch.setattr(
        wait_for_replicas, "stack_config_file", functools.partial(stack_config_file, project_dir=stack_file.parent)
    )
    document = stack_file.parent / "dev-outputs.json"
    document.write_text(json.dumps(outputs))
    with Stubber(client) as stubber:
        _expect(stubber, expected_images(stack_file, outputs)[0], present=True)
        _expect(stubber, image, present=False)
        exit_code = main(["--stack", "prod", "--timeout", "0", str(document)], client_for=lambda _region: client)
    captured = capsys.readouterr()
    assert exit_code == EXIT_MISSING
    assert (
        f"multi-agent {image.digest} in {WEST} ({DEV_ACCOUNT}/viberator-worker-multi-agent) not present" in captured.err
    )
    assert "replication is asynchronous" in captured.err
    assert "present: claude-code-ecs" in captured.out


def test_a_registry_error_other_than_not_yet_is_not_waited_out(replicated: tuple[Path, dict[str, Any]]) -> None:
    image, _ = expected_images(*replicated)
    client = _client()
    with Stubber(client) as stubber:
        stubber.add_client_error("describe_images", "AccessDeniedException")
        with pytest.raises(ClientError):
            wait_for([image], lambda _region: client, timeout=60, interval=15)


def test_outputs_that_are_not_an_image_stacks_are_unusable(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = tmp_path / "outputs.json"
    document.write_text(json.dumps({"images": {}}))
    assert main(["--stack", "prod", str(document)]) == EXIT_UNUSABLE
    assert "don't hold what this stack runs" in capsys.readouterr().err
