"""Engines that answer without Docker, for the tests of what the tooling does with an engine's answers."""

from __future__ import annotations

from typing import Any

from workers.tooling.contract import CONTRACT_LABEL, tool_contract
from workers.tooling.engine import ImageInfo


class PresentImages:
    """An engine that already holds the stack's image: nothing is pulled."""

    def __init__(self, repo_digests: tuple[str, ...]) -> None:
        self.image = ImageInfo("sha256:" + "1" * 64, {CONTRACT_LABEL: tool_contract()}, 1, repo_digests, "linux/amd64")

    def server(self) -> None:
        return None

    def inspect(self, reference: str) -> Any:
        return self.image

    def pull(self, reference: str, **_timeouts: float) -> None:
        raise AssertionError(f"{reference} is present: nothing to pull")
