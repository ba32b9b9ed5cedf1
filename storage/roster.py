"""Storage: roster folder import (ROSTER.md).

Two streaming passes over the CSV files. The first validates every row and collects every
problem as ``file.csv:LINE: column: what is wrong``; only if there is none does the second pass
upsert, in chunks, inside one transaction. Files are never held in memory whole, so a 20 MB
file costs what one chunk costs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session, sessionmaker

from storage import models as m

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SERVICES = ("slp", "ot", "pt", "psych", "mh")
SESSION_STATUSES = ("scheduled", "held", "cancelled", "no_show")
_STATE_CODES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP"
)
STATES = frozenset(_STATE_CODES.split())
MAX_PROBLEMS = 200
CHUNK = 1000


class RosterError(Exception):
    """A problem with one value; the message is the 'what is wrong' part."""


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


# --- value parsers -------------------------------------------------------------------------


def p_id(v: str) -> str:
    if len(v) > 64:
        raise RosterError("is longer than 64 characters")
    if any(c.isspace() for c in v):
        raise RosterError(f"{v!r} contains spaces")
    return v


def p_text(v: str) -> str:
    if len(v) > 200:
        raise RosterError("is longer than 200 characters")
    return v


def p_day(v: str) -> int:
    d = v.lower()
    if d not in DAYS:
        raise RosterError(f"{v!r} is not a day (mon tue wed thu fri sat sun)")
    return DAYS.index(d)


def p_time(v: str) -> int:
    try:
        hh, mm = v.split(":")
        if len(hh) != 2 or len(mm) != 2:
            raise ValueError
        h, mi = int(hh), int(mm)
    except ValueError:
        raise RosterError(f"{v!r} is not a time HH:MM (24-hour)") from None
    if not (0 <= h <= 24 and 0 <= mi < 60) or (h == 24 and mi):
        raise RosterError(f"{v!r} is not a time of day")
    return h * 60 + mi


def p_date(v: str) -> date:
    try:
        if len(v) != 10:
            raise ValueError
        return date.fromisoformat(v)
    except ValueError:
        raise RosterError(f"{v!r} is not a date YYYY-MM-DD") from None


def p_timestamp(v: str) -> datetime:
    try:
        ts = datetime.fromisoformat(v)
    except ValueError:
        raise RosterError(f"{v!r} is not an ISO 8601 timestamp") from None
    if ts.tzinfo is None or ts.utcoffset() is None:
        raise RosterError(f"{v!r} has no UTC offset (e.g. 2026-11-30T16:00:00+00:00)")
    return ts


def p_state(v: str) -> str:
    s = v.upper()
    if s not in STATES or len(v) != 2:
        raise RosterError(f"{v!r} is not a two-letter USPS state code")
    return s


@lru_cache(maxsize=512)
def _zone_ok(name: str) -> bool:
    try:
        ZoneInfo(name)
        return "/" in name or name == "UTC"
    except (ZoneInfoNotFoundError, ValueError):
        return False


def p_zone(v: str) -> str:
    if not _zone_ok(v):
        raise RosterError(f"{v!r} is not an IANA time zone (e.g. America/Anchorage)")
    return v


def p_bool(v: str) -> bool:
    b = v.lower()
    if b in ("true", "yes", "1"):
        return True
    if b in ("false", "no", "0"):
        return False
    raise RosterError(f"{v!r} is not a boolean (true/false/yes/no/1/0)")


def p_service(v: str) -> str:
    s = v.lower()
    if s not in SERVICES:
        raise RosterError(f"{v!r} is not a service ({' '.join(SERVICES)})")
    return s


def p_status(v: str) -> str:
    s = v.lower()
    if s not in SESSION_STATUSES:
        raise RosterError(f"{v!r} is not a status ({' '.join(SESSION_STATUSES)})")
    return s


def p_email(v: str) -> str:
    if "@" not in v or len(v) > 254 or " " in v:
        raise RosterError(f"{v!r} is not an email address")
    return v


def p_slack_id(v: str) -> str:
    if not (v[:1] in "UW" and v[1:].isalnum() and 3 <= len(v) <= 32):
        raise RosterError(f"{v!r} is not a Slack user id (like U0123ABCD)")
    return v


def p_hours(v: str) -> Decimal:
    try:
        h = Decimal(v)
    except InvalidOperation:
        raise RosterError(f"{v!r} is not a number of hours") from None
    if not (0 <= h <= 80):
        raise RosterError(f"{v} is outside 0 to 80 hours a week")
    return h.quantize(Decimal("0.01"))


def int_between(lo: int, hi: int, what: str) -> Callable[[str], int]:
    def parse(v: str) -> int:
        try:
            n = int(v)
        except ValueError:
            raise RosterError(f"{v!r} is not a whole number") from None
        if not lo <= n <= hi:
            raise RosterError(f"{n} is outside {lo} to {hi} {what}")
        return n

    return parse


def p_grade(v: str) -> str:
    g = v.upper()
    if g in ("PK", "K", "TK") or (g.isdigit() and 1 <= int(g) <= 12):
        return g
    raise RosterError(f"{v!r} is not a grade (PK, K, 1-12)")


# --- file specifications -------------------------------------------------------------------


@dataclass(frozen=True)
class Col:
    name: str
    parse: Callable[[str], Any]
    optional: bool = False  # the value may be empty
    ref: str | None = None  # the file whose key this column references


@dataclass(frozen=True)
class Spec:
    filename: str
    required: bool
    columns: tuple[Col, ...]
    key: tuple[str, ...]  # uniqueness within the file

    @property
    def table(self) -> str:
        return self.filename.removesuffix(".csv")


SPECS: tuple[Spec, ...] = (
    Spec(
        "districts.csv",
        True,
        (
            Col("district_id", p_id),
            Col("name", p_text),
            Col("state", p_state),
            Col("timezone", p_zone),
        ),
        ("district_id",),
    ),
    Spec(
        "schools.csv",
        True,
        (
            Col("school_id", p_id),
            Col("district_id", p_id, ref="districts.csv"),
            Col("name", p_text),
            Col("timezone", p_zone, optional=True),
        ),
        ("school_id",),
    ),
    Spec(
        "school_hours.csv",
        True,
        (
            Col("school_id", p_id, ref="schools.csv"),
            Col("day", p_day),
            Col("start", p_time),
            Col("end", p_time),
        ),
        ("school_id", "day", "start", "end"),
    ),
    Spec(
        "providers.csv",
        True,
        (
            Col("provider_id", p_id),
            Col("name", p_text),
            Col("email", p_email),
            Col("slack_user_id", p_slack_id, optional=True),
            Col("discipline", p_service),
            Col("home_state", p_state),
            Col("timezone", p_zone),
            Col("weekly_hours", p_hours),
        ),
        ("provider_id",),
    ),
    Spec(
        "licenses.csv",
        True,
        (
            Col("provider_id", p_id, ref="providers.csv"),
            Col("state", p_state),
            Col("expires_on", p_date),
            Col("license_number", p_text),
        ),
        ("provider_id", "state", "license_number"),
    ),
    Spec(
        "managers.csv",
        True,
        (
            Col("manager_id", p_id),
            Col("name", p_text),
            Col("email", p_email),
            Col("slack_user_id", p_slack_id, optional=True),
        ),
        ("manager_id",),
    ),
    Spec(
        "students.csv",
        True,
        (
            Col("student_id", p_id),
            Col("school_id", p_id, ref="schools.csv"),
            Col("first_name", p_text),
            Col("last_name", p_text),
            Col("grade", p_grade),
            Col("annual_review_due", p_date),
            Col("triennial_due", p_date, optional=True),
        ),
        ("student_id",),
    ),
    Spec(
        "services.csv",
        True,
        (
            Col("student_id", p_id, ref="students.csv"),
            Col("service", p_service),
            Col("sessions_per_week", int_between(1, 5, "sessions a week")),
            Col("session_minutes", int_between(5, 240, "minutes")),
            Col("group_ok", p_bool),
        ),
        ("student_id", "service"),
    ),
    Spec(
        "availability.csv",
        False,
        (
            Col("provider_id", p_id, ref="providers.csv"),
            Col("day", p_day),
            Col("start", p_time),
            Col("end", p_time),
        ),
        ("provider_id", "day", "start", "end"),
    ),
    Spec(
        "assignments.csv",
        False,
        (
            Col("student_id", p_id, ref="students.csv"),
            Col("service", p_service),
            Col("provider_id", p_id, ref="providers.csv"),
        ),
        ("student_id", "service"),
    ),
    Spec(
        "sessions.csv",
        False,
        (
            Col("session_id", p_id),
            Col("provider_id", p_id, ref="providers.csv"),
            Col("student_id", p_id, ref="students.csv"),
            Col("service", p_service),
            Col("starts_at", p_timestamp),
            Col("minutes", int_between(5, 480, "minutes")),
            Col("status", p_status),
            Col("note_done_at", p_timestamp, optional=True),
        ),
        ("session_id", "student_id"),
    ),
)
SPEC_BY_FILE = {s.filename: s for s in SPECS}


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
            names = ", ".join(c.name for c in self.spec.columns)
            self._problem(1, None, f"the file is empty; expected a header row: {names}")
            return None
        header = [c.strip().lower() for c in first]
        ok = True
        for col in self.spec.columns:
            if col.name not in header:
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
        cols = [(c, index[c.name]) for c in self.spec.columns]
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
                        text = raw[i].strip()
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
            if known is not None and v[col.name] not in known:
                what = col.ref.removesuffix(".csv").rstrip("s")
                reader._problem(row.line, col.name, f"unknown {what} {v[col.name]!r}")


def _check_row(spec: Spec, row: Row, cat: Catalog, reader: FileReader) -> None:
    v = row.values
    if "start" in v and "end" in v and v["start"] >= v["end"]:
        reader._problem(row.line, "end", "must be after start")
    name = spec.filename
    if name == "districts.csv":
        cat.district_state[v["district_id"]] = v["state"]
    elif name == "providers.csv":
        cat.provider_discipline[v["provider_id"]] = v["discipline"]
    elif name == "services.csv":
        cat.student_services.add((v["student_id"], v["service"]))
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
        for batch in _chunks(rows):
            _upsert(s, targets[spec.filename], batch, counts)


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
