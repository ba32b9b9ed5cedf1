"""Storage: the roster's first pass: validate every row of every file, streaming.

Problems are said in the roster's own terms (``school_hours.csv:14: the same hours as line 9
(anc-spenard, Mon 08:30–11:30)``). A row that refers to a row that failed is not checked: the
failed row gets one line saying how many rows depend on it, instead of one "unknown" per row.
What this pass keeps is small: the ids (for references and for what the folder no longer lists),
and the first line of each key.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from operator import itemgetter
from pathlib import Path
from typing import Any, Protocol

from storage.roster_read import FileReader, ImportReport, Row
from storage.roster_spec import SPECS, Col, Spec
from storage.roster_values import DAYS

_EVERY = 5000  # rows between progress updates
COMPARE_CHUNK = 5000  # rows compared with the database in one query
MAX_DIFFERING = 50_000  # differing rows kept from the check; more: the write pass reads the file


class Progress(Protocol):
    """Told about each file as it is read: a bar on a terminal, a line per file elsewhere."""

    def start(self, phase: str, filename: str, total: int | None) -> None: ...

    def advance(self, rows: int) -> None: ...

    def finish(self, rows: int, seconds: float) -> None: ...


def counted(rows: Iterator[Row], progress: Progress | None) -> Iterator[Row]:
    n = 0
    for row in rows:
        n += 1
        if progress is not None and n % _EVERY == 0:
            progress.advance(_EVERY)
        yield row
    if progress is not None:
        progress.advance(n % _EVERY)


# Multi-column keys kept after their file, for removals (what the folder no longer lists).
KEPT_KEYS = ("licenses.csv", "assignments.csv")


@dataclass
class Catalog:
    """What pass 1 remembers: keys, for reference checks and removals, and little else."""

    keys: dict[str, dict[Any, int]] = field(default_factory=dict)
    failed: dict[str, dict[Any, int]] = field(default_factory=lambda: defaultdict(dict))
    dependents: dict[tuple[str, Any], int] = field(default_factory=lambda: defaultdict(int))
    provider_discipline: dict[str, str] = field(default_factory=dict)
    student_services: set[tuple[str, str]] = field(default_factory=set)
    slack_ids: dict[str, dict[str, tuple[str, int]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    availability: dict[tuple[str, int], list[tuple[int, int, int]]] = field(
        default_factory=lambda: defaultdict(list)
    )
    headers: dict[str, list[str]] = field(default_factory=dict)
    # For a file compared with the database while it was checked: the only rows that differ
    # from what is stored (the write pass takes them and does not read the file again).
    differing: dict[str, list[Row]] = field(default_factory=dict)


class Differ(Protocol):
    """Compares checked rows with what the database stores, reading only."""

    def wants(self, filename: str) -> bool:
        """Whether the file's rows are worth comparing (its table has rows)."""
        ...

    def differing(self, filename: str, rows: list[Row]) -> list[Row]:
        """The rows that are not stored exactly as they are."""
        ...


def hm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def describe(spec: Spec, values: dict[str, Any]) -> str:
    """A row's key as a person reads it: ``anc-spenard, Mon 08:30–11:30``."""
    if "day" in values and "start" in values:
        owner = values[spec.key[0]]
        day = DAYS[values["day"]].capitalize()
        return f"{owner}, {day} {hm(values['start'])}–{hm(values['end'])}"
    return ", ".join(str(values[k]) for k in spec.key if values.get(k) is not None)


_SAME = {
    "school_hours.csv": "hours",
    "availability.csv": "hours",
    "licenses.csv": "licence",
    "services.csv": "service",
    "assignments.csv": "student and service",
    "calendar.csv": "calendar entry",
    "sessions.csv": "session and student",
}


