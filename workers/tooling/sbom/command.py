"""The SBOM of a worker image (CycloneDX 1.6 JSON) and its attachment to the pushed digest as an OCI referrer.

`python -m workers.tooling.sbom`: the SBOM of a local image written to a file, and optionally attached to its
pushed digest; exit 2 when the engine lacks the image, 1 when the SBOM fails the schema.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from workers.labels import HARNESS_LABEL, REVISION_LABEL
from workers.naming import repository_name
from workers.tooling.sbom.document import SPEC_VERSION, assemble, package_set, read_image, validate, write
from workers.tooling.sbom.referrer import attach


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m workers.tooling.sbom", description=(__doc__ or "").split("\n\n")[0]
    )
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
