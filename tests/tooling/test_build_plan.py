"""What `build` asks the engine for: tags, references and docker build options, all without Docker."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.builders import REVISION
from workers.catalog import DOCKERFILE, HARNESS_NAMES
from workers.labels import BASES_LABEL, HARNESS_LABEL, REVISION_LABEL, SOURCE_DATE_EPOCH_LABEL
from workers.naming import image_tags, immutable_tag, index_hash, repository_name
from workers.tooling.build import (
    CA_SECRET_ID,
    BuildError,
    BuildRequest,
    build_options,
    own_tag,
    parse_build_args,
    plan,
    select_harnesses,
    step_summary,
)
from workers.tooling.platforms import Platform, parse_platforms
from workers.tooling.references import Registry

REGISTRY = Registry.parse("127.0.0.1:5000/ci")
NATIVE = Platform("linux", "amd64")
"""The engine's platform the plans are made for."""
IMMUTABLE = r"{env}-0123abcd4567-[0-9a-f]{{8}}"


def request(**overrides: Any) -> BuildRequest:
    return BuildRequest(**{"harnesses": ("kimi",), "revision": REVISION, **overrides})


def test_local_build_tags_what_the_pulumi_program_tags_plus_the_alias() -> None:
    [kimi] = plan(request(), NATIVE)
    expected = image_tags(own_tag(request(), "kimi", NATIVE), "dev", push_latest=False)
    assert re.fullmatch(IMMUTABLE.format(env="dev"), expected[0]) and expected[1:] == ["dev-latest"]
    assert kimi.tags == (*expected, "local")
    assert kimi.local_references == (
        *(f"{repository_name('kimi')}:{tag}" for tag in expected),
        "viberator-worker-kimi:local",
    )
    assert kimi.registry_references == ()
    assert kimi.image == f"viberator-worker-kimi:{expected[0]}"


def test_push_adds_registry_references_with_the_same_tags() -> None:
    pushed = request(push=True, registry=REGISTRY, push_latest=True, environment="prod")
    [kimi] = plan(pushed, NATIVE)
    immutable = own_tag(pushed, "kimi", NATIVE)
    assert re.fullmatch(IMMUTABLE.format(env="prod"), immutable)
    assert kimi.registry_references == (
        f"127.0.0.1:5000/ci/viberator-worker-kimi:{immutable}",
        "127.0.0.1:5000/ci/viberator-worker-kimi:prod-latest",
        "127.0.0.1:5000/ci/viberator-worker-kimi:latest",
    )
    assert kimi.image == kimi.registry_references[0]


def test_multi_platform_builds_keep_nothing_locally_and_tag_platform_images_by_the_programs_rule() -> None:
    platforms = parse_platforms("linux/amd64,linux/arm64")
    [kimi] = plan(request(push=True, registry=REGISTRY, platforms=platforms), NATIVE)
    assert kimi.local_references == ()
    assert "local" not in kimi.tags
    repository = "127.0.0.1:5000/ci/viberator-worker-kimi"
    [(amd64, amd64_image), (arm64, arm64_image)] = kimi.platform_references
    assert (amd64, arm64) == platforms
    # Each platform's image: `<env>-<revision>-<hash>-<arch>`, as the program tags each platform's Image.
    assert re.fullmatch(rf"{repository}:{IMMUTABLE.format(env='dev')}-amd64", amd64_image)
    assert re.fullmatch(rf"{repository}:{IMMUTABLE.format(env='dev')}-arm64", arm64_image)
    # The manifest list: `<env>-<revision>-<hash of its platforms' tags and floating tags>`, as the program's Index.
    sources = [image.split(":")[-1] for image in (amd64_image, arm64_image)]
    assert kimi.image == f"{repository}:{immutable_tag('dev', REVISION.revision, index_hash(sources, ['dev-latest']))}"


@pytest.mark.parametrize(
    ("overrides", "complaint"),
    [
        ({"push": True}, "--push needs --registry"),
        ({"platforms": parse_platforms("linux/amd64,linux/arm64")}, "manifest list"),
        ({"harnesses": ()}, "at least one harness"),
        ({"build_args": (("SOURCE_DATE_EPOCH", "0"),)}, "set by the tool"),
    ],
)
def test_requests_that_cannot_work_are_rejected_up_front(overrides: dict[str, Any], complaint: str) -> None:
    with pytest.raises(BuildError, match=re.escape(complaint)):
        request(**overrides)


