"""How a build run looks: live progress per harness, the summary table, and the Markdown summary file.

On a terminal the progress is one live row per harness (phase, current build step, elapsed time); anywhere
else (CI logs) it is one plain line per phase change, since a redrawn table turns into noise in a log file.
The Markdown summary is written for `$GITHUB_STEP_SUMMARY` and reads the same anywhere else.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from workers.tooling.build import BuildResult, BuildRun

_MAX_STEP_WIDTH = 90


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def short_digest(digest: str) -> str:
    """`sha256:` and the first 12 hex digits, as `docker images` shows IDs."""
    algorithm, _, value = digest.partition(":")
    return f"{algorithm}:{value[:12]}"


def _sizes(result: BuildResult) -> str:
    if len(result.sizes) == 1:
        return human_size(result.sizes[0][1])
    return ", ".join(f"{platform}: {human_size(size)}" for platform, size in result.sizes)


def _digest_cell(result: BuildResult, *, short: bool = False) -> str:
    shown = short_digest if short else str
    if result.digest:
        return shown(result.digest)
    # A build that was not pushed has no manifest digest yet; its image ID is what names it locally.
    return f"image id {shown(result.image_id)}" if result.image_id else ""


class LiveProgress:
    """Rich live rows on a terminal, plain lines elsewhere; implements `workers.tooling.build.Progress`."""

    def __init__(self, console: Console, harnesses: tuple[str, ...]) -> None:
        self.console = console
        self.rows: dict[str, list[str]] = {name: ["queued", ""] for name in harnesses}
        self.started: dict[str, float] = {}
        self.seconds: dict[str, float] = {}
        self.live = Live(self._render(), console=console, refresh_per_second=4) if console.is_terminal else None

    def __enter__(self) -> LiveProgress:
        if self.live is not None:
            self.live.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.live is not None:
            self.live.update(self._render())
            self.live.stop()

    def _render(self) -> Table:
        table = Table(box=None, show_header=False, pad_edge=False)
        for name, (phase, step) in self.rows.items():
            seconds = self.seconds.get(name, time.monotonic() - self.started.get(name, time.monotonic()))
            elapsed = f"{seconds:.0f}s" if name in self.started else ""
            table.add_row(Text(name, style="bold"), phase, elapsed, Text(step[:_MAX_STEP_WIDTH], style="dim"))
        return table

    def _refresh(self) -> None:
        if self.live is not None:
            self.live.update(self._render())

    def phase(self, harness: str, text: str) -> None:
        self.started.setdefault(harness, time.monotonic())
        self.rows[harness] = [text, ""]
        if self.live is None:
            self.console.print(f"[{harness}] {text}", markup=False, highlight=False)
        self._refresh()

    def line(self, harness: str, text: str) -> None:
        self.rows[harness][1] = text
        self._refresh()

    def finished(self, result: BuildResult) -> None:
        self.seconds[result.harness] = result.seconds
        state = "done" if result.ok else "FAILED"
        self.rows[result.harness] = [state, "" if result.ok else f"log: {result.log}"]
        if self.live is None:
            self.console.print(f"[{result.harness}] {state} in {result.seconds:.0f}s", markup=False, highlight=False)
        self._refresh()


def summary_table(run: BuildRun) -> Table:
    table = Table(title=f"worker images ({run.request.environment}, revision {run.request.revision.revision})")
    for column in ("image", "tags", "digest", "size", "seconds"):
        table.add_column(column, justify="right" if column in ("size", "seconds") else "left")
    for result in run.results:
        if result.ok:
            table.add_row(
                result.image,
                ", ".join(result.tags),
                _digest_cell(result, short=True),
                _sizes(result),
                f"{result.seconds:.0f}",
            )
        else:
            table.add_row(
                result.image, ", ".join(result.tags), Text("FAILED", style="red"), "", f"{result.seconds:.0f}"
            )
    return table


def failures(run: BuildRun) -> Group:
    parts = []
    for result in run.results:
        if not result.ok:
            parts.append(Text(f"{result.harness}: {result.error}", style="red"))
            parts.append(Text(f"full log: {result.log}"))
    return Group(*parts)


def markdown_summary(run: BuildRun) -> str:
    request = run.request
    lines = [
        f"### Worker images: {request.environment} at {request.revision.revision}",
        "",
    ]
    if request.revision.note:
        lines += [f"> {request.revision.note}", ""]
    lines += ["| image | tags | digest | size | seconds |", "| --- | --- | --- | --- | ---: |"]
    for result in run.results:
        tags = " ".join(f"`{tag}`" for tag in result.tags)
        if result.ok:
            digest = f"`{_digest_cell(result)}`" if _digest_cell(result) else ""
            lines.append(f"| `{result.image}` | {tags} | {digest} | {_sizes(result)} | {result.seconds:.0f} |")
        else:
            lines.append(f"| `{result.image}` | {tags} | **failed** |  | {result.seconds:.0f} |")
    failed = [result for result in run.results if not result.ok]
    for result in failed:
        lines += ["", f"**{result.harness} failed:**", "", "```", str(result.error), "```"]
    pushed = "pushed to " + str(request.registry) if request.push else "not pushed"
    platforms = ", ".join(map(str, request.platforms)) or "engine default"
    lines += [
        "",
        f"{len(run.results) - len(failed)} of {len(run.results)} built; {pushed}; platforms: {platforms}.",
    ]
    return "\n".join(lines) + "\n"


def write_summary(run: BuildRun, path: Path, *, append: bool) -> None:
    """Append (as `$GITHUB_STEP_SUMMARY` expects, one section per step) or replace the summary file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a" if append else "w", encoding="utf-8") as handle:
        handle.write(markdown_summary(run))
