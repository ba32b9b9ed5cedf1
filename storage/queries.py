"""Storage: read queries that several services share. They take a session and never commit."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, time
from typing import NamedTuple

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import models as m


def school_zones(s: Session, district_ids: Iterable[str] | None = None) -> dict[str, str]:
    """Each school's IANA zone: its own, or its district's when the roster left it empty."""
    q = select(m.School.id, m.School.timezone, m.District.timezone).join(
        m.District, m.District.id == m.School.district_id
    )
    if district_ids is not None:
        q = q.where(m.School.district_id.in_(list(district_ids)))
    return {sid: stz or dtz for sid, stz, dtz in s.execute(q)}


def manager_district_scope(s: Session, slack_user_id: str) -> frozenset[str] | None:
    """The districts a manager serves: None means every district (an organisation admin).

    Someone who is not a manager serves no district: the empty set.
    """
    manager_id = s.scalar(select(m.Manager.id).where(m.Manager.slack_user_id == slack_user_id))
    if manager_id is None:
        return frozenset()
    ids = frozenset(
        s.scalars(
            select(m.ManagerDistrict.district_id).where(m.ManagerDistrict.manager_id == manager_id)
        )
    )
    return ids or None


class CalendarEntry(NamedTuple):
    """A closed or early-release span as it applies to one school (dates inclusive)."""

    school_id: str
    start: date
    end: date
    kind: str  # closed | early_release
    ends_at: time | None  # school-local end of an early-release day


def school_calendar(
    s: Session, school_ids: Iterable[str], start: date, end: date
) -> dict[str, list[CalendarEntry]]:
    """Each school's calendar entries overlapping ``start``..``end`` (inclusive), its own and its
    district's, sorted by date. Schools with none are absent."""
    wanted = list(dict.fromkeys(school_ids))
    out: dict[str, list[CalendarEntry]] = {}
    if not wanted:
        return out
    cal = m.SchoolCalendarDay
    overlaps = (cal.start_date <= end) & (cal.end_date >= start)
    rows = s.execute(
        select(m.School.id, cal.start_date, cal.end_date, cal.kind, cal.ends_at_minute)
        .join(
            cal,
            (cal.school_id == m.School.id) | (cal.district_id == m.School.district_id),
        )
        .where(m.School.id.in_(wanted), overlaps)
    )
    for school_id, first, last, kind, minute in rows:
        ends_at = None if minute is None else time(minute // 60, minute % 60)
        out.setdefault(school_id, []).append(CalendarEntry(school_id, first, last, kind, ends_at))
    for entries in out.values():
        entries.sort(key=lambda e: (e.start, e.end, e.kind))
    return out


def find_student_id(s: Session, typed: str) -> str | None:
    """The stored id of the student a person typed, ignoring case ("s1006" finds "S1006").

    The exact id wins; otherwise a case-insensitive match, when exactly one student has it.
    """
    if s.get(m.Student, typed) is not None:
        return typed
    found = list(
        s.scalars(select(m.Student.id).where(func.lower(m.Student.id) == typed.lower()).limit(2))
    )
    return found[0] if len(found) == 1 else None
