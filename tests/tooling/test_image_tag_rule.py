"""One immutable-tag rule for local and deployed images: `<env>-<revision>-<settings hash>[-<arch>]`
(workers/naming.py). A local build's tag hashes its own `docker build` inputs, so it is new whenever one of them
changes, as the Pulumi program's is whenever an Image input does; both compute it with the same functions."""

from __future__ import annotations

import dataclasses
import importlib
import re
from pathlib import Path
from typing import Any

import pytest

import components.harness_image
import components.image_build
from tests.builders import REVISION
from workers import naming
from workers.catalog import DOCKERFILE
from workers.tooling.build import BuildRequest, own_tag, plan
from workers.tooling.platforms import Platform

NATIVE = Platform("linux", "amd64")
BASE = BuildRequest(harnesses=("kimi",), revision=REVISION)
tooling_plan = importlib.import_module("workers.tooling.build.plan")
"""The module (the package's `plan` attribute is its function)."""


def tag(request: BuildRequest = BASE, harness: str = "kimi", native: Platform = NATIVE) -> str:
    return own_tag(request, harness, native)


def test_a_local_builds_immutable_tag_follows_the_rule() -> None:
    immutable = tag()
    assert re.fullmatch(rf"dev-0123abcd4567-[0-9a-f]{{{naming.SETTINGS_HASH_LENGTH}}}", immutable)
    settings = naming.hash_of(tooling_plan.build_settings(BASE, "kimi", NATIVE))
    assert immutable == naming.immutable_tag("dev", REVISION.revision, settings)
    # What the build tags and what `ensure` pulls are this one tag.
    assert plan(BASE, NATIVE)[0].tags[0] == immutable


def _context(root: Path, content: str) -> Path:
    root.mkdir()
    (root / "Dockerfile").write_bytes(DOCKERFILE.read_bytes())
    (root / "payload.txt").write_text(content)
    return root


@pytest.mark.parametrize(
    "change",
    [
        pytest.param({"environment": "prod"}, id="environment"),
        pytest.param({"revision": dataclasses.replace(REVISION, revision="feedbeef0000")}, id="revision"),
        pytest.param({"revision": dataclasses.replace(REVISION, source_date_epoch=1)}, id="source-date-epoch"),
        pytest.param({"platforms": (Platform("linux", "arm64"),)}, id="platform"),
        pytest.param({"build_args": (("EXTRA", "1"),)}, id="build-arg"),
        pytest.param({"bases": "offline"}, id="bases"),
    ],
)
def test_each_build_input_changes_the_tag(change: dict[str, Any]) -> None:
    assert tag(dataclasses.replace(BASE, **change)) != tag()


def test_the_harness_the_engines_platform_and_a_build_args_value_change_the_tag() -> None:
    assert tag(harness="claude") != tag()
    assert tag(native=Platform("linux", "arm64")) != tag()
    one, other = (dataclasses.replace(BASE, build_args=(("EXTRA", value),)) for value in ("1", "2"))
    assert tag(one) != tag(other)


def test_the_build_contexts_bytes_and_the_dockerfiles_change_the_tag(tmp_path: Path) -> None:
    first = _context(tmp_path / "first", "one")
    second = _context(tmp_path / "second", "two")
    same = _context(tmp_path / "same", "one")

    def in_context(context: Path, dockerfile: Path | None = None) -> str:
        return tag(dataclasses.replace(BASE, context=context, dockerfile=dockerfile or context / "Dockerfile"))

    assert in_context(first) == in_context(same), "the context is hashed by its contents, not its path"
    assert in_context(first) != in_context(second)
    edited = tmp_path / "Dockerfile.edited"
    edited.write_text(DOCKERFILE.read_text() + "\n# edited\n")
    assert in_context(first, edited) != in_context(first)


def test_what_is_not_a_build_input_leaves_the_tag_alone(tmp_path: Path) -> None:
    """The CA bundle (a secret mount, never in a layer), the alias, the registry and the floating tags; and the
    engine's platform named explicitly is the same build as the flag left out."""
    bundle = tmp_path / "ca.pem"
    bundle.write_text("not a real bundle")
    unchanged = [
        dataclasses.replace(BASE, ca_bundle=bundle),
        dataclasses.replace(BASE, alias_tag="mine", push_latest=True),
        dataclasses.replace(BASE, platforms=(NATIVE,)),
    ]
    assert {tag(request) for request in unchanged} == {tag()}


def test_the_stand_in_bases_names_are_recorded_as_the_bases_label_not_hashed() -> None:
    """`.ci/docker-engine.sh offline-bases` names them once the build runs; `ensure` must name the same tag."""
    offline = dataclasses.replace(BASE, bases="offline")
    named = dataclasses.replace(offline, build_args=(("NODE_BASE", "viberator-base/node:22-trixie-slim-amd64"),))
    assert tag(named) == tag(offline) != tag()
    assert set(tooling_plan.HASH_EXEMPT_BUILD_ARGS) == {
        "NODE_BASE",
        "NODE_BUILD_BASE",
        "SLIM_BASE",
        "ARCH_TAGGED_BASES",
    }


def test_the_program_and_the_tooling_tag_with_the_same_functions() -> None:
    """Not two copies of the rule: the program (components/) and the tooling (workers/tooling/build/plan.py) use
    `workers.naming`'s functions themselves."""
    assert components.image_build.hash_of is naming.hash_of
    assert tooling_plan.hash_of is naming.hash_of
    assert components.harness_image.immutable_tag is naming.immutable_tag is tooling_plan.immutable_tag
    assert components.harness_image.index_hash is naming.index_hash is tooling_plan.index_hash


def test_no_module_but_naming_defines_the_hash() -> None:
    root = Path(naming.__file__).parents[1]
    defining = sorted(
        str(path.relative_to(root))
        for folder in ("workers", "components", "ci", "offline_plan")
        for path in (root / folder).rglob("*.py")
        if re.search(r"^(def hash_of|SETTINGS_HASH_LENGTH =)", path.read_text(), re.MULTILINE)
    )
    assert defining == ["workers/naming.py"]