def test_select_harnesses() -> None:
    assert select_harnesses([]) == select_harnesses(["all"]) == HARNESS_NAMES
    assert select_harnesses(["kimi", "claude", "kimi"]) == ("kimi", "claude")
    with pytest.raises(BuildError, match="unknown harness 'nope'"):
        select_harnesses(["nope"])
    with pytest.raises(BuildError, match="cannot be combined"):
        select_harnesses(["all", "kimi"])


def test_build_options_carry_target_labels_epoch_secret_and_tags(tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    options = build_options(
        request(ca_bundle=bundle, build_args=(("NODE_BASE", "local/node:22"),), bases="offline"),
        "kimi",
        Platform.parse("linux/arm64"),
        ("a:1", "b:2"),
    )
    pairs = list(zip(options[::2], options[1::2], strict=True))
    assert ("--file", str(DOCKERFILE)) in pairs
    assert ("--target", "kimi") in pairs
    assert ("--network", "host") in pairs
    assert ("--build-arg", "SOURCE_DATE_EPOCH=1700000000") in pairs
    labels = dict(value.split("=", 1) for flag, value in pairs if flag == "--label")
    assert labels == {
        REVISION_LABEL: "0123abcd4567",
        SOURCE_DATE_EPOCH_LABEL: "1700000000",
        HARNESS_LABEL: "kimi",
        BASES_LABEL: "offline",
    }
    assert ("--build-arg", "NODE_BASE=local/node:22") in pairs
    assert ("--platform", "linux/arm64") in pairs
    assert ("--secret", f"id={CA_SECRET_ID},src={bundle}") in pairs
    assert [value for flag, value in pairs if flag == "--tag"] == ["a:1", "b:2"]


def test_without_a_ca_bundle_or_platform_no_such_flags_are_passed() -> None:
    options = build_options(request(), "kimi", None, ("a:1",))
    assert "--secret" not in options and "--platform" not in options


def test_the_dockerfile_mounts_the_secret_id_the_tool_passes() -> None:
    assert f"--mount=type=secret,id={CA_SECRET_ID}" in DOCKERFILE.read_text()


def test_the_dockerfile_has_every_harness_target_and_leaves_the_per_build_labels_to_the_tool() -> None:
    text = DOCKERFILE.read_text()
    # A label the Dockerfile set too would be a second source; the build's `--label` would silently win.
    for label in (REVISION_LABEL, SOURCE_DATE_EPOCH_LABEL, HARNESS_LABEL):
        assert label not in text, label
    for name in HARNESS_NAMES:
        assert re.search(rf"^FROM \S+ AS {re.escape(name)}$", text, re.MULTILINE), name


def test_parse_build_args_accepts_make_style_lists() -> None:
    assert parse_build_args(["A=1 B=x=y", "C="]) == (("A", "1"), ("B", "x=y"), ("C", ""))
    with pytest.raises(BuildError, match="NAME=VALUE"):
        parse_build_args(["novalue"])


def test_step_summary_reads_buildkit_plain_progress() -> None:
    assert step_summary("#12 [kimi-payload 2/3] RUN apt-get update") == "[kimi-payload 2/3] RUN apt-get update"
    assert step_summary("#12 sha256:abc 1.2MB / 3MB") is None


def test_select_harnesses_takes_comma_separated_names_as_make_passes_them() -> None:
    assert select_harnesses(["kimi,claude", "codex gemini"]) == ("kimi", "claude", "codex", "gemini")
    with pytest.raises(BuildError, match="unknown harness"):
        select_harnesses(['x";touch p;"'])


@pytest.mark.parametrize("name", ["NODE_BASE", "NODE_BUILD_BASE", "SLIM_BASE", "ARCH_TAGGED_BASES"])
def test_a_base_build_arg_cannot_pass_for_the_official_bases(name: str) -> None:
    """The label says `official` only when nothing replaced the Dockerfile's pinned bases."""
    with pytest.raises(BuildError, match=f"{name} replaces the official bases: pass --bases offline"):
        request(build_args=((name, "x"),))
    assert request(build_args=((name, "x"),), bases="offline").bases == "offline"


@pytest.mark.parametrize(
    "host", ["registry.example.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "10.0.0.8:5000"]
)
def test_stand_in_bases_never_push_off_this_machine(host: str) -> None:
    with pytest.raises(BuildError, match=f"refusing to push to {re.escape(host)}.*IMAGE_BASES=hub"):
        request(push=True, registry=Registry.parse(host), bases="offline")
    # The official bases go anywhere.
    assert request(push=True, registry=Registry.parse(host)).push


@pytest.mark.parametrize("host", ["127.0.0.1:5000", "localhost:5000/ci", "[::1]:5000"])
def test_stand_in_bases_push_to_a_loopback_registry(host: str) -> None:
    assert request(push=True, registry=Registry.parse(host), bases="offline").push
