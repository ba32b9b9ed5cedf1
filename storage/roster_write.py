"""Storage: the roster's second pass: write what changed, in bulk, inside the caller's transaction.

Rows stream from the files in chunks. A table that was empty before the import takes every
chunk as one bulk insert (COPY on PostgreSQL, a multi-row INSERT on SQLite). Otherwise each chunk
reads the stored rows it names, in one query, and writes only what differs: new rows in one bulk
insert, changed rows in one executemany UPDATE, each with an audit row. An unchanged folder
writes nothing at all.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, and_, bindparam, delete, func, insert, literal, select, update
from sqlalchemy.orm import Session

from storage import models as m
from storage.roster_bulk import Bulk
from storage.roster_check import merge_windows
from storage.roster_read import Counts, ImportReport, Row

CHUNK = 5000
ACTOR = "roster-import"


def _t(model: type[m.Base]) -> Table:
    table = model.__table__
    assert isinstance(table, Table)
    return table


@dataclass(frozen=True)
class Target:
    """A keyed file's table: its columns (the key first) and the file column each comes from
    (``None``: always NULL, which a file row listed again resets)."""

    table: Table
    key: tuple[str, ...]
    subject: str  # the audit rows' subject_type
    columns: tuple[tuple[str, str | None], ...]  # (table column, file column), the key first

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(col for col, _ in self.columns)

    def getter(self) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
        """A file row's values -> the table row, as a tuple in ``names`` order."""
        sources = [src for _, src in self.columns if src is not None]
        get = itemgetter(*sources)
        tail = (None,) * (len(self.columns) - len(sources))
        return (lambda v: get(v) + tail) if tail else get

    def to_attrs(self, values: dict[str, Any]) -> dict[str, Any]:
        return dict(zip(self.names, self.getter()(values), strict=True))


def _target(
    model: type[m.Base], key: tuple[str, ...], subject: str, *columns: str | tuple[str, str | None]
) -> Target:
    pairs = tuple((c, c) if isinstance(c, str) else c for c in columns)
    assert tuple(col for col, _ in pairs[: len(key)]) == key
    return Target(_t(model), key, subject, pairs)


TARGETS: dict[str, Target] = {
    "districts.csv": _target(
        m.District, ("id",), "district", ("id", "district_id"), "name", "state", "timezone"
    ),
    "schools.csv": _target(
        m.School, ("id",), "school", ("id", "school_id"), "district_id", "name", "timezone"
    ),
    "providers.csv": _target(
        m.Provider,
        ("id",),
        "provider",
        ("id", "provider_id"),
        "name",
        "email",
        "slack_user_id",
        "discipline",
        "home_state",
        "timezone",
        "weekly_hours",
        ("removed_at", None),  # listed again: active
    ),
    "licenses.csv": _target(
        m.License,
        ("provider_id", "state", "license_number"),
        "licence",
        "provider_id",
        "state",
        "license_number",
        "expires_on",
    ),
    "managers.csv": _target(
        m.Manager, ("id",), "manager", ("id", "manager_id"), "name", "email", "slack_user_id"
    ),
    "students.csv": _target(
        m.Student,
        ("id",),
        "student",
        ("id", "student_id"),
        "school_id",
        "first_name",
        "last_name",
        "grade",
        "annual_review_due",
        "triennial_due",
        ("exited_at", None),  # listed again: enrolled
    ),
    "services.csv": _target(
        m.StudentService,
        ("student_id", "service"),
        "service",
        "student_id",
        "service",
        "sessions_per_week",
        "session_minutes",
        "group_ok",
        "minutes_per_week",
        "minutes_per_month",
        "starts_on",
        "ends_on",
    ),
    "assignments.csv": _target(
        m.Assignment,
        ("student_id", "service"),
        "assignment",
        "student_id",
        "service",
        "provider_id",
    ),
    "sessions.csv": _target(
        m.TherapySession,
        ("session_key", "student_id"),
        "session",
        ("session_key", "session_id"),
        "student_id",
        "provider_id",
        "service",
        "starts_at",
        "minutes",
        "status",
        "note_done_at",
    ),
}


