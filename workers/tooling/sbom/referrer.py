"""Attaching an SBOM to a pushed image digest as an OCI 1.1 referrer, with ORAS, and listing a digest's referrers.

The image's manifest is not touched, so its digest stays what Lambda and ECS pin, and it stays a
single-platform manifest (Lambda rejects indexes). A registry with the referrers API (ECR) indexes the artifact
itself; for one without it (Debian's docker-registry 2.8), the referrers tag schema: an index of the referrers
under the tag `sha256-<hex>`. The artifact is also tagged `sha256-<hex>.sbom` (cosign's name for an image's
SBOM), so that ECR's lifecycle rules, which select by tag, keep it as long as its subject.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workers.naming import referrers_tag, sbom_tag
from workers.tooling.sbom.document import SbomError

SBOM_MEDIA_TYPE = "application/vnd.cyclonedx+json"
EMPTY_MEDIA_TYPE = "application/vnd.oci.empty.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"


@dataclass(frozen=True)
class Attached:
    digest: str
    """The SBOM artifact's manifest digest."""
    reference: str
    """`<registry>/<repository>@<digest>` of the artifact: the `sbom` of the stack outputs."""
    referrers_api: bool
    """The registry indexed it itself; False: the referrers tag schema's index was updated instead."""


def _connect(repository: str, tag: str, insecure: bool) -> tuple[Any, Any]:
    """An ORAS client holding the Docker config's login for `repository`, and its container `repository:tag`."""
    import oras.provider

    client = oras.provider.Registry(insecure=insecure, tls_verify=not insecure)
    container = client.get_container(f"{repository}:{tag}")
    client.auth.load_configs(container)
    return client, container


def _api_url(client: Any, container: Any, path: str) -> str:
    """A distribution-API URL in the container's repository: `manifests/<digest>`, `referrers/<digest>`."""
    return f"{client.prefix}://{container.registry}/v2/{container.api_prefix}/{path}"


def _tag_url(client: Any, container: Any) -> str:
    """The URL of the manifest under the container's tag."""
    return f"{client.prefix}://{container.manifest_url()}"


def _tagged_index(client: Any, container: Any) -> dict[str, Any] | None:
    """The referrers tag schema's index under the container's tag; None when the registry has none."""
    found = client.do_request(_tag_url(client, container), "GET", headers={"Accept": OCI_INDEX})
    return dict(found.json()) if found.status_code == 200 else None


def attach(sbom: Path, subject: str, *, insecure: bool = False) -> Attached:
    """Push `sbom` as an OCI referrer of `subject` (`<registry>/<repository>@sha256:…`); the subject is unchanged."""
    import oras.oci

    repository, _, digest = subject.partition("@")
    if not digest.startswith("sha256:"):
        raise SbomError(f"attach needs the subject by digest (<repository>@sha256:…), not {subject!r}")
    client, tagged = _connect(repository, sbom_tag(digest), insecure)
    head = client.do_request(
        _api_url(client, tagged, f"manifests/{digest}"),
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
    put = client.do_request(_tag_url(client, tagged), "PUT", headers={"Content-Type": OCI_MANIFEST}, data=body)
    client._check_200_response(put)
    # distribution-spec 1.1: a registry that processed the subject says so with OCI-Subject; otherwise the
    # client maintains the referrers index under the subject's referrers tag.
    native = "OCI-Subject" in put.headers
    if not native:
        _add_to_referrers_index(client, repository, digest, manifest_digest, len(body))
    return Attached(manifest_digest, f"{repository}@{manifest_digest}", native)


def _add_to_referrers_index(client: Any, repository: str, subject: str, digest: str, size: int) -> None:
    container = client.get_container(f"{repository}:{referrers_tag(subject)}")
    index = _tagged_index(client, container)
    if index is None:
        index = {"schemaVersion": 2, "mediaType": OCI_INDEX}
    manifests = [m for m in index.get("manifests", []) if m.get("digest") != digest]
    manifests.append({"mediaType": OCI_MANIFEST, "digest": digest, "size": size, "artifactType": SBOM_MEDIA_TYPE})
    body = json.dumps({**index, "manifests": manifests}, separators=(",", ":")).encode()
    put = client.do_request(_tag_url(client, container), "PUT", headers={"Content-Type": OCI_INDEX}, data=body)
    client._check_200_response(put)


def referrers(subject: str, *, insecure: bool = False) -> list[dict[str, Any]]:
    """The referrer descriptors of `subject`: the referrers API's answer, else the referrers tag schema's index."""
    repository, _, digest = subject.partition("@")
    client, container = _connect(repository, referrers_tag(digest), insecure)
    api = client.do_request(_api_url(client, container, f"referrers/{digest}"), "GET", headers={"Accept": OCI_INDEX})
    index = api.json() if api.status_code == 200 else _tagged_index(client, container)
    return list(index.get("manifests", [])) if index is not None else []
