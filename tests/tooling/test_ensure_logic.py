"""`ensure`'s decisions and messages against an in-memory engine; the real engine is in tests/images."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

from tests.builders import REVISION
from workers.labels import REVISION_LABEL
from workers.tooling.build import own_tag
from workers.tooling.contract import CONTRACT_LABEL, tool_contract
from workers.tooling.engine import ImageInfo, PullError, PullFailure, ServerInfo
from workers.tooling.ensure import (
    EXIT_REFUSED,
    EXIT_UNAVAILABLE,
    EnsureFailed,
    EnsureRequest,
    EnsureResult,
    Source,
    build_commands,
    ensure,
)
from workers.tooling.platforms import Platform
from workers.tooling.references import InvalidReference, Registry
from workers.tooling.signature import SignatureRefused, VerifierFailed

REGISTRY = Registry.parse("127.0.0.1:5000")
ALIAS = "viberator-worker-kimi:local"
ENGINE_PLATFORM = Platform("linux", "amd64")
"""The fake engine's (`FakeEngine.server`)."""
REMOTE = REGISTRY.reference("kimi", own_tag(EnsureRequest("kimi").build_request(REVISION), "kimi", ENGINE_PLATFORM))
"""This checkout's own build of kimi, as `build` tags it: what a pull without --version names."""
PULLED_DIGEST = "127.0.0.1:5000/viberator-worker-kimi@sha256:" + "2" * 64
"""What the engine records (RepoDigests) for any image pulled from the fake registry."""
LOCAL_BUILD_NOTE = f"{ALIAS} was built on this machine (no registry digest): not signature-checked"


def image(revision: str | None = REVISION.revision, contract: str | None = None) -> ImageInfo:
    labels = {CONTRACT_LABEL: contract or tool_contract()}
    if revision is not None:
        labels[REVISION_LABEL] = revision
    return ImageInfo(id="sha256:" + "1" * 64, labels=labels, size=1, repo_digests=(), platform="linux/amd64")


@dataclass
class FakeEngine:
    """Images by reference, a registry by reference, and a log of every mutating call."""

    images: dict[str, ImageInfo] = field(default_factory=dict)
    registry: dict[str, ImageInfo] = field(default_factory=dict)
    pull_failure: PullFailure | None = None
    calls: list[tuple[str, ...]] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)
    architecture: str = ENGINE_PLATFORM.architecture

    def server(self) -> ServerInfo:
        return ServerInfo("20.10", ENGINE_PLATFORM.os, self.architecture)

    def inspect(self, reference: str) -> ImageInfo | None:
        return self.images.get(reference)

    def pull(self, reference: str, *, silence_timeout: float, timeout: float) -> None:
        self.calls.append(("pull", reference))
        if self.pull_failure is not None:
            raise PullError(self.pull_failure, "Error response from daemon: something\n")
        if reference not in self.registry:
            raise PullError(PullFailure.NOT_FOUND, f"manifest for {reference} not found: manifest unknown")
        self.images[reference] = replace(self.registry[reference], repo_digests=(PULLED_DIGEST,))

    def tag(self, source: str, target: str) -> None:
        self.calls.append(("tag", source, target))
        self.images[target] = self.images[source]


def run(engine: FakeEngine, **overrides: Any) -> tuple[EnsureResult, list[str]]:
    said: list[str] = []
    fields: dict[str, Any] = {"harness": "kimi", "registry": REGISTRY, "verify": engine.verified.append, **overrides}

    def default_rebuild() -> None:
        engine.calls.append(("rebuild",))
        engine.images[ALIAS] = image()

    result = ensure(
        EnsureRequest(**fields),
        engine,
        revision=REVISION,
        rebuild=default_rebuild,
        say=said.append,
    )
    return result, said


@pytest.fixture(autouse=True)
def private_locks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lock files in the test's own directory, so a real `ensure` elsewhere on the machine never waits."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))


