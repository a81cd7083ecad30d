"""Real-build tier, supply chain (issue 17): every image's SBOM validates and lists exactly what the lockfiles
promise; attaching it as a referrer leaves the image's digest (and its single-platform manifest) alone; and a
digest signed with skopeo verifies, while an unsigned one and one signed by another key are refused."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import image_engine
import pytest
from lock_components import comparable, fragments_of, locked_packages

from ci import signed_annotations
from ci.signed_annotations import Expected
from workers.catalog import HARNESS_NAMES, HARNESSES
from workers.naming import repository_name
from workers.revision import BuildRevision
from workers.tooling import sbom, signature

pytestmark = pytest.mark.images

REQUIRED_DEBIAN = {"python3", "tini", "ca-certificates"}


def _sbom_of(image: str, harness: str, revision: BuildRevision) -> dict:
    return sbom.assemble(
        sbom.read_image(image), name=repository_name(harness), version=revision.revision, harness=harness
    )


def _manifest(repository: str, reference: str) -> tuple[str, str]:
    """(media type, digest) the registry serves for `reference`."""
    request = urllib.request.Request(
        f"http://{image_engine.REGISTRY}/v2/{repository}/manifests/{reference}",
        method="HEAD",
        headers={"Accept": f"{sbom.DOCKER_MANIFEST}, {sbom.OCI_MANIFEST}, {sbom.OCI_INDEX}"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.headers["Content-Type"], response.headers["Docker-Content-Digest"]


def _push(image: str, harness: str, revision: BuildRevision) -> str:
    """Pushes the image under its revision tag; returns `<registry>/<repository>@<digest>`."""
    repository = repository_name(harness)
    remote = f"{image_engine.REGISTRY}/{repository}:{image_engine.TEST_ENVIRONMENT}-{revision.revision}"
    image_engine.docker("tag", image, remote)
    image_engine.docker("push", remote, timeout=900)
    return f"{image_engine.REGISTRY}/{repository}@{image_engine.registry_digest(repository, remote.rsplit(':', 1)[1])}"


@pytest.mark.parametrize("harness", HARNESS_NAMES)
def test_sbom_validates_and_lists_exactly_the_locked_trees(
    images: dict[str, str], revision: BuildRevision, harness: str
) -> None:
    document = _sbom_of(images[harness], harness, revision)
    assert sbom.validate(document) is None
    groups = {group["bom-ref"] for group in document["components"]}
    assert groups == {"os", *fragments_of(HARNESSES[harness].agents)}
    for fragment in fragments_of(HARNESSES[harness].agents):
        assert comparable(sbom.package_set(document, fragment)) == comparable(locked_packages(fragment)), fragment
    debian = {c["name"] for c in document["components"][0]["components"]}
    assert debian >= REQUIRED_DEBIAN


@pytest.mark.parametrize("harness", HARNESS_NAMES)
def test_attaching_the_sbom_leaves_the_digest_a_single_image_manifest(
    images: dict[str, str], revision: BuildRevision, harness: str, tmp_path: Path
) -> None:
    subject = _push(images[harness], harness, revision)
    repository = repository_name(harness)
    digest = subject.split("@", 1)[1]
    path = tmp_path / "sbom.cdx.json"
    sbom.write(_sbom_of(images[harness], harness, revision), path)
    attached = sbom.attach(path, subject, insecure=True)
    # Debian's docker-registry has no referrers API: the referrers tag schema's index names the SBOM instead.
    assert not attached.referrers_api
    assert _manifest(repository, digest) == (sbom.DOCKER_MANIFEST, digest)
    assert _manifest(repository, f"{image_engine.TEST_ENVIRONMENT}-{revision.revision}") == (
        sbom.DOCKER_MANIFEST,
        digest,
    )
    listed = sbom.referrers(subject, insecure=True)
    assert [(r["digest"], r["artifactType"]) for r in listed] == [(attached.digest, sbom.SBOM_MEDIA_TYPE)]
    # Attaching again (a re-run of the deploy) adds nothing: the SBOM's bytes, and so its digest, are the same.
    assert sbom.attach(path, subject, insecure=True).digest == attached.digest
    assert len(sbom.referrers(subject, insecure=True)) == 1


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two sigstore key pairs, made by skopeo itself: the deploy key and an impostor's."""
    image_engine.engine("skopeo-image")
    directory = tmp_path_factory.mktemp("keys")
    directory.chmod(0o755)
    passphrase = directory / "passphrase"
    passphrase.write_text("tier-only-passphrase")
    return {
        "passphrase": passphrase,
        **{name: signature.generate_key(directory, name, passphrase) for name in ("deploy", "impostor")},
    }


