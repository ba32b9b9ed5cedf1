"""Services: what can't happen as planned, per district, computed from the data as it is now.

``load_facts`` reads plain values (slots, providers' windows, time off, licences, students,
calendars) for a set of districts or providers, and ``bot.domain.conflicts`` applies the one
rule. Nothing here is stored: a renewed licence, a cancelled time off or a new availability
clears a conflict on the next look. ``district_conflicts`` is what the manager Home,
``/caseload district=…`` and the weekly digest show.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, true
from sqlalchemy.orm import Session

from bot.domain import privacy
from bot.domain.conflicts import (
    Cause,
    Closure,
    Conflict,
    DatedSession,
    Facts,
    LicenceGap,
    ProviderFacts,
    Slot,
    StudentFacts,
    TimeOff,
    Window,
    closures_in,
    find_conflicts,
    licence_gaps,
)
from bot.domain.schedule import local_date
from bot.domain.sessions import GENERATED_PREFIXES
from bot.domain.vocabulary import SessionStatus
from storage import models as m
from storage.collector import collector_paused
from storage.queries import manager_district_scope

LOOKAHEAD = timedelta(days=60)  # licences ending within 60 days show; so does the rest
MAX_LINES = 8  # conflict lines shown per district (the counts cover the rest)
# A closed school is shown once per district ("closed Dec 21 – Jan 1"), not once per slot.
SHOWN_AS_CLOSURES = {Cause.SCHOOL_CLOSED}
CHUNK = 5000
WHOLE_TABLE = 20_000  # more ids than this: read the whole table instead of IN lists

TS = m.TherapySession


@dataclass(frozen=True)
class Planned:
    slots: list[Slot]
    sessions: list[DatedSession]
    facts: Facts
    district_of_school: dict[str, str]


def _in_chunks(ids: Collection[str]) -> Iterable[list[str]]:
    items = sorted(ids)
    for i in range(0, len(items), CHUNK):
        yield items[i : i + CHUNK]


def _matching(column: Any, ids: Collection[str] | None) -> Iterable[ColumnElement[bool]]:
    """WHERE clauses selecting ``ids``: IN lists in chunks, or (for very many, or None: the
    whole organisation) every row, read faster in one pass; the caller keeps only ``ids``."""
    if ids is None or len(ids) > WHOLE_TABLE:
        yield true()
        return
    for chunk in _in_chunks(ids):
        yield column.in_(chunk)


def load_facts(
    s: Session,
    start: date,
    end: date,
    district_ids: Collection[str] | None = None,
    provider_ids: Collection[str] | None = None,
) -> Planned:
    """The slots and dated sessions planned in ``[start, end]`` (school dates) with every fact
    the rule reads, for some districts or some providers (both None: the whole organisation)."""
    schools = schools_of(s, district_ids)
    district_of = schools.district_of
    slot_q = (
        select(
            m.AssignmentSlot.id,
            m.Assignment.provider_id,
            m.Assignment.student_id,
            m.Assignment.service,
            m.AssignmentSlot.day,
            m.AssignmentSlot.start_minute,
            m.AssignmentSlot.end_minute,
            m.Student.school_id,
        )
        .join(m.Assignment, m.Assignment.id == m.AssignmentSlot.assignment_id)
        .join(m.Student, m.Student.id == m.Assignment.student_id)
    )
    if district_ids is not None:
        slot_q = slot_q.where(m.Student.school_id.in_(list(district_of)))
    if provider_ids is not None:
        slot_q = slot_q.where(m.Assignment.provider_id.in_(list(provider_ids)))
    slots: list[Slot] = []
    student_school: dict[str, str] = {}
    db = s.connection()  # plain rows, no ORM loading: a whole organisation is many rows
    for sid, pid, student, service, day, a, b, school in db.execute(slot_q):
        slots.append(Slot(sid, pid, student, service, day, a, b))
        student_school[student] = school

    first = datetime.combine(start - timedelta(days=1), time(0), UTC)
    last = datetime.combine(end + timedelta(days=2), time(0), UTC)
    sess_q = (
        select(
            TS.id, TS.provider_id, TS.student_id, TS.service, TS.starts_at, TS.minutes,
            m.Student.school_id,
        )
        .join(m.Student, m.Student.id == TS.student_id)
        .where(TS.status == SessionStatus.SCHEDULED, TS.starts_at >= first, TS.starts_at < last)
        .where(*(TS.session_key.not_like(f"{p}%") for p in GENERATED_PREFIXES))
    )  # fmt: skip
    if district_ids is not None:
        sess_q = sess_q.where(m.Student.school_id.in_(list(district_of)))
    if provider_ids is not None:
        sess_q = sess_q.where(TS.provider_id.in_(list(provider_ids)))
    sessions: list[DatedSession] = []
    for sid, pid, student, service, starts_at, minutes, school in db.execute(sess_q):
        sessions.append(DatedSession(sid, pid, student, service, starts_at, minutes))
        student_school[student] = school

    everyone = district_ids is None and provider_ids is None
    facts = facts_for(
        s,
        start,
        end,
        student_school,
        {x.provider_id for x in slots} | {x.provider_id for x in sessions},
        district_ids,
        everyone=everyone,
        schools=schools,
    )
    return Planned(slots, sessions, facts, district_of)


@dataclass(frozen=True)
class Schools:
    """Each school's district, state and IANA zone (its own, or its district's)."""

    district_of: dict[str, str]
    state_of: dict[str, str]
    tz_of: dict[str, str]


def schools_of(s: Session, district_ids: Collection[str] | None = None) -> Schools:
    """The schools of some districts (None: all), in one statement."""
    q = select(
        m.School.id, m.School.district_id, m.District.state, m.School.timezone, m.District.timezone
    ).join(m.District, m.District.id == m.School.district_id)
    if district_ids is not None:
        q = q.where(m.School.district_id.in_(list(district_ids)))
    out = Schools({}, {}, {})
    for school_id, district_id, state, school_tz, district_tz in s.execute(q):
        out.district_of[school_id] = district_id
        out.state_of[school_id] = state
        out.tz_of[school_id] = school_tz or district_tz
    return out


def facts_for(
    s: Session,
    start: date,
    end: date,
    student_school: dict[str, str],
    provider_ids: set[str],
    district_ids: Collection[str] | None = None,
    *,
    everyone: bool = False,
    schools: Schools | None = None,
) -> Facts:
    """Every fact the rule reads about these students and providers over ``[start, end]``
    (``everyone``: they are the whole organisation's, so whole tables are read; ``schools``:
    the schools of ``district_ids``, when already read)."""
    if schools is None:
        schools = schools_of(s, district_ids)
    return Facts(
        providers=_providers(s, provider_ids, start, everyone),
        students=_students(s, student_school, schools.state_of, everyone),
        school_tz=schools.tz_of,
        closures=_closures(s, schools.district_of, start, end),
        service_ends=_service_ends(s, student_school),
    )


def _providers(
    s: Session, ids: set[str], start: date, everyone: bool = False
) -> dict[str, ProviderFacts]:
    if not ids:
        return {}
    read: set[str] | None = None if everyone else ids
    db = s.connection()
    base: dict[str, tuple[str, bool]] = {}
    windows: dict[str, list[Window]] = defaultdict(list)
    offs: dict[str, list[TimeOff]] = defaultdict(list)
    licences: dict[str, dict[str, date]] = defaultdict(dict)
    aw, lic = m.AvailabilityWindow, m.License
    q = select(m.Provider.id, m.Provider.timezone, m.Provider.removed_at)
    for where in _matching(m.Provider.id, read):
        for pid, tz, removed_at in db.execute(q.where(where)):
            base[pid] = (tz, removed_at is not None)
    wq = select(
        aw.provider_id, aw.day, aw.start_minute, aw.end_minute, aw.timezone, aw.effective_from,
        aw.effective_to,
    )  # fmt: skip
    for where in _matching(aw.provider_id, read):
        for pid, day, a, b, tz, frm, to in db.execute(wq.where(where)):
            windows[pid].append(Window(day, a, b, tz, frm, to))
    for where in _matching(m.TimeOff.provider_id, read):
        for pid, off in time_off_rows(s, start, where):
            offs[pid].append(off)
    lq = select(lic.provider_id, lic.state, func.max(lic.expires_on)).group_by(
        lic.provider_id, lic.state
    )
    for where in _matching(lic.provider_id, read):
        for pid, state, expires in db.execute(lq.where(where)):
            licences[pid][state] = expires
    return {
        pid: ProviderFacts(pid, tz, tuple(windows[pid]), tuple(offs[pid]), licences[pid], removed)
        for pid, (tz, removed) in base.items()
        if pid in ids
    }


def time_off_rows(
    s: Session, start: date, where: ColumnElement[bool]
) -> Iterable[tuple[str, TimeOff]]:
    """(provider, time off) still running on or after the day before ``start``."""
    to = m.TimeOff
    q = select(
        to.provider_id, to.start_date, to.end_date, to.start_minute, to.end_minute, to.timezone
    ).where(to.end_date >= start - timedelta(days=1), where)
    for pid, first, last, a, b, tz in s.execute(q):
        yield pid, TimeOff(first, last, a, b, tz)


def _students(
    s: Session, student_school: dict[str, str], state_of: dict[str, str], everyone: bool = False
) -> dict[str, StudentFacts]:
    out: dict[str, StudentFacts] = {}
    q = select(m.Student.id, m.Student.school_id, m.Student.exited_at)
    db = s.connection()
    for where in _matching(m.Student.id, None if everyone else student_school):
        for sid, school, exited_at in db.execute(q.where(where)):
            if sid in student_school:
                out[sid] = StudentFacts(
                    sid, school, state_of.get(school, ""), exited_at is not None
                )
    return out


def _service_ends(s: Session, student_school: dict[str, str]) -> dict[tuple[str, str], date]:
    sv = m.StudentService
    out: dict[tuple[str, str], date] = {}
    q = select(sv.student_id, sv.service, sv.ends_on).where(sv.ends_on.is_not(None))
    for student, service, ends in s.execute(q):
        if student in student_school and ends is not None:
            out[(student, service)] = ends
    return out


def _closures(
    s: Session, district_of: dict[str, str], start: date, end: date
) -> dict[str, list[Closure]]:
    """Each school's calendar spans touching the range (a district's apply to its schools)."""
    cal = m.SchoolCalendarDay
    q = select(cal.district_id, cal.school_id, cal.start_date, cal.end_date, cal.ends_at_minute)
    q = q.where(cal.start_date <= end, cal.end_date >= start)
    by_district: dict[str, list[str]] = defaultdict(list)
    for school, district in district_of.items():
        by_district[district].append(school)
    out: dict[str, list[Closure]] = defaultdict(list)
    for district_id, school_id, a, b, ends_at in s.execute(q):
        closure = Closure(a, b, ends_at)
        if school_id is not None:
            if school_id in district_of:
                out[school_id].append(closure)
        elif district_id is not None:
            for school in by_district.get(district_id, ()):
                out[school].append(closure)
    return dict(out)


def scan(
    s: Session,
    start: date,
    end: date,
    district_ids: Collection[str] | None = None,
    provider_ids: Collection[str] | None = None,
    *,
    closures_apart: bool = False,
) -> tuple[list[Conflict], Planned]:
    planned = load_facts(s, start, end, district_ids, provider_ids)
    found = find_conflicts(
        planned.slots, planned.sessions, planned.facts, start, end, closures_apart=closures_apart
    )
    return found, planned


# --- per district, for people ---------------------------------------------------------------


@dataclass(frozen=True)
class ConflictLine:
    cause: Cause
    provider: str
    student: str  # initials and id (a name only when allowed)
    service: str
    first: date
    count: int
    day: int | None  # the weekly slot's day and school-local start, when it is a slot
    start: int | None
    tz: str  # the school's zone


@dataclass(frozen=True)
class GapLine:
    provider: str
    state: str
    expires: date | None
    services: int


@dataclass(frozen=True)
class DistrictConflicts:
    district_id: str
    district: str
    start: date
    end: date
    counts: tuple[tuple[Cause, int], ...]  # slots/sessions per cause, in the rule's order
    lines: tuple[ConflictLine, ...]  # the first MAX_LINES, soonest first
    gaps: tuple[GapLine, ...]
    closed: tuple[tuple[date, date], ...]  # whole-day closures of the district's schools

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)


def district_conflicts(
    s: Session, now: datetime, org_tz: str, show_names: bool, district_ids: Collection[str] | None
) -> list[DistrictConflicts]:
    """Each district's conflicts over the next 60 days (empty districts are left out)."""
    start = local_date(now, org_tz)
    end = start + LOOKAHEAD
    # Closed days are shown once per district ("closed Dec 21 – Jan 1"), so not walked.
    with collector_paused():
        conflicts, planned = scan(s, start, end, district_ids, closures_apart=True)
    by_district: dict[str, list[Conflict]] = defaultdict(list)
    for c in conflicts:
        if c.cause in SHOWN_AS_CLOSURES:
            continue
        by_district[planned.district_of_school.get(c.school_id, "")].append(c)
    closed: dict[str, set[tuple[date, date]]] = defaultdict(set)
    for school, spans in planned.facts.closures.items():
        for span in closures_in(spans, start, end):
            closed[planned.district_of_school[school]].add((span.start, span.end))
    wanted = set(by_district) | set(closed)
    if not wanted:
        return []
    names = dict(s.execute(select(m.District.id, m.District.name)).all())
    people = _people(s, {c.provider_id for c in conflicts}, {c.student_id for c in conflicts})
    out: list[DistrictConflicts] = []
    for district_id in sorted(wanted, key=lambda d: names.get(d, d)):
        items = by_district.get(district_id, [])
        counts = Counter(c.cause for c in items)
        gaps = licence_gaps(items)
        soonest = sorted(items, key=lambda c: (c.first_starts_at, c.student_id))
        out.append(
            DistrictConflicts(
                district_id,
                names.get(district_id, district_id),
                start,
                end,
                tuple((cause, counts[cause]) for cause in Cause if counts[cause]),
                tuple(
                    _line(c, people, planned, show_names)
                    for c in soonest
                    if c.cause != Cause.LICENCE
                )[:MAX_LINES],
                tuple(_gap(g, people) for g in gaps),
                tuple(sorted(closed.get(district_id, ()))),
            )
        )
    return out


