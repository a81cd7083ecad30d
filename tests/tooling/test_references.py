"""Registry parsing, references and the `ensure --version` mapping: pure rules, no Docker."""

from __future__ import annotations

import pytest

from workers.naming import floating_tag, repository_name, revision_tag
from workers.tooling.references import (
    FLOATING_VERSION,
    InvalidReference,
    Registry,
    alias_reference,
    check_tag,
    version_tag,
)


@pytest.mark.parametrize(
    ("text", "host", "prefix"),
    [
        ("127.0.0.1:5000", "127.0.0.1:5000", ""),
        ("localhost:5000/team/ci", "localhost:5000", "team/ci"),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", ""),
        ("ghcr.io/viberator/", "ghcr.io", "viberator"),
        ("[::1]:5000", "[::1]:5000", ""),
    ],
)
def test_registry_parse_splits_host_and_prefix(text: str, host: str, prefix: str) -> None:
    registry = Registry.parse(text)
    assert (registry.host, registry.prefix) == (host, prefix)


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("myteam", "Docker Hub namespace"),
        ("https://127.0.0.1:5000", "without a scheme"),
        ("127.0.0.1:5000/Team", "path component 'Team'"),
        ("bad host:5000", "not a host name"),
    ],
)
def test_registry_parse_rejects_what_docker_would_misread(text: str, complaint: str) -> None:
    with pytest.raises(InvalidReference, match=complaint):
        Registry.parse(text)


@pytest.mark.parametrize(
    ("text", "loopback"),
    [
        ("127.0.0.1:5000", True),
        ("127.1.2.3", True),
        ("localhost:5000", True),
        ("[::1]:5000", True),
        ("10.0.0.1:5000", False),
        ("123456789012.dkr.ecr.eu-west-1.amazonaws.com", False),
    ],
)
def test_loopback_registries_are_recognised(text: str, loopback: bool) -> None:
    assert Registry.parse(text).is_loopback is loopback


def test_registry_reference_uses_the_shared_repository_name() -> None:
    registry = Registry.parse("127.0.0.1:5000/ci")
    assert registry.reference("kimi", "dev-abc") == f"127.0.0.1:5000/ci/{repository_name('kimi')}:dev-abc"


def test_alias_reference_defaults_to_the_local_tag() -> None:
    assert alias_reference("claude") == "viberator-worker-claude:local"
    assert alias_reference("claude", "mine") == "viberator-worker-claude:mine"
    with pytest.raises(InvalidReference, match="alias tag"):
        alias_reference("claude", "no/slash")


def test_dev_version_is_the_environments_floating_tag() -> None:
    assert version_tag("prod", FLOATING_VERSION) == floating_tag("prod") == "prod-latest"


def test_other_versions_are_immutable_tags_of_the_environment_as_build_prints_them() -> None:
    tag = version_tag("dev", "feedbeef0000-0a1b2c3d")
    assert tag == revision_tag("dev", "feedbeef0000-0a1b2c3d") == "dev-feedbeef0000-0a1b2c3d"


def test_bad_versions_fail_before_any_engine_call() -> None:
    with pytest.raises(InvalidReference, match="version 'a:b'"):
        version_tag("dev", "a:b")
    with pytest.raises(InvalidReference, match="at most 128"):
        check_tag("x" * 129)
