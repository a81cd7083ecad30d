"""The SBOM document of a worker image (CycloneDX 1.6 JSON), made offline from what the build left in it: the
payloads' fragments under SBOM_DIR and the Debian packages of its dpkg status, joined under one container
component (`assemble`) and checked against the CycloneDX schema (`validate`). Attaching it is `referrer`'s.
"""

from __future__ import annotations

import email.parser
import io
import json
import subprocess
import tarfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workers.tooling.engine import docker_binary

SBOM_DIR = "/usr/share/viberator/sbom"
"""Where each payload stage leaves its fragment (`<name>.cdx.json`); the Dockerfile writes the same path."""
DPKG_STATUS = "/var/lib/dpkg/status"
OS_RELEASE = "/etc/os-release"
SPEC_VERSION = "1.6"
IMAGE_REF = "image"
"""bom-ref of the image itself: the SBOM's metadata.component."""


class SbomError(RuntimeError):
    pass


@dataclass(frozen=True)
class ImageFiles:
    fragments: dict[str, dict[str, Any]]
    """`{payload name: CycloneDX document}` from SBOM_DIR."""
    dpkg_status: str
    os_release: dict[str, str]


def _copy_out(docker: str, container: str, path: str) -> tarfile.TarFile:
    copied = subprocess.run(
        [docker, "cp", "--follow-link", f"{container}:{path}", "-"], capture_output=True, timeout=120
    )
    if copied.returncode != 0:
        raise SbomError(f"the image has no {path}: {copied.stderr.decode(errors='replace').strip()}")
    return tarfile.open(fileobj=io.BytesIO(copied.stdout))


def _text(archive: tarfile.TarFile, member: tarfile.TarInfo) -> str:
    extracted = archive.extractfile(member)
    assert extracted is not None, member.name
    return extracted.read().decode()


def read_image(image: str, docker: str | None = None) -> ImageFiles:
    """The SBOM inputs the build left in `image`, read from a created (never started) container: no network."""
    docker = docker or docker_binary()
    container = subprocess.run(
        [docker, "create", image], check=True, capture_output=True, text=True, timeout=60
    ).stdout.strip()
    try:
        with _copy_out(docker, container, SBOM_DIR) as archive:
            fragments = {
                Path(m.name).name.removesuffix(".cdx.json"): json.loads(_text(archive, m))
                for m in archive.getmembers()
                if m.isfile() and m.name.endswith(".cdx.json")
            }
        with _copy_out(docker, container, DPKG_STATUS) as archive:
            status = _text(archive, next(m for m in archive.getmembers() if m.isfile()))
        # os-release is a symlink (to ../usr/lib/os-release): `cp -L` follows it.
        with _copy_out(docker, container, OS_RELEASE) as archive:
            release = _text(archive, next(m for m in archive.getmembers() if m.isfile()))
    finally:
        subprocess.run([docker, "rm", container], capture_output=True, timeout=60)
    if not fragments:
        raise SbomError(f"{image} has no SBOM fragments under {SBOM_DIR}: was it built from this Dockerfile?")
    return ImageFiles(fragments, status, _os_release(release))


def _os_release(text: str) -> dict[str, str]:
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line and not line.startswith("#"))
    return {key: value.strip().strip('"') for key, value in pairs}


def debian_packages(status: str) -> list[dict[str, str]]:
    """The installed packages of a dpkg status file (deb822 stanzas; continuation lines are RFC 822's)."""
    parser = email.parser.HeaderParser()
    packages = []
    for stanza in status.split("\n\n"):
        if not stanza.strip():
            continue
        fields = parser.parsestr(stanza)
        if (fields.get("Status") or "").split()[-1:] == ["installed"]:
            packages.append({k: str(fields[k]) for k in ("Package", "Version", "Architecture") if fields[k]})
    return sorted(packages, key=lambda p: p["Package"])


