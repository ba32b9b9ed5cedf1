"""Storage: roster folder import (ROSTER.md).

Two streaming passes over the CSV files. The first validates every row and collects every
problem as ``file.csv:LINE: column: what is wrong``; only if there is none does the second pass
upsert, in chunks, inside one transaction. Files are never held in memory whole, so a 20 MB
file costs what one chunk costs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from storage import models as m
from storage.roster_read import Counts, FileReader, ImportReport, Row
from storage.roster_spec import SPEC_BY_FILE, SPECS, Spec

__all__ = ["SPECS", "Counts", "ImportReport", "import_roster"]

CHUNK = 1000


# --- validation (pass 1) -------------------------------------------------------------------


@dataclass
class Catalog:
    """What pass 1 remembers: keys, for reference checks, and little else."""

    keys: dict[str, dict[Any, int]] = field(default_factory=dict)
    district_state: dict[str, str] = field(default_factory=dict)
    provider_discipline: dict[str, str] = field(default_factory=dict)
    student_services: set[tuple[str, str]] = field(default_factory=set)
    headers: dict[str, list[str]] = field(default_factory=dict)


def _validate(folder: Path, report: ImportReport, shift: timedelta) -> Catalog:
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
        # First line of each key. A single-column id is stored bare (no tuple), and the same
        # dict later answers reference checks, so each id is held once.
        seen: dict[Any, int] = {}
        single = len(spec.key) == 1
        n = 0
        for row in reader.rows(header):
            n += 1
            _check_refs(spec, row, cat, reader)
            if not row.complete:
                continue
            _check_row(spec, row, cat, reader)
            key = row.values[spec.key[0]] if single else tuple(row.values[k] for k in spec.key)
            first = seen.get(key)
            if first is not None:
                what = "id" if single else "row"
                shown = key if single else ", ".join(str(k) for k in key)
                reader._problem(
                    row.line, spec.key[0], f"duplicate {what} {shown!r} (first on line {first})"
                )
            else:
                seen[key] = row.line
        report.rows[spec.table] = n
        # Only single-column ids are referenced by later files; keep nothing else.
        cat.keys[spec.filename] = seen if single else {}
    return cat


def _check_refs(spec: Spec, row: Row, cat: Catalog, reader: FileReader) -> None:
    v = row.values
    for col in spec.columns:
        if col.ref and v.get(col.name) is not None:
            known = cat.keys.get(col.ref)
            if known is None:
                continue
            value = v[col.name]
            what = col.ref.removesuffix(".csv").rstrip("s")
            for one in value if isinstance(value, tuple) else (value,):
                if one not in known:
                    reader._problem(row.line, col.name, f"unknown {what} {one!r}")


def _check_row(spec: Spec, row: Row, cat: Catalog, reader: FileReader) -> None:
    v = row.values
    name = spec.filename
    if name == "calendar.csv":
        _check_calendar_row(row, reader)
    elif "start" in v and "end" in v and v["start"] >= v["end"]:
        reader._problem(row.line, "end", "must be after start")
    if name == "districts.csv":
        cat.district_state[v["district_id"]] = v["state"]
    elif name == "providers.csv":
        cat.provider_discipline[v["provider_id"]] = v["discipline"]
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


# --- writing (pass 2) ----------------------------------------------------------------------


def _chunks(rows: Iterator[Row], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row.values)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True)
class Target:
    model: type[m.Base]
    key_attrs: tuple[str, ...]
    to_attrs: Callable[[dict[str, Any]], dict[str, Any]]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, datetime) and isinstance(b, datetime):
        return a == b
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return a is not None and b is not None and Decimal(a) == Decimal(b)
    return bool(a == b)


def _upsert(s: Session, target: Target, batch: list[dict[str, Any]], counts: Counts) -> None:
    rows = [target.to_attrs(v) for v in batch]
    model = target.model
    key_cols = [getattr(model, k) for k in target.key_attrs]
    keys = [tuple(r[k] for k in target.key_attrs) for r in rows]
    if len(key_cols) == 1:
        existing_q = select(model).where(key_cols[0].in_([k[0] for k in keys]))
    else:
        existing_q = select(model).where(tuple_(*key_cols).in_(keys))
    existing = {
        tuple(getattr(obj, k) for k in target.key_attrs): obj for obj in s.scalars(existing_q)
    }
    for key, attrs in zip(keys, rows, strict=True):
        obj = existing.get(key)
        if obj is None:
            obj = model(**attrs)
            s.add(obj)
            existing[key] = obj
            counts.created += 1
            continue
        changed = False
        for name, value in attrs.items():
            if not _same(getattr(obj, name), value):
                setattr(obj, name, value)
                changed = True
        if changed:
            counts.updated += 1
        else:
            counts.unchanged += 1
    s.flush()


def _replace_sets(
    s: Session,
    model: type[m.Base],
    owner_attr: str,
    batch_rows: Iterator[Row],
    to_attrs: Callable[[dict[str, Any]], dict[str, Any]],
    counts: Counts,
) -> None:
    """Per owner (school or provider), make the stored set of windows equal the file's set."""
    wanted: dict[str, set[tuple[Any, ...]]] = {}
    fields: tuple[str, ...] = ()
    for row in batch_rows:
        attrs = to_attrs(row.values)
        fields = tuple(k for k in attrs if k != owner_attr)
        wanted.setdefault(attrs[owner_attr], set()).add(tuple(attrs[f] for f in fields))
    owner_col = getattr(model, owner_attr)
    owners = list(wanted)
    for i in range(0, len(owners), CHUNK):
        part = owners[i : i + CHUNK]
        have: dict[str, dict[tuple[Any, ...], Any]] = {}
        for obj in s.scalars(select(model).where(owner_col.in_(part))):
            have.setdefault(getattr(obj, owner_attr), {})[
                tuple(getattr(obj, f) for f in fields)
            ] = obj
        for owner in part:
            current = have.get(owner, {})
            for sig in wanted[owner] - set(current):
                s.add(model(**{owner_attr: owner, **dict(zip(fields, sig, strict=True))}))
                counts.created += 1
            for sig, obj in current.items():
                if sig in wanted[owner]:
                    counts.unchanged += 1
                else:
                    s.delete(obj)
                    counts.removed += 1
    s.flush()


