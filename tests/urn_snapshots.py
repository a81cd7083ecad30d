"""The URN snapshots tests/program/test_urns.py compares with: `tests/urns/<stack file>.txt`, every URN the committed
stack registers, one a line, sorted.

`make urns` (REFRESH) rewrites them from the plans. Run it after reviewing what the test reported: an added
clanker's resources are new lines; a removed clanker's are deleted by `pulumi up`, as intended; any other URN that
moved is a delete and recreate, which needs a `pulumi.Alias` instead (its old URN then stays listed).
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import ACCESS_STACKS, COMMITTED_STACKS, committed_plan

PINNED = Path(__file__).with_name("urns")
REFRESH = "make urns"
"""The one command that refreshes every snapshot."""


def snapshot_of(file_name: str) -> Path:
    return PINNED / f"{file_name}.txt"


def planned_urns(file_name: str) -> list[str]:
    return sorted(r.urn for r in committed_plan(file_name).resources)


def main() -> None:
    for file_name in COMMITTED_STACKS + ACCESS_STACKS:
        path = snapshot_of(file_name)
        before = set(path.read_text().split()) if path.exists() else set()
        urns = planned_urns(file_name)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(f"{urn}\n" for urn in urns))
        added, removed = len(set(urns) - before), len(before - set(urns))
        print(f"{path.relative_to(PINNED.parent.parent)}: {len(urns)} URNs ({added} added, {removed} removed)")


if __name__ == "__main__":
    main()
