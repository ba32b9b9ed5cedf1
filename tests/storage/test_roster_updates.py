"""Storage: re-importing a roster from a newer export: what it no longer lists, reassignments,
and problems said in the roster's own terms."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

from storage import models as m
from storage.db import make_session_factory
from storage.roster import import_roster
from tests.storage.roster_files import VALID, write_roster

NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)
PAST = "2026-11-24T17:30:00+00:00"
FUTURE = ["2026-12-01T17:30:00+00:00", "2026-12-03T17:30:00+00:00"]

# S2 gets an OT service with P2, and sessions: one past, two future.
SERVICES = VALID["services.csv"]
ASSIGNMENTS = VALID["assignments.csv"] + "S2,ot,P2\n"
SESSIONS = (
    VALID["sessions.csv"]
    + f"Y1,P2,S2,ot,{PAST},45,held,\n"
    + "".join(f"Y{i},P2,S2,ot,{at},45,scheduled,\n" for i, at in enumerate(FUTURE, 2))
    + f"X3,P1,S1,slp,{FUTURE[0]},30,scheduled,\n"
)
BASE = {"assignments_csv": ASSIGNMENTS, "sessions_csv": SESSIONS}


def _without(text: str, *starts: str) -> str:
    return "".join(line + "\n" for line in text.splitlines() if not line.startswith(starts))


def _sessions(sf, **where) -> dict[str, tuple[str, str, str | None]]:  # type: ignore[no-untyped-def]
    with sf() as s:
        q = select(m.TherapySession)
        return {
            r.session_key: (r.provider_id, r.status, r.cancel_reason)
            for r in s.scalars(q)
            if all(getattr(r, k) == v for k, v in where.items())
        }


def test_exited_student_is_listed_then_ended_with_apply_removals(
    db: Engine, tmp_path: Path
) -> None:
    sf = make_session_factory(db)
    assert import_roster(write_roster(tmp_path / "a", **BASE), sf, now=NOW).ok
    with sf.begin() as s:
        s.add(
            m.Nudge(
                key="annual:S2",
                rule="annual_review",
                recipient_kind="provider",
                recipient_id="P2",
                subject_id="S2",
                stage="7",
                payload={},
                created_at=NOW,
                send_after=NOW,
            )
        )
    newer = {
        "students_csv": _without(VALID["students.csv"], "S2,"),
        "services_csv": _without(SERVICES, "S2,"),
        "assignments_csv": _without(ASSIGNMENTS, "S2,"),
        "sessions_csv": _without(SESSIONS, "Y"),
    }
    folder = write_roster(tmp_path / "b", **newer)

    listed = import_roster(folder, sf, now=NOW)
    assert listed.ok and listed.missing == {"students": ["S2"]}
    assert listed.removals == []
    with sf() as s:
        assert s.get(m.Student, "S2").exited_at is None  # type: ignore[union-attr]

    # A dry run says exactly what applying would do, and changes nothing.
    before = _sessions(sf, student_id="S2")
    dry = import_roster(folder, sf, now=NOW, dry_run=True, apply_removals=True)
    assert dry.removals == ["1 student exited: 1 assignment ended, 2 future sessions cancelled"]
    assert _sessions(sf, student_id="S2") == before

    done = import_roster(folder, sf, now=NOW, apply_removals=True)
    assert done.ok and done.removals == dry.removals
    assert _sessions(sf, student_id="S2") == {
        "Y1": ("P2", "held", None),  # the past stays as it was
        "Y2": ("P2", "cancelled", "student_exited"),
        "Y3": ("P2", "cancelled", "student_exited"),
    }
    with sf() as s:
        assert s.get(m.Student, "S2").exited_at == NOW  # type: ignore[union-attr]
        assert s.scalars(select(m.Assignment).where(m.Assignment.student_id == "S2")).all() == []
        nudge = s.scalars(select(m.Nudge).where(m.Nudge.subject_id == "S2")).one()
        assert nudge.skipped_at == NOW and nudge.sent_at is None
        actions = set(s.scalars(select(m.AuditLog.action).where(m.AuditLog.subject_id.like("S2%"))))
        assert {"student.exited", "assignment.ended"} <= actions
    # Ended once: the next import lists nothing.
    again = import_roster(folder, sf, now=NOW, apply_removals=True)
    assert again.missing == {} and again.removals == []


def test_removed_provider_keeps_assignments_as_conflicts(db: Engine, tmp_path: Path) -> None:
    sf = make_session_factory(db)
    assert import_roster(write_roster(tmp_path / "a", **BASE), sf, now=NOW).ok
    newer = {
        "providers_csv": _without(VALID["providers.csv"], "P2,"),
        "licenses_csv": _without(VALID["licenses.csv"], "P2,"),
        "availability_csv": _without(VALID["availability.csv"], "P2,"),
        "assignments_csv": _without(ASSIGNMENTS, "S2,"),
        "sessions_csv": _without(SESSIONS, "Y"),
    }
    report = import_roster(write_roster(tmp_path / "b", **newer), sf, now=NOW, apply_removals=True)
    assert report.ok, report.problems
    # The licence and the assignment go with the provider: they are not listed on their own.
    assert report.missing == {"providers": ["P2"]}
    assert report.removals == [
        "1 provider removed: 2 future sessions cancelled, 1 assignment left to re-match"
    ]
    with sf() as s:
        assert s.get(m.Provider, "P2").removed_at == NOW  # type: ignore[union-attr]
        kept = s.scalars(select(m.Assignment).where(m.Assignment.provider_id == "P2")).one()
        assert kept.student_id == "S2"
    assert {k: v[2] for k, v in _sessions(sf, provider_id="P2").items()} == {
        "Y1": None,
        "Y2": "provider_removed",
        "Y3": "provider_removed",
    }
    # Listed again: active again.
    assert import_roster(write_roster(tmp_path / "c", **BASE), sf, now=NOW).ok
    with sf() as s:
        assert s.get(m.Provider, "P2").removed_at is None  # type: ignore[union-attr]


def test_missing_licence_and_assignment_end(db: Engine, tmp_path: Path) -> None:
    sf = make_session_factory(db)
    assert import_roster(write_roster(tmp_path / "a", **BASE), sf, now=NOW).ok
    newer = {
        "licenses_csv": _without(VALID["licenses.csv"], "P1,AK"),
        "assignments_csv": _without(ASSIGNMENTS, "S2,"),
        "sessions_csv": SESSIONS,
    }
    folder = write_roster(tmp_path / "b", **newer)
    report = import_roster(folder, sf, now=NOW, apply_removals=True)
    assert report.missing == {"assignments": [("S2", "ot")], "licences": [("P1", "AK", "AK-1")]}
    assert report.removals == ["1 assignment ended", "1 licence ended (expired 2026-11-29)"]
    with sf() as s:
        licence = s.scalars(select(m.License).where(m.License.license_number == "AK-1")).one()
        assert licence.expires_on == date(2026, 11, 29)
        assert s.scalar(select(func.count()).select_from(m.Assignment)) == 1
    # The ended assignment's sessions still ahead are cancelled, not owed; the held one stays.
    assert _sessions(sf, student_id="S2") == {
        "Y1": ("P2", "held", None),
        "Y2": ("P2", "cancelled", "service_ended"),
        "Y3": ("P2", "cancelled", "service_ended"),
    }


def test_reassignment_moves_future_sessions(db: Engine, tmp_path: Path) -> None:
    sf = make_session_factory(db)
    providers = (
        VALID["providers.csv"] + "P3,Cy Ott,cy@example.org,U0P3,ot,AK,America/Anchorage,10\n"
    )
    licences = VALID["licenses.csv"] + "P3,AK,2027-06-30,AK-3\n"
    first = {"providers_csv": providers, "licenses_csv": licences, **BASE}
    assert import_roster(write_roster(tmp_path / "a", **first), sf, now=NOW).ok
    moved = {**first, "assignments_csv": ASSIGNMENTS.replace("S2,ot,P2", "S2,ot,P3")}
    report = import_roster(write_roster(tmp_path / "b", **moved), sf, now=NOW)
    assert report.ok and report.moved_sessions == 2
    assert report.counts["assignments"].updated == 1
    assert _sessions(sf, student_id="S2") == {
        "Y1": ("P2", "held", None),  # held by P2: history stays
        "Y2": ("P3", "scheduled", None),
        "Y3": ("P3", "scheduled", None),
    }
    with sf() as s:
        audit = s.scalars(select(m.AuditLog).where(m.AuditLog.action == "sessions.moved")).one()
        assert audit.after == {"provider_id": "P3", "sessions": 2}


def test_failed_row_gives_one_line_for_the_rows_that_refer_to_it(tmp_path: Path) -> None:
    students = VALID["students.csv"].replace("S1,SCH1,Tala,Evans,3,", "S1,SCH1,Tala,Evans,14,")
    report = import_roster(write_roster(tmp_path / "r", students_csv=students), None)
    assert report.problems == [
        "students.csv:2: grade: '14' is not a grade (PK, K, 1-12)",
        "students.csv:2 failed, so 4 rows that refer to S1 were not checked",
    ]


def test_one_slack_user_for_two_providers_is_a_problem_not_a_traceback(tmp_path: Path) -> None:
    providers = (
        VALID["providers.csv"] + "P3,Cy Ott,cy@example.org,U0P1,ot,AK,America/Anchorage,10\n"
    )
    report = import_roster(write_roster(tmp_path / "r", providers_csv=providers), None)
    assert report.problems == ["providers.csv:4: slack_user_id: also used by P1 (line 2)"]


def test_duplicate_hours_are_said_in_roster_terms(tmp_path: Path) -> None:
    hours = VALID["school_hours.csv"] + "SCH1,mon,08:30,11:30\n"
    report = import_roster(write_roster(tmp_path / "r", school_hours_csv=hours), None)
    assert report.problems == [
        "school_hours.csv:6: school_id: the same hours as line 2 (SCH1, Mon 08:30–11:30)"
    ]


def test_overlapping_availability_merges_with_a_warning(db: Engine, tmp_path: Path) -> None:
    sf = make_session_factory(db)
    availability = VALID["availability.csv"] + "P1,tue,10:00,12:00\nP1,tue,12:00,13:00\n"
    report = import_roster(write_roster(tmp_path / "r", availability_csv=availability), sf, now=NOW)
    assert report.ok
    assert report.warnings == [
        "availability.csv:4: overlaps line 2 (P1, Tue 08:00–11:00); merged into 08:00–12:00"
    ]
    with sf() as s:
        windows = sorted(
            (w.start_minute, w.end_minute)
            for w in s.scalars(
                select(m.AvailabilityWindow).where(m.AvailabilityWindow.provider_id == "P1")
            )
        )
    assert windows == [(480, 720), (720, 780)]  # touching windows stay apart


def test_us_date_in_a_file(tmp_path: Path) -> None:
    students = VALID["students.csv"].replace("2027-01-15", "01/15/2027")
    report = import_roster(write_roster(tmp_path / "r", students_csv=students), None)
    assert report.problems[0] == (
        "students.csv:2: annual_review_due: use YYYY-MM-DD; this looks like MM/DD/YYYY: 2027-01-15?"
    )


def test_now_decides_future(db: Engine, tmp_path: Path) -> None:
    # A session that starts exactly at `now` is in the future (not yet begun).
    sf = make_session_factory(db)
    at = NOW + timedelta(0)
    sessions = VALID["sessions.csv"] + f"Z1,P2,S2,ot,{at.isoformat()},45,scheduled,\n"
    first = {"assignments_csv": ASSIGNMENTS, "sessions_csv": sessions}
    assert import_roster(write_roster(tmp_path / "a", **first), sf, now=NOW).ok
    gone = {
        "students_csv": _without(VALID["students.csv"], "S2,"),
        "services_csv": _without(SERVICES, "S2,"),
        "assignments_csv": _without(ASSIGNMENTS, "S2,"),
        "sessions_csv": VALID["sessions.csv"],
    }
    import_roster(write_roster(tmp_path / "b", **gone), sf, now=NOW, apply_removals=True)
    assert _sessions(sf, student_id="S2") == {"Z1": ("P2", "cancelled", "student_exited")}