def test_a_current_local_alias_is_used_without_touching_the_registry() -> None:
    engine = FakeEngine(images={ALIAS: image()})
    result, said = run(engine)
    assert result.reference == ALIAS and result.source is Source.LOCAL
    assert engine.calls == [] and said == [LOCAL_BUILD_NOTE]


def test_a_missing_alias_is_pulled_at_this_checkouts_revision_and_tagged() -> None:
    engine = FakeEngine(registry={REMOTE: image()})
    result, _ = run(engine)
    assert engine.calls == [("pull", REMOTE), ("tag", REMOTE, ALIAS)]
    assert result.source is Source.PULLED and result.pulled_from == REMOTE
    # The digest the pull fetched is what is verified, before the alias names it.
    assert engine.verified == [PULLED_DIGEST]


@pytest.mark.parametrize(
    "change",
    [
        {"bases": "offline"},
        {"build_args": (("EXTRA", "1"),)},
        {"environment": "prod"},
    ],
    ids=["bases", "build-args", "environment"],
)
def test_the_pull_names_the_tag_this_checkouts_own_build_with_the_same_inputs_gives(change: dict[str, Any]) -> None:
    """What `build` with the same --env, --bases and --build-arg would tag (and a rebuild makes), not a tag of another
    build of the same revision."""
    own = own_tag(EnsureRequest("kimi", **change).build_request(REVISION), "kimi", ENGINE_PLATFORM)
    remote = REGISTRY.reference("kimi", own)
    assert remote != REMOTE
    engine = FakeEngine(registry={remote: image()})
    assert run(engine, **change)[0].pulled_from == remote


def test_an_engine_of_another_platform_pulls_its_own_platforms_build() -> None:
    arm64 = own_tag(EnsureRequest("kimi").build_request(REVISION), "kimi", Platform("linux", "arm64"))
    engine = FakeEngine(registry={REMOTE: image()}, architecture="arm64")
    with pytest.raises(EnsureFailed, match=arm64):
        run(engine)


@pytest.mark.parametrize(
    ("failure", "exit_code"),
    [
        (SignatureRefused("refusing it: no valid signature by the expected key"), EXIT_REFUSED),
        (VerifierFailed("could not check the signature: registry unreachable"), EXIT_UNAVAILABLE),
    ],
    ids=["refused", "undecided"],
)
def test_a_pulled_digest_without_a_valid_signature_never_becomes_the_alias(failure: Exception, exit_code: int) -> None:
    engine = FakeEngine(registry={REMOTE: image()})

    def verify(reference: str) -> None:
        raise failure

    with pytest.raises(EnsureFailed) as failed:
        run(engine, verify=verify)
    assert failed.value.exit_code == exit_code and str(failure) in str(failed.value)
    assert ("tag", REMOTE, ALIAS) not in engine.calls


def test_a_pull_without_a_verifier_is_refused() -> None:
    engine = FakeEngine(registry={REMOTE: image()})
    with pytest.raises(EnsureFailed, match="no signature verifier") as failed:
        run(engine, verify=None)
    assert failed.value.exit_code == EXIT_REFUSED and ("tag", REMOTE, ALIAS) not in engine.calls


def test_running_it_again_changes_nothing() -> None:
    engine = FakeEngine(registry={REMOTE: image()})
    run(engine)
    calls = list(engine.calls)
    result, _ = run(engine)
    assert engine.calls == calls and result.source is Source.LOCAL


def test_version_dev_pulls_the_floating_tag_and_notes_its_revision() -> None:
    floating = "127.0.0.1:5000/viberator-worker-kimi:dev-latest"
    engine = FakeEngine(registry={floating: image("older")})
    result, said = run(engine, version="dev")
    assert ("pull", floating) in engine.calls
    assert result.warnings == (f"{floating} was built from revision older; this checkout is at {REVISION.revision}",)
    assert said[-1] == f"note: {result.warnings[0]}"


