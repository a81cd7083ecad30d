"""The committed stacks' URNs, pinned: a deployed stack is state, and a resource whose URN changes (type token,
name or parent chain) is deleted and recreated by `pulumi up`; for a repository, with every image in it.

`tests/urns/<stack file>.txt` (`tests/urns/access/…` for the access project's stacks) lists every URN the stack
registers, as deployed. A rename must come with a
`pulumi.Alias` of the old URN (kept in this list); a new resource adds its line here, in the same change.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ACCESS_STACKS, COMMITTED_STACKS, committed_plan

PINNED = Path(__file__).parents[1] / "urns"


@pytest.mark.parametrize("file_name", COMMITTED_STACKS + ACCESS_STACKS)
def test_the_committed_stacks_keep_their_urns(file_name: str) -> None:
    pinned = (PINNED / f"{file_name}.txt").read_text().split()
    planned = sorted(r.urn for r in committed_plan(file_name).resources)
    assert pinned, f"{file_name}: no pinned URNs"
    missing = sorted(set(pinned) - set(planned))
    added = sorted(set(planned) - set(pinned))
    assert not missing, f"{file_name}: these deployed resources would be deleted (alias them): {missing}"
    assert not added, f"{file_name}: new resources; pin them in tests/urns/{file_name}.txt: {added}"
