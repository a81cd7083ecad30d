"""The package set the committed lockfiles promise for an image (workers/image/locks/): what its SBOM must list.

Computed from the lockfiles alone, independently of the CycloneDX tools that wrote the image's SBOM fragments:
npm's lock entries that `npm ci` installs on linux/x64 with glibc (no dev packages; no optional ones where the
Dockerfile omits them; platform packages only for this platform), and the hashed requirements whose markers hold
for the image's Python.
"""

from __future__ import annotations

import json
import re

from packageurl import PackageURL
from packaging.markers import Marker
from packaging.utils import canonicalize_name

from workers.catalog import BUILD_CONTEXT

LOCKS = BUILD_CONTEXT / "locks"
OMIT_OPTIONAL = {"kimi"}
"""Agents the Dockerfile installs with `--omit=optional` (kimi's optional packages serve only its interactive UI)."""
PLATFORM = {"os": "linux", "cpu": "x64", "libc": "glibc"}
# The image's interpreter: Debian trixie's Python 3.13 on x86_64 Linux.
MARKER_ENVIRONMENT = {
    "python_version": "3.13",
    "python_full_version": "3.13.5",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "x86_64",
    "os_name": "posix",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
}
_REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)==(?P<version>[^\s;\\]+)\s*(?:;(?P<marker>[^\\]+))?")


def _matches(entry: dict[str, object], field: str) -> bool:
    allowed = entry.get(field)
    if not isinstance(allowed, list):
        return True
    excluded = {value[1:] for value in allowed if value.startswith("!")}
    included = {value for value in allowed if not value.startswith("!")}
    return PLATFORM[field] not in excluded and (not included or PLATFORM[field] in included)


def npm_packages(agent: str) -> set[str]:
    lock = json.loads((LOCKS / agent / "package-lock.json").read_text())
    found = set()
    for path, entry in lock["packages"].items():
        if not path or entry.get("dev"):
            continue
        if entry.get("optional") and (agent in OMIT_OPTIONAL or not all(_matches(entry, f) for f in PLATFORM)):
            continue
        name = entry.get("name") or path.rsplit("node_modules/", 1)[-1]
        namespace, _, bare = name.rpartition("/")
        found.add(PackageURL(type="npm", namespace=namespace or None, name=bare, version=entry["version"]).to_string())
    return found


def pypi_packages(name: str) -> set[str]:
    found = set()
    for line in (LOCKS / name / "requirements.txt").read_text().splitlines():
        match = _REQUIREMENT.match(line)
        if match and (match["marker"] is None or Marker(match["marker"]).evaluate(MARKER_ENVIRONMENT)):
            found.add(
                PackageURL(type="pypi", name=canonicalize_name(match["name"]), version=match["version"]).to_string()
            )
    return found


def locked_packages(fragment: str) -> set[str]:
    """The package URLs one SBOM fragment (an agent's npm tree, or a Python environment) must hold."""
    if (LOCKS / fragment / "package-lock.json").exists():
        return npm_packages(fragment)
    return pypi_packages(fragment)


def comparable(purls: set[str]) -> set[str]:
    """Package URLs without qualifiers, PyPI names PEP 503-normalised: the lock writes `jaraco-classes` where the
    installed distribution (and so cyclonedx-py) says `jaraco.classes`; both name one package."""
    out = set()
    for purl in purls:
        parsed = PackageURL.from_string(purl)
        name = canonicalize_name(parsed.name) if parsed.type == "pypi" else parsed.name
        out.add(PackageURL(type=parsed.type, namespace=parsed.namespace, name=name, version=parsed.version).to_string())
    return out


def fragments_of(agents: tuple[str, ...]) -> tuple[str, ...]:
    """The SBOM fragments an image with `agents` holds: one per agent CLI, and the worker runtime's venv."""
    return (*agents, "worker")
