"""ECR as the tooling reaches it (issue 22), against Stubber-backed STS and ECR (no engine, no AWS, no network):
where the registry is, the private login, the push guard, and the command line pushing there.

A stack's image in ECR (what `ensure` pulls) has tests/tooling/test_ecr_stack_images.py; the login against a real
engine and an authenticated registry is in tests/images/test_tooling_ecr.py.
"""

from __future__ import annotations

import json
import socket
import stat
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import botocore.session
import pytest

from tests.tooling import aws_stubs
from tests.tooling.aws_stubs import ACCOUNT, ECR_HOST, REGION, StubbedAws, authorization
from tests.tooling.ecr_fakes import DIGEST, IMAGE_ID, OTHER, REPOSITORY, Images
from workers.tooling import cli, ecr

isolated_aws = aws_stubs.isolated_aws  # pytest finds fixtures among a module's attributes
pytestmark = pytest.mark.usefixtures("isolated_aws")


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("us-east-1", f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"),
        ("cn-north-1", f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn"),
        ("us-gov-west-1", f"{ACCOUNT}.dkr.ecr.us-gov-west-1.amazonaws.com"),
    ],
)
def test_the_registry_host_is_in_the_region_s_partition(region: str, host: str) -> None:
    assert ecr.registry_host(ACCOUNT, region) == host


