"""Storage: the roster importer validates everything first, then writes all or nothing."""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from storage import models as m
from storage.db import make_session_factory
from storage.roster import import_roster
from tests.storage.roster_files import VALID, write_roster

ROOT = Path(__file__).resolve().parents[2]


def table_counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t.name: conn.execute(select(func.count()).select_from(t)).scalar_one()
            for t in m.Base.metadata.sorted_tables
        }


def test_valid_roster_imports_and_reimport_changes_nothing(db: Engine, tmp_path: Path) -> None:
    sf = make_session_factory(db)
    folder = write_roster(tmp_path / "r")
    first = import_roster(folder, sf)
    assert first.ok and first.written
    assert str(first.counts["students"]) == "2 created, 0 updated, 0 unchanged"
    assert first.counts["school_hours"].created == 4
    before = table_counts(db)
    second = import_roster(folder, sf)
    assert second.ok
    assert all(c.created == 0 and c.updated == 0 and c.removed == 0 for c in second.counts.values())
    assert table_counts(db) == before
    with sf() as s:
        session = s.scalars(
            select(m.TherapySession).where(m.TherapySession.session_key == "X2")
        ).one()
        assert session.starts_at.tzinfo is not None and session.starts_at.hour == 17
        school = s.get(m.School, "SCH1")
        assert school is not None and school.timezone is None  # empty -> the district's zone
        window = s.scalars(
            select(m.AvailabilityWindow).where(m.AvailabilityWindow.provider_id == "P1")
        ).one()
        assert (window.day, window.start_minute, window.end_minute, window.timezone) == (
            1,
            480,
            660,
            "America/Los_Angeles",
        )


def test_changed_row_updates_and_listed_provider_windows_are_replaced(
    db: Engine, tmp_path: Path
) -> None:
    sf = make_session_factory(db)
    import_roster(write_roster(tmp_path / "a"), sf)
    changed = VALID["providers.csv"].replace("Ben Ko,", "Benjamin Ko,")
    report = import_roster(
        write_roster(
            tmp_path / "b",
            providers_csv=changed,
            availability_csv="provider_id,day,start,end\nP1,wed,08:00,11:00\n",
        ),
        sf,
    )
    assert report.ok
    assert (report.counts["providers"].updated, report.counts["providers"].unchanged) == (1, 1)
    with sf() as s:
        assert s.get(m.Provider, "P2").name == "Benjamin Ko"  # type: ignore[union-attr]
        days = {(w.provider_id, w.day) for w in s.scalars(select(m.AvailabilityWindow))}
        # The file replaces the windows of the providers it lists; P2, not listed, keeps
        # the hours they set (perhaps in Slack).
        assert days == {("P1", 2), ("P2", 0)}
    assert report.counts["availability"].removed == 1


def test_dry_run_validates_without_writing(db: Engine, tmp_path: Path) -> None:
    report = import_roster(write_roster(tmp_path / "r"), make_session_factory(db), dry_run=True)
    assert report.ok and not report.written
    assert report.rows["students"] == 2
    assert table_counts(db)["students"] == 0


BROKEN = [
    pytest.param(
        {"students_csv": None},
        ["students.csv:0: the required file is missing"],
        id="missing-required-file",
    ),
    pytest.param(
        {"districts_csv": "district_id,name,state\nanc,A,AK\n"},
        ["districts.csv:1: timezone: missing column"],
        id="missing-column",
    ),
    pytest.param(
        {"students_csv": VALID["students.csv"].replace("2027-01-15", "2027-02-30")},
        ["students.csv:2: annual_review_due: '2027-02-30' is not a date YYYY-MM-DD"],
        id="bad-date",
    ),
    pytest.param(
        {"providers_csv": VALID["providers.csv"].replace("America/Anchorage", "Alaska/Juneau")},
        [
            "providers.csv:3: timezone: 'Alaska/Juneau' is not an IANA time zone "
            "(e.g. America/Anchorage)"
        ],
        id="unknown-zone",
    ),
    pytest.param(
        {"licenses_csv": VALID["licenses.csv"] + "P9,AK,2027-01-01,AK-9\n"},
        ["licenses.csv:5: provider_id: unknown provider 'P9'"],
        id="unknown-reference",
    ),
    pytest.param(
        {"students_csv": VALID["students.csv"] + "S1,SCH1,Dup,Row,4,2027-03-01,\n"},
        ["students.csv:4: student_id: duplicate id 'S1' (first on line 2)"],
        id="duplicate-id",
    ),
    pytest.param(
        {"managers_csv": ""},
        [
            "managers.csv:1: the file is empty; expected a header row: "
            "manager_id, name, email, slack_user_id (optional: district_ids)"
        ],
        id="empty-file",
    ),
    pytest.param(
        {"school_hours_csv": VALID["school_hours.csv"] + "SCH1,fri,15:00,08:00\n"},
        ["school_hours.csv:6: end: must be after start"],
        id="window-backwards",
    ),
    pytest.param(
        {"assignments_csv": "student_id,service,provider_id\nS1,slp,P2\n"},
        ["assignments.csv:2: service: provider P2 is ot, not slp"],
        id="wrong-discipline",
    ),
    pytest.param(
        {"sessions_csv": VALID["sessions.csv"].replace("+00:00,30,held,\n", ",30,held,\n", 1)},
        [
            "sessions.csv:2: starts_at: '2026-11-24T17:30:00' has no UTC offset "
            "(e.g. 2026-11-30T16:00:00+00:00)"
        ],
        id="naive-timestamp",
    ),
]