def test_a_signed_digest_verifies_and_keeps_its_digest(
    images: dict[str, str], revision: BuildRevision, keys: dict[str, Path]
) -> None:
    subject = _push(images["claude"], "claude", revision)
    signature.sign(subject, keys["deploy"].with_suffix(".private"), keys["passphrase"], insecure=True)
    repository, digest = repository_name("claude"), subject.split("@", 1)[1]
    assert _manifest(repository, digest) == (sbom.DOCKER_MANIFEST, digest)
    assert _manifest(repository, f"{sbom.referrers_tag(digest)}.sig")[0] == sbom.OCI_MANIFEST
    signature.verify(subject, keys["deploy"].read_bytes(), insecure=True)


def test_an_unsigned_digest_is_refused(images: dict[str, str], revision: BuildRevision, keys: dict[str, Path]) -> None:
    subject = _push(images["codex"], "codex", revision)
    with pytest.raises(signature.SignatureRefused, match="no signature exists"):
        signature.verify(subject, keys["deploy"].read_bytes(), insecure=True)


def test_a_digest_signed_by_another_key_is_refused(
    images: dict[str, str], revision: BuildRevision, keys: dict[str, Path]
) -> None:
    subject = _push(images["opencode"], "opencode", revision)
    signature.sign(subject, keys["impostor"].with_suffix(".private"), keys["passphrase"], insecure=True)
    signature.verify(subject, keys["impostor"].read_bytes(), insecure=True)
    with pytest.raises(signature.SignatureRefused, match="signature verification failed"):
        signature.verify(subject, keys["deploy"].read_bytes(), insecure=True)


def test_a_signatures_annotations_are_read_only_where_the_key_signed_this_digest(
    images: dict[str, str], revision: BuildRevision, keys: dict[str, Path]
) -> None:
    """ci/signed_annotations.py over a real `.sig` manifest: skopeo signs it (its payload's `optional` names the
    creator; skopeo has no `-a`, so the commit and the run are missing) and with two keys' layers only the pinned
    key's annotations are read."""
    subject = _push(images["gemini"], "gemini", revision)
    for name in ("deploy", "impostor"):
        signature.sign(subject, keys[name].with_suffix(".private"), keys["passphrase"], insecure=True)
    layout = signed_annotations.signature_manifest(subject)
    layers = json.loads((layout / "manifest.json").read_text())["layers"]
    # Both keys are this module's own, so each signed exactly one layer; any other layer is another key's (a
    # registry shared with an earlier run keeps theirs) and is read for neither.
    found = signed_annotations.valid_annotations(layout, subject, keys["deploy"].read_bytes())
    assert len(found) == 1 and found[0]["creator"].startswith("containers/image")
    impostor = signed_annotations.valid_annotations(layout, subject, keys["impostor"].read_bytes())
    assert len(impostor) == 1 and len(layers) >= 2
    assert "signed without a commit and a run" in str(signed_annotations.problem(found, Expected()))
    with pytest.raises(signature.SignatureRefused, match="signed without a commit and a run"):
        signed_annotations.check(subject, keys["deploy"].read_bytes(), Expected())


def test_sbom_is_json_of_the_image(images: dict[str, str], revision: BuildRevision, tmp_path: Path) -> None:
    """The CLI entry point writes what the tier checks, validated."""
    output = tmp_path / "sbom.json"
    assert sbom.main([images["kimi"], "--output", str(output)]) == 0
    assert json.loads(output.read_text())["metadata"]["component"]["name"] == repository_name("kimi")
