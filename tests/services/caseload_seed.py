"""Test helper: the small roster plus weekly slots, dated sessions and notes, for the caseload,
SOAP, Home and digest tests.

People: P1 Ana Reyes (U0P1, SLP, Pacific) serves S1 and S3; P2 Ben Ko (U0P2, OT, Alaska) serves
S2; M1 Mia Park (U0M1) manages. SCH1 (Anchorage) holds school Mon 08:30-11:30 + 12:15-15:00 and
Tue 08:30-15:00. The clock of the tests is Mon 2026-11-30 17:00Z (09:00 Pacific, 08:00 Alaska).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from bot.deps import Deps
from storage import models as m
from storage.roster import import_roster
from tests.storage.roster_files import VALID, write_roster

AK = "America/Anchorage"
STUDENTS = VALID["students.csv"] + "S3,SCH1,Ivy,Moss,2,2026-12-10,\n"
SERVICES = VALID["services.csv"] + "S3,slp,1,30,true\n"
ASSIGNED = "student_id,service,provider_id\nS1,slp,P1\nS2,ot,P2\nS3,slp,P1\n"
NO_SESSIONS = "session_id,provider_id,student_id,service,starts_at,minutes,status,note_done_at\n"


def seed(deps: Deps, tmp_path: Path, *, sessions: str = NO_SESSIONS, **files: str) -> Deps:
    report = import_roster(
        write_roster(
            tmp_path / "roster",
            students_csv=STUDENTS,
            services_csv=SERVICES,
            assignments_csv=ASSIGNED,
            sessions_csv=sessions,
            **files,
        ),
        deps.session_factory,
    )
    assert report.ok, report.problems
    return deps


def add_slot(
    deps: Deps,
    student: str,
    service: str,
    day: int,
    start: str,
    end: str,
    *,
    tz: str = AK,
    group: str | None = None,
) -> int:
    def minutes(hhmm: str) -> int:
        h, mm = hhmm.split(":")
        return int(h) * 60 + int(mm)

    with deps.session_factory.begin() as s:
        a = (
            s.query(m.Assignment)
            .filter(m.Assignment.student_id == student, m.Assignment.service == service)
            .one()
        )
        slot = m.AssignmentSlot(
            assignment_id=a.id,
            day=day,
            start_minute=minutes(start),
            end_minute=minutes(end),
            timezone=tz,
            group_key=group,
        )
        s.add(slot)
        s.flush()
        return slot.id


def add_session(
    deps: Deps,
    key: str,
    student: str,
    starts_at: datetime,
    *,
    provider: str = "P1",
    service: str = "slp",
    minutes: int = 30,
    status: str = "held",
    note_done_at: datetime | None = None,
) -> int:
    with deps.session_factory.begin() as s:
        row = m.TherapySession(
            session_key=key,
            provider_id=provider,
            student_id=student,
            service=service,
            starts_at=starts_at,
            minutes=minutes,
            status=status,
            note_done_at=note_done_at,
        )
        s.add(row)
        s.flush()
        return row.id


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def closed_days(first: date, last: date, district_id: str = "anc") -> m.SchoolCalendarDay:
    """The district's schools closed from ``first`` to ``last`` (add it to a session)."""
    return m.SchoolCalendarDay(
        district_id=district_id, start_date=first, end_date=last, kind="closed"
    )
