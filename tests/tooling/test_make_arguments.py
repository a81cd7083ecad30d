"""`make image` / `ensure` / `plan` as a user runs them, without a Docker engine: make variables reach the tools
as data (never as shell or make code), and a build that cannot run stops before anything is installed, made or
left behind (the stand-in bases' debootstrap, apt, /var/tmp), naming the fix."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOSTILE = ('x";touch {p};"', "x';touch {p};'", "x$(touch {p})", "x`touch {p}`", "$(shell touch {p})")


def make(tmp_path: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    """`make <arguments>` in the project with no engine: DOCKER_HOST at a socket nobody listens on, the engine
    script's state in the test's directory (so anything it would start or make shows there), no registry or AWS."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "VIBERATOR_", "DOCKER_", "MAKE")) and key != "SSL_CERT_FILE"
    }
    env |= {
        "DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock",
        "VIBERATOR_ENGINE_STATE": str(tmp_path / "engine-state"),
        "AWS_CONFIG_FILE": str(tmp_path / "no-aws"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-aws"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
    return subprocess.run(
        ["make", "--no-print-directory", "-C", str(REPO), *arguments],
        capture_output=True, text=True, env=env, timeout=300, check=False,
    )  # fmt: skip


def test_a_harness_name_is_data_not_shell(tmp_path: Path) -> None:
    marker = tmp_path / "p"
    # Every form at once (one make run): any of them interpreted would make the marker.
    ran = make(tmp_path, "image", "HARNESS=" + " ".join(hostile.format(p=marker) for hostile in HOSTILE))
    assert ran.returncode != 0
    assert "unknown harness" in ran.stderr
    assert not marker.exists(), "a make variable ran as a command"
    assert not (tmp_path / "engine-state").exists()


def test_every_option_of_ensure_and_plan_is_data(tmp_path: Path) -> None:
    marker = tmp_path / "p"
    hostile = f'x";touch {marker};"'
    options = ("VERSION", "REGISTRY", "ALIAS_TAG", "IMAGE_ENV", "CLANKER", "OUTPUTS")
    make(tmp_path, "ensure", "HARNESS=kimi", "OFFLINE=1", *(f"{name}={hostile}" for name in options))
    make(tmp_path, "plan", f"STACK={hostile}", f"FORMAT={hostile}")
    make(tmp_path, "run-job", f"CLANKER={hostile}", f"JOB={hostile}", f"STACK={hostile}")
    assert not marker.exists(), "a make variable ran as a command"


def test_without_an_engine_make_image_stops_before_making_anything(tmp_path: Path) -> None:
    """IMAGE_BASES=offline (the default) would debootstrap stand-in bases; with no engine it must not start."""
    ran = make(tmp_path, "image", "HARNESS=kimi")
    assert ran.returncode != 0
    assert ".ci/docker-engine.sh start" in ran.stderr
    assert "debootstrap" not in ran.stderr
    assert not (tmp_path / "engine-state").exists()


def test_make_refuses_to_push_stand_in_bases_off_this_machine(tmp_path: Path) -> None:
    ran = make(tmp_path, "image", "HARNESS=kimi", "PUSH=1", "REGISTRY=registry.example.com")
    assert ran.returncode != 0
    assert "refusing to push" in ran.stderr and "IMAGE_BASES=hub" in ran.stderr
    assert not (tmp_path / "engine-state").exists()


def test_an_unknown_image_bases_value_is_named(tmp_path: Path) -> None:
    ran = make(tmp_path, "image", "HARNESS=kimi", "IMAGE_BASES=dockerhub")
    assert ran.returncode != 0 and "IMAGE_BASES must be offline" in ran.stderr