# Keyed files that ``upsert`` alone writes (managers.csv also sets each manager's districts).
PLAIN = frozenset(TARGETS) - {"managers.csv"}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) or isinstance(b, Decimal):
        return a is not None and b is not None and Decimal(a) == Decimal(b)
    return bool(a == b)


def jsonable(v: Any) -> Any:
    if isinstance(v, date | datetime | Decimal):
        return str(v)
    return v


def chunks(rows: Iterable[Any], size: int = CHUNK) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


class Writer:
    """Writes one import inside the caller's transaction; collects audit rows and reassignments."""

    def __init__(self, s: Session, report: ImportReport, now: datetime | None) -> None:
        self.s, self.report = s, report
        self.now = now if now is not None else _database_now(s)
        self.moves_sessions = now is not None  # without `now`, a reassignment moves none
        self.bulk = Bulk(s)
        self.audit: list[dict[str, Any]] = []
        # (student_id, service, old provider, new provider) of changed assignments
        self.reassigned: list[tuple[str, str, str, str]] = []
        # (student_id, service, starts_at) of the sessions added or changed in a table that had
        # sessions: a bot's not_recorded row for that date may be answered by one
        self.arrived: list[tuple[str, str, datetime]] = []
        # A re-import (the database already had a roster), rather than the first
        self.again = not self.is_empty(_t(m.District))

    # --- plumbing ------------------------------------------------------------------------

    def is_empty(self, table: Table) -> bool:
        return self.s.execute(select(literal(1)).select_from(table).limit(1)).first() is None

    def insert(self, table: Table, rows: list[dict[str, Any]]) -> None:
        if rows:
            self.bulk.insert(table, tuple(rows[0]), [tuple(r.values()) for r in rows])

    def note(self, action: str, subject: str, subject_id: Any, before: Any, after: Any) -> None:
        self.audit.append(
            {
                "at": self.now,
                "actor": ACTOR,
                "action": action,
                "subject_type": subject,
                "subject_id": str(subject_id)[:128],
                "before": before,
                "after": after,
            }
        )
        if len(self.audit) >= CHUNK:
            self.flush_audit()

    def flush_audit(self) -> None:
        if self.audit:  # JSON columns: a plain multi-row INSERT, never COPY
            self.s.execute(insert(_t(m.AuditLog)), self.audit)
        self.audit = []

    # --- keyed files ---------------------------------------------------------------------

    # --- comparing, while the files are checked (reads only) ------------------------------

    def wants(self, filename: str) -> bool:
        """A keyed file (written by ``upsert`` alone) whose table already has rows."""
        target = TARGETS.get(filename)
        return target is not None and filename in PLAIN and not self.is_empty(target.table)

    def differing(self, filename: str, rows: list[Row]) -> list[Row]:
        """The rows not stored exactly as they are (new ones included), in one query."""
        target = TARGETS[filename]
        table, names, n_key = target.table, target.names, len(target.key)
        get, bind = target.getter(), self.bulk.binder(table, names)
        bound = [bind(get(r.values)) for r in rows]
        stored = self.bulk.stored(table, names, n_key, [b[:n_key] for b in bound])
        return [r for r, b in zip(rows, bound, strict=True) if stored.get(b[:n_key]) != b]

    # --- writing --------------------------------------------------------------------------

    def upsert(
        self, filename: str, table_name: str, rows: Iterator[Row], unchanged: int = 0
    ) -> None:
        """Write the rows; ``unchanged`` more rows were found stored as they are."""
        target = TARGETS[filename]
        counts = self.report.counts.setdefault(table_name, Counts())
        counts.unchanged += unchanged
        fresh = self.is_empty(target.table)
        get = target.getter()
        for batch in chunks(rows):
            values = [get(r.values) for r in batch]
            if fresh:
                self.bulk.insert(target.table, target.names, values)
                counts.created += len(values)
            else:
                self._merge(target, values, counts)

    def _merge(self, target: Target, rows: list[tuple[Any, ...]], counts: Counts) -> None:
        """Write the rows that differ from what is stored. Rows are compared as the driver
        stores them, as whole tuples; only a row that differs is looked at column by column."""
        table, key, names = target.table, target.key, target.names
        n_key = len(key)
        bind = self.bulk.binder(table, names)
        bound = [bind(r) for r in rows]
        stored = self.bulk.stored(table, names, n_key, [b[:n_key] for b in bound])
        load = self.bulk.loader(table, names)
        sessions = table.name == "sessions"
        cols = tuple(map(names.index, ("student_id", "service", "starts_at"))) if sessions else ()
        inserts: list[tuple[Any, ...]] = []
        updates: list[dict[str, Any]] = []
        for new, as_stored in zip(rows, bound, strict=True):
            raw = stored.get(as_stored[:n_key])
            if raw == as_stored:
                counts.unchanged += 1
                continue
            shown = ", ".join(str(part) for part in new[:n_key])
            if sessions:
                self.arrived.append((new[cols[0]], new[cols[1]], new[cols[2]]))
            if raw is None:
                inserts.append(new)
                counts.created += 1
                after = _json(dict(zip(names, new, strict=True)))
                self.note("roster.created", target.subject, shown, None, after)
                continue
            old = load(raw)
            changed = [i for i, n in enumerate(names) if not _same(old[i], new[i])]
            if not changed:
                counts.unchanged += 1
                continue
            counts.updated += 1
            updates.append({f"v_{n}": v for n, v in zip(names, new, strict=True)})
            self.note(
                "roster.updated",
                target.subject,
                shown,
                {names[i]: jsonable(old[i]) for i in changed},
                {names[i]: jsonable(new[i]) for i in changed},
            )
            if table.name == "assignments" and "provider_id" in (names[i] for i in changed):
                at = names.index("provider_id")
                self.reassigned.append((new[0], new[1], old[at], new[at]))
        self.bulk.insert(table, names, inserts)
        if updates:
            stmt = (
                update(table)
                .where(
                    and_(*[table.c[k] == bindparam(f"v_{k}", type_=table.c[k].type) for k in key])
                )
                .values(
                    {n: bindparam(f"v_{n}", type_=table.c[n].type) for n in names if n not in key}
                )
            )
            self.s.connection().execute(stmt, updates)

    # --- files that replace a set per owner ----------------------------------------------

    def replace_sets(
        self,
        table_name: str,
        table: Table,
        owner: str,
        wanted: dict[str, set[tuple[Any, ...]]],
        fields: tuple[str, ...],
        subject: str,
    ) -> None:
        """Per owner, make the stored rows' ``fields`` equal the wanted set."""
        counts = self.report.counts.setdefault(table_name, Counts())
        fresh = self.is_empty(table)
        for part in chunks(sorted(wanted)):
            have: dict[str, dict[tuple[Any, ...], Any]] = defaultdict(dict)
            if not fresh:
                q = select(table.c.id, table.c[owner], *[table.c[f] for f in fields]).where(
                    table.c[owner].in_(part)
                )
                for row in self.s.execute(q):
                    have[row[1]][tuple(row[2:])] = row[0]
            inserts: list[dict[str, Any]] = []
            gone: list[Any] = []
            for who in part:
                current, target = have.get(who, {}), wanted[who]
                added = sorted(target - set(current), key=repr)
                dropped = [sig for sig in current if sig not in target]
                inserts += [{owner: who, **dict(zip(fields, sig, strict=True))} for sig in added]
                gone += [current[sig] for sig in dropped]
                counts.created += len(added)
                counts.removed += len(dropped)
                counts.unchanged += len(current) - len(dropped)
                if (added or dropped) and not fresh:
                    self.note(
                        "roster.replaced",
                        subject,
                        who,
                        [
                            _json(dict(zip(fields, s, strict=True)))
                            for s in sorted(current, key=repr)
                        ],
                        [
                            _json(dict(zip(fields, s, strict=True)))
                            for s in sorted(target, key=repr)
                        ],
                    )
            if gone:
                self.s.execute(delete(table).where(table.c.id.in_(gone)))
            self.insert(table, inserts)

    def school_hours(self, rows: Iterator[Row]) -> None:
        wanted: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
        for r in rows:
            v = r.values
            wanted[v["school_id"]].add((v["day"], v["start"], v["end"]))
        fields = ("day", "start_minute", "end_minute")
        self.replace_sets(
            "school_hours", _t(m.SchoolHours), "school_id", wanted, fields, "school_hours"
        )

    def availability(self, rows: Iterator[Row]) -> None:
        zones = {pid: tz for pid, tz in self.s.execute(select(m.Provider.id, m.Provider.timezone))}
        by_day: dict[tuple[str, int], list[tuple[int, int]]] = defaultdict(list)
        for r in rows:
            v = r.values
            by_day[(v["provider_id"], v["day"])].append((v["start"], v["end"]))
        wanted: dict[str, set[tuple[Any, ...]]] = defaultdict(set)
        for (provider_id, day), windows in by_day.items():
            for start, end in merge_windows(windows):  # overlaps were warned about
                wanted[provider_id].add((day, start, end, zones[provider_id], None, None))
        fields = ("day", "start_minute", "end_minute", "timezone", "effective_from", "effective_to")
        self.replace_sets(
            "availability", _t(m.AvailabilityWindow), "provider_id", wanted, fields, "availability"
        )

    def manager_districts(self, rows: Iterator[Row]) -> None:
        wanted: dict[str, set[tuple[Any, ...]]] = {}
        for r in rows:
            wanted[r.values["manager_id"]] = {(d,) for d in r.values["district_ids"] or ()}
        table = _t(m.ManagerDistrict)
        counts = self.report.counts.setdefault("manager_districts", Counts())
        fresh = self.is_empty(table)
        have: dict[str, set[str]] = defaultdict(set)
        for manager_id, district_id in self.s.execute(
            select(table.c.manager_id, table.c.district_id)
        ):
            have[manager_id].add(district_id)
        for who, target in wanted.items():
            want = {d for (d,) in target}
            added, dropped = want - have[who], have[who] - want
            counts.created += len(added)
            counts.removed += len(dropped)
            counts.unchanged += len(have[who] & want)
            if dropped:
                self.s.execute(
                    delete(table).where(
                        table.c.manager_id == who, table.c.district_id.in_(sorted(dropped))
                    )
                )
            self.insert(table, [{"manager_id": who, "district_id": d} for d in sorted(added)])
            if (added or dropped) and not fresh:
                self.note(
                    "roster.replaced", "manager_districts", who, sorted(have[who]), sorted(want)
                )

    def calendar(self, rows: Iterator[Row]) -> None:
        """The stored calendar becomes exactly the file's (the file is the whole calendar)."""
        table = _t(m.SchoolCalendarDay)
        counts = self.report.counts.setdefault("calendar", Counts())
        fields = ("district_id", "school_id", "start_date", "end_date", "kind", "ends_at_minute")
        wanted = {
            tuple(r.values[k] for k in ("district_id", "school_id", "start", "end", "kind"))
            + (r.values["ends_at"],)
            for r in rows
        }
        current = {
            tuple(row[1:]): row[0]
            for row in self.s.execute(select(table.c.id, *[table.c[f] for f in fields]))
        }
        added = sorted(wanted - set(current), key=repr)
        gone = [rid for sig, rid in current.items() if sig not in wanted]
        counts.created += len(added)
        counts.removed += len(gone)
        counts.unchanged += len(current) - len(gone)
        if gone:
            self.s.execute(delete(table).where(table.c.id.in_(gone)))
        self.insert(table, [dict(zip(fields, sig, strict=True)) for sig in added])
        for sig in added if current else ():  # into an empty table: no row-by-row audit
            self.note(
                "roster.created",
                "calendar",
                sig[0] or sig[1],
                None,
                _json(dict(zip(fields, sig, strict=True))),
            )
        for sig in current:
            if sig not in wanted:
                self.note(
                    "roster.removed",
                    "calendar",
                    sig[0] or sig[1],
                    _json(dict(zip(fields, sig, strict=True))),
                    None,
                )


def _database_now(s: Session) -> datetime:
    """The database's clock, for audit rows of an import that was given no ``now``."""
    value = s.scalar(select(func.current_timestamp()))
    if isinstance(value, str):  # SQLite: 'YYYY-MM-DD HH:MM:SS' in UTC
        value = datetime.fromisoformat(value)
    assert isinstance(value, datetime)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _json(values: dict[str, Any]) -> dict[str, Any]:
    return {k: jsonable(v) for k, v in values.items()}
