"""`python -m workers ensure` (and `run-job`'s pull of a stack's digest) against the real engine and a registry
on 127.0.0.1 (real-build tier).

The images here are tiny (one file `FROM scratch`, labelled like a worker image), so these tests wait on
nothing but the engine. Each test uses its own alias tag and its own registry, so they neither disturb nor
depend on the worker images other tests build, and a failure leaves nothing behind that the next run trips
over. What they push is signed with a key skopeo generated (the image stack's KMS key in the cloud), and every
pull is checked against it (`--public-key`), as a pull from ECR is.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.tooling import aws_stubs
from tests.tooling.aws_stubs import ECR_HOST, StubbedAws
from tests.tooling.outputs_documents import docker_clanker, outputs_document, signing
from tests.tooling.realengine import HARNESS, LoopbackRegistry, Scratch, SigningKey, SilentRegistry, pull_attempts
from workers.catalog import PROJECT_DIR
from workers.labels import REVISION_LABEL
from workers.tooling import build, cli, run_job, signature, stack_outputs
from workers.tooling.contract import CONTRACT_LABEL, tool_contract
from workers.tooling.engine import Engine
from workers.tooling.ensure import EXIT_REFUSED, EnsureRequest, build_commands
from workers.tooling.references import Registry, current_revision
from workers.tooling.run_job.local import _local_image
from workers.tooling.signature import pinned

pytestmark = pytest.mark.images
isolated_aws = aws_stubs.isolated_aws  # pytest finds fixtures among a module's attributes


@dataclass(frozen=True)
class Tiny:
    reference: str
    image_id: str


def tiny_image(
    docker_engine: Engine, scratch: Scratch, tmp_path: Path, *, revision: str, contract: str | None = None
) -> Tiny:
    """A one-file image labelled like a worker image (FROM scratch: nothing to pull)."""
    context = tmp_path / f"context-{uuid.uuid4().hex[:6]}"
    context.mkdir()
    (context / "marker").write_text(uuid.uuid4().hex)
    (context / "Dockerfile").write_text(
        "FROM scratch\nCOPY marker /marker\n"
        f'LABEL {REVISION_LABEL}="{revision}" {CONTRACT_LABEL}="{contract or tool_contract()}"\n'
    )
    reference = scratch.track(f"tooling-test-image-{uuid.uuid4().hex[:8]}:built")
    subprocess.run(
        [docker_engine.binary, "build", "--quiet", "--tag", reference, str(context)],
        check=True,
        capture_output=True,
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
    )
    info = docker_engine.inspect(reference)
    assert info is not None
    return Tiny(reference, info.id)


def push(docker_engine: Engine, scratch: Scratch, image: Tiny, target: str, signed_by: SigningKey | None) -> str:
    """Pushes `image` as `target`, signs the pushed digest unless `signed_by` is None; returns that digest."""
    docker_engine.tag(image.reference, scratch.track(target))
    subprocess.run([docker_engine.binary, "push", target], check=True, capture_output=True)
    pushed = docker_engine.inspect(target)
    assert pushed is not None
    digest = pinned(target, pushed.repo_digests)
    if signed_by is not None:
        signed_by.sign(digest)
    # Only the registry keeps it: the pull under test must really fetch it.
    docker_engine.remove(target)
    return digest


def ensure(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m workers ensure kimi <args>` as a user runs it, VIBERATOR_REGISTRY unset."""
    return subprocess.run(
        [sys.executable, "-m", "workers", "ensure", HARNESS, *args],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "VIBERATOR_REGISTRY": ""},
    )


def default_remote(registry: LoopbackRegistry | SilentRegistry, engine: Engine) -> str:
    """What `ensure` without --version pulls: the tag this checkout's own build (default options) gives on `engine`."""
    own = build.own_tag(
        EnsureRequest(HARNESS).build_request(current_revision()), HARNESS, build.native_platform(engine)
    )
    return Registry.parse(registry.address).reference(HARNESS, own)


def test_local_alias_is_used_without_contacting_the_registry(
    docker_engine: Engine, tmp_path: Path, scratch: Scratch, silent_registry: SilentRegistry
) -> None:
    image = tiny_image(docker_engine, scratch, tmp_path, revision=current_revision().revision)
    alias = scratch.alias
    docker_engine.tag(image.reference, alias)

    run = ensure("--alias-tag", scratch.alias_tag, "--registry", silent_registry.address)

    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == alias
    assert "ready (local)" in run.stderr and "stale" not in run.stderr
    assert silent_registry.held == []  # nobody (the CLI, the engine's pull) connected to it


