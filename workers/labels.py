"""The labels a worker image gets at build time: those that vary per build (the revision and its commit time)
and per target (the harness). The tooling passes them as `--label` (`workers.tooling.build`) and the Pulumi
program as its docker-build Image's `labels` (`components.harness_image`), so an image is labelled alike
whichever built it, and the Dockerfile's targets hold only what differs between them. The labels that are the
same on every build (the job contract, the source repository) stay in `workers/image/Dockerfile`.
"""

from __future__ import annotations

REVISION_LABEL = "org.opencontainers.image.revision"
"""The build context's revision (`workers.revision`): what `ensure` compares a local alias with."""
SOURCE_DATE_EPOCH_LABEL = "io.viberator.source-date-epoch"
"""The revision's commit time, which the build also gets as the SOURCE_DATE_EPOCH build arg."""
HARNESS_LABEL = "io.viberator.harness"
"""The catalog harness (`workers.catalog`) the image was built for."""
BASES_LABEL = "io.viberator.bases"
"""Which base images the build started FROM: `official` (the Dockerfile's digest-pinned official images, the only
release path) or `offline` (any other: the local stand-ins `.ci/docker-engine.sh offline-bases` makes). A push to
a registry off this machine requires `official` (`workers.tooling.build`), whoever built the image."""
OFFICIAL_BASES = "official"
OFFLINE_BASES = "offline"
BASES = (OFFICIAL_BASES, OFFLINE_BASES)
BASE_BUILD_ARGS = ("NODE_BASE", "NODE_BUILD_BASE", "SLIM_BASE", "ARCH_TAGGED_BASES")
"""The Dockerfile's build args that replace the official bases: any of them set makes a build `offline`."""


def build_labels(harness: str, revision: str, source_date_epoch: int, bases: str) -> dict[str, str]:
    """The per-build labels of `harness`'s image built from `revision` on `bases` (one of BASES)."""
    if bases not in BASES:
        raise ValueError(f"bases {bases!r}: expected one of {', '.join(BASES)}")
    return {
        REVISION_LABEL: revision,
        SOURCE_DATE_EPOCH_LABEL: str(source_date_epoch),
        HARNESS_LABEL: harness,
        BASES_LABEL: bases,
    }
