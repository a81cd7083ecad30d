"""`--platform` parsing and the QEMU binfmt check that turns `exec format error` into a clear message."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.tooling.platforms import Platform, PlatformError, missing_emulation, parse_platforms

ARM64 = Platform.parse("linux/arm64")
AMD64 = Platform.parse("linux/amd64")


def test_parse_keeps_order_and_variants() -> None:
    platforms = parse_platforms("linux/amd64, linux/arm/v7")
    assert [str(p) for p in platforms] == ["linux/amd64", "linux/arm/v7"]
    assert platforms[1].tag_suffix == "linux-arm-v7"
    assert parse_platforms(None) == parse_platforms("") == ()


@pytest.mark.parametrize(("text", "complaint"), [("arm64", "OS/ARCH"), ("linux/amd64,linux/amd64", "twice")])
def test_parse_rejects_bad_lists(text: str, complaint: str) -> None:
    with pytest.raises(PlatformError, match=complaint):
        parse_platforms(text)


def _handler(directory: Path, name: str, status: str) -> None:
    (directory / name).write_text(status)


def test_native_platform_needs_no_emulation(tmp_path: Path) -> None:
    assert missing_emulation((AMD64,), "amd64", tmp_path) == []


def test_foreign_platform_without_handler_is_reported(tmp_path: Path) -> None:
    [problem] = missing_emulation((AMD64, ARM64), "amd64", tmp_path)
    assert problem.startswith("linux/arm64:") and "qemu-aarch64" in problem


def test_handler_without_fix_binary_flag_is_reported(tmp_path: Path) -> None:
    _handler(tmp_path, "qemu-aarch64", "enabled\ninterpreter /usr/bin/qemu-aarch64\nflags: OC\n")
    [problem] = missing_emulation((ARM64,), "amd64", tmp_path)
    assert "F (fix binary)" in problem


def test_disabled_handler_is_reported(tmp_path: Path) -> None:
    _handler(tmp_path, "qemu-aarch64", "disabled\nflags: OCF\n")
    assert "disabled" in missing_emulation((ARM64,), "amd64", tmp_path)[0]


def test_enabled_fix_binary_handler_passes(tmp_path: Path) -> None:
    _handler(
        tmp_path,
        "qemu-aarch64",
        "enabled\ninterpreter /usr/libexec/qemu-binfmt/aarch64-binfmt-P\nflags: POCF\n",
    )
    assert missing_emulation((ARM64,), "amd64", tmp_path) == []