def test_the_region_is_aws_region_then_botocore_s(isolated_aws: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (isolated_aws / "config").write_text("[profile laptop]\nregion = eu-west-1\n")
    monkeypatch.setenv("AWS_PROFILE", "laptop")
    assert ecr.Aws().region() == "eu-west-1"
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    assert ecr.Aws().region() == "eu-central-1"
    monkeypatch.setenv("AWS_REGION", "cn-north-1")
    assert ecr.Aws().region() == "cn-north-1"


def test_locate_asks_sts_for_the_account() -> None:
    aws = StubbedAws(region="cn-northwest-1")
    aws.caller()
    target = ecr.locate(aws)
    assert target == ecr.EcrTarget(ACCOUNT, "cn-northwest-1", f"{ACCOUNT}.dkr.ecr.cn-northwest-1.amazonaws.com.cn")
    aws.assert_done()


def test_refused_credentials_name_the_call() -> None:
    aws = StubbedAws()
    aws.sts.add_client_error("get_caller_identity", service_error_code="ExpiredToken", service_message="expired")
    with pytest.raises(ecr.EcrError, match=r"sts:GetCallerIdentity failed.*ExpiredToken"):
        ecr.locate(aws)


@pytest.fixture
def user_config(tmp_path: Path) -> Path:
    """A user's Docker config with a context, proxies and credentials of their own."""
    directory = tmp_path / "user-docker"
    (directory / "contexts").mkdir(parents=True)
    (directory / "config.json").write_text(
        json.dumps(
            {
                "auths": {"ghcr.io": {"auth": "dXNlcjpwYXNz"}},
                "credsStore": "desktop",
                "credHelpers": {ECR_HOST: "ecr-login"},
                "currentContext": "colima",
                "proxies": {"default": {"httpsProxy": "http://127.0.0.1:3128"}},
            }
        )
    )
    return directory


class Clock:
    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now


def test_the_login_is_private_and_keeps_only_the_user_s_settings(user_config: Path) -> None:
    before = (user_config / "config.json").read_text()
    aws = StubbedAws()
    aws.login("token-1")
    login = ecr.DockerLogin(aws.clients["ecr"], ECR_HOST, margin=timedelta(hours=1), user_config=user_config)
    directory = login.directory()

    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert stat.S_IMODE((directory / "config.json").stat().st_mode) == 0o600
    document = json.loads((directory / "config.json").read_text())
    token = authorization("token-1")["authorizationData"][0]["authorizationToken"]
    assert document == {
        "auths": {ECR_HOST: {"auth": token}},
        "currentContext": "colima",
        "proxies": {"default": {"httpsProxy": "http://127.0.0.1:3128"}},
    }
    assert (directory / "contexts").resolve() == user_config / "contexts"
    login.close()
    assert not directory.exists()
    assert (user_config / "config.json").read_text() == before


def test_the_login_is_renewed_when_the_next_call_could_outlive_it(user_config: Path) -> None:
    aws = StubbedAws()
    aws.login("token-1", expires_in=timedelta(hours=12))
    aws.login("token-2", expires_in=timedelta(hours=12))
    clock = Clock()
    with ecr.DockerLogin(
        aws.clients["ecr"], ECR_HOST, margin=timedelta(hours=1), user_config=user_config, now=clock
    ) as login:
        login.directory()
        clock.now += timedelta(hours=10)
        login.directory()
        assert login.logins == 1
        clock.now += timedelta(hours=1, minutes=1)  # 59 minutes left, a call may take an hour
        document = json.loads((login.directory() / "config.json").read_text())
    assert login.logins == 2
    assert document["auths"][ECR_HOST]["auth"] == authorization("token-2")["authorizationData"][0]["authorizationToken"]
    aws.assert_done()


def guard(aws: StubbedAws) -> ecr.PushGuard:
    return ecr.PushGuard(aws.clients["ecr"], ecr.EcrTarget(ACCOUNT, REGION, ECR_HOST), "dev")


def test_a_missing_repository_names_the_stack_that_creates_it() -> None:
    aws = StubbedAws()
    aws.repository(REPOSITORY)
    aws.repository("viberator-worker-claude", exists=False)
    with pytest.raises(ecr.EcrError) as refused:
        guard(aws).check_repositories(["kimi", "claude"])
    message = str(refused.value)
    assert "viberator-worker-claude does not exist in account 123456789012" in message
    assert "`make up STACK=dev`" in message and "kimi" not in message
    aws.assert_done()


def existing(aws: StubbedAws, tag: str, digest: str, config: str) -> None:
    manifest = json.dumps({"schemaVersion": 2, "config": {"digest": config}, "layers": []})
    aws.ecr.add_response(
        "batch_get_image",
        {
            "images": [
                {
                    "imageId": {"imageDigest": digest, **({"imageTag": tag} if tag else {})},
                    "imageManifest": manifest,
                    "imageManifestMediaType": ecr.MANIFEST_MEDIA_TYPES[0],
                }
            ]
        },
        {
            "registryId": ACCOUNT,
            "repositoryName": REPOSITORY,
            "imageIds": [{"imageTag": tag} if tag else {"imageDigest": digest}],
            "acceptedMediaTypes": ecr.MANIFEST_MEDIA_TYPES,
        },
    )


def test_an_immutable_tag_holding_another_image_is_never_moved() -> None:
    aws = StubbedAws()
    existing(aws, "dev-0123abcd4567", OTHER, "sha256:" + "d" * 64)
    with pytest.raises(ecr.EcrError) as refused:
        guard(aws).held("kimi", ["dev-0123abcd4567", "dev-latest"], IMAGE_ID)
    message = str(refused.value)
    assert OTHER in message and IMAGE_ID in message and "refusing to move it" in message
    aws.assert_done()  # dev-latest floats: never looked up


def test_free_and_already_held_tags() -> None:
    aws = StubbedAws()
    aws.tag_absent(REPOSITORY, "dev-0123abcd4567")
    assert guard(aws).held("kimi", ["dev-0123abcd4567", "dev-latest"], IMAGE_ID) is None
    existing(aws, "dev-0123abcd4567", DIGEST, IMAGE_ID)
    assert guard(aws).held("kimi", ["dev-0123abcd4567", "dev-latest"], IMAGE_ID) == DIGEST
    aws.assert_done()


def test_floating_tags_are_pointed_at_the_held_manifest() -> None:
    aws = StubbedAws()
    existing(aws, "", DIGEST, IMAGE_ID)
    manifest = json.dumps({"schemaVersion": 2, "config": {"digest": IMAGE_ID}, "layers": []})
    where = {"registryId": ACCOUNT, "repositoryName": REPOSITORY, "imageManifest": manifest}
    media = {"imageManifestMediaType": ecr.MANIFEST_MEDIA_TYPES[0], "imageDigest": DIGEST}
    aws.ecr.add_response("put_image", {"image": {}}, {**where, **media, "imageTag": "dev-latest"})
    aws.ecr.add_client_error(
        "put_image", "ImageAlreadyExistsException", expected_params={**where, **media, "imageTag": "latest"}
    )
    guard(aws).point("kimi", ["dev-0123abcd4567", "dev-latest", "latest"], DIGEST)
    aws.assert_done()


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system temp directory the private Docker configs are made in, the test's own."""
    directory = tmp_path / "tmp"
    directory.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(directory))
    return directory