def _deb_component(package: Mapping[str, str], distro: str) -> dict[str, Any]:
    from packageurl import PackageURL

    purl = PackageURL(
        type="deb",
        namespace="debian",
        name=package["Package"],
        version=package["Version"],
        qualifiers={"arch": package["Architecture"], "distro": distro},
    ).to_string()
    return {"type": "library", "bom-ref": purl, "name": package["Package"], "version": package["Version"], "purl": purl}


def _prefixed(components: list[dict[str, Any]], prefix: str) -> list[dict[str, Any]]:
    out = []
    for component in components:
        copied = {**component, "bom-ref": f"{prefix}/{component['bom-ref']}"}
        if "components" in component:
            copied["components"] = _prefixed(component["components"], prefix)
        out.append(copied)
    return out


def assemble(files: ImageFiles, *, name: str, version: str, harness: str) -> dict[str, Any]:
    """One CycloneDX document for the image: its fragments and Debian packages, each a group component."""
    distro = f"{files.os_release.get('ID', 'debian')}-{files.os_release.get('VERSION_ID', 'unknown')}"
    groups: list[dict[str, Any]] = [
        {
            "type": "operating-system",
            "bom-ref": "os",
            "name": files.os_release.get("ID", "debian"),
            "version": files.os_release.get("VERSION_ID", "unknown"),
            "components": [_deb_component(p, distro) for p in debian_packages(files.dpkg_status)],
        }
    ]
    dependencies: list[dict[str, Any]] = []
    for fragment_name, fragment in sorted(files.fragments.items()):
        if fragment.get("specVersion") != SPEC_VERSION:
            raise SbomError(
                f"SBOM fragment {fragment_name} is CycloneDX {fragment.get('specVersion')}, not {SPEC_VERSION}"
            )
        root = (fragment.get("metadata") or {}).get("component", {}).get("bom-ref")

        def ref(value: str, fragment_name: str = fragment_name, root: str | None = root) -> str:
            # The fragment's root (the lockfile's own package) becomes the group that stands for the fragment.
            return fragment_name if value == root else f"{fragment_name}/{value}"

        groups.append(
            {
                "type": "application",
                "bom-ref": fragment_name,
                "name": fragment_name,
                "description": f"{SBOM_DIR}/{fragment_name}.cdx.json",
                "components": _prefixed(fragment.get("components", []), fragment_name),
            }
        )
        dependencies += [
            {"ref": ref(d["ref"]), "dependsOn": [ref(other) for other in d.get("dependsOn", [])]}
            for d in fragment.get("dependencies", [])
        ]
    dependencies.append({"ref": IMAGE_REF, "dependsOn": [group["bom-ref"] for group in groups]})
    return {
        "$schema": f"http://cyclonedx.org/schema/bom-{SPEC_VERSION}.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "version": 1,
        # No timestamp and no serial number: the same image gives the same bytes, so the referrer's digest is stable.
        "metadata": {
            "component": {
                "type": "container",
                "bom-ref": IMAGE_REF,
                "name": name,
                "version": version,
                "properties": [{"name": "io.viberator.harness", "value": harness}],
            }
        },
        "components": groups,
        "dependencies": dependencies,
    }


def validate(document: Mapping[str, Any]) -> str | None:
    """None when `document` is valid CycloneDX 1.6 JSON, else the schema's complaint."""
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    error = JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(document))
    return None if error is None else str(error)


def _walk(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for component in components:
        yield component
        yield from _walk(component.get("components", []))


def package_set(document: Mapping[str, Any], group: str | None = None) -> set[str]:
    """Every package URL in the SBOM (or in one group of it): what two builds of one revision must agree on."""
    groups = [g for g in document.get("components", []) if group is None or g["bom-ref"] == group]
    return {c["purl"] for c in _walk(groups) if "purl" in c}


def write(document: Mapping[str, Any], path: Path) -> bytes:
    data = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()
    path.write_bytes(data)
    return data
