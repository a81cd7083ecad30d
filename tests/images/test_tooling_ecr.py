"""`make image HARNESS=kimi PUSH=1` reaches ECR on its own, with stand-ins for AWS.

STS and ECR are botocore clients behind Stubbers (each request checked against the service model and the
expected parameters); ECR's registry host is docker-registry on 127.0.0.1 with htpasswd authentication of the
user AWS, the stubbed GetAuthorizationToken's token as its password. The CLI's `main()` runs in-process with
those clients and the arguments make passes (no `--registry`: AWS credentials make ECR the default). The
password must reach the engine only through the tooling's private Docker config: the user's config and the
engine know nothing of it before or after, and no Docker config holds it afterwards.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import shutil
import subprocess
import tempfile
import urllib.request
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from image_engine import base_options, built_tag

from tests.tooling import aws_stubs, realengine
from tests.tooling.aws_stubs import ACCOUNT, ECR_HOST, StubbedAws
from tests.tooling.outputs_documents import docker_clanker, outputs_document, signing
from tests.tooling.realengine import HARNESS, LoopbackRegistry, SigningKey
from workers.naming import image_tags
from workers.tooling import cli, signature
from workers.tooling.cli import build_command
from workers.tooling.engine import Engine
from workers.tooling.references import alias_reference

pytestmark = [pytest.mark.images, pytest.mark.usefixtures("isolated_aws")]  # nothing beyond 127.0.0.1

isolated_aws = aws_stubs.isolated_aws  # pytest finds fixtures among a module's attributes

REPOSITORY = f"viberator-worker-{HARNESS}"
MANIFEST_V2 = "application/vnd.docker.distribution.manifest.v2+json"


@dataclass(frozen=True)
class Ecr:
    """What a test pushes to and pulls from: the stand-in for ECR's registry host (htpasswd user AWS, a token as its
    password), the engine, the user's own Docker config and the environment whose tags the test makes."""

    engine: Engine
    registry: LoopbackRegistry
    user_docker: Path
    environment: str

    def secrets(self) -> tuple[str, str]:
        """The token ECR's GetAuthorizationToken gives, and the `AWS:<token>` basic auth a Docker config holds."""
        assert self.registry.password is not None
        return self.registry.password, base64.b64encode(f"AWS:{self.registry.password}".encode()).decode()

    def stand_in(self) -> StubbedAws:
        """AWS whose ECR registry is this one: STS names the account, ECR logs in with the registry's password."""
        aws = StubbedAws(host=self.registry.address)
        aws.caller()
        return aws

    def digest(self, tag: str) -> str:
        _, basic = self.secrets()
        request = urllib.request.Request(
            f"http://{self.registry.address}/v2/{REPOSITORY}/manifests/{tag}",
            method="HEAD",
            headers={"Accept": MANIFEST_V2, "Authorization": f"Basic {basic}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return str(response.headers["Docker-Content-Digest"])

    def assert_no_config_holds(self, *outputs: str) -> None:
        leftovers = list(Path(tempfile.gettempdir()).glob("viberator-docker-config-*"))
        assert leftovers == [], "the private Docker config outlived the command"
        configs = [*self.user_docker.rglob("*.json"), *(Path.home() / ".docker").glob("*.json")]
        for secret in self.secrets():
            assert not [path for path in configs if secret in path.read_text()], "a Docker config holds the token"
            assert not [text for text in outputs if secret in text], "the token was printed"

    def assert_engine_has_no_login(self, reference: str) -> None:
        """The engine, with the user's own config, is refused: it only ever had the password per call."""
        refused = subprocess.run([self.engine.binary, "pull", reference], capture_output=True, text=True, timeout=60)
        assert refused.returncode != 0 and "no basic auth credentials" in refused.stderr, refused.stderr

    def sign_as_the_deploy(self, key: SigningKey, reference: str, tmp_path: Path) -> None:
        """Signs `reference` through a login of the signer's own, removed afterwards (the deploy role's, in CI)."""
        _, basic = self.secrets()
        login = tmp_path / "signer-docker"
        login.mkdir()
        (login / "config.json").write_text(json.dumps({"auths": {self.registry.address: {"auth": basic}}}))
        try:
            key.sign(reference, signature.Skopeo(docker_config=lambda: login))
        finally:
            shutil.rmtree(login)


@pytest.fixture
def ecr(
    docker_engine: Engine,
    authenticated_registry: LoopbackRegistry,
    environment: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Ecr:
    """The user's own Docker config (with a login of theirs elsewhere) and a temp directory of the test's."""
    user_docker = tmp_path / "user-docker"
    user_docker.mkdir()
    (user_docker / "config.json").write_text(json.dumps({"auths": {"ghcr.io": {"auth": "dXNlcjpwYXNz"}}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(user_docker))
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    return Ecr(docker_engine, authenticated_registry, user_docker, environment)


def make_image_push(environment: str, *extra: str) -> list[str]:
    """What `make image HARNESS=kimi PUSH=1 IMAGE_ENV=<env>` runs (make/tooling.mk), REGISTRY unset."""
    return ["build", HARNESS, "--env", environment, "--alias-tag", environment, *extra, "--push"]


def test_make_image_kimi_push_logs_in_pushes_every_tag_and_leaves_no_credentials(
    ecr: Ecr, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    environment = ecr.environment
    bases = base_options()
    tags = image_tags(built_tag(make_image_push(environment, *bases)[1:], HARNESS), environment, push_latest=False)
    aws = ecr.stand_in()
    password, _ = ecr.secrets()
    aws.login(password)
    aws.repository(REPOSITORY)
    aws.tag_absent(REPOSITORY, tags[0])
    summary = tmp_path / "summary.md"

    code = cli.main(make_image_push(environment, *bases, "--summary", str(summary)), aws=aws)

    out, err = capsys.readouterr()
    assert code == cli.EXIT_OK, err[-3000:]
    assert f"(ECR of account {ACCOUNT} in us-east-1; no --registry given, AWS credentials found)" in err
    digests = {ecr.digest(tag) for tag in tags}
    assert len(digests) == 1 and digests.pop() in summary.read_text()
    aws.assert_done()
    ecr.assert_no_config_holds(out, err)
    remote = f"{ecr.registry.address}/{REPOSITORY}:{tags[0]}"
    ecr.engine.remove(remote)
    ecr.assert_engine_has_no_login(remote)


def test_ensure_from_stack_outputs_pulls_the_clanker_s_digest_through_the_login(
    ecr: Ecr,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    signing_key: SigningKey,
) -> None:
    """A tiny image pushed with a token that expires mid-command (renewed) and signed, then `ensure --outputs` of
    a stack whose clanker pins its digest on ECR's host and whose `signing` names the key: pulled through the
    stand-in, its signature checked through the same login, and made the local alias."""
    environment = ecr.environment
    context = realengine.tiny_context(tmp_path)
    build_request = build_command._build_request
    monkeypatch.setattr(
        build_command,
        "_build_request",
        lambda *args: dataclasses.replace(build_request(*args), context=context, dockerfile=context / "Dockerfile"),
    )
    # The tiny context's build (the patched request above), as the command line below makes it.
    tags = image_tags(built_tag(make_image_push(environment)[1:], HARNESS), environment, push_latest=False)
    aws = ecr.stand_in()
    password, _ = ecr.secrets()
    # The first token is stale by the time of the push (less than the push's timeout left), and wrong: only the
    # renewed one lets the push in.
    aws.login("stale-token", expires_in=timedelta(minutes=30))
    aws.repository(REPOSITORY)
    aws.tag_absent(REPOSITORY, tags[0])
    aws.login(password)
    pushed = cli.main(make_image_push(environment, "--registry", "ecr"), aws=aws)
    assert pushed == cli.EXIT_OK, capsys.readouterr().err[-3000:]
    capsys.readouterr()
    aws.assert_done()
    digest = ecr.digest(tags[0])
    on_host = f"{ecr.registry.address}/{REPOSITORY}@{digest}"
    ecr.sign_as_the_deploy(signing_key, on_host, tmp_path)

    alias = alias_reference(HARNESS, environment)
    for reference in (alias, *(f"{ecr.registry.address}/{REPOSITORY}:{tag}" for tag in tags)):
        ecr.engine.remove(reference)
    outputs = tmp_path / "outputs.json"
    pinned = f"{ECR_HOST}/{REPOSITORY}@{digest}"
    clankers = {"kimi-docker": docker_clanker(pinned, HARNESS)}
    outputs.write_text(json.dumps(outputs_document(signing(signing_key.public.read_text()), **clankers)))
    puller = StubbedAws(host=ecr.registry.address)  # the stack names the account: no STS call
    puller.login(password)

    code = cli.main(["ensure", HARNESS, "--alias-tag", environment, "--outputs", str(outputs)], aws=puller)

    out, err = capsys.readouterr()
    assert code == cli.EXIT_OK, err
    assert f"{on_host}: signature verified" in err
    assert f"pulled from {on_host}" in err and out.strip() == alias
    local = ecr.engine.inspect(alias)
    assert local is not None and on_host in local.repo_digests
    puller.assert_done()
    ecr.assert_no_config_holds(out, err)