def validate(
    folder: Path,
    report: ImportReport,
    shift: timedelta,
    progress: Progress | None = None,
    differ: Differ | None = None,
) -> Catalog:
    cat = Catalog()
    if not folder.is_dir():
        report.add_problem(f"{folder}: not a folder")
        return cat
    present = {p.name.lower(): p for p in folder.iterdir() if p.is_file()}
    for spec in SPECS:
        if spec.filename not in present:
            if spec.required:
                report.add_problem(f"{spec.filename}:0: the required file is missing")
            continue
        reader = FileReader(present[spec.filename], spec, report, shift)
        header = reader.header(warn=True)
        if header is None:
            continue
        cat.headers[spec.filename] = header
        started = time.perf_counter()
        if progress is not None:
            progress.start("check", spec.filename, None)
        counted_rows = counted(reader.rows(header), progress)
        report.rows[spec.table] = n = _validate_file(spec, counted_rows, reader, cat, differ)
        if progress is not None:
            progress.finish(n, time.perf_counter() - started)
    if "availability.csv" in cat.headers:
        _warn_overlaps(cat, report)
    for (filename, key), n in cat.dependents.items():
        line = cat.failed[filename][key]
        refer = f"{n} rows that refer" if n != 1 else "1 row that refers"
        were = "were" if n != 1 else "was"
        report.add_problem(f"{filename}:{line} failed, so {refer} to {key} {were} not checked")
    return cat


def _validate_file(
    spec: Spec, rows: Iterator[Row], reader: FileReader, cat: Catalog, differ: Differ | None
) -> int:
    # First line of each key. A single-column id is stored bare (no tuple), and the same dict
    # later answers reference checks, so each id is held once.
    seen: dict[Any, int] = {}
    single = len(spec.key) == 1
    key_of = itemgetter(*spec.key)  # a bare value for one column, a tuple for several
    failed = cat.failed[spec.filename]
    report = reader.report
    # (column, the referenced file's keys, what it is called) for each reference to check
    refs = [
        (col.name, known, col.ref.removesuffix(".csv").rstrip("s"))
        for col in spec.columns
        if col.ref is not None and (known := cat.keys.get(col.ref)) is not None
    ]
    may_fail = [col for col in spec.columns if col.ref is not None and cat.failed.get(col.ref)]
    # Rows waiting to be compared, and those found to differ; None: too many, or no comparing.
    compare = differ is not None and differ.wants(spec.filename)
    pending: list[Row] = []
    differing: list[Row] | None = [] if compare else None
    n = 0
    for row in rows:
        n += 1
        v = row.values
        if may_fail and _depends_on_failed(may_fail, row, cat):
            continue
        before = report.problem_count
        if row.problems:
            reader.report_row(row)
        for name, known, what in refs:
            value = v.get(name)
            if value is None:
                continue
            for one in value if isinstance(value, tuple) else (value,):
                if one not in known:
                    reader._problem(row.line, name, f"unknown {what} {one!r}")
        key: Any = None
        if not row.problems:
            _check_row(spec, row, cat, reader)
            key = key_of(v)
            first = seen.get(key)
            if first is not None:
                reader._problem(row.line, spec.key[0], _duplicate(spec, row, key, first))
        elif single:
            key = v.get(spec.key[0])
        if key is None:
            continue
        if report.problem_count > before:
            if single and key not in seen:
                failed.setdefault(key, row.line)
            continue
        if key not in seen:
            seen[key] = row.line
        if differing is not None and not report.problems:
            pending.append(row)
            if len(pending) >= COMPARE_CHUNK:
                differing = _compare(differ, spec.filename, pending, differing)
                pending = []
    if differing is not None and not report.problems:
        differing = _compare(differ, spec.filename, pending, differing)
        if differing is not None:
            cat.differing[spec.filename] = differing
    keep = single or spec.filename in KEPT_KEYS
    cat.keys[spec.filename] = seen if keep else {}
    return n


def _compare(
    differ: Differ | None, filename: str, rows: list[Row], differing: list[Row]
) -> list[Row] | None:
    assert differ is not None
    if rows:
        differing += differ.differing(filename, rows)
    return differing if len(differing) <= MAX_DIFFERING else None


def _duplicate(spec: Spec, row: Row, key: Any, first: int) -> str:
    if len(spec.key) == 1:
        return f"duplicate id {key!r} (first on line {first})"
    return f"the same {_SAME[spec.filename]} as line {first} ({describe(spec, row.values)})"


