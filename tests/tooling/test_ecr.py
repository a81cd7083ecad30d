"""ECR as the tooling reaches it (issue 22), against Stubber-backed STS and ECR: no engine, no AWS, no network.

The login against a real engine and an authenticated registry is in tests/images/test_tooling_ecr.py.
"""

from __future__ import annotations

import json
import stat
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import botocore.session
import pytest

from tests.tooling import aws_stubs
from tests.tooling.aws_stubs import ACCOUNT, ECR_HOST, REGION, StubbedAws, authorization
from workers.labels import REVISION_LABEL
from workers.revision import BuildRevision
from workers.tooling import cli, ecr
from workers.tooling.contract import CONTRACT_LABEL, tool_contract
from workers.tooling.engine import ImageInfo, ServerInfo
from workers.tooling.ensure import EnsureFailed, EnsureRequest, Source, ensure, stack_image
from workers.tooling.references import Registry
from workers.tooling.stack_outputs import StackOutputs

isolated_aws = aws_stubs.isolated_aws  # pytest finds fixtures among a module's attributes

DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64
IMAGE_ID = "sha256:" + "c" * 64
REPOSITORY = "viberator-worker-kimi"
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


@pytest.mark.parametrize(
    ("reference", "host"),
    [
        (f"{ECR_HOST}/{REPOSITORY}@{DIGEST}", ECR_HOST),
        (f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn/{REPOSITORY}:dev-latest", None),
    ],
)
def test_a_stack_s_image_names_its_registry(reference: str, host: str | None) -> None:
    located = ecr.stack_target(StubbedAws(host=host), reference)
    assert located is not None
    target, pulled = located
    assert (target.account, pulled) == (ACCOUNT, reference)
    assert ecr.stack_target(StubbedAws(), f"127.0.0.1:5000/{REPOSITORY}@{DIGEST}") is None


def test_a_stack_s_image_is_pulled_from_the_stand_in_host() -> None:
    located = ecr.stack_target(StubbedAws(host="127.0.0.1:5999"), f"{ECR_HOST}/{REPOSITORY}@{DIGEST}")
    assert located is not None
    assert located[1] == f"127.0.0.1:5999/{REPOSITORY}@{DIGEST}"


def outputs(**clankers: dict[str, object]) -> StackOutputs:
    return StackOutputs({"clankers": clankers}, "stack dev", placeholder=False)


PINNED = f"{ECR_HOST}/{REPOSITORY}@{DIGEST}"
FLOATING = f"{ECR_HOST}/{REPOSITORY}:dev-latest"


def test_stack_image_is_what_the_harness_s_clanker_runs() -> None:
    stack = outputs(
        a={"agent": "kimi", "target": "lambda", "deploymentConfig": {"imageUri": PINNED}},
        b={"agent": "claude", "target": "ecs", "deploymentConfig": {"containerImage": "elsewhere"}},
    )
    assert stack_image(stack, "kimi") == PINNED
    with pytest.raises(EnsureFailed, match="no clanker of stack dev runs codex"):
        stack_image(stack, "codex")
    with pytest.raises(EnsureFailed, match="'b' of stack dev runs claude, not kimi"):
        stack_image(stack, "kimi", "b")


def test_clankers_running_different_images_need_clanker() -> None:
    stack = outputs(
        a={"agent": "kimi", "target": "lambda", "deploymentConfig": {"imageUri": PINNED}},
        b={"agent": "kimi", "target": "ecs", "deploymentConfig": {"containerImage": FLOATING}},
    )
    with pytest.raises(EnsureFailed, match=r"different kimi images.*--clanker"):
        stack_image(stack, "kimi")
    assert stack_image(stack, "kimi", "b") == FLOATING


class Images:
    """An engine holding at most the alias, pulling whatever it is asked for."""

    def __init__(self, alias: ImageInfo | None) -> None:
        self.alias = alias
        self.pulled: list[str] = []

    def server(self) -> ServerInfo:
        return ServerInfo("20.10", "linux", "amd64")

    def inspect(self, reference: str) -> ImageInfo | None:
        if reference in self.pulled:
            return worker_image((reference,))
        return self.alias if reference == ALIAS else None

    def pull(self, reference: str, *, silence_timeout: float, timeout: float) -> None:
        self.pulled.append(reference)

    def tag(self, source: str, target: str) -> None:
        assert target == ALIAS
        self.alias = self.inspect(source)


ALIAS = "viberator-worker-kimi:local"
REVISION = BuildRevision(revision="0123abcd4567", source_date_epoch=0, origin="git")


def worker_image(repo_digests: tuple[str, ...]) -> ImageInfo:
    labels = {CONTRACT_LABEL: tool_contract(), REVISION_LABEL: REVISION.revision}
    return ImageInfo(IMAGE_ID, labels, 1, repo_digests, "linux/amd64")


def ensure_stack_image(images: Images, verified: list[str]) -> Source:
    request = EnsureRequest("kimi", registry=Registry(ECR_HOST), image=PINNED, verify=verified.append)
    return ensure(request, images, revision=REVISION, rebuild=lambda: None, say=lambda _: None).source


def test_the_alias_serves_a_stack_only_when_it_is_the_stack_s_image() -> None:
    verified: list[str] = []
    same = Images(worker_image((PINNED,)))
    assert ensure_stack_image(same, verified) is Source.LOCAL and same.pulled == [] and verified == []
    other = Images(worker_image((f"{ECR_HOST}/{REPOSITORY}@{OTHER}",)))
    assert ensure_stack_image(other, verified) is Source.PULLED and other.pulled == [PINNED]
    assert verified == [PINNED]
    assert other.alias is not None and PINNED in other.alias.repo_digests


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
def test_no_credentials_fail_within_seconds_without_a_call(
    argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cli, "Engine", lambda: AbsentAlias())  # ensure reaches the registry without an engine
    started = time.monotonic()
    assert cli.main(argv, aws=ecr.Aws(botocore.session.Session())) == cli.EXIT_FAILED
    assert time.monotonic() - started < 5
    assert ecr.NO_CREDENTIALS in capsys.readouterr().err


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
