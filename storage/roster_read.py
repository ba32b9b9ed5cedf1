"""Storage: reading roster files: the import's report, and a streaming reader of one CSV file.

A file is read row by row (never whole); each cell goes through its column's parser and every
problem goes to the report as ``file.csv:LINE: column: what is wrong``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from storage.roster_spec import Spec
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

    @property
    def ok(self) -> bool:
        return not self.problems

    def add_problem(self, text: str) -> None:
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        else:
            self.more_problems += 1


# --- reading -------------------------------------------------------------------------------


@dataclass
class Row:
    line: int
    values: dict[str, Any]
    complete: bool = True


class FileReader:
    """Streams one CSV file's parsed rows; problems go to the report."""

    def __init__(self, path: Path, spec: Spec, report: ImportReport, shift: timedelta) -> None:
        self.path, self.spec, self.report, self.shift = path, spec, report, shift

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
        index = {name: i for i, name in enumerate(header)}
        cols = [(c, index.get(c.name)) for c in self.spec.columns]
        date_cols = {c.name for c in self.spec.columns if c.parse in (p_date, p_timestamp)}
        try:
            with self._open() as fh:
                reader = csv.reader(fh)
                next(reader, None)
                for raw in reader:
                    line = reader.line_num
                    if not any(v.strip() for v in raw):
                        continue  # blank lines are harmless
                    if len(raw) < len(header):
                        raw = raw + [""] * (len(header) - len(raw))
                    values: dict[str, Any] = {}
                    good = True
                    for col, i in cols:
                        text = "" if i is None else raw[i].strip()
                        if not text:
                            if col.optional:
                                values[col.name] = None
                                continue
                            self._problem(line, col.name, "is empty")
                            good = False
                            continue
                        try:
                            value = col.parse(text)
                        except RosterError as exc:
                            self._problem(line, col.name, str(exc))
                            good = False
                            continue
                        if col.name in date_cols and self.shift:
                            value = value + self.shift
                        values[col.name] = value
                    yield Row(line, values, complete=good)
        except UnicodeDecodeError as exc:
            self._problem(_line_of_byte(self.path, exc.start), None, "is not UTF-8 text")
        except csv.Error as exc:
            self._problem(0, None, f"is not valid CSV ({exc})")


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
