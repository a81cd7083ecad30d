"""The prod job's digest check, against the committed stacks' plan outputs as the stack outputs it reads.

The approved set is what the dev job publishes from dev's outputs; "current" is dev's outputs when prod runs
(the same document, or one where a later deploy moved a digest), and prod's own outputs after its `up`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from ci import signed_annotations
from ci.signed_annotations import Expected, problem
from ci.verify_promotion import (
    EXIT_MISMATCH,
    EXIT_UNCHECKED,
    EXIT_UNSIGNED,
    EXIT_UNUSABLE,
    OUTPUT_NAME,
    PROJECT_DIR,
    image_digests,
    main,
)
from tests import multi_platform_stacks
from tests.ci.conftest import approved_manifest, signed_references
from tests.conftest import committed_config, pinned_dev_key
from workers.tooling import signature

LATER_DIGEST = "sha256:" + "f" * 64
COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _write(tmp_path: Path, document: object, name: str = "outputs.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def _published(tmp_path: Path, outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> str:
    """What the dev job writes to $GITHUB_OUTPUT, as the prod job receives it (the value after `digests=`)."""
    assert main(["digests", _write(tmp_path, outputs, "published.json")]) == 0
    key, _, value = capsys.readouterr().out.strip().partition("=")
    assert key == OUTPUT_NAME
    return value


def test_the_published_digests_are_every_image_of_the_stack(
    tmp_path: Path, dev_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    published = json.loads(_published(tmp_path, dev_outputs, capsys))

    assert published == {
        harness: approved_manifest(image)["digest"] for harness, image in dev_outputs["images"].items()
    }
    assert sorted(published) == sorted(committed_config("Pulumi.dev.yaml").harnesses)


def test_unchanged_image_stack_outputs_pass(
    tmp_path: Path, dev_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    approved = _published(tmp_path, dev_outputs, capsys)

    assert main(["check", "--approved", approved, _write(tmp_path, dev_outputs)]) == 0
    assert f"{len(dev_outputs['images'])} image digests match" in capsys.readouterr().out


def test_a_digest_moved_by_a_later_deploy_fails_naming_harness_and_both_digests(
    tmp_path: Path, dev_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    approved = _published(tmp_path, dev_outputs, capsys)
    moved = approved_manifest(dev_outputs["images"]["multi-agent"])
    before, moved["digest"] = moved["digest"], LATER_DIGEST

    assert main(["check", "--approved", approved, _write(tmp_path, dev_outputs)]) == EXIT_MISMATCH

    err = capsys.readouterr().err
    assert f"multi-agent: approved {before}, found {LATER_DIGEST}" in err
    assert "codex" not in err, "only the harness that moved is named"


def test_a_harness_added_or_removed_since_the_approval_fails(
    tmp_path: Path, dev_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    approved = _published(tmp_path, dev_outputs, capsys)
    removed = dev_outputs["images"].pop("kimi")

    assert main(["check", "--approved", approved, _write(tmp_path, dev_outputs)]) == EXIT_MISMATCH
    assert f"kimi: approved {approved_manifest(removed)['digest']}, found (none)" in capsys.readouterr().err


def test_prod_after_its_up_runs_only_approved_digests(
    tmp_path: Path, dev_outputs: dict[str, Any], prod_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]
):
    approved = _published(tmp_path, dev_outputs, capsys)
    assert main(["check", "--promoted", "--approved", approved, _write(tmp_path, prod_outputs, "prod.json")]) == 0

    # A promoting stack may take a subset (`viberator:images.harnesses`): each of its images was approved.
    del prod_outputs["images"]["kimi"]
    prod = _write(tmp_path, prod_outputs, "prod.json")
    assert main(["check", "--promoted", "--approved", approved, prod]) == 0
    assert main(["check", "--approved", approved, prod]) == EXIT_MISMATCH, "as an image stack it is incomplete"
    capsys.readouterr()

    approved_manifest(prod_outputs["images"]["claude-code-ecs"])["digest"] = LATER_DIGEST
    assert main(["check", "--promoted", "--approved", approved, _write(tmp_path, prod_outputs, "prod.json")]) == 1
    assert f"found {LATER_DIGEST}" in capsys.readouterr().err


@pytest.mark.parametrize("approved", ["", "{}", "not json", '["sha256:x"]', '{"claude": 1}'])
def test_nothing_or_garbage_approved_is_unusable_never_a_pass(
    tmp_path: Path, dev_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str], approved: str
):
    assert main(["check", "--approved", approved, _write(tmp_path, dev_outputs)]) == EXIT_UNUSABLE
    assert capsys.readouterr().err.startswith("error: ")


def test_outputs_without_images_or_digests_are_unusable(tmp_path: Path, dev_outputs: dict[str, Any]):
    assert main(["digests", _write(tmp_path, {"error": "no stack"})]) == EXIT_UNUSABLE
    assert main(["digests", str(tmp_path / "missing.json")]) == EXIT_UNUSABLE
    dev_outputs["images"]["claude"]["digest"] = ""
    with pytest.raises(ValueError, match="'claude' has no sha256 digest"):
        image_digests(dev_outputs)


def test_the_source_is_the_image_stack_prod_references(capsys: pytest.CaptureFixture[str]):
    assert main(["source", "--stack", "prod"]) == 0
    assert capsys.readouterr().out.strip() == "viberator/viberator-workers/dev"

    assert main(["source", "--stack", "dev"]) == EXIT_UNUSABLE
    assert "builds its own images" in capsys.readouterr().err


def _pinned_prod(tmp_path: Path, approved: dict[str, str], document: dict[str, Any] | None = None) -> Path:
    """A runner's copy of Pulumi.prod.yaml (or of `document`) after the deploy job's `pin` step."""
    from ci.verify_promotion import pin
    from offline_plan.engine import PROJECT_DIR

    copy = tmp_path / "Pulumi.prod.yaml"
    copy.write_text((PROJECT_DIR / "Pulumi.prod.yaml").read_text() if document is None else yaml.safe_dump(document))
    pin(copy, approved)
    return copy


def test_prod_up_runs_only_the_pinned_approved_digests(tmp_path: Path, dev_outputs: dict[str, Any]) -> None:
    """`pin` before `up`: the program itself refuses a digest nobody approved, before registering anything."""
    from components.config import ConfigError
    from offline_plan.stacks import plan_stack_file

    source = "viberator/viberator-workers/dev"
    approved = image_digests(dev_outputs)
    planned = plan_stack_file(_pinned_prod(tmp_path, approved), stack_outputs={source: dev_outputs})
    runs = {harness: approved_manifest(image)["digest"] for harness, image in planned.outputs["images"].items()}
    assert runs == {harness: approved[harness] for harness in runs}

    moved = json.loads(json.dumps(dev_outputs))
    approved_manifest(moved["images"]["multi-agent"])["digest"] = LATER_DIGEST
    with pytest.raises(ConfigError) as refused:
        plan_stack_file(_pinned_prod(tmp_path, approved), stack_outputs={source: moved})
    (issue,) = refused.value.issues
    assert issue.path == "viberator:images.digests.multi-agent" and issue.value == approved["multi-agent"]
    assert f"now exports {LATER_DIGEST}" in issue.message


def test_pin_refuses_a_stack_that_promotes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pin", "--stack", "dev", "--approved", json.dumps({"claude": LATER_DIGEST})]) == EXIT_UNUSABLE
    assert "promotes nothing" in capsys.readouterr().err


IMPOSTOR_KEY = b"-----BEGIN PUBLIC KEY-----\nimpostor\n-----END PUBLIC KEY-----\n"


class Signatures:
    """A registry's signatures as skopeo judges them: `{reference: key that signed it}`; `verify` raises what
    `signature.verify` raises for an unsigned digest and for one signed by another key."""

    def __init__(self) -> None:
        self.signed_by: dict[str, bytes] = {}
        self.checked: list[str] = []
        self.annotated: dict[str, dict[str, str]] = {}
        """{reference: the annotations of its valid signature}; a reference not here carries the expected ones."""
        self.expected: list[Expected] = []

    def annotations(self, reference: str, public_key_pem: bytes, expected: Expected) -> None:
        """ci.signed_annotations.check, over the annotations of the one valid signature."""
        self.expected.append(expected)
        found = self.annotated.get(reference, {"commit": expected.commit or COMMIT, "run": expected.run or "1"})
        why = problem([found], expected)
        if why is not None:
            raise signature.SignatureRefused(f"refusing {reference}: {why}")

    def verify(self, reference: str, public_key_pem: bytes) -> None:
        self.checked.append(reference)
        if reference not in self.signed_by:
            raise signature.SignatureRefused(f"refusing {reference}: no valid signature (no signature exists)")
        if self.signed_by[reference] != public_key_pem:
            raise signature.SignatureRefused(f"refusing {reference}: no valid signature (verification failed)")


@pytest.fixture
def signatures(monkeypatch: pytest.MonkeyPatch, dev_outputs: dict[str, Any]) -> Signatures:
    """Every digest of the dev outputs signed by dev's key (the one prod pins), as the deploy job leaves them."""
    registry = Signatures()
    key = pinned_dev_key()["publicKey"].encode()
    registry.signed_by = dict.fromkeys(signed_references(dev_outputs), key)
    monkeypatch.setattr(signature, "verify", registry.verify)
    monkeypatch.setattr(signed_annotations, "check", registry.annotations)
    return registry


