"""CLI: progress of a roster import, per file: a bar on a terminal, one line per file elsewhere.

The importer (``storage.roster``) calls ``start``, ``advance`` and ``finish`` for each file it
checks and then writes; this module only shows it.
"""

from __future__ import annotations

from typing import IO, Any

PHASES = {"check": "checking", "write": "writing"}


class LineProgress:
    """Off a terminal: one line per file when it is done."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.phase = self.filename = ""

    def start(self, phase: str, filename: str, total: int | None) -> None:
        self.phase, self.filename = phase, filename

    def advance(self, rows: int) -> None:
        pass

    def finish(self, rows: int, seconds: float) -> None:
        rate = f", {rows / seconds:,.0f} rows/s" if seconds > 0 and rows else ""
        done = "checked" if self.phase == "check" else "written"
        self.out.write(f"{self.filename}: {rows:,} rows {done} in {seconds:.1f} s{rate}\n")
        self.out.flush()


class BarProgress:
    """On a terminal: a bar per file with rows and rows/s (``rich``)."""

    def __init__(self, out: IO[str]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        self.bars = Progress(
            TextColumn("{task.description:<28}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]:>14}"),
            TimeElapsedColumn(),
            console=Console(file=out),
        )
        self.task: Any = None

    def __enter__(self) -> BarProgress:
        self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bars.stop()

    def start(self, phase: str, filename: str, total: int | None) -> None:
        self.task = self.bars.add_task(f"{PHASES[phase]} {filename}", total=total, rate="")

    def advance(self, rows: int) -> None:
        task = self.bars.tasks[-1]
        speed = task.speed or 0
        self.bars.update(self.task, advance=rows, rate=f"{speed:,.0f} rows/s" if speed else "")

    def finish(self, rows: int, seconds: float) -> None:
        rate = f"{rows / seconds:,.0f} rows/s" if seconds > 0 and rows else ""
        self.bars.update(self.task, total=rows, completed=rows, rate=rate)
