"""The SBOM of a worker image (CycloneDX 1.6 JSON) and its attachment to the pushed digest as an OCI referrer.

Made offline, from what the build left in the image (workers/image/Dockerfile):
- one fragment per payload under SBOM_DIR, written at build time by the CycloneDX tools from the installed
  trees (cyclonedx-npm for the npm CLIs, installed by `npm ci` from their lockfiles; cyclonedx-py for the
  mistral and worker venvs, installed with `--require-hashes`);
- the Debian packages, from the image's dpkg status.
`assemble` joins them under one container component (each fragment's bom-refs prefixed with its name, so that
two trees holding the same package stay distinct), and `validate` checks the result against the CycloneDX
schema (cyclonedx-python-lib).

`attach` pushes the SBOM as an OCI 1.1 artifact whose `subject` is the image manifest, with ORAS: the image's
manifest is not touched, so its digest stays what Lambda and ECS pin, and it stays a single-platform manifest
(Lambda rejects indexes). A registry with the referrers API (ECR) indexes the artifact itself; for one without it
(Debian's docker-registry 2.8), the referrers tag schema: an index of the referrers under the tag
`sha256-<hex>`. The artifact is also tagged `sha256-<hex>.sbom` (cosign's name for an image's SBOM), so that
ECR's lifecycle rules, which select by tag, keep it as long as its subject (components/repository.py).

    python -m workers.tooling.sbom <image> --output sbom.json [--attach <registry>/<repository>@<digest>]
"""

from __future__ import annotations

import argparse
import email.parser
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workers.labels import HARNESS_LABEL, REVISION_LABEL
from workers.naming import referrers_tag, repository_name, sbom_tag
from workers.tooling.engine import docker_binary

SBOM_DIR = "/usr/share/viberator/sbom"
"""Where each payload stage leaves its fragment (`<name>.cdx.json`); the Dockerfile writes the same path."""
DPKG_STATUS = "/var/lib/dpkg/status"
OS_RELEASE = "/etc/os-release"
SPEC_VERSION = "1.6"
SBOM_MEDIA_TYPE = "application/vnd.cyclonedx+json"
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
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


# ---------------------------------------------------------------------------------------------------------
# Attaching


@dataclass(frozen=True)
class Attached:
    digest: str
    """The SBOM artifact's manifest digest."""
    reference: str
    """`<registry>/<repository>@<digest>` of the artifact: the `sbom` of the stack outputs."""
    referrers_api: bool
    """The registry indexed it itself; False: the referrers tag schema's index was updated instead."""


def _client(insecure: bool) -> Any:
    import oras.provider

    return oras.provider.Registry(insecure=insecure, tls_verify=not insecure)


def attach(sbom: Path, subject: str, *, insecure: bool = False) -> Attached:
    """Push `sbom` as an OCI referrer of `subject` (`<registry>/<repository>@sha256:…`); the subject is unchanged."""
    import oras.oci

    repository, _, digest = subject.partition("@")
    if not digest.startswith("sha256:"):
        raise SbomError(f"attach needs the subject by digest (<repository>@sha256:…), not {subject!r}")
    client = _client(insecure)
    tagged = client.get_container(f"{repository}:{sbom_tag(digest)}")
    client.auth.load_configs(tagged)
    head = client.do_request(
        f"{client.prefix}://{tagged.registry}/v2/{tagged.api_prefix}/manifests/{digest}",
        "HEAD",
        headers={"Accept": f"{DOCKER_MANIFEST}, {OCI_MANIFEST}"},
    )
    if head.status_code != 200:
        raise SbomError(f"{subject}: the registry does not serve the subject (HTTP {head.status_code})")
    media_type = head.headers["Content-Type"].split(";")[0]
    if media_type not in (DOCKER_MANIFEST, OCI_MANIFEST):
        raise SbomError(f"{subject} is a {media_type}, not a single-platform image manifest")
    subject_descriptor = oras.oci.Subject(media_type, digest, int(head.headers["Content-Length"]))

    with tempfile.TemporaryDirectory() as scratch:
        empty = Path(scratch) / "config.json"
        empty.write_bytes(b"{}")
        config = oras.oci.NewLayer(str(empty), media_type=EMPTY_MEDIA_TYPE)
        layer = oras.oci.NewLayer(str(sbom), media_type=SBOM_MEDIA_TYPE)
        layer["annotations"] = {"org.opencontainers.image.title": "sbom.cdx.json"}
        for path, descriptor in ((empty, config), (sbom, layer)):
            client._check_200_response(client.upload_blob(str(path), tagged, descriptor))
    manifest = {
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "artifactType": SBOM_MEDIA_TYPE,
        "config": {"mediaType": EMPTY_MEDIA_TYPE, "digest": config["digest"], "size": config["size"]},
        "layers": [layer],
        "subject": {"mediaType": subject_descriptor.mediaType, "digest": digest, "size": subject_descriptor.size},
    }
    body = json.dumps(manifest, separators=(",", ":"), sort_keys=True).encode()
    manifest_digest = f"sha256:{hashlib.sha256(body).hexdigest()}"
    put = client.do_request(
        f"{client.prefix}://{tagged.manifest_url()}", "PUT", headers={"Content-Type": OCI_MANIFEST}, data=body
    )
    client._check_200_response(put)
    # distribution-spec 1.1: a registry that processed the subject says so with OCI-Subject; otherwise the
    # client maintains the referrers index under the subject's referrers tag.
    native = "OCI-Subject" in put.headers
    if not native:
        _add_to_referrers_index(client, repository, digest, manifest_digest, len(body))
    return Attached(manifest_digest, f"{repository}@{manifest_digest}", native)


