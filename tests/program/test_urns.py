"""The committed stacks' URNs, pinned: a deployed stack is state, and a resource whose URN changes (type token,
name or parent chain) is deleted and recreated by `pulumi up`; for a repository, with every image in it.

`tests/urns/<stack file>.txt` (`tests/urns/access/…` for the access project's stacks) lists every URN the stack
registers, as deployed. A rename must come with a `pulumi.Alias` of the old URN (kept in this list). Adding,
removing or changing a clanker in a stack file fails this test alone (the other tests derive what they expect
from the stack files): review the URNs it names, then refresh the snapshots with `make urns`
(tests/urn_snapshots.py), in the same change.
"""

from __future__ import annotations

import pytest

from tests.conftest import ACCESS_STACKS, COMMITTED_STACKS
from tests.urn_snapshots import REFRESH, planned_urns, snapshot_of


@pytest.mark.parametrize("file_name", COMMITTED_STACKS + ACCESS_STACKS)
def test_the_committed_stacks_keep_their_urns(file_name: str) -> None:
    snapshot = snapshot_of(file_name)
    pinned = snapshot.read_text().split() if snapshot.exists() else []
    planned = planned_urns(file_name)
    assert pinned, f"{file_name}: no pinned URNs in tests/urns/{file_name}.txt; after review, run `{REFRESH}`"
    missing = sorted(set(pinned) - set(planned))
    added = sorted(set(planned) - set(pinned))
    lines = [f"  - deleted by `pulumi up`: {urn}" for urn in missing] + [f"  + new: {urn}" for urn in added]
    assert not lines, (
        f"{file_name} no longer registers what tests/urns/{file_name}.txt pins:\n" + "\n".join(lines) + "\n"
        "A resource renamed by code needs a `pulumi.Alias` of its old URN (a changed URN deletes and recreates "
        f"it). If every line is intended (a clanker added, removed or changed in {file_name}), refresh the "
        f"snapshots after review with: {REFRESH}"
    )
