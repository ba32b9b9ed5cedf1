"""Storage: roster folder import (ROSTER.md): the entry point.

Two streaming passes over the CSV files, in one transaction. The first (``roster_check``)
validates every row and collects every problem as ``file.csv:LINE: column: what is wrong``; it
also compares each chunk of a keyed file with the rows stored (reading only) and keeps the few
rows that differ. Only if there is no problem does the second (``roster_write``) write what
changed, in bulk: from the rows kept, or, for a table that was empty or changed a lot, by reading
its file again. Then it lists what the folder no longer lists and, when asked, ends it
(``roster_removals``). A dry run does all of it and rolls back, so it shows exactly what a real
run would do. Files are never held in memory whole.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from storage.collector import collector_paused
from storage.not_recorded import withdraw_superseded
from storage.roster_check import Catalog, Progress, counted, validate
from storage.roster_read import Counts, FileReader, ImportReport, Row
from storage.roster_removals import (
    apply_removals,
    describe_missing,
    find_missing,
    move_reassigned_sessions,
)
from storage.roster_spec import SPEC_BY_FILE, SPECS
from storage.roster_write import ACTOR, Writer

__all__ = ["SPECS", "Counts", "ImportReport", "Progress", "import_roster"]


class _FilesChanged(Exception):
    """A file became invalid between the two passes; the transaction is rolled back."""


class _DryRun(Exception):
    """Roll back what a dry run wrote."""


def _write(
    w: Writer,
    folder: Path,
    cat: Catalog,
    report: ImportReport,
    shift: timedelta,
    apply: bool,
    progress: Progress | None,
) -> None:
    for spec in SPECS:
        header = cat.headers.get(spec.filename)
        if header is None:
            continue
        differing = cat.differing.get(spec.filename)
        if differing is not None:  # compared while checked: write only what differs
            total = report.rows.get(spec.table, 0)
            if progress is not None:
                progress.start("write", spec.filename, total)
            started = time.perf_counter()
            w.upsert(spec.filename, spec.table, iter(differing), total - len(differing))
            if progress is not None:
                progress.advance(total)
                progress.finish(total, time.perf_counter() - started)
            continue
        path = next(p for p in folder.iterdir() if p.name.lower() == spec.filename)
        reader = FileReader(path, SPEC_BY_FILE[spec.filename], report, shift)
        started = time.perf_counter()
        if progress is not None:
            progress.start("write", spec.filename, report.rows.get(spec.table))
        rows = _checked(counted(reader.rows(header), progress), reader)
        if spec.filename == "school_hours.csv":
            w.school_hours(rows)
        elif spec.filename == "availability.csv":
            w.availability(rows)
        elif spec.filename == "calendar.csv":
            w.calendar(rows)
        elif spec.filename == "managers.csv":
            kept: list[Row] = []
            w.upsert(spec.filename, spec.table, _keep(rows, kept))
            w.manager_districts(iter(kept))
        else:
            w.upsert(spec.filename, spec.table, rows)
        if not report.ok:
            raise _FilesChanged
        if progress is not None:
            progress.finish(report.rows.get(spec.table, 0), time.perf_counter() - started)
    if w.moves_sessions:  # after sessions.csv, which may still list the old provider
        move_reassigned_sessions(w)
    if w.arrived:  # the bot's not_recorded rows for the dates of the sessions written
        withdraw_superseded(w.s, w.now, ACTOR, near=w.arrived)
    missing = find_missing(w, cat)
    report.missing = {
        k: [str(v) if isinstance(v, str) else v for v in ids] for k, ids in missing.items()
    }
    if apply and missing:
        apply_removals(w, missing)
    changed = {
        table: {"created": c.created, "updated": c.updated, "removed": c.removed}
        for table, c in report.counts.items()
        if c.created or c.updated or c.removed
    }
    if changed and w.again:  # a re-import's own stamp: what it changed, and when (a cache key)
        w.note("roster.imported", "roster", folder.name, None, changed)
    w.flush_audit()


def _checked(rows: Iterator[Row], reader: FileReader) -> Iterator[Row]:
    """Rows as validated; a row that has become invalid since is reported (and rolls back)."""
    for row in rows:
        if not row.complete:
            reader.report_row(row)
            continue
        yield row


def _keep(rows: Iterator[Row], into: list[Row]) -> Iterator[Row]:
    for row in rows:
        into.append(row)
        yield row


def import_roster(
    folder: Path,
    session_factory: sessionmaker[Session] | None,
    *,
    dry_run: bool = False,
    apply_removals: bool = False,
    shift_days: int = 0,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Validate the folder, then write what changed in one transaction.

    With ``dry_run`` and a database, the import runs and is rolled back, so the report shows
    exactly what would happen; without a database it only validates. ``apply_removals`` ends
    what the folder no longer lists (students exit, providers are removed, assignments and
    licences end); without it they are only listed in ``report.missing``. ``now`` (needed to
    move sessions or apply removals) is the instant that decides which sessions are in the future;
    without it a reassignment moves no session. ``shift_days`` moves
    every date and timestamp, which is how the demo roster is kept relative to the day it is
    loaded.
    """
    with collector_paused():
        return _import(folder, session_factory, dry_run, apply_removals, shift_days, now, progress)


def _import(
    folder: Path,
    session_factory: sessionmaker[Session] | None,
    dry_run: bool,
    apply_removals: bool,
    shift_days: int,
    now: datetime | None,
    progress: Progress | None,
) -> ImportReport:
    report = ImportReport()
    shift = timedelta(days=shift_days)
    if session_factory is None:
        validate(folder, report, shift, progress)
        return report
    if apply_removals and now is None:
        raise ValueError("applying removals needs `now`")
    try:
        with session_factory.begin() as s:
            # The check compares rows with what is stored (reading only), so the write pass
            # reads again only the files of tables that were empty or changed a lot.
            w = Writer(s, report, now)
            try:
                cat = validate(folder, report, shift, progress, differ=w)
                if not report.ok:
                    return report
                _write(w, folder, cat, report, shift, apply_removals, progress)
            finally:
                w.bulk.done()
            if dry_run:
                raise _DryRun
    except _DryRun:
        return report
    except _FilesChanged:
        report.counts.clear()
        return report
    except IntegrityError as exc:
        report.counts.clear()
        constraint = getattr(getattr(exc.orig, "diag", None), "constraint_name", None)
        detail = constraint or str(exc.orig).splitlines()[0][:120]
        report.add_problem(f"{folder.name}: the database refused the import ({detail})")
        return report
    report.written = True
    return report


def missing_lines(report: ImportReport) -> list[str]:
    return describe_missing(report.missing)
