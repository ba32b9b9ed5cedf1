"""Storage: SIS grade codes, date hints, managers' districts, service mandates and the school
calendar, from the roster files to the queries that other features read."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from storage import models as m
from storage.db import make_session_factory
from storage.queries import CalendarEntry, manager_district_scope, school_calendar
from storage.roster import import_roster
from storage.roster_values import RosterError, p_date, p_grade
from tests.storage.roster_files import VALID, write_roster


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("PK", "PK"),
        ("Pre-K", "PK"),
        ("prek", "PK"),
        ("-1", "PK"),
        ("K", "K"),
        ("KG", "K"),
        ("kg", "K"),
        ("0", "K"),
        ("1", "1"),
        ("01", "1"),
        ("1st", "1"),
        ("2nd", "2"),
        ("3RD", "3"),
        ("09", "9"),
        ("12th", "12"),
    ],
)
def test_sis_grade_codes_are_stored_normalised(written: str, stored: str) -> None:
    assert p_grade(written) == stored


@pytest.mark.parametrize("bad", ["13", "14th", "-2", "1nd?", "grade 3", "00x"])
def test_grades_out_of_range_are_refused(bad: str) -> None:
    with pytest.raises(RosterError, match="is not a grade"):
        p_grade(bad)


def test_us_dates_get_a_hint_with_the_iso_date() -> None:
    with pytest.raises(RosterError) as caught:
        p_date("09/19/2027")
    assert str(caught.value) == "use YYYY-MM-DD; this looks like MM/DD/YYYY: 2027-09-19?"
    with pytest.raises(RosterError) as caught:
        p_date("19/09/2027")  # no month 19: no guess
    assert str(caught.value) == "'19/09/2027' is not a date YYYY-MM-DD"


MANAGERS = (
    "manager_id,name,email,slack_user_id,district_ids\n"
    "M1,Mia Park,mia@example.org,U0M1,\n"
    "M2,Ola Berg,ola@example.org,U0M2,anc\n"
    "M3,Ray Diaz,ray@example.org,U0M3, anc ; mesa \n"
)


def test_manager_district_scope(db: Engine, tmp_path: Path) -> None:
    sf = make_session_factory(db)
    assert import_roster(write_roster(tmp_path / "a", managers_csv=MANAGERS), sf).ok
    with sf() as s:
        assert manager_district_scope(s, "U0M1") is None
        assert manager_district_scope(s, "U0M2") == frozenset({"anc"})
        assert manager_district_scope(s, "U0M3") == frozenset({"anc", "mesa"})
        assert manager_district_scope(s, "U0P1") == frozenset()  # a provider, not a manager
    # A re-import narrows and widens scopes; the file is the truth for each manager it lists.
    changed = MANAGERS.replace("U0M2,anc", "U0M2,").replace(" anc ; mesa ", "mesa")
    report = import_roster(write_roster(tmp_path / "b", managers_csv=changed), sf)
    assert report.ok
    assert (
        report.counts["manager_districts"].removed,
        report.counts["manager_districts"].created,
    ) == (
        2,
        0,
    )
    with sf() as s:
        assert manager_district_scope(s, "U0M2") is None
        assert manager_district_scope(s, "U0M3") == frozenset({"mesa"})


def test_manager_unknown_district_is_reported(tmp_path: Path) -> None:
    bad = MANAGERS.replace("U0M2,anc", "U0M2,anc;nome")
    report = import_roster(write_roster(tmp_path / "r", managers_csv=bad), None, dry_run=True)
    assert report.problems == ["managers.csv:3: district_ids: unknown district 'nome'"]


SERVICES = (
    "student_id,service,sessions_per_week,session_minutes,group_ok,minutes_per_week,"
    "minutes_per_month,starts_on,ends_on\n"
    "S1,slp,2,30,true,,120,2026-09-01,2027-06-10\n"
    "S2,ot,1,45,no,45,,,\n"
)


def test_service_mandate_and_dates_are_imported(db: Engine, tmp_path: Path) -> None:
    sf = make_session_factory(db)
    assert import_roster(write_roster(tmp_path / "r", services_csv=SERVICES), sf).ok
    with sf() as s:
        rows = {
            v.student_id: (v.minutes_per_week, v.minutes_per_month, v.starts_on, v.ends_on)
            for v in s.scalars(select(m.StudentService))
        }
    assert rows == {
        "S1": (None, 120, date(2026, 9, 1), date(2027, 6, 10)),
        "S2": (45, None, None, None),
    }


def test_service_mandate_problems(tmp_path: Path) -> None:
    bad = SERVICES + "S1,ot,1,30,no,30,120,2027-01-05,2026-12-01\n"
    report = import_roster(write_roster(tmp_path / "r", services_csv=bad), None, dry_run=True)
    assert report.problems == [
        "services.csv:4: minutes_per_month: give minutes_per_week or minutes_per_month, not both",
        "services.csv:4: ends_on: is before starts_on",
    ]


def test_school_calendar_query_applies_district_and_school_entries(
    db: Engine, tmp_path: Path
) -> None:
    sf = make_session_factory(db)
    assert import_roster(write_roster(tmp_path / "r"), sf).ok
    with sf() as s:
        found = school_calendar(s, ["SCH1", "SCH2"], date(2026, 12, 1), date(2026, 12, 31))
        assert found == {
            "SCH1": [CalendarEntry("SCH1", date(2026, 12, 21), date(2027, 1, 1), "closed", None)],
            "SCH2": [
                CalendarEntry(
                    "SCH2", date(2026, 12, 2), date(2026, 12, 2), "early_release", time(12)
                )
            ],
        }
        assert school_calendar(s, ["SCH1"], date(2027, 1, 2), date(2027, 1, 31)) == {}
        assert school_calendar(s, [], date(2026, 1, 1), date(2027, 12, 31)) == {}


def test_calendar_is_replaced_by_the_file(db: Engine, tmp_path: Path) -> None:
    sf = make_session_factory(db)
    assert import_roster(write_roster(tmp_path / "a"), sf).ok
    only = "district_id,school_id,start,end,kind\nmesa,,2026-12-24,2026-12-24,closed\n"
    report = import_roster(write_roster(tmp_path / "b", calendar_csv=only), sf)
    assert report.ok
    assert (report.counts["calendar"].created, report.counts["calendar"].removed) == (1, 2)
    # Without the file, the stored calendar stays as it is.
    assert import_roster(write_roster(tmp_path / "c", calendar_csv=None), sf).ok
    with sf() as s:
        assert [c.district_id for c in s.scalars(select(m.SchoolCalendarDay))] == ["mesa"]


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (
            "anc,SCH1,2026-12-21,2026-12-22,closed,",
            "school_id: give either district_id or school_id, not both",
        ),
        (
            ",,2026-12-21,2026-12-22,closed,",
            "school_id: give either district_id or school_id, not both",
        ),
        ("anc,,2026-12-22,2026-12-21,closed,", "end: is before start"),
        (
            "anc,,2026-12-22,2026-12-22,early_release,",
            "ends_at: an early release needs the time the day ends",
        ),
        (
            "anc,,2026-12-22,2026-12-22,closed,12:00",
            "ends_at: only an early release has an end time",
        ),
        (
            "anc,,2026-12-22,2026-12-22,holiday,",
            "kind: 'holiday' is not a kind (closed or early_release)",
        ),
        ("nome,,2026-12-22,2026-12-22,closed,", "district_id: unknown district 'nome'"),
        (",SCH9,2026-12-22,2026-12-22,closed,", "school_id: unknown school 'SCH9'"),
    ],
)
def test_calendar_problems(tmp_path: Path, row: str, problem: str) -> None:
    text = VALID["calendar.csv"] + row + "\n"
    report = import_roster(write_roster(tmp_path / "r", calendar_csv=text), None, dry_run=True)
    assert report.problems == [f"calendar.csv:4: {problem}"]


def test_demo_roster_has_a_winter_break_and_scoped_managers(db: Engine) -> None:
    sf = make_session_factory(db)
    demo = Path(__file__).resolve().parents[2] / "demo" / "roster"
    assert import_roster(demo, sf).ok
    with sf() as s:
        closed = school_calendar(s, ["anc-spenard"], date(2026, 12, 21), date(2026, 12, 21))
        assert closed["anc-spenard"][0][1:4] == (date(2026, 12, 21), date(2027, 1, 1), "closed")
        assert manager_district_scope(s, "U0DEMOM02") == frozenset({"anc"})
        monthly = s.scalars(
            select(m.StudentService).where(m.StudentService.minutes_per_month.is_not(None))
        ).all()
        assert len(monthly) >= 2