@pytest.mark.parametrize(("overrides", "expected"), BROKEN)
def test_broken_roster_reports_file_line_and_writes_nothing(
    db: Engine, tmp_path: Path, overrides: dict[str, str | None], expected: list[str]
) -> None:
    sf = make_session_factory(db)
    before = table_counts(db)
    report = import_roster(write_roster(tmp_path / "r", **overrides), sf)
    assert not report.ok and not report.written
    for line in expected:
        assert line in report.problems, report.problems
    assert table_counts(db) == before


def test_not_utf8_reports_the_line(db: Engine, tmp_path: Path) -> None:
    folder = write_roster(tmp_path / "r")
    raw = VALID["students.csv"].encode() + "S3,SCH1,Zoë,Ruiz,2,2027-01-01,\n".encode("latin-1")
    (folder / "students.csv").write_bytes(raw)
    report = import_roster(folder, make_session_factory(db))
    assert "students.csv:4: is not UTF-8 text" in report.problems
    assert table_counts(db)["students"] == 0


def test_every_problem_is_reported_not_just_the_first(tmp_path: Path) -> None:
    bad = VALID["students.csv"] + "S3,NOPE,A,B,14,someday,\n"
    report = import_roster(write_roster(tmp_path / "r", students_csv=bad), None, dry_run=True)
    assert {
        "students.csv:4: school_id: unknown school 'NOPE'",
        "students.csv:4: grade: '14' is not a grade (PK, K, 1-12)",
        "students.csv:4: annual_review_due: 'someday' is not a date YYYY-MM-DD",
    } <= set(report.problems)


def test_unknown_columns_warn_once_per_column(tmp_path: Path) -> None:
    text = VALID["districts.csv"].replace("timezone\n", "timezone,notes\n", 1)
    text = text.replace("America/Anchorage\n", "America/Anchorage,x\n").replace(
        "America/Phoenix\n", "America/Phoenix,y\n"
    )
    report = import_roster(write_roster(tmp_path / "r", districts_csv=text), None, dry_run=True)
    assert report.ok
    assert report.warnings == ["districts.csv:1: notes: unknown column, ignored"]


@pytest.mark.slow
def test_twenty_megabyte_file_streams_without_memory_blow_up(tmp_path: Path) -> None:
    folder = write_roster(tmp_path / "r")
    with open(folder / "students.csv", "w", encoding="utf-8") as fh:
        fh.write(VALID["students.csv"])
        n = 3
        while fh.tell() < 20 * 1024 * 1024:
            fh.write(f"S{n},SCH1,Firstname{n},Lastname{n},5,2027-04-01,2028-01-01\n")
            n += 1
        fh.write("BAD,SCH1,X,Y,5,not-a-date,\n")
    tracemalloc.start()
    report = import_roster(folder, None, dry_run=True)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert report.problems == [
        f"students.csv:{n + 1}: annual_review_due: 'not-a-date' is not a date YYYY-MM-DD"
    ]
    # The ids set is all that grows with the file; the 20 MB of text never sits in memory.
    assert peak < 60 * 1024 * 1024, peak


def test_cli_import_exit_codes_and_messages(tmp_path: Path, database_url: str) -> None:
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    good = write_roster(tmp_path / "good")
    out = subprocess.run(
        [sys.executable, "-m", "bot", "import", str(good), "--dry-run"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert out.returncode == 0, out.stderr
    assert "students: 2 rows" in out.stdout
    bad = write_roster(tmp_path / "bad", districts_csv="district_id,name,state\n")
    out = subprocess.run(
        [sys.executable, "-m", "bot", "import", str(bad)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert out.returncode == 1
    assert "districts.csv:1: timezone: missing column" in out.stderr
    assert "error: 1 problem found; nothing was written" in out.stderr
    assert "Traceback" not in out.stderr
