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

Modules: `document` (reading the image, assembling and validating the SBOM), `referrer` (attaching it and
listing a digest's referrers), `command` (the command line above).
"""

from workers.naming import referrers_tag, sbom_tag
from workers.tooling.sbom.command import main
from workers.tooling.sbom.document import (
    SBOM_DIR,
    SPEC_VERSION,
    ImageFiles,
    SbomError,
    assemble,
    debian_packages,
    package_set,
    read_image,
    validate,
    write,
)
from workers.tooling.sbom.referrer import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    SBOM_MEDIA_TYPE,
    Attached,
    attach,
    referrers,
)

__all__ = [
    "DOCKER_MANIFEST",
    "OCI_INDEX",
    "OCI_MANIFEST",
    "SBOM_DIR",
    "SBOM_MEDIA_TYPE",
    "SPEC_VERSION",
    "Attached",
    "ImageFiles",
    "SbomError",
    "assemble",
    "attach",
    "debian_packages",
    "main",
    "package_set",
    "read_image",
    "referrers",
    "referrers_tag",
    "sbom_tag",
    "validate",
    "write",
]