def _depends_on_failed(columns: list[Col], row: Row, cat: Catalog) -> bool:
    """True, and counted, when the row refers to a row that failed."""
    for col in columns:
        assert col.ref is not None
        value = row.values.get(col.name)
        if value is None:
            continue
        failed = cat.failed[col.ref]
        for one in value if isinstance(value, tuple) else (value,):
            if one in failed:
                cat.dependents[(col.ref, one)] += 1
                return True
    return False


def _check_row(spec: Spec, row: Row, cat: Catalog, reader: FileReader) -> None:
    v = row.values
    name = spec.filename
    if name == "calendar.csv":
        _check_calendar_row(row, reader)
    elif "start" in v and "end" in v and v["start"] >= v["end"]:
        reader._problem(row.line, "end", "must be after start")
    if name in ("providers.csv", "managers.csv") and v["slack_user_id"]:
        holders = cat.slack_ids[name]
        other = holders.get(v["slack_user_id"])
        if other is not None:
            reader._problem(row.line, "slack_user_id", f"also used by {other[0]} (line {other[1]})")
        else:
            holders[v["slack_user_id"]] = (v[spec.key[0]], row.line)
    if name == "providers.csv":
        cat.provider_discipline[v["provider_id"]] = v["discipline"]
    elif name == "availability.csv":
        cat.availability[(v["provider_id"], v["day"])].append((v["start"], v["end"], row.line))
    elif name == "services.csv":
        cat.student_services.add((v["student_id"], v["service"]))
        if v["minutes_per_week"] is not None and v["minutes_per_month"] is not None:
            reader._problem(
                row.line,
                "minutes_per_month",
                "give minutes_per_week or minutes_per_month, not both",
            )
        if v["starts_on"] and v["ends_on"] and v["ends_on"] < v["starts_on"]:
            reader._problem(row.line, "ends_on", "is before starts_on")
    elif name in ("assignments.csv", "sessions.csv"):
        disc = cat.provider_discipline.get(v["provider_id"])
        if disc is not None and disc != v["service"]:
            reader._problem(
                row.line, "service", f"provider {v['provider_id']} is {disc}, not {v['service']}"
            )
        if name == "assignments.csv" and (v["student_id"], v["service"]) not in (
            cat.student_services
        ):
            reader._problem(
                row.line, "service", f"student {v['student_id']} has no {v['service']} service"
            )
        if (
            name == "sessions.csv"
            and v.get("note_done_at")
            and (v["note_done_at"] < v["starts_at"])
        ):
            reader._problem(row.line, "note_done_at", "is before the session starts")


def _check_calendar_row(row: Row, reader: FileReader) -> None:
    v = row.values
    if (v["district_id"] is None) == (v["school_id"] is None):
        reader._problem(row.line, "school_id", "give either district_id or school_id, not both")
    if v["end"] < v["start"]:
        reader._problem(row.line, "end", "is before start")
    if v["kind"] == "early_release":
        if v["ends_at"] is None:
            reader._problem(row.line, "ends_at", "an early release needs the time the day ends")
        elif v["ends_at"] >= 24 * 60:
            reader._problem(row.line, "ends_at", "must be before 24:00")
    elif v["ends_at"] is not None:
        reader._problem(row.line, "ends_at", "only an early release has an end time")


def merge_windows(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping windows of one day as one (touching ones stay apart)."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _warn_overlaps(cat: Catalog, report: ImportReport) -> None:
    for (provider_id, day), rows in sorted(cat.availability.items()):
        rows.sort()
        end_so_far, first = -1, rows[0]
        for start, end, line in rows:
            if start < end_so_far:
                merged = next(
                    w for w in merge_windows([(r[0], r[1]) for r in rows]) if w[0] <= start < w[1]
                )
                report.warnings.append(
                    f"availability.csv:{line}: overlaps line {first[2]} ({provider_id}, "
                    f"{DAYS[day].capitalize()} {hm(first[0])}–{hm(first[1])}); merged into "
                    f"{hm(merged[0])}–{hm(merged[1])}"
                )
            if end > end_so_far:
                end_so_far, first = end, (start, end, line)
    cat.availability.clear()
