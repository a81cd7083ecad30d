"""What the promotion checks' tests share: outputs written where ci/verify_promotion.py reads them, the digests
the dev job publishes from them, and a digest no stack built (a later deploy's).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ci.verify_promotion import OUTPUT_NAME, main

LATER_DIGEST = "sha256:" + "f" * 64


def _write(tmp_path: Path, document: object, name: str = "outputs.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return str(path)


def _published(tmp_path: Path, outputs: dict[str, Any], capsys: pytest.CaptureFixture[str]) -> str:
    """What the dev job writes to $GITHUB_OUTPUT, as the prod job receives it (the value after `digests=`)."""
    assert main(["digests", _write(tmp_path, outputs, "published.json")]) == 0
    key, _, value = capsys.readouterr().out.strip().partition("=")
    assert key == OUTPUT_NAME
    return value
