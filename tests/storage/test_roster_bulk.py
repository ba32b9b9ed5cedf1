"""Storage: the bulk import writes what a row-by-row load writes, writes nothing for an unchanged
folder, and nothing at all when a late row is bad."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session, sessionmaker

from demo.generate import write_synthetic_roster
from storage import models as m
from storage.db import make_session_factory
from storage.roster import import_roster
from storage.roster_read import FileReader, ImportReport
from storage.roster_spec import SPEC_BY_FILE
from storage.roster_write import TARGETS

DEMO = Path(__file__).resolve().parents[2] / "demo" / "roster"
NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
SKIP = {"id", "assignment_id", "session_id"}  # surrogate keys differ between loads
ROSTER_TABLES = [
    "districts",
    "schools",
    "providers",
    "licenses",
    "managers",
    "students",
    "services",
    "assignments",
    "sessions",
]


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every roster table's rows exactly as the driver gives them back (so the same instant
    written as different text on SQLite differs)."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in m.Base.metadata.sorted_tables:
            if table.name in ("audit_log", "alembic_version"):
                continue
            cols = ", ".join(f'"{c.name}"' for c in table.c if c.name not in SKIP)
            rows = conn.exec_driver_sql(f'SELECT {cols} FROM "{table.name}"')
            out[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return out


def row_by_row(folder: Path, sf: sessionmaker[Session]) -> None:
    """The reference: every keyed row added one at a time through the ORM."""
    report = ImportReport()
    with sf.begin() as s:
        for name in [f"{t}.csv" for t in ROSTER_TABLES]:
            spec, target = SPEC_BY_FILE[name], TARGETS[name]
            model = next(
                mp.class_ for mp in m.Base.registry.mappers if mp.local_table is target.table
            )
            reader = FileReader(folder / name, spec, report, shift=timedelta())
            header = reader.header(warn=False)
            assert header is not None
            for row in reader.rows(header):
                s.add(model(**target.to_attrs(row.values)))
                s.flush()
    assert report.ok


@contextmanager
def writes(engine: Engine) -> Iterator[list[str]]:
    """The INSERT/UPDATE/DELETE statements sent while the block runs."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE", "COPY"):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_bulk_import_equals_a_row_by_row_load_of_the_keyed_files(db: Engine) -> None:
    sf = make_session_factory(db)
    row_by_row(DEMO, sf)
    reference = dump(db)
    with db.begin() as conn:
        for table in reversed(m.Base.metadata.sorted_tables):
            conn.execute(table.delete())
    assert import_roster(DEMO, sf, now=NOW).ok
    bulk = dump(db)
    for name in ROSTER_TABLES:
        assert bulk[name] == reference[name], name
        assert bulk[name], name


def test_merge_path_equals_the_fresh_bulk_path(db: Engine, tmp_path: Path) -> None:
    """A table that already has rows takes the compare-and-write path; the result is the same."""
    sf = make_session_factory(db)
    assert import_roster(DEMO, sf, now=NOW).ok
    fresh = dump(db)
    # Shrink one row of each table, so the next import must update it, then import again.
    with sf.begin() as s:
        for model in (m.Student, m.Provider, m.StudentService, m.TherapySession):
            first = s.scalars(select(model).limit(1)).one()
            for attr in ("first_name", "name", "session_minutes", "minutes"):
                if hasattr(first, attr):
                    value = getattr(first, attr)
                    setattr(first, attr, value[:1] if isinstance(value, str) else value + 5)
    report = import_roster(DEMO, sf, now=NOW)
    assert report.ok
    assert sum(c.updated for c in report.counts.values()) == 4
    assert dump(db) == fresh


def test_unchanged_reimport_writes_nothing(db: Engine) -> None:
    sf = make_session_factory(db)
    assert import_roster(DEMO, sf, now=NOW).ok
    before = dump(db)
    with writes(db) as seen:
        report = import_roster(DEMO, sf, now=NOW)
    assert report.ok and not report.changed
    assert seen == []
    assert dump(db) == before


def test_a_bad_row_near_the_end_of_sessions_writes_nothing(db: Engine, tmp_path: Path) -> None:
    sf = make_session_factory(db)
    folder = tmp_path / "synthetic"
    write_synthetic_roster(
        folder, students=600, sessions_per_student=10, assign_all=True, today=date(2026, 11, 30)
    )
    assert import_roster(DEMO, sf, now=NOW).ok
    before = dump(db)
    sessions = folder / "sessions.csv"
    lines = sessions.read_text(encoding="utf-8").splitlines(keepends=True)
    assert len(lines) > 5000
    bad = lines[-3].split(",")
    bad[5] = "9000"  # minutes
    lines[-3] = ",".join(bad)
    sessions.write_text("".join(lines), encoding="utf-8")
    with writes(db) as seen:
        report = import_roster(folder, sf, now=NOW)
    assert report.problems == [
        f"sessions.csv:{len(lines) - 2}: minutes: 9000 is outside 5 to 480 minutes"
    ]
    assert seen == []
    assert dump(db) == before