def _reference(outputs: dict[str, Any], harness: str) -> str:
    """The reference of the harness's approved digest (its index's, for a multi-platform harness)."""
    image = outputs["images"][harness]
    return f"{image['repositoryUrl']}@{approved_manifest(image)['digest']}"


def test_approved_digests_signed_by_the_key_prod_pins_pass(
    tmp_path: Path, dev_outputs: dict[str, Any], signatures: Signatures, capsys: pytest.CaptureFixture[str]
) -> None:
    approved = _published(tmp_path, dev_outputs, capsys)

    assert main(["signatures", "--approved", approved, "--stack", "prod", _write(tmp_path, dev_outputs)]) == 0
    assert f"{len(dev_outputs['images'])} approved digests are signed by the pinned key" in capsys.readouterr().out
    # Each approved digest, and each platform's image a multi-platform harness's approved index joins.
    assert sorted(signatures.checked) == sorted(signed_references(dev_outputs))


def test_an_unsigned_approved_digest_fails_naming_its_harness(
    tmp_path: Path, dev_outputs: dict[str, Any], signatures: Signatures, capsys: pytest.CaptureFixture[str]
) -> None:
    approved = _published(tmp_path, dev_outputs, capsys)
    del signatures.signed_by[_reference(dev_outputs, "codex")]

    assert (
        main(["signatures", "--approved", approved, "--stack", "prod", _write(tmp_path, dev_outputs)]) == EXIT_UNSIGNED
    )
    err = capsys.readouterr().err
    assert f"  - codex: refusing {_reference(dev_outputs, 'codex')}: no valid signature" in err
    assert "kimi" not in err, "only the unsigned harness is named"


