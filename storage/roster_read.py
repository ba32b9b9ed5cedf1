"""Storage: reading roster files: the import's report, and a streaming reader of one CSV file.

A file is read row by row (never whole); each cell goes through its column's parser and every
problem goes to the report as ``file.csv:LINE: column: what is wrong``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any

from storage.roster_spec import Col, Spec
from storage.roster_values import RosterError, p_date, p_timestamp

MAX_PROBLEMS = 200


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    def __str__(self) -> str:
        text = f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"
        return text + (f", {self.removed} removed" if self.removed else "")


@dataclass
class ImportReport:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counts: dict[str, Counts] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    more_problems: int = 0
    written: bool = False
    # What the folder no longer lists (table -> ids), and what ending it did or would do.
    missing: dict[str, list[str]] = field(default_factory=dict)
    removals: list[str] = field(default_factory=list)
    moved_sessions: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def problem_count(self) -> int:
        return len(self.problems) + self.more_problems

    @property
    def changed(self) -> bool:
        return any(c.created or c.updated or c.removed for c in self.counts.values()) or bool(
            self.removals or self.moved_sessions
        )

    def add_problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        else:
            self.more_problems += 1


# --- reading -------------------------------------------------------------------------------


@dataclass(slots=True)
class Row:
    line: int
    values: dict[str, Any]
    problems: Sequence[tuple[str, str]] = ()  # (column, what is wrong)

    @property
    def complete(self) -> bool:
        """Every cell parsed (a column with a problem has no value)."""
        return not self.problems


class FileReader:
    """Streams one CSV file's parsed rows. A row carries its cell problems; the caller decides
    whether to report them (a row that refers to a failed row is not checked at all)."""

    def __init__(self, path: Path, spec: Spec, report: ImportReport, shift: timedelta) -> None:
        self.path, self.spec, self.report, self.shift = path, spec, report, shift

    def report_row(self, row: Row) -> None:
        for column, text in row.problems:
            self._problem(row.line, column, text)

    def _problem(self, line: int, column: str | None, text: str) -> None:
        where = f"{self.spec.filename}:{line}"
        self.report.add_problem(f"{where}: {column}: {text}" if column else f"{where}: {text}")

    def _open(self) -> io.TextIOWrapper:
        return open(self.path, encoding="utf-8-sig", newline="")  # noqa: SIM115

    def header(self, *, warn: bool) -> list[str] | None:
        try:
            with self._open() as fh:
                first = next(csv.reader(fh), None)
        except UnicodeDecodeError as exc:
            self._problem(_line_of_byte(self.path, exc.start), None, "is not UTF-8 text")
            return None
        if first is None or not any(c.strip() for c in first):
            names = ", ".join(c.name for c in self.spec.columns if not c.may_be_absent)
            extra = ", ".join(c.name for c in self.spec.columns if c.may_be_absent)
            names += f" (optional: {extra})" if extra else ""
            self._problem(1, None, f"the file is empty; expected a header row: {names}")
            return None
        header = [c.strip().lower() for c in first]
        ok = True
        for col in self.spec.columns:
            if col.name not in header and not col.may_be_absent:
                self._problem(1, col.name, "missing column")
                ok = False
        seen: set[str] = set()
        for name in header:
            if name in seen and any(c.name == name for c in self.spec.columns):
                self._problem(1, name, "the column appears twice")
                ok = False
            seen.add(name)
        if warn:
            known = {c.name for c in self.spec.columns}
            for name in header:
                if name and name not in known:
                    self.report.warnings.append(
                        f"{self.spec.filename}:1: {name}: unknown column, ignored"
                    )
        return header if ok else None

    def rows(self, header: list[str]) -> Iterator[Row]:
        """Each row, parsed. A row whose cells all parse takes one dict comprehension; any
        other row is parsed again cell by cell to say what is wrong with each cell."""
        index = {name: i for i, name in enumerate(header)}
        width = len(header)
        present = [
            (c.name, i, self._cell(c))
            for c in self.spec.columns
            if (i := index.get(c.name)) is not None
        ]
        absent = {c.name: None for c in self.spec.columns if c.name not in index}
        required = [
            i for c in self.spec.columns if not c.optional and (i := index.get(c.name)) is not None
        ]
        # The required cells of a row, as a tuple (one C call), to see whether any is empty.
        filled: Callable[[list[str]], Any] = (
            itemgetter(*required) if len(required) > 1 else lambda cells: [cells[required[0]]]
        )
        # A required column the header leaves out makes every row a slow one (and a problem).
        fast = all(c.optional for c in self.spec.columns if c.name in absent)
        try:
            with self._open() as fh:
                reader = csv.reader(fh)
                next(reader, None)
                for raw in reader:
                    cells = list(map(str.strip, raw))
                    if not "".join(cells):
                        continue  # blank lines are harmless
                    if len(cells) < width:
                        cells += [""] * (width - len(cells))
                    if fast and "" not in filled(cells):
                        try:
                            values = {name: parse(cells[i]) for name, i, parse in present}
                        except RosterError:
                            pass
                        else:
                            if absent:
                                values.update(absent)
                            yield Row(reader.line_num, values)
                            continue
                    yield self._slow_row(reader.line_num, cells, index)
        except UnicodeDecodeError as exc:
            self._problem(_line_of_byte(self.path, exc.start), None, "is not UTF-8 text")
        except csv.Error as exc:
            self._problem(0, None, f"is not valid CSV ({exc})")

    def _cell(self, col: Col) -> Callable[[str], Any]:
        """The column's parser for a stripped cell: empty is None when the column is optional,
        and dates move by the shift."""
        parse = col.parse
        if self.shift and parse in (p_date, p_timestamp):
            shift, unshifted = self.shift, parse
            parse = lambda text: unshifted(text) + shift  # noqa: E731
        if col.optional:
            inner = parse
            parse = lambda text: inner(text) if text else None  # noqa: E731
        return parse

    def _slow_row(self, line: int, cells: list[str], index: dict[str, int]) -> Row:
        values: dict[str, Any] = {}
        problems: list[tuple[str, str]] = []
        for col in self.spec.columns:
            i = index.get(col.name)
            text = "" if i is None else cells[i]
            if not text:
                if col.optional:
                    values[col.name] = None
                else:
                    problems.append((col.name, "is empty"))
                continue
            try:
                values[col.name] = self._cell(col)(text)
            except RosterError as exc:
                problems.append((col.name, str(exc)))
        return Row(line, values, problems)


def _line_of_byte(path: Path, offset: int) -> int:
    """The 1-based line of a byte offset, counted without loading the file whole."""
    line, seen = 1, 0
    with open(path, "rb") as fh:
        while seen < offset:
            chunk = fh.read(min(1 << 20, offset - seen))
            if not chunk:
                break
            line += chunk.count(b"\n")
            seen += len(chunk)
    return line