def _write(s: Session, folder: Path, cat: Catalog, report: ImportReport, shift: timedelta) -> None:
    def rows_of(filename: str) -> Iterator[Row] | None:
        header = cat.headers.get(filename)
        if header is None:
            return None
        path = next(p for p in folder.iterdir() if p.name.lower() == filename)
        return FileReader(path, SPEC_BY_FILE[filename], report, shift).rows(header)

    provider_zone: dict[str, str] = {}
    targets: dict[str, Target] = {
        "districts.csv": Target(
            m.District,
            ("id",),
            lambda v: {
                "id": v["district_id"],
                "name": v["name"],
                "state": v["state"],
                "timezone": v["timezone"],
            },
        ),
        "schools.csv": Target(
            m.School,
            ("id",),
            lambda v: {
                "id": v["school_id"],
                "district_id": v["district_id"],
                "name": v["name"],
                "timezone": v["timezone"],
            },
        ),
        "providers.csv": Target(
            m.Provider,
            ("id",),
            lambda v: {
                "id": v["provider_id"],
                "name": v["name"],
                "email": v["email"],
                "slack_user_id": v["slack_user_id"],
                "discipline": v["discipline"],
                "home_state": v["home_state"],
                "timezone": v["timezone"],
                "weekly_hours": v["weekly_hours"],
                "removed_at": None,  # listed again: active
            },
        ),
        "licenses.csv": Target(
            m.License,
            ("provider_id", "state", "license_number"),
            lambda v: {
                "provider_id": v["provider_id"],
                "state": v["state"],
                "license_number": v["license_number"],
                "expires_on": v["expires_on"],
            },
        ),
        "managers.csv": Target(
            m.Manager,
            ("id",),
            lambda v: {
                "id": v["manager_id"],
                "name": v["name"],
                "email": v["email"],
                "slack_user_id": v["slack_user_id"],
            },
        ),
        "students.csv": Target(
            m.Student,
            ("id",),
            lambda v: {
                "id": v["student_id"],
                "school_id": v["school_id"],
                "first_name": v["first_name"],
                "last_name": v["last_name"],
                "grade": v["grade"],
                "annual_review_due": v["annual_review_due"],
                "triennial_due": v["triennial_due"],
                "exited_at": None,  # listed again: enrolled
            },
        ),
        "services.csv": Target(
            m.StudentService,
            ("student_id", "service"),
            lambda v: {
                "student_id": v["student_id"],
                "service": v["service"],
                "sessions_per_week": v["sessions_per_week"],
                "session_minutes": v["session_minutes"],
                "group_ok": v["group_ok"],
                "minutes_per_week": v["minutes_per_week"],
                "minutes_per_month": v["minutes_per_month"],
                "starts_on": v["starts_on"],
                "ends_on": v["ends_on"],
            },
        ),
        "assignments.csv": Target(
            m.Assignment,
            ("student_id", "service"),
            lambda v: {
                "student_id": v["student_id"],
                "service": v["service"],
                "provider_id": v["provider_id"],
            },
        ),
        "sessions.csv": Target(
            m.TherapySession,
            ("session_key", "student_id"),
            lambda v: {
                "session_key": v["session_id"],
                "provider_id": v["provider_id"],
                "student_id": v["student_id"],
                "service": v["service"],
                "starts_at": v["starts_at"],
                "minutes": v["minutes"],
                "status": v["status"],
                "note_done_at": v["note_done_at"],
            },
        ),
    }
    for spec in SPECS:
        rows = rows_of(spec.filename)
        if rows is None:
            continue
        counts = report.counts.setdefault(spec.table, Counts())
        if spec.filename == "school_hours.csv":
            _replace_sets(
                s,
                m.SchoolHours,
                "school_id",
                rows,
                lambda v: {
                    "school_id": v["school_id"],
                    "day": v["day"],
                    "start_minute": v["start"],
                    "end_minute": v["end"],
                },
                counts,
            )
            continue
        if spec.filename == "availability.csv":
            if not provider_zone:
                provider_zone.update(
                    {pid: tz for pid, tz in s.execute(select(m.Provider.id, m.Provider.timezone))}
                )
            _replace_sets(
                s,
                m.AvailabilityWindow,
                "provider_id",
                rows,
                lambda v: {
                    "provider_id": v["provider_id"],
                    "day": v["day"],
                    "start_minute": v["start"],
                    "end_minute": v["end"],
                    "timezone": provider_zone[v["provider_id"]],
                    "effective_from": None,
                    "effective_to": None,
                },
                counts,
            )
            continue
        if spec.filename == "calendar.csv":
            _replace_calendar(s, rows, counts)
            continue
        for batch in _chunks(rows):
            _upsert(s, targets[spec.filename], batch, counts)
            if spec.filename == "managers.csv":
                _replace_manager_districts(s, batch, report)


