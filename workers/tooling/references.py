"""Pure reference rules the tooling adds on top of `workers.naming`: registries, full references, versions.

`workers.naming` owns the tags and repository names; this module only combines them with a registry and maps
the `ensure --version` argument onto one of those tags. Nothing here talks to Docker.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from workers.catalog import BUILD_CONTEXT
from workers.naming import LOCAL_ALIAS_TAG, floating_tag, image_reference, repository_name, revision_tag
from workers.revision import BuildRevision, build_revision

DEFAULT_ENVIRONMENT = "dev"
"""The environment whose tags a developer builds and pulls unless told otherwise (the dev stack's)."""

FLOATING_VERSION = "dev"
"""`ensure --version dev` means "whatever was pushed last": the environment's floating tag."""

# Docker's own grammar for a tag; checked here so a bad --version fails before any engine call.
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
_HOST = re.compile(r"(\[[0-9A-Fa-f:]+\]|[A-Za-z0-9.-]+)(:[0-9]{1,5})?")
_PATH_COMPONENT = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*")


class InvalidReference(ValueError):
    """A registry, version or tag the engine would reject or misread; the message says which and why."""


@dataclass(frozen=True)
class Registry:
    """Where images are pushed and pulled: a host (with optional port) and an optional path prefix."""

    host: str
    """`123456789012.dkr.ecr.eu-west-1.amazonaws.com`, `127.0.0.1:5000`, `localhost:5000`."""
    prefix: str = ""
    """Path between host and repository name, e.g. `team` in `ghcr.io/team`; empty for ECR."""

    @classmethod
    def parse(cls, text: str) -> Registry:
        """`HOST[:PORT][/PREFIX]`, rejecting what Docker would silently read as a Docker Hub namespace."""
        value = text.strip().rstrip("/")
        if "://" in value:
            raise InvalidReference(f"registry {text!r}: give HOST[:PORT][/PREFIX] without a scheme")
        host, _, prefix = value.partition("/")
        if not _HOST.fullmatch(host):
            raise InvalidReference(f"registry {text!r}: {host!r} is not a host name or address")
        # Docker reads a first component without '.', ':' or 'localhost' as a Docker Hub user.
        if "." not in host and ":" not in host and host != "localhost":
            raise InvalidReference(
                f"registry {text!r}: {host!r} would be read as a Docker Hub namespace; "
                "give a registry host such as 127.0.0.1:5000 or <account>.dkr.ecr.<region>.amazonaws.com"
            )
        for component in filter(None, prefix.split("/")):
            if not _PATH_COMPONENT.fullmatch(component):
                raise InvalidReference(f"registry {text!r}: path component {component!r} is not valid")
        return cls(host=host, prefix=prefix)

    def __str__(self) -> str:
        return f"{self.host}/{self.prefix}" if self.prefix else self.host

    def resolve(self) -> Registry:
        """Itself: a registry given by host is known up front (see `workers.tooling.ensure.RegistrySource`)."""
        return self

    @property
    def is_loopback(self) -> bool:
        """True for registries on this machine, which Docker talks to over plain HTTP."""
        name = self.host
        if name.startswith("["):
            name = name[1 : name.index("]")]
        elif ":" in name:
            name = name.rsplit(":", 1)[0]
        if name == "localhost":
            return True
        try:
            return ipaddress.ip_address(name).is_loopback
        except ValueError:
            return False

    def repository(self, harness: str) -> str:
        return f"{self}/{repository_name(harness)}"

    def reference(self, harness: str, tag: str) -> str:
        return image_reference(self.repository(harness), tag)


def check_tag(tag: str, *, what: str = "tag") -> str:
    if not _TAG.fullmatch(tag):
        raise InvalidReference(f"{what} {tag!r} is not a valid image tag ([A-Za-z0-9_.-], at most 128)")
    return tag


def alias_reference(harness: str, alias_tag: str = LOCAL_ALIAS_TAG) -> str:
    """The local name the Docker-target invoker runs: `viberator-worker-<harness>:<alias>`."""
    return image_reference(repository_name(harness), check_tag(alias_tag, what="alias tag"))


def current_revision() -> BuildRevision:
    """The revision of the shared build context now: what a build would label, what `ensure` expects."""
    return build_revision(BUILD_CONTEXT)


def version_tag(environment: str, version: str) -> str:
    """The registry tag `ensure --version` pulls (without a version, `ensure` pulls the immutable tag this checkout's
    own build would give the image: workers/tooling/build/plan.py, `own_tag`).

    - `dev`: the environment's floating tag (`<env>-latest`);
    - anything else: an immutable tag without its `<env>-`, as `build` printed it (`<revision>-<settings hash>`).
    """
    if version == FLOATING_VERSION:
        tag = floating_tag(environment)
    else:
        tag = revision_tag(environment, check_tag(version, what="version"))
    return check_tag(tag)
