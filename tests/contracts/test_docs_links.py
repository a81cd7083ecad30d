"""The docs' links lead somewhere: every relative link in README.md and docs/*.md names a file that exists and, with
an anchor, a heading of that page (GitHub's anchors: lowercase, punctuation dropped, spaces to hyphens); and the
README's layout table names only paths that exist, and names every package."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from workers.catalog import PROJECT_DIR

PAGES = [PROJECT_DIR / "README.md", *sorted((PROJECT_DIR / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)


def _anchors(page: Path) -> set[str]:
    headings = re.findall(r"^#{1,6} (.+)$", FENCE.sub("", page.read_text()), re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-") for heading in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(PROJECT_DIR)))
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in LINK.findall(FENCE.sub("", page.read_text())):
        if re.match(r"^[a-z]+:", target):
            continue  # https:, mailto:
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve() if path else page
        if not linked.exists() or (anchor and linked.suffix == ".md" and anchor not in _anchors(linked)):
            broken.append(target)
    assert broken == [], f"{page.name}: links to nothing"


LAYOUT = re.compile(r"^## Layout\n(.*?)^## ", re.MULTILINE | re.DOTALL)
PATH_NAME = re.compile(r"`([\w.\-]+(?:/[\w.\-]+)*/?)`")
"""A backticked name that may be a path: `components/`, `lambda_.py`, `bootstrap/job.json` (no spaces, no `<…>`)."""
NOT_PACKAGES = {"build", "tests"}
"""Top-level folders that hold no package of the project: `make`'s output and the tests (hidden folders, such as
the environment `.venv`, and installed `node_modules` are passed over at any depth)."""


def _layout_rows() -> list[list[str]]:
    """The README's layout table: each row's cells (floor, path, what lives there)."""
    section = LAYOUT.search((PROJECT_DIR / "README.md").read_text())
    assert section, "README.md has no '## Layout' section"
    rows = [line.strip("|").split(" | ") for line in section[1].splitlines() if line.startswith("| ")]
    return [cells for cells in rows[1:] if not set(cells[0]) <= {"-", " "}]  # the header and its rule


def _named_paths(cells: list[str]) -> tuple[list[str], list[Path]]:
    """The names a row gives that look like paths (a folder, or a file with an extension), unresolved, and the
    folders they may be relative to: the row's own folders (its path cell's), and the project's root."""
    names = [n for cell in cells[1:] for n in PATH_NAME.findall(cell) if n.endswith("/") or "." in n.strip(".")]
    bases = [PROJECT_DIR / n for n in PATH_NAME.findall(cells[1]) if n.endswith("/")]
    return names, [*bases, PROJECT_DIR]


def _packages() -> list[Path]:
    """Every package of the project (a folder with an `__init__.py`), whatever its floor."""
    found = []
    for folder, children, files in os.walk(PROJECT_DIR):
        here = Path(folder)
        children[:] = [
            c
            for c in children
            if not (c.startswith(".") or c == "node_modules" or (here == PROJECT_DIR and c in NOT_PACKAGES))
        ]
        if "__init__.py" in files:
            found.append(here)
    return found


def test_every_path_the_layout_table_names_exists() -> None:
    missing = []
    for cells in _layout_rows():
        names, bases = _named_paths(cells)
        missing += [f"{cells[1]}: {n}" for n in names if not any((base / n).exists() for base in bases)]
    assert missing == [], "README.md's layout table names paths that are not there"


def test_the_layout_table_describes_every_package() -> None:
    named = set()
    for cells in _layout_rows():
        names, bases = _named_paths(cells)
        named |= {(base / n).resolve() for n in names for base in bases if (base / n).is_dir()}
    undescribed = [str(p.relative_to(PROJECT_DIR)) for p in _packages() if p.resolve() not in named]
    assert undescribed == [], "packages README.md's layout table does not name (give each a row, or name it in one)"