def for_manager(
    s: Session, now: datetime, tz: str, show_names: bool, slack_user_id: str
) -> tuple[DistrictConflicts, ...]:
    """The conflicts of the districts a manager serves (all, for an organisation admin)."""
    scope = manager_district_scope(s, slack_user_id)
    return tuple(district_conflicts(s, now, tz, show_names, scope))


@dataclass(frozen=True)
class _People:
    providers: dict[str, str]
    students: dict[str, tuple[str, str]]


def _people(s: Session, provider_ids: set[str], student_ids: set[str]) -> _People:
    providers: dict[str, str] = {}
    q = select(m.Provider.id, m.Provider.name)
    for where in _matching(m.Provider.id, provider_ids):
        providers.update((p, name) for p, name in s.execute(q.where(where)) if p in provider_ids)
    students: dict[str, tuple[str, str]] = {}
    sq = select(m.Student.id, m.Student.first_name, m.Student.last_name)
    for where in _matching(m.Student.id, student_ids):
        for sid, first, last in s.execute(sq.where(where)):
            if sid in student_ids:
                students[sid] = (first, last)
    return _People(providers, students)


def _line(c: Conflict, people: _People, planned: Planned, show_names: bool) -> ConflictLine:
    first, last = people.students.get(c.student_id, ("", ""))
    return ConflictLine(
        c.cause,
        people.providers.get(c.provider_id, c.provider_id),
        privacy.student_label(c.student_id, first, last, show_names),
        c.service,
        c.first,
        c.count,
        c.day,
        c.start,
        planned.facts.school_tz.get(c.school_id, "UTC"),
    )


def _gap(g: LicenceGap, people: _People) -> GapLine:
    return GapLine(
        people.providers.get(g.provider_id, g.provider_id), g.state, g.expires, len(g.services)
    )