def test_a_stale_alias_is_reported_and_still_used() -> None:
    engine = FakeEngine(images={ALIAS: image("feedbeef0000")})
    result, said = run(engine)
    assert result.source is Source.LOCAL
    assert "stale" in said[0] and "feedbeef0000" in said[0] and REVISION.revision in said[0]
    assert "--rebuild" in said[0]
    assert engine.calls == []


def test_an_alias_without_a_revision_label_is_stale() -> None:
    engine = FakeEngine(images={ALIAS: image(None)})
    _, said = run(engine)
    assert f"without a {REVISION_LABEL} label" in said[0]


def test_rebuild_replaces_a_stale_alias() -> None:
    engine = FakeEngine(images={ALIAS: image("feedbeef0000")})
    result, _ = run(engine, rebuild=True)
    assert result.source is Source.BUILT and engine.calls == [("rebuild",)]


def test_an_incompatible_local_alias_is_refused() -> None:
    engine = FakeEngine(images={ALIAS: image(contract="99")})
    with pytest.raises(EnsureFailed) as failed:
        run(engine)
    assert failed.value.exit_code == EXIT_REFUSED
    assert f"refusing {ALIAS}" in failed.value.message and "job contract 99" in failed.value.message


def test_an_incompatible_pulled_image_never_becomes_the_alias() -> None:
    engine = FakeEngine(registry={REMOTE: image(contract="99")})
    with pytest.raises(EnsureFailed) as failed:
        run(engine)
    assert failed.value.exit_code == EXIT_REFUSED
    assert ALIAS not in engine.images
    assert not any(call[0] == "tag" for call in engine.calls)


def test_missing_everywhere_names_each_attempt_and_the_build_command() -> None:
    engine = FakeEngine()
    with pytest.raises(EnsureFailed) as failed:
        run(engine)
    message = failed.value.message
    assert failed.value.exit_code == EXIT_UNAVAILABLE
    assert f"local alias {ALIAS}: not present" in message
    assert f"{REMOTE}: not found in the registry" in message
    assert "make image HARNESS=kimi" in message and "python -m workers build kimi" in message


def test_unreachable_registry_is_named_as_such() -> None:
    engine = FakeEngine(pull_failure=PullFailure.UNREACHABLE)
    with pytest.raises(EnsureFailed, match="registry unreachable"):
        run(engine)


def test_offline_never_pulls() -> None:
    engine = FakeEngine(registry={REMOTE: image()})
    with pytest.raises(EnsureFailed, match=r"not contacted \(--offline\)"):
        run(engine, offline=True)
    assert engine.calls == []


def test_no_registry_configured_says_where_to_configure_one() -> None:
    with pytest.raises(
        EnsureFailed, match=r"none configured \(--registry, \$VIBERATOR_REGISTRY, or AWS credentials for ECR\)"
    ):
        run(FakeEngine(), registry=None)


def test_a_requested_older_version_notes_what_a_local_build_would_give() -> None:
    with pytest.raises(EnsureFailed) as failed:
        run(FakeEngine(), version="feedbeef0000")
    assert "127.0.0.1:5000/viberator-worker-kimi:dev-feedbeef0000" in failed.value.message
    assert f"this checkout's revision {REVISION.revision}" in failed.value.message


def test_a_custom_alias_tag_is_carried_into_the_build_command() -> None:
    assert build_commands("kimi", "mine") == (
        "make image HARNESS=kimi ALIAS_TAG=mine",
        "python -m workers build kimi --alias-tag mine",
    )
    with pytest.raises(EnsureFailed, match="ALIAS_TAG=mine"):
        run(FakeEngine(), alias_tag="mine", offline=True)


class UnreachableEngine(FakeEngine):
    def server(self) -> ServerInfo:
        raise AssertionError("a request ensure refuses on its face reached the engine")


@pytest.mark.parametrize(
    ("field", "value"), [("alias_tag", "bad tag!"), ("version", "not a version!")], ids=["alias tag", "version"]
)
def test_a_bad_alias_tag_or_version_is_refused_before_any_engine_call(field: str, value: str) -> None:
    with pytest.raises(InvalidReference):
        run(UnreachableEngine(), **{field: value})
