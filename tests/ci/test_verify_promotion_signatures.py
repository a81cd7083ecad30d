"""The prod job's signature check (`ci/verify_promotion.py signatures`): every approved digest, and each
platform's image an approved index joins, signed by the key prod pins, by this run at this commit; an unsigned
digest, another key's or no key at all fails, naming the harness, and an undecided check is never a pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ci import signed_annotations
from ci.script import EXIT_UNUSABLE
from ci.signed_annotations import Expected, problem
from ci.verify_promotion import EXIT_UNCHECKED, EXIT_UNSIGNED, PROJECT_DIR, main
from tests import multi_platform_stacks
from tests.ci.conftest import approved_manifest, signed_references
from tests.ci.published_digests import _published, _write
from tests.conftest import pinned_dev_key
from workers.tooling import signature

COMMIT = "0123456789abcdef0123456789abcdef01234567"
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
