"""`run-job` on this machine's engine, without one: the Lambda emulator's failures said clearly, a docker
clanker's registry image verified even when the engine already holds it (one built here has nothing to verify),
and its network its config's, never the host's by default.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.tooling.engine_fakes import PresentImages
from tests.tooling.outputs_documents import docker_clanker, outputs_document
from viberator_contract import Clanker, DockerClankerEntry
from workers.tooling import run_job
from workers.tooling.run_job import JobRequest, RunJobError
from workers.tooling.run_job.local import _local_image, container_network
from workers.tooling.signature import SignatureRefused
from workers.tooling.stack_outputs import from_document


class ExitedEngine:
    """An engine whose emulator container exits at once, as when the image can't run the emulator."""

    def container_running(self, container: str) -> bool:
        return False

    def container_logs(self, container: str) -> str:
        return "exec format error"


def test_an_emulator_that_does_not_start_says_so_with_its_output() -> None:
    from workers.tooling.lambda_emulator import EmulatorError, _wait_for, free_port

    with pytest.raises(EmulatorError, match=r"did not start within 2 s on 127\.0\.0\.1:\d+; its output:\nexec format"):
        _wait_for(free_port(), "c0ffee", ExitedEngine(), timeout=2)  # type: ignore[arg-type]


def test_an_emulator_that_cannot_be_downloaded_fails_clearly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from workers.tooling import lambda_emulator

    monkeypatch.setenv(lambda_emulator.CACHE_ENV_VAR, str(tmp_path))
    monkeypatch.setattr(lambda_emulator, "_pip", lambda: ["false"])
    with pytest.raises(lambda_emulator.EmulatorError, match=r"could not download aws-sam-cli==1\.170\.0 from PyPI"):
        lambda_emulator.emulator_binary("amd64")
    with pytest.raises(lambda_emulator.EmulatorError, match="Lambda runs amd64 and arm64"):
        lambda_emulator.emulator_binary("s390x")


STACK_DIGEST = "123456789012.dkr.ecr.us-east-1.amazonaws.com/viberator-worker-kimi@sha256:" + "d" * 64


def docker_entry(**config: Any) -> Clanker:
    """A docker clanker of the stack outputs running STACK_DIGEST, as run-job reads it (the contract's models)."""
    outputs = outputs_document(**{"kimi-docker": docker_clanker(STACK_DIGEST, **config)})
    return from_document(outputs, "stack dev").clanker("kimi-docker")


def docker_request(verify: Any) -> JobRequest:
    return JobRequest("kimi-docker", docker_entry(), {}, placeholder=False, verify=verify)


def test_a_registry_digest_already_in_the_engine_is_still_verified() -> None:
    def refuse(reference: str) -> None:
        raise SignatureRefused(f"refusing {reference}: no valid signature by the expected key")

    engine = PresentImages((STACK_DIGEST,))
    with pytest.raises(RunJobError, match="no valid signature") as refused:
        _local_image(docker_request(refuse), STACK_DIGEST, engine, None, print)  # type: ignore[arg-type]
    assert refused.value.exit_code == run_job.EXIT_REFUSED
    verified: list[str] = []
    _local_image(docker_request(verified.append), STACK_DIGEST, engine, None, print)  # type: ignore[arg-type]
    assert verified == [STACK_DIGEST]


def test_an_image_built_here_has_no_registry_digest_to_verify() -> None:
    said: list[str] = []
    built = "viberator-worker-kimi:local"
    request = docker_request(run_job.REFUSE_UNVERIFIABLE)
    reference, _ = _local_image(request, built, PresentImages(()), None, said.append)  # type: ignore[arg-type]
    assert reference == built
    assert said == [f"{built} was built on this machine (no registry digest): not signature-checked"]


@pytest.mark.parametrize(
    ("config", "network", "fake_agent", "expected"),
    [
        ({}, None, False, "bridge"),  # outputs from before deploymentConfig.network
        ({"network": "bridge"}, None, False, "bridge"),
        ({"network": "host"}, None, False, "host"),  # the clanker's config opted in
        ({"network": "host"}, "none", False, "none"),
        ({"network": "host"}, None, True, "none"),
    ],
)
def test_a_docker_clanker_s_network_is_its_config_s_and_never_host_by_default(
    config: dict[str, str], network: str | None, fake_agent: bool, expected: str
) -> None:
    deployment = docker_entry(**config)
    assert isinstance(deployment, DockerClankerEntry)
    request = JobRequest("local", deployment, {}, placeholder=True, fake_agent=fake_agent, network=network)
    assert container_network(request, deployment.deployment_config) == expected
