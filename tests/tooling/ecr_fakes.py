"""What the ECR tests share: the worker repository and the digests they put in it, and an engine stand-in that
holds at most the alias (`viberator-worker-kimi:local`) and pulls whatever it is asked for.
"""

from __future__ import annotations

from tests.builders import REVISION
from workers.labels import REVISION_LABEL
from workers.tooling.contract import CONTRACT_LABEL, tool_contract
from workers.tooling.engine import ImageInfo, ServerInfo

DIGEST = "sha256:" + "a" * 64
OTHER = "sha256:" + "b" * 64
IMAGE_ID = "sha256:" + "c" * 64
REPOSITORY = "viberator-worker-kimi"


class Images:
    """An engine holding at most the alias, pulling whatever it is asked for."""

    def __init__(self, alias: ImageInfo | None) -> None:
        self.alias = alias
        self.pulled: list[str] = []

    def server(self) -> ServerInfo:
        return ServerInfo("20.10", "linux", "amd64")

    def inspect(self, reference: str) -> ImageInfo | None:
        if reference in self.pulled:
            return worker_image((reference,))
        return self.alias if reference == ALIAS else None

    def pull(self, reference: str, *, silence_timeout: float, timeout: float) -> None:
        self.pulled.append(reference)

    def tag(self, source: str, target: str) -> None:
        assert target == ALIAS
        self.alias = self.inspect(source)


ALIAS = "viberator-worker-kimi:local"


def worker_image(repo_digests: tuple[str, ...]) -> ImageInfo:
    labels = {CONTRACT_LABEL: tool_contract(), REVISION_LABEL: REVISION.revision}
    return ImageInfo(IMAGE_ID, labels, 1, repo_digests, "linux/amd64")