def test_many_changed_rows_each_get_an_audit_row(db: Engine, tmp_path: Path) -> None:
    """More changed rows than one small insert: the audit rows (JSON) go in as one batch."""
    sf = make_session_factory(db)
    assert import_roster(DEMO, sf, now=NOW).ok
    folder = tmp_path / "changed"
    folder.mkdir()
    for path in DEMO.iterdir():
        text = path.read_text(encoding="utf-8")
        if path.name == "sessions.csv":
            lines = text.splitlines(keepends=True)
            text = lines[0] + "".join(
                line.replace(",30,", ",35,", 1).replace(",45,", ",50,", 1) for line in lines[1:]
            )
        if path.name == "students.csv":
            text = text.replace("\nS", "\nS").replace(",2027-", ",2028-")
        (folder / path.name).write_text(text, encoding="utf-8")
    report = import_roster(folder, sf, now=NOW)
    assert report.ok
    changed = sum(c.updated for c in report.counts.values())
    assert changed > 100
    with sf() as s:
        audits = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "roster.updated")).all()
    assert len(audits) == changed
    assert {a.subject_type for a in audits} == {"session", "student"}


def test_a_few_changed_rows_are_the_only_rows_written_each_with_an_audit_row(
    db: Engine, tmp_path: Path
) -> None:
    """A re-import with some rows changed sends one UPDATE per changed row (as one batch), no
    other write but their audit rows (and the import's own), and leaves every other row as it
    was."""
    sf = make_session_factory(db)
    assert import_roster(DEMO, sf, now=NOW).ok
    before = dump(db)
    folder = tmp_path / "changed"
    folder.mkdir()
    for path in DEMO.iterdir():
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        if path.name == "students.csv":  # the last name of rows 1 and 3
            for i in (1, 3):
                cells = lines[i].split(",")
                cells[3] += "-Moved"
                lines[i] = ",".join(cells)
        if path.name == "sessions.csv":  # the status of row 2
            cells = lines[2].split(",")
            cells[6] = "cancelled" if cells[6] != "cancelled" else "held"
            lines[2] = ",".join(cells)
        (folder / path.name).write_text("".join(lines), encoding="utf-8")
    sent: list[tuple[str, int]] = []

    def record(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool
    ) -> None:
        verb = statement.lstrip().split(None, 1)[0].upper()
        if verb in ("INSERT", "UPDATE", "DELETE", "COPY"):
            target = statement.split()[2 if verb in ("INSERT", "DELETE") else 1].strip('"')
            sent.append((f"{verb} {target}", len(params) if many else 1))

    event.listen(db, "before_cursor_execute", record)
    try:
        report = import_roster(folder, sf, now=NOW)
    finally:
        event.remove(db, "before_cursor_execute", record)
    assert report.ok
    changed = {k: c for k, c in report.counts.items() if c.created or c.updated or c.removed}
    assert {k: c.updated for k, c in changed.items()} == {"students": 2, "sessions": 1}
    assert not any(c.created or c.removed for c in changed.values())
    # An audit row per changed row, and the import's own (``roster.imported``).
    assert sorted(sent) == [("INSERT audit_log", 4), ("UPDATE sessions", 1), ("UPDATE students", 2)]
    after = dump(db)
    for name in ROSTER_TABLES:
        if name not in ("students", "sessions"):
            assert after[name] == before[name], name
    assert len(set(after["students"]) - set(before["students"])) == 2
    assert len(set(after["sessions"]) - set(before["sessions"])) == 1
    with sf() as s:
        audits = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "roster.updated")).all()
    assert sorted((a.subject_type, sorted(a.after)) for a in audits) == [
        ("session", ["status"]),
        ("student", ["last_name"]),
        ("student", ["last_name"]),
    ]


def test_a_key_holding_a_control_character_is_still_found_stored(
    db: Engine, tmp_path: Path
) -> None:
    """Keys go to PostgreSQL as one text split on a control character, unless a key holds it."""
    folder = tmp_path / "roster"
    folder.mkdir()
    for path in DEMO.iterdir():
        text = path.read_text(encoding="utf-8")
        if path.name == "licenses.csv":
            lines = text.splitlines(keepends=True)
            cells = lines[1].split(",")
            cells[3] = "AK\x1f" + cells[3]
            lines[1] = ",".join(cells)
            text = "".join(lines)
        (folder / path.name).write_text(text, encoding="utf-8")
    sf = make_session_factory(db)
    assert import_roster(folder, sf, now=NOW).ok
    with writes(db) as seen:
        report = import_roster(folder, sf, now=NOW)
    assert report.ok and not report.changed, report.problems
    assert seen == []
