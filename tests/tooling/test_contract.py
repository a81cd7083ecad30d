"""The job-contract compatibility rule and where this checkout's own contract version comes from."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.catalog import DOCKERFILE
from workers.tooling.contract import CONTRACT_LABEL, check_contract, tool_contract


@pytest.mark.parametrize("image", ["1", "1.0", "1.7"])
def test_same_major_is_compatible(image: str) -> None:
    assert check_contract({CONTRACT_LABEL: image}, "1.2").compatible


def test_another_major_is_refused_with_both_versions_named() -> None:
    check = check_contract({CONTRACT_LABEL: "2"}, "1")
    assert not check.compatible
    assert "job contract 2" in check.reason and "contract 1" in check.reason


def test_an_unlabelled_image_is_refused() -> None:
    check = check_contract({}, "1")
    assert not check.compatible
    assert CONTRACT_LABEL in check.reason


def test_a_malformed_label_is_refused() -> None:
    assert "not MAJOR[.MINOR]" in check_contract({CONTRACT_LABEL: "v1"}, "1").reason


def test_tool_contract_is_the_dockerfiles_arg_default(tmp_path: Path) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM scratch\nARG JOB_CONTRACT=3.1\nARG JOB_CONTRACT\n")
    assert tool_contract(dockerfile) == "3.1"
    dockerfile.write_text("FROM scratch\nARG JOB_CONTRACT\n")
    with pytest.raises(ValueError, match="declares no"):
        tool_contract.__wrapped__(dockerfile)


def test_the_real_dockerfile_declares_a_contract_its_labels_use() -> None:
    text = DOCKERFILE.read_text()
    assert check_contract({CONTRACT_LABEL: tool_contract()}).compatible
    assert f"{CONTRACT_LABEL}=${{JOB_CONTRACT}}" in text
