"""`make bench-images`: build times and sizes of every worker image, printed and written as JSON.

Per image: cold build (build cache pruned, npm/pip cache mounts included), no-op rebuild, rebuild after a
worker-runtime-only change, image size, CLI payload size (/opt/agents) and overhead (size - payload).
Targets from issue 4 are printed beside the figures, never asserted: timings depend on the machine. The arm64
harnesses of the real-build tier (image_engine.ARM64_HARNESSES) are benched for linux/arm64 too, beside their
native rows: cross-built, with the target's steps under QEMU (issue 21).
Builds go through `workers.tooling.build` (what `python -m workers build` runs) with a copy of the build context,
so the runtime edit never touches the checkout; the times are the tool's own, per build.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

import image_engine
from rich.console import Console

from workers.catalog import BUILD_CONTEXT, HARNESS_NAMES, HARNESSES
from workers.labels import OFFICIAL_BASES, OFFLINE_BASES
from workers.revision import BuildRevision, build_revision
from workers.tooling import build
from workers.tooling.engine import Engine
from workers.tooling.platforms import Platform
from workers.tooling.report import LiveProgress

MB = 1_000_000  # docker's unit
TARGETS = {"noop_seconds": 1.0, "runtime_change_seconds": 3.0, "overhead_mb_single": 250, "overhead_mb_multi": 350}


def payload_bytes(reference: str) -> int:
    du = image_engine.docker("run", "--rm", "--network", "none", "--entrypoint", "du", reference, "-sb", "/opt/agents")
    return int(du.stdout.split()[0])


def timed_build(request: build.BuildRequest) -> tuple[float, str]:
    """Seconds the tool took to build the request's one harness, and the image it built."""
    with LiveProgress(Console(stderr=True), request.harnesses) as progress:
        (result,) = build.run(request, Engine(image_engine.DOCKER), progress).results
    if not result.ok:
        raise RuntimeError(f"build of {result.harness} failed: {result.error}\nfull log: {result.log}")
    return result.seconds, result.image


def bench_one(
    harness: str, revision: BuildRevision, context: Path, bases: tuple[str, ...], platform: str | None = None
) -> dict[str, object]:
    # Tags of the bench's own: `bench-…` for the native images, `bench-arm64-…` beside them.
    environment = f"bench-{platform.split('/', 1)[1]}" if platform else "bench"
    request = build.BuildRequest(
        harnesses=(harness,),
        revision=revision,
        environment=environment,
        platforms=(Platform.parse(platform),) if platform else (),
        alias_tag=environment,
        ca_bundle=build.ca_bundle_from_environment(),
        build_args=build.parse_build_args(list(bases)),
        bases=OFFLINE_BASES if bases else OFFICIAL_BASES,
        context=context,
        dockerfile=context / "Dockerfile",
    )
    image_engine.docker("builder", "prune", "--all", "--force")
    cold, tag = timed_build(request)
    noop, _ = timed_build(request)
    marker = context / "viberator_worker" / "__init__.py"
    marker.write_text(marker.read_text() + f"\n# bench runtime change {time.time_ns()}\n")
    runtime_change, _ = timed_build(request)
    size = image_engine.inspect(tag)["Size"]
    payload = payload_bytes(tag)
    overhead_target = TARGETS["overhead_mb_multi" if len(HARNESSES[harness].agents) > 1 else "overhead_mb_single"]
    return {
        "harness": harness,
        "platform": platform or "native",
        "cold_build_seconds": round(cold, 1),
        "noop_rebuild_seconds": round(noop, 2),
        "runtime_change_rebuild_seconds": round(runtime_change, 2),
        "image_mb": round(size / MB, 1),
        "payload_mb": round(payload / MB, 1),
        "overhead_mb": round((size - payload) / MB, 1),
        "overhead_target_mb": overhead_target,
    }


def print_table(rows: list[dict[str, object]]) -> None:
    header = (
        f"{'image':<16}{'platform':<12}{'cold s':>8}{'no-op s':>9}{'runtime s':>11}{'size MB':>9}"
        f"{'payload MB':>12}{'overhead MB':>13}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        flags = []
        if row["noop_rebuild_seconds"] > TARGETS["noop_seconds"]:
            flags.append("no-op over target")
        if row["runtime_change_rebuild_seconds"] > TARGETS["runtime_change_seconds"]:
            flags.append("runtime over target")
        if row["overhead_mb"] > row["overhead_target_mb"]:
            flags.append(f"overhead over {row['overhead_target_mb']} MB")
        print(
            f"{row['harness']:<16}{row['platform']:<12}{row['cold_build_seconds']:>8}{row['noop_rebuild_seconds']:>9}"
            f"{row['runtime_change_rebuild_seconds']:>11}{row['image_mb']:>9}{row['payload_mb']:>12}"
            f"{row['overhead_mb']:>13}  {'; '.join(flags) or 'targets met'}"
        )
    print(
        f"targets: no-op <= {TARGETS['noop_seconds']} s, runtime-only change <= {TARGETS['runtime_change_seconds']} s,"
        f" overhead <= {TARGETS['overhead_mb_single']} MB single-agent / {TARGETS['overhead_mb_multi']} MB multi-agent"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True, help="where to write the JSON report")
    parser.add_argument("--harness", action="append", choices=HARNESS_NAMES, help="default: all")
    args = parser.parse_args(argv)
    revision = build_revision(BUILD_CONTEXT)
    bases = image_engine.base_build_args(image_engine.ARM64)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        context = Path(shutil.copytree(BUILD_CONTEXT, Path(scratch) / "context"))
        for harness in args.harness or HARNESS_NAMES:
            rows.append(bench_one(harness, revision, context, bases))
            print(f"benched {harness}", file=sys.stderr)
        for harness in (h for h in args.harness or HARNESS_NAMES if h in image_engine.ARM64_HARNESSES):
            rows.append(bench_one(harness, revision, context, bases, image_engine.ARM64))
            print(f"benched {harness} ({image_engine.ARM64})", file=sys.stderr)
    report = {
        "revision": revision.revision,
        "bases": "offline stand-ins" if bases else "official images",
        "targets": TARGETS,
        "images": rows,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print_table(rows)
    print(f"report: {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