def test_a_digest_signed_by_another_key_fails_naming_its_harness(
    tmp_path: Path, dev_outputs: dict[str, Any], signatures: Signatures, capsys: pytest.CaptureFixture[str]
) -> None:
    approved = _published(tmp_path, dev_outputs, capsys)
    signatures.signed_by[_reference(dev_outputs, "kimi")] = IMPOSTOR_KEY

    assert (
        main(["signatures", "--approved", approved, "--stack", "prod", _write(tmp_path, dev_outputs)]) == EXIT_UNSIGNED
    )
    assert "  - kimi: refusing" in capsys.readouterr().err

    # --public-key replaces the pinned key: now only the impostor's signature is valid.
    impostor = tmp_path / "impostor.pub"
    impostor.write_bytes(IMPOSTOR_KEY)
    argv = ["signatures", "--approved", approved, "--public-key", str(impostor), _write(tmp_path, dev_outputs)]
    assert main(argv) == EXIT_UNSIGNED
    err = capsys.readouterr().err
    assert "  - kimi:" not in err and "  - codex: refusing" in err


def test_no_signing_key_is_unusable_and_an_undecided_check_is_not_a_pass(
    tmp_path: Path,
    dev_outputs: dict[str, Any],
    signatures: Signatures,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    approved = _published(tmp_path, dev_outputs, capsys)
    # dev promotes nothing, so it pins no key: nothing to verify with is never a pass.
    assert (
        main(["signatures", "--approved", approved, "--stack", "dev", _write(tmp_path, dev_outputs)]) == EXIT_UNUSABLE
    )
    assert "Pulumi.dev.yaml pins no signing key" in capsys.readouterr().err

    def unreachable(reference: str, public_key_pem: bytes) -> None:
        raise signature.VerifierFailed(f"could not check the signature of {reference}: connection refused")

    monkeypatch.setattr(signature, "verify", unreachable)
    assert (
        main(["signatures", "--approved", approved, "--stack", "prod", _write(tmp_path, dev_outputs)]) == EXIT_UNCHECKED
    )


def test_signatures_must_carry_this_runs_commit_and_run(
    tmp_path: Path, dev_outputs: dict[str, Any], signatures: Signatures, capsys: pytest.CaptureFixture[str]
) -> None:
    """A push's prod job checks that dev's deploy signed in this very run, at this commit (cosign -a)."""
    approved = _published(tmp_path, dev_outputs, capsys)
    outputs = _write(tmp_path, dev_outputs)
    argv = ["signatures", "--approved", approved, "--stack", "prod", "--run", "77", "--commit", COMMIT, outputs]
    assert main(argv) == 0
    assert set(signatures.expected) == {Expected(run="77", commit=COMMIT)}
    capsys.readouterr()

    signatures.annotated[_reference(dev_outputs, "codex")] = {"commit": COMMIT, "run": "76"}  # an older run's
    signatures.annotated[_reference(dev_outputs, "kimi")] = {}  # signed without annotations
    assert main(argv) == EXIT_UNSIGNED
    err = capsys.readouterr().err
    assert "  - codex: refusing" in err and "signed by run 76, not this run 77" in err
    assert "  - kimi: refusing" in err and "signed without a commit and a run" in err

    # A dispatch promotes an earlier run's digests: their commit must be in the checked-out history.
    assert main(["signatures", "--approved", approved, "--stack", "prod", "--in-history", outputs]) == EXIT_UNSIGNED
    assert signatures.expected[-1] == Expected(history=PROJECT_DIR)


def test_the_key_devs_outputs_name_verifies_nothing(
    tmp_path: Path, dev_outputs: dict[str, Any], signatures: Signatures, capsys: pytest.CaptureFixture[str]
) -> None:
    """Whoever writes dev's state names its own key and signs every digest with it: prod still refuses them all."""
    approved = _published(tmp_path, dev_outputs, capsys)
    forged = {**dev_outputs, "signing": {**dev_outputs["signing"], "publicKey": IMPOSTOR_KEY.decode()}}
    for reference in signatures.signed_by:
        signatures.signed_by[reference] = IMPOSTOR_KEY
    assert main(["signatures", "--approved", approved, "--stack", "prod", _write(tmp_path, forged)]) == EXIT_UNSIGNED
    assert capsys.readouterr().err.count(": refusing ") == len(signed_references(dev_outputs))
    with pytest.raises(SystemExit) as usage:  # a key must be named: the outputs' is never the default
        main(["signatures", "--approved", approved, _write(tmp_path, forged)])
    assert usage.value.code == 2 and "one of the arguments --stack --public-key is required" in capsys.readouterr().err


def test_pushed_lists_every_platform_s_image_and_with_indexes_each_index(
    tmp_path: Path, dev_outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    kimi = dev_outputs["images"]["kimi"]
    arm = "sha256:" + "a" * 64
    kimi["platforms"]["linux/arm64"] = {"digest": arm}
    kimi["index"] = {"digest": LATER_DIGEST}
    outputs = _write(tmp_path, dev_outputs)
    indexes = {f"{i['repositoryUrl']}@{i['index']['digest']}" for i in dev_outputs["images"].values() if i.get("index")}

    assert main(["pushed", outputs]) == 0
    images = capsys.readouterr().out.split()
    assert sorted(images) == sorted(set(signed_references(dev_outputs)) - indexes), "each platform's, kimi's arm64 too"
    assert f"{kimi['repositoryUrl']}@{kimi['digest']}" in images and f"{kimi['repositoryUrl']}@{arm}" in images
    assert main(["pushed", "--indexes", outputs]) == 0
    assert set(capsys.readouterr().out.split()) == {*images, *indexes}

    del dev_outputs["images"]["codex"]["digest"]
    assert main(["pushed", _write(tmp_path, dev_outputs)]) == EXIT_UNUSABLE


def test_a_multi_platform_harness_is_published_checked_and_pinned_as_its_index_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """claude on an arm64 Lambda and an x86_64 ECS task: the approval names the index, which commits to both."""
    from components.config import ConfigError
    from offline_plan.stacks import plan_stack_file

    dev = multi_platform_stacks.image_stack_outputs()
    claude = dev["images"]["claude"]
    published = json.loads(approved := _published(tmp_path, dev, capsys))
    assert published["claude"] == claude["index"]["digest"] != claude["digest"]
    assert published["kimi"] == dev["images"]["kimi"]["digest"], "a single-platform harness keeps its own digest"

    prod = _write(tmp_path, multi_platform_stacks.promoting_stack_outputs(), "prod.json")
    assert main(["check", "--promoted", "--approved", approved, prod]) == 0
    before = claude["index"]["digest"]
    claude["index"]["digest"] = LATER_DIGEST  # dev rebuilt claude since the approval (its primary may be the same)
    assert main(["check", "--approved", approved, _write(tmp_path, dev)]) == EXIT_MISMATCH
    assert f"claude: approved {before}, found {LATER_DIGEST}" in capsys.readouterr().err

    source = "viberator/viberator-workers/dev"
    with pytest.raises(ConfigError) as refused:
        pinned = _pinned_prod(tmp_path, published, multi_platform_stacks.promoting_stack_document())
        plan_stack_file(pinned, stack_outputs={source: dev})
    (issue,) = refused.value.issues
    assert issue.path == "viberator:images.digests.claude" and issue.value == before
    assert f"now exports {LATER_DIGEST} (its index)" in issue.message


def test_an_approved_index_needs_each_platform_image_it_joins_signed(
    tmp_path: Path, signatures: Signatures, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = multi_platform_stacks.image_stack_outputs()
    key = pinned_dev_key()["publicKey"].encode()
    claude = dev["images"]["claude"]
    for digest in [claude["index"]["digest"], *(m["digest"] for m in claude["platforms"].values())]:
        signatures.signed_by[f"{claude['repositoryUrl']}@{digest}"] = key
    for image in dev["images"].values():
        signatures.signed_by.setdefault(f"{image['repositoryUrl']}@{image['digest']}", key)
    approved = _published(tmp_path, dev, capsys)
    assert main(["signatures", "--approved", approved, "--stack", "prod", _write(tmp_path, dev)]) == 0
    capsys.readouterr()

    arm64 = f"{claude['repositoryUrl']}@{claude['platforms']['linux/arm64']['digest']}"
    del signatures.signed_by[arm64]
    assert main(["signatures", "--approved", approved, "--stack", "prod", _write(tmp_path, dev)]) == EXIT_UNSIGNED
    assert f"  - claude: refusing {arm64}: no valid signature" in capsys.readouterr().err