def test_a_missing_repository_stops_the_push_before_any_build(
    temp_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VIBERATOR_REGISTRY", "ecr")
    aws = StubbedAws()
    aws.caller()
    aws.login("sekrit-token")
    aws.repository(REPOSITORY, exists=False)

    assert cli.main(["build", "kimi", "--push"], aws=aws) == cli.EXIT_FAILED

    err = capsys.readouterr().err
    assert f"registry: {ECR_HOST} (ECR of account {ACCOUNT} in {REGION}; logged in)" in err
    assert "viberator-worker-kimi does not exist" in err and "`make up STACK=dev`" in err
    assert (
        "sekrit-token" not in err
        and authorization("sekrit-token")["authorizationData"][0]["authorizationToken"] not in err
    )
    assert list(temp_dir.iterdir()) == []  # the private config is gone
    aws.assert_done()


def test_ecr_is_the_default_when_credentials_are_found(
    temp_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIBERATOR_REGISTRY", raising=False)
    aws = StubbedAws()
    aws.caller()
    aws.login("token")
    aws.repository(REPOSITORY, exists=False)
    assert cli.main(["build", "kimi", "--push"], aws=aws) == cli.EXIT_FAILED
    assert "no --registry given, AWS credentials found" in capsys.readouterr().err
    aws.assert_done()


@pytest.mark.parametrize(
    "argv", [["build", "kimi", "--push", "--registry", "ecr"], ["ensure", "kimi", "--registry", "ecr"]]
)
def test_no_credentials_fail_without_a_call(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """No AWS call, no credential endpoint, no name lookup: nothing that could wait on a network (the instance
    metadata service, an SSO portal, STS with retries) before the user is told what to give."""
    monkeypatch.setattr(cli, "Engine", lambda: AbsentAlias())  # ensure reaches the registry without an engine
    reached = reaches(monkeypatch)
    session = botocore.session.Session()
    session.register("before-send", lambda request, **_: reached.append(request.url))
    assert cli.main(argv, aws=ecr.Aws(session)) == cli.EXIT_FAILED
    assert reached == []
    assert ecr.NO_CREDENTIALS in capsys.readouterr().err


def reaches(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every address a socket of this process connects to, and every name it looks up, from now on (through
    isolated_aws's loopback guard, which still refuses anything else)."""
    reached: list[object] = []
    connect, lookup = socket.socket.connect, socket.getaddrinfo

    def recorded_connect(self: socket.socket, address: Any) -> Any:
        reached.append(address)
        return connect(self, address)

    def recorded_lookup(host: Any, *args: Any, **kwargs: Any) -> Any:
        reached.append(host)
        return lookup(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", recorded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", recorded_lookup)
    return reached


def test_without_credentials_nor_registry_a_push_says_what_to_give(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VIBERATOR_REGISTRY", raising=False)
    assert cli.main(["build", "kimi", "--push"]) == cli.EXIT_USAGE
    assert "--push needs --registry HOST[/PREFIX] or ecr" in capsys.readouterr().err


class AbsentAlias(Images):
    """An Engine stand-in for the CLI: no alias, and no registry login to take."""

    registry_config = None

    def __init__(self) -> None:
        super().__init__(None)

    def docker_config(self) -> None:
        return None