def test_missing_alias_is_pulled_from_the_registry_and_tagged(
    docker_engine: Engine, tmp_path: Path, scratch: Scratch, registry: LoopbackRegistry, signing_key: SigningKey
) -> None:
    image = tiny_image(docker_engine, scratch, tmp_path, revision=current_revision().revision)
    remote = default_remote(registry, docker_engine)
    digest = push(docker_engine, scratch, image, remote, signing_key)
    alias = scratch.alias
    key = ("--public-key", str(signing_key.public))

    run = ensure("--alias-tag", scratch.alias_tag, "--registry", registry.address, *key)

    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == alias
    assert f"{digest}: signature verified" in run.stderr
    assert f"pulled from {remote}" in run.stderr
    local = docker_engine.inspect(alias)
    assert local is not None and local.id == image.image_id

    again = ensure("--alias-tag", scratch.alias_tag, "--registry", registry.address, *key)
    assert again.returncode == 0 and "ready (local)" in again.stderr


def test_version_dev_pulls_the_floating_tag(
    docker_engine: Engine, tmp_path: Path, scratch: Scratch, registry: LoopbackRegistry, signing_key: SigningKey
) -> None:
    image = tiny_image(docker_engine, scratch, tmp_path, revision="0123abcd4567")
    push(docker_engine, scratch, image, registry.registry.reference(HARNESS, "dev-latest"), signing_key)

    run = ensure(
        *("--alias-tag", scratch.alias_tag, "--registry", registry.address, "--version", "dev"),
        *("--public-key", str(signing_key.public)),
    )

    assert run.returncode == 0, run.stderr
    assert f"pulled from {registry.address}/viberator-worker-{HARNESS}:dev-latest" in run.stderr


def test_a_version_the_registry_lacks_fails_naming_it(
    docker_engine: Engine, scratch: Scratch, registry: LoopbackRegistry
) -> None:
    run = ensure("--alias-tag", scratch.alias_tag, "--registry", registry.address, "--version", "feedbeef0000")

    assert run.returncode == 1
    assert f"{registry.address}/viberator-worker-{HARNESS}:dev-feedbeef0000: not found in the registry" in run.stderr
    assert docker_engine.inspect(scratch.alias) is None


def test_a_stopped_registry_fails_fast_with_the_build_command(
    docker_engine: Engine, scratch: Scratch, registry: LoopbackRegistry
) -> None:
    registry.stop()

    run = ensure("--alias-tag", scratch.alias_tag, "--registry", registry.address)

    assert run.returncode == 1
    # One pull, failed by the engine's own answer (a refused connection), before the answer deadline.
    assert pull_attempts(run.stderr) == [f"{default_remote(registry, docker_engine)}: registry unreachable"]
    assert "connection refused" in run.stderr and "no answer after" not in run.stderr
    make, direct = build_commands(HARNESS, scratch.alias_tag)
    assert make in run.stderr and direct in run.stderr


def test_a_registry_that_never_answers_is_given_up_on_at_the_answer_deadline(
    docker_engine: Engine, scratch: Scratch, silent_registry: SilentRegistry
) -> None:
    run = ensure("--alias-tag", scratch.alias_tag, "--registry", silent_registry.address)

    assert run.returncode == 1
    assert silent_registry.held  # the engine's pull did reach it, and heard nothing back
    # One pull, ended by ensure's own answer deadline (8 s by default: under the 10 s), not the engine's.
    assert pull_attempts(run.stderr) == [f"{default_remote(silent_registry, docker_engine)}: registry unreachable"]
    assert "no answer after 8 s" in run.stderr


def test_an_image_nowhere_prints_how_to_build_it(docker_engine: Engine, scratch: Scratch) -> None:
    run = ensure("--alias-tag", scratch.alias_tag, "--offline")

    assert run.returncode == 1
    alias = scratch.alias
    assert f"local alias {alias}: not present" in run.stderr
    assert "registry: not contacted (--offline)" in run.stderr
    make, direct = build_commands(HARNESS, scratch.alias_tag)
    assert make in run.stderr and direct in run.stderr