def _replace_manager_districts(
    s: Session, batch: list[dict[str, Any]], report: ImportReport
) -> None:
    """Each listed manager serves exactly the districts the file names (none: all)."""
    counts = report.counts.setdefault("manager_districts", Counts())
    wanted = {v["manager_id"]: set(v["district_ids"] or ()) for v in batch}
    have: dict[str, dict[str, m.ManagerDistrict]] = {}
    q = select(m.ManagerDistrict).where(m.ManagerDistrict.manager_id.in_(list(wanted)))
    for obj in s.scalars(q):
        have.setdefault(obj.manager_id, {})[obj.district_id] = obj
    for manager_id, districts in wanted.items():
        current = have.get(manager_id, {})
        for district_id in sorted(districts - set(current)):
            s.add(m.ManagerDistrict(manager_id=manager_id, district_id=district_id))
            counts.created += 1
        for district_id, obj in current.items():
            if district_id in districts:
                counts.unchanged += 1
            else:
                s.delete(obj)
                counts.removed += 1
    s.flush()


def _replace_calendar(s: Session, rows: Iterator[Row], counts: Counts) -> None:
    """The stored calendar becomes exactly the file's (the file is the whole calendar)."""
    cal = m.SchoolCalendarDay
    fields = ("district_id", "school_id", "start_date", "end_date", "kind", "ends_at_minute")
    wanted = {
        (
            r.values["district_id"],
            r.values["school_id"],
            r.values["start"],
            r.values["end"],
            r.values["kind"],
            r.values["ends_at"],
        )
        for r in rows
    }
    current = {tuple(getattr(obj, f) for f in fields): obj for obj in s.scalars(select(cal))}
    for sig in sorted(wanted - set(current), key=str):
        s.add(cal(**dict(zip(fields, sig, strict=True))))
        counts.created += 1
    for sig, obj in current.items():
        if sig in wanted:
            counts.unchanged += 1
        else:
            s.delete(obj)
            counts.removed += 1
    s.flush()


def import_roster(
    folder: Path,
    session_factory: sessionmaker[Session] | None,
    *,
    dry_run: bool = False,
    shift_days: int = 0,
) -> ImportReport:
    """Validate the folder, then (unless ``dry_run``) upsert it in one transaction.

    ``shift_days`` moves every date and timestamp, which is how the demo roster is kept
    relative to the day it is loaded.
    """
    report = ImportReport()
    shift = timedelta(days=shift_days)
    cat = _validate(folder, report, shift)
    if not report.ok or dry_run or session_factory is None:
        return report
    try:
        with session_factory.begin() as s:
            _write(s, folder, cat, report, shift)
            if not report.ok:
                raise _FilesChanged
    except _FilesChanged:
        report.counts.clear()
        return report
    report.written = True
    return report


class _FilesChanged(Exception):
    """A file became invalid between the two passes; the transaction is rolled back."""