def _add_to_referrers_index(client: Any, repository: str, subject: str, digest: str, size: int) -> None:
    container = client.get_container(f"{repository}:{referrers_tag(subject)}")
    url = f"{client.prefix}://{container.manifest_url()}"
    existing = client.do_request(url, "GET", headers={"Accept": OCI_INDEX})
    index: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_INDEX}
    if existing.status_code == 200:
        index = existing.json()
    manifests = [m for m in index.get("manifests", []) if m.get("digest") != digest]
    manifests.append({"mediaType": OCI_MANIFEST, "digest": digest, "size": size, "artifactType": SBOM_MEDIA_TYPE})
    body = json.dumps({**index, "manifests": manifests}, separators=(",", ":")).encode()
    client._check_200_response(client.do_request(url, "PUT", headers={"Content-Type": OCI_INDEX}, data=body))


def referrers(subject: str, *, insecure: bool = False) -> list[dict[str, Any]]:
    """The referrer descriptors of `subject`: the referrers API's answer, else the referrers tag schema's index."""
    repository, _, digest = subject.partition("@")
    client = _client(insecure)
    container = client.get_container(f"{repository}:{referrers_tag(digest)}")
    client.auth.load_configs(container)
    api = client.do_request(
        f"{client.prefix}://{container.registry}/v2/{container.api_prefix}/referrers/{digest}",
        "GET",
        headers={"Accept": OCI_INDEX},
    )
    if api.status_code == 200:
        return list(api.json().get("manifests", []))
    fallback = client.do_request(f"{client.prefix}://{container.manifest_url()}", "GET", headers={"Accept": OCI_INDEX})
    return list(fallback.json().get("manifests", [])) if fallback.status_code == 200 else []


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.tooling.sbom", description=__doc__.split("\n\n")[0])
    parser.add_argument("image", help="a local image (tag or digest) built from workers/image/Dockerfile")
    parser.add_argument("--output", type=Path, required=True, help="where to write the SBOM (CycloneDX JSON)")
    parser.add_argument("--attach", metavar="REPOSITORY@DIGEST", help="push it as a referrer of this digest")
    parser.add_argument("--insecure", action="store_true", help="the registry speaks plain HTTP (127.0.0.1)")
    args = parser.parse_args(argv)
    from workers.tooling.engine import Engine

    info = Engine().inspect(args.image)
    if info is None:
        print(f"error: no image {args.image} on the local engine", file=sys.stderr)
        return 2
    harness = info.labels.get(HARNESS_LABEL, "unknown")
    document = assemble(
        read_image(args.image),
        name=repository_name(harness),
        version=info.labels.get(REVISION_LABEL, "unknown"),
        harness=harness,
    )
    problem = validate(document)
    if problem is not None:
        print(f"error: the SBOM of {args.image} fails the CycloneDX {SPEC_VERSION} schema: {problem}", file=sys.stderr)
        return 1
    write(document, args.output)
    print(f"{args.output}: {len(package_set(document))} packages")
    if args.attach:
        attached = attach(args.output, args.attach, insecure=args.insecure)
        print(f"sbom={attached.reference}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