def test_two_concurrent_ensures_pull_once_and_both_succeed(
    docker_engine: Engine, tmp_path: Path, scratch: Scratch, registry: LoopbackRegistry, signing_key: SigningKey
) -> None:
    image = tiny_image(docker_engine, scratch, tmp_path, revision=current_revision().revision)
    push(docker_engine, scratch, image, default_remote(registry, docker_engine), signing_key)
    argv = [sys.executable, "-m", "workers", "ensure", HARNESS, "--alias-tag", scratch.alias_tag]
    argv += ["--registry", registry.address, "--public-key", str(signing_key.public)]

    processes = [
        subprocess.Popen(argv, cwd=PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]

    alias = scratch.alias
    assert [process.returncode for process in processes] == [0, 0], outputs
    assert [stdout.strip() for stdout, _ in outputs] == [alias, alias]
    origins = sorted("pulled from" in stderr for _, stderr in outputs)
    assert origins == [False, True], outputs


def test_a_stale_alias_is_reported(docker_engine: Engine, tmp_path: Path, scratch: Scratch) -> None:
    image = tiny_image(docker_engine, scratch, tmp_path, revision="0123abcd4567")
    docker_engine.tag(image.reference, scratch.alias)

    run = ensure("--alias-tag", scratch.alias_tag, "--offline")

    assert run.returncode == 0, run.stderr
    assert "is stale: it was built from revision 0123abcd4567" in run.stderr
    assert "--rebuild" in run.stderr


def test_an_image_with_another_job_contract_is_refused_and_not_aliased(
    docker_engine: Engine, tmp_path: Path, scratch: Scratch, registry: LoopbackRegistry, signing_key: SigningKey
) -> None:
    image = tiny_image(docker_engine, scratch, tmp_path, revision=current_revision().revision, contract="99")
    push(docker_engine, scratch, image, default_remote(registry, docker_engine), signing_key)

    run = ensure(
        "--alias-tag", scratch.alias_tag, "--registry", registry.address, "--public-key", str(signing_key.public)
    )

    assert run.returncode == EXIT_REFUSED
    assert "implements job contract 99" in run.stderr
    assert docker_engine.inspect(scratch.alias) is None


def test_an_unsigned_image_is_refused_and_not_aliased(
    docker_engine: Engine, tmp_path: Path, scratch: Scratch, registry: LoopbackRegistry, signing_key: SigningKey
) -> None:
    image = tiny_image(docker_engine, scratch, tmp_path, revision=current_revision().revision)
    digest = push(docker_engine, scratch, image, default_remote(registry, docker_engine), None)

    run = ensure(
        "--alias-tag", scratch.alias_tag, "--registry", registry.address, "--public-key", str(signing_key.public)
    )

    assert run.returncode == EXIT_REFUSED, run.stderr
    assert f"refusing {digest}: no valid signature by the expected key" in run.stderr
    assert "no signature exists" in run.stderr
    assert docker_engine.inspect(scratch.alias) is None


def test_run_job_refuses_an_unsigned_digest_of_the_stack_every_time(
    docker_engine: Engine,
    tmp_path: Path,
    scratch: Scratch,
    registry: LoopbackRegistry,
    signing_key: SigningKey,
    isolated_aws: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The stack's docker clanker pins an unsigned digest on ECR's host (the loopback registry stands in for it, as
    the contract takes only ECR's references): run-job pulls it and refuses to run it, every time. (Each run pulls:
    the engine names the pull by the stand-in's host); then, by that host's reference, the refused digest the engine
    now holds is verified again rather than trusted for being there."""
    image = tiny_image(docker_engine, scratch, tmp_path, revision=current_revision().revision)
    digest = push(docker_engine, scratch, image, default_remote(registry, docker_engine), None)
    docker_engine.remove(image.reference)  # its last tag: the first run must pull the digest
    scratch.track(digest)
    outputs = tmp_path / "outputs.json"
    clanker = docker_clanker(f"{ECR_HOST}/{digest.split('/', 1)[1]}", HARNESS)
    outputs.write_text(
        json.dumps(outputs_document(signing(signing_key.public.read_text()), **{"kimi-docker": clanker}))
    )
    argv = ["run-job", "kimi-docker", "--outputs", str(outputs), "--job", "examples/bootstrap/job.json", "--fake-agent"]

    for _ in range(2):
        aws = StubbedAws(host=registry.address)  # the stack names the account: no STS call
        aws.login("any")  # the loopback registry takes any login
        with contextlib.chdir(PROJECT_DIR):
            code = cli.main(argv, aws=aws)
        out, err = capsys.readouterr()
        assert code == EXIT_REFUSED, err
        assert f"pulling {digest}" in err
        assert f"refusing {digest}: no valid signature by the expected key" in err
        assert out == ""
        aws.assert_done()

    # Now in the engine (under the stand-in's host, which is what a stack on ECR's host names in production): asked
    # for by that reference, it is not pulled again, and it is still verified and refused.
    outputs_read = stack_outputs.from_file(outputs)
    request = run_job.JobRequest(
        "kimi-docker",
        outputs_read.clanker("kimi-docker"),
        {},
        placeholder=False,
        verify=signature.verifier(None, outputs_read.document.signing, outputs_read.source),
    )
    said: list[str] = []
    with pytest.raises(run_job.RunJobError, match="no valid signature by the expected key") as refused:
        _local_image(request, digest, docker_engine, None, said.append)
    assert refused.value.exit_code == run_job.EXIT_REFUSED
    assert docker_engine.inspect(digest) is not None and not [line for line in said if "pulling" in line], said
