"""Storage: the read queries behind service minutes (take a session, never commit).

The sessions of a month are summed in the database, grouped by everything the minutes rule
looks at (status, reason, make-up, note written, over and unmarked), so a district's month is a
few thousand groups rather than a hundred thousand rows. A session belongs to the month of its
school-local date: each school zone's month boundaries are put into the query as instants.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, case, func, literal, or_, select, text
from sqlalchemy.orm import Session

from bot.domain.vocabulary import SessionStatus
from storage import models as m
from storage.db import driver_named, driver_tuples

TS = m.TherapySession
Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])
MAKEUP_PREFIX = "makeup:"
BEFORE, IN, AFTER = "before", "in", "after"


@dataclass(frozen=True)
class Scope:
    """Which student services: some districts, some students, or everything (both None)."""

    district_ids: frozenset[str] | None = None
    student_ids: frozenset[str] | None = None


class ServiceRow(NamedTuple):
    student_id: str
    service: str
    school_id: str
    district_id: str
    sessions_per_week: int
    session_minutes: int
    minutes_per_week: int | None
    minutes_per_month: int | None
    starts_on: date | None
    ends_on: date | None
    exited_at: datetime | None
    provider_id: str | None  # the approved provider, if any


class MinuteGroup(NamedTuple):
    """Summed minutes of sessions that look the same to the minutes rule (a plain row: a
    month of a whole organisation is a few hundred thousand of them). The database's rows carry,
    after ``minutes``, the same minutes summed in each week of the month asked for
    (``minute_groups``'s ``weeks``, in that order): read them as ``*weeks``."""

    student_id: str
    service: str
    status: str
    cancel_reason: str | None
    makeup: bool
    note_written: bool
    unmarked_overdue: bool
    period: str  # before | in | after the month, in the school's zone
    minutes: int


def month_bounds(first: date, last: date, zone: str) -> tuple[datetime, datetime]:
    """The UTC instants of ``first`` 00:00 and the day after ``last`` 00:00 in ``zone``."""
    tz = ZoneInfo(zone)
    lo = datetime.combine(first, time(0), tz).astimezone(UTC)
    hi = datetime.combine(last + timedelta(days=1), time(0), tz).astimezone(UTC)
    return lo, hi


def _scoped(q: Q, scope: Scope) -> Q:
    if scope.district_ids is not None:
        q = q.where(m.School.district_id.in_(sorted(scope.district_ids)))
    if scope.student_ids is not None:
        q = q.where(m.Student.id.in_(sorted(scope.student_ids)))
    return q


def service_rows(s: Session, scope: Scope) -> list[ServiceRow]:
    """Every student service in scope, with its mandate, school and approved provider."""
    q = (
        select(
            m.StudentService.student_id,
            m.StudentService.service,
            m.Student.school_id,
            m.School.district_id,
            m.StudentService.sessions_per_week,
            m.StudentService.session_minutes,
            m.StudentService.minutes_per_week,
            m.StudentService.minutes_per_month,
            m.StudentService.starts_on,
            m.StudentService.ends_on,
            m.Student.exited_at,
            m.Assignment.provider_id,
        )
        .join(m.Student, m.Student.id == m.StudentService.student_id)
        .join(m.School, m.School.id == m.Student.school_id)
        .outerjoin(
            m.Assignment,
            and_(
                m.Assignment.student_id == m.StudentService.student_id,
                m.Assignment.service == m.StudentService.service,
            ),
        )
        .order_by(m.StudentService.student_id, m.StudentService.service)
    )
    # The driver's tuples, named (an organisation has a hundred thousand services and more);
    # ``exited_at`` then comes in the connection's zone on PostgreSQL (``service_ends``
    # converts it).
    return driver_named(s, _scoped(q, scope), ServiceRow)


def _students_in(scope: Scope) -> Any:
    """A condition on ``sessions.student_id`` for the scope (None: everyone)."""
    if scope.student_ids is not None:
        return TS.student_id.in_(sorted(scope.student_ids))
    if scope.district_ids is not None:
        return TS.student_id.in_(
            select(m.Student.id)
            .join(m.School, m.School.id == m.Student.school_id)
            .where(m.School.district_id.in_(sorted(scope.district_ids)))
        )
    return None


def week_cuts(first: date, last: date, zone: str) -> list[datetime]:
    """The UTC instants that cut the month into its weeks in ``zone``: the month's start, each
    Monday 00:00 inside it, and the day after its end."""
    lo, hi = month_bounds(first, last, zone)
    tz = ZoneInfo(zone)
    monday = first + timedelta(days=7 - first.weekday())
    cuts = [lo]
    while monday <= last:
        cuts.append(datetime.combine(monday, time(0), tz).astimezone(UTC))
        monday += timedelta(days=7)
    return [*cuts, hi]


@dataclass(frozen=True)
class MonthReads:
    """What the month's sums read: the sessions summed in the database (``where``: the month's,
    away from every zone's week edges, and before it those that can owe or pay back minutes)
    and those near a week's or the month's edge, read one by one (``edge_rows``)."""

    bands: list[tuple[datetime, datetime]]  # each cut's earliest and latest instant
    cuts: dict[str, list[datetime]]  # each zone's own cuts
    zone_of_school: dict[str, str]
    cols: tuple[Any, ...]  # student, service, status, reason, make-up, note, overdue
    period: Any  # before | in
    where: list[Any]
    edges: list[Any]  # empty: no session can be near an edge

    def edge_rows(self, s: Session, weeks: Sequence[int]) -> list[tuple[Any, ...]]:
        """The sessions near an edge as ``minute_groups`` rows, placed by their school's zone."""
        if not self.edges:
            return []
        out: list[tuple[Any, ...]] = []
        rows = driver_tuples(
            s,
            select(*self.cols, TS.starts_at, TS.minutes, m.Student.school_id)
            .join(m.Student, m.Student.id == TS.student_id)
            .where(*self.edges),
        )
        for sid, svc, st, reason, mk, nt, od, at, minutes, school in rows:
            zone_cuts = self.cuts[self.zone_of_school[school]]
            where_ = BEFORE if at < zone_cuts[0] else IN if at < zone_cuts[-1] else AFTER
            week = bisect_right(zone_cuts, at) - 1 if where_ == IN else -1
            out.append(
                (
                    sid, svc, st, reason, bool(mk), bool(nt), bool(od), where_, minutes,
                    *(minutes if w == week else 0 for w in weeks),
                )
            )  # fmt: skip
        return out

    def in_week(self, w: int, starts_at: Any = TS.starts_at) -> Any:
        """A summed session (its ``starts_at``) in week ``w`` of the month (in every zone)."""
        return and_(starts_at >= self.bands[w][1], starts_at < self.bands[w + 1][0])


def month_reads(
    s: Session, scope: Scope, first: date, last: date, overdue_before: datetime
) -> MonthReads | None:
    """The month's reads for ``scope`` (None: no school in it). On PostgreSQL, also gives the
    transaction room to group in memory."""
    zone_of_school = school_zones(s, scope)
    if not zone_of_school:
        return None
    cuts = {z: week_cuts(first, last, z) for z in set(zone_of_school.values())}
    # Each cut's earliest and latest instant over the zones: between them, the zone decides.
    bands = [(min(c), max(c)) for c in zip(*cuts.values(), strict=True)]
    earliest, safe_lo = bands[0]
    safe_hi, latest = bands[-1]
    note = TS.note_done_at.is_not(None).label("note")
    overdue = and_(TS.starts_at < overdue_before, TS.status == "scheduled").label("overdue")
    owing = or_(TS.status != "held", TS.makeup.is_(True))
    period = case((TS.starts_at < earliest, literal(BEFORE)), else_=literal(IN)).label("period")
    cols = (TS.student_id, TS.service, TS.status, TS.cancel_reason, TS.makeup, note, overdue)
    # Rows near a week's edge are read one by one, so the others are in one week in every
    # zone: [latest start, earliest end) of the week.
    unsure_bands = [(lo, hi) for lo, hi in bands if lo < hi]
    in_month = and_(
        TS.starts_at >= safe_lo,
        TS.starts_at < safe_hi,
        *(or_(TS.starts_at < lo, TS.starts_at >= hi) for lo, hi in unsure_bands[1:-1]),
    )
    where = [or_(and_(TS.starts_at < earliest, owing), in_month)]
    unsure = [and_(TS.starts_at >= lo, TS.starts_at < hi) for lo, hi in unsure_bands]
    edges = [or_(*unsure)] if unsure else []
    students = _students_in(scope)
    if students is not None:
        where.append(students)
        if edges:
            edges.append(students)
    if s.get_bind().dialect.name == "postgresql":
        # Room to group in memory (a hash) rather than sort a hundred thousand rows by eight
        # keys, spilling to disk at the default 4 MB; for this transaction only. A whole
        # organisation's month (near a million rows, a quarter million groups) needs more.
        whole = scope.district_ids is None and scope.student_ids is None
        s.execute(text(f"SET LOCAL work_mem = '{256 if whole else 64}MB'"))
        # A plain scan and sum: compiling it (JIT) costs more than it saves.
        s.execute(text("SET LOCAL jit = off"))
    return MonthReads(bands, cuts, zone_of_school, cols, period, where, edges)


def minute_groups(
    s: Session,
    scope: Scope,
    first: date,
    last: date,
    overdue_before: datetime,
    weeks: Sequence[int] | None = None,
) -> list[Any]:
    """Sessions up to the month's end, summed: all of the month's, and before it only those that
    can owe or pay back minutes (everything but plain held sessions). Each row is a
    ``MinuteGroup`` followed by its minutes in each of ``weeks`` (weeks of the month, as
    ``OpenDays.week_of``; None: all): only the weeks the caller will look at, each one more
    sum.

    Most sessions lie well inside the month and its weeks whatever the school's zone: those are
    summed in the database on the sessions table alone. The few within a zone's offset of a
    week's or the month's edges are read one by one and placed by their school's zone.
    """
    reads = month_reads(s, scope, first, last, overdue_before)
    if reads is None:
        return []
    if weeks is None:
        weeks = range(len(reads.bands) - 1)
    # Plain rows: the flags may come back as 0/1 (SQLite), equal to False/True as keys. One
    # group per shape, its minutes also summed in each week asked for (a row per week would be
    # two to three times as many rows to read).
    by_week = [
        func.sum(case((reads.in_week(w), TS.minutes), else_=literal(0))).label(f"week{w}")
        for w in weeks
    ]
    grouped = (
        select(*reads.cols, reads.period, func.sum(TS.minutes).label("minutes"), *by_week)
        .where(*reads.where)
        .group_by(*reads.cols, reads.period)
    )
    out: list[Any] = driver_tuples(s, grouped)
    out.extend(reads.edge_rows(s, weeks))
    return out


class SlotRow(NamedTuple):
    """A weekly slot of an approved assignment (a plain row: an organisation has a hundred
    thousand and more)."""

    student_id: str
    service: str
    school_id: str
    slot_id: int
    group_key: str | None
    day: int  # Monday = 0, school wall time
    minutes: int
    approved_at: datetime | None
    provider_id: str
    start_minute: int  # wall time in ``timezone``
    timezone: str


def slot_rows(s: Session, scope: Scope, *, holders: bool = True) -> list[SlotRow]:
    """The weekly slots of the approved assignments in scope. Without ``holders``, each row's
    provider, start and zone are left empty ("", 0, ""): the minutes count a slot's dates and
    minutes only, and an organisation's slots are a hundred thousand rows and more."""
    slot, a = m.AssignmentSlot, m.Assignment
    held: tuple[Any, ...] = (a.provider_id, slot.start_minute, slot.timezone)
    if not holders:
        held = (literal(""), literal(0), literal(""))
    q = (
        select(
            a.student_id, a.service, m.Student.school_id, slot.id.label("slot_id"),
            slot.group_key, slot.day, (slot.end_minute - slot.start_minute).label("minutes"),
            a.approved_at, *held,
        )
        .join(a, a.id == slot.assignment_id)
        .join(m.Student, m.Student.id == a.student_id)
        .join(m.School, m.School.id == m.Student.school_id)
        .order_by(slot.id)
    )  # fmt: skip
    # The driver's tuples (an organisation has a hundred thousand slots and more);
    # ``approved_at`` then comes in the connection's zone on PostgreSQL: the callers only
    # convert it (``local_date``), never read its wall time.
    return driver_named(s, _scoped(q, scope), SlotRow)


def _generated_in(scope: Scope, lo: datetime, hi: datetime) -> list[Any]:
    """Conditions: sessions generated from slots, of the scope's students, in ``[lo, hi)``."""
    generated = or_(TS.session_key.startswith("slot:"), TS.session_key.startswith("group:"))
    where = [TS.starts_at >= lo, TS.starts_at < hi, generated]
    students = _students_in(scope)
    if students is not None:
        where.append(students)
    return where


def recorded_counts(
    s: Session, scope: Scope, lo: datetime, hi: datetime, *, not_due: Iterable[str] = ()
) -> dict[tuple[str, str], int]:
    """How many sessions each student in scope has in ``[lo, hi)`` per weekly slot (the
    generated key without its ``:YYYY-MM-DD`` date), any status but cancelled for one of
    ``not_due`` (a date that is no longer due, such as a day the school closed later, does not
    stand for another)."""
    slot = func.substr(TS.session_key, 1, func.length(TS.session_key) - 11)
    where = _generated_in(scope, lo, hi)
    if reasons := sorted(not_due):
        where.append(or_(TS.cancel_reason.is_(None), TS.cancel_reason.not_in(reasons)))
    q = select(TS.student_id, slot, func.count()).where(*where).group_by(TS.student_id, slot)
    return {(sid, key): n for sid, key, n in driver_tuples(s, q)}


# Up to this many students are named in the query; more are read for the whole scope and kept
# here (a list of thousands of ids costs the database more than the extra rows).
FEW_STUDENTS = 500


def sessions_on_file(
    s: Session, scope: Scope, lo: datetime, hi: datetime, student_ids: Iterable[str]
) -> list[tuple[str, str, datetime, str | None]]:
    """(student, service, starts_at, key) of every session that is not a make-up in ``[lo, hi)``,
    any key and status, of ``student_ids`` (in scope): whatever is on file for a weekly slot's
    date, generated from it or not (imported from sessions.csv, moved, rebooked). ``key`` is the
    session key of one generated from a slot, else None; the others sharing a student, service
    and start are read once."""
    wanted = set(student_ids)
    generated = or_(TS.session_key.startswith("slot:"), TS.session_key.startswith("group:"))
    key = case((generated, TS.session_key)).label("key")  # else NULL
    where = [TS.starts_at >= lo, TS.starts_at < hi, TS.makeup.is_(False)]
    if len(wanted) <= FEW_STUDENTS:
        where.append(TS.student_id.in_(sorted(wanted)))
    else:
        students = _students_in(scope)
        if students is not None:
            where.append(students)
    q = select(TS.student_id, TS.service, TS.starts_at, key).where(*where).distinct()
    return [row for row in driver_tuples(s, q) if row[0] in wanted]


def school_zones(s: Session, scope: Scope) -> dict[str, str]:
    """The zone of every school in scope (its own, or its district's)."""
    q = select(m.School.id, m.School.timezone, m.District.timezone).join(
        m.District, m.District.id == m.School.district_id
    )
    if scope.district_ids is not None:
        q = q.where(m.School.district_id.in_(sorted(scope.district_ids)))
    if scope.student_ids is not None:
        q = q.where(
            m.School.id.in_(
                select(m.Student.school_id).where(m.Student.id.in_(sorted(scope.student_ids)))
            )
        )
    return {sid: stz or dtz for sid, stz, dtz in s.execute(q)}


def weekdays_by_school(s: Session, school_ids: Iterable[str]) -> dict[str, frozenset[int]]:
    """The weekdays each school has hours on."""
    wanted = sorted(set(school_ids))
    out: dict[str, set[int]] = defaultdict(set)
    for i in range(0, len(wanted), 5000):
        q = select(m.SchoolHours.school_id, m.SchoolHours.day).where(
            m.SchoolHours.school_id.in_(wanted[i : i + 5000])
        )
        for school_id, day in s.execute(q.distinct()):
            out[school_id].add(day)
    return {k: frozenset(v) for k, v in out.items()}


def closed_spans(
    s: Session, school_ids: Iterable[str], first: date, last: date
) -> dict[str, list[tuple[date, date]]]:
    """Each school's closed spans (its own and its district's) overlapping the dates."""
    wanted = sorted(set(school_ids))
    cal = m.SchoolCalendarDay
    out: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for i in range(0, len(wanted), 5000):
        q = (
            select(m.School.id, cal.start_date, cal.end_date)
            .join(cal, or_(cal.school_id == m.School.id, cal.district_id == m.School.district_id))
            .where(
                m.School.id.in_(wanted[i : i + 5000]),
                cal.kind == "closed",
                cal.start_date <= last,
                cal.end_date >= first,
            )
        )
        for school_id, a, b in s.execute(q):
            out[school_id].append((a, b))
    return dict(out)


class OwedCandidate(NamedTuple):
    session_id: int
    student_id: str
    service: str
    provider_id: str  # who owes it: the approved provider now, else the one who missed it
    starts_at: datetime
    minutes: int
    status: str
    cancel_reason: str | None
    note_written: bool


def owed_candidates(
    s: Session,
    scope: Scope,
    since: datetime | None = None,
    *,
    not_owed_reasons: Iterable[str] = (),
    overdue_before: datetime | None = None,
    with_no_shows: bool = True,
) -> list[OwedCandidate]:
    """Sessions (not make-ups) that may owe minutes: cancelled (but not for ``not_owed_reasons``),
    no-shows (``with_no_shows``), or still scheduled with no note (started before
    ``overdue_before``). The minutes rule has the last word; this only narrows the rows."""
    q = (
        select(
            TS.id,
            TS.student_id,
            TS.service,
            func.coalesce(m.Assignment.provider_id, TS.provider_id),
            TS.starts_at,
            TS.minutes,
            TS.status,
            TS.cancel_reason,
            TS.note_done_at.is_not(None),
        )
        .join(m.Student, m.Student.id == TS.student_id)
        .join(m.School, m.School.id == m.Student.school_id)
        .outerjoin(
            m.Assignment,
            and_(m.Assignment.student_id == TS.student_id, m.Assignment.service == TS.service),
        )
        .where(TS.status != SessionStatus.HELD, TS.makeup.is_(False))
        .order_by(TS.starts_at, TS.id)
    )
    reasons = sorted(not_owed_reasons)
    cancelled = TS.status == SessionStatus.CANCELLED
    if reasons:
        cancelled = and_(
            cancelled, or_(TS.cancel_reason.is_(None), TS.cancel_reason.not_in(reasons))
        )
    unmarked = and_(TS.status == SessionStatus.SCHEDULED, TS.note_done_at.is_(None))
    if overdue_before is not None:
        unmarked = and_(unmarked, TS.starts_at < overdue_before)
    kinds = [cancelled, unmarked]
    if with_no_shows:
        kinds.append(TS.status == SessionStatus.NO_SHOW)
    q = q.where(or_(*kinds))
    if since is not None:
        q = q.where(TS.starts_at >= since)
    # The driver's tuples (a whole organisation's are a hundred thousand): an instant then
    # comes in the connection's zone on PostgreSQL, given here in UTC as everywhere else. The
    # words of a small vocabulary (service, status, reason) are kept once each, not per row.
    words: dict[str, str] = {}
    return [
        OwedCandidate(
            sid,
            student,
            words.setdefault(svc, svc),
            owner,
            at.astimezone(UTC),
            minutes,
            words.setdefault(status, status),
            reason if reason is None else words.setdefault(reason, reason),
            bool(note),
        )
        for sid, student, svc, owner, at, minutes, status, reason, note in driver_tuples(
            s, _scoped(q, scope)
        )
    ]


def makeup_key(missed_session_id: int, attempt: int) -> str:
    return f"{MAKEUP_PREFIX}{missed_session_id}:{attempt}"


def missed_id_of(key: str) -> int | None:
    """The missed session a make-up's key names (``makeup:<id>:<attempt>``)."""
    if not key.startswith(MAKEUP_PREFIX):
        return None
    head = key[len(MAKEUP_PREFIX) :].split(":", 1)[0]
    return int(head) if head.isdigit() else None


def makeups_for(s: Session, missed_session_id: int) -> list[m.TherapySession]:
    """Every make-up booked for a missed session (any status), oldest first."""
    q = (
        select(TS)
        .where(TS.makeup, TS.session_key.startswith(f"{MAKEUP_PREFIX}{missed_session_id}:"))
        .order_by(TS.id)
    )
    return list(s.scalars(q))


def all_active_makeup_targets(s: Session, scope: Scope) -> set[int]:
    """Missed-session ids that already have a scheduled or held make-up, in scope."""
    q = (
        select(TS.session_key)
        .join(m.Student, m.Student.id == TS.student_id)
        .join(m.School, m.School.id == m.Student.school_id)
        # (``makeup`` as it is, not ``IS TRUE``: the partial index ix_sessions_makeup serves it)
        .where(TS.makeup, TS.status.in_((SessionStatus.SCHEDULED, SessionStatus.HELD)))
    )
    out: set[int] = set()
    for key in s.scalars(_scoped(q, scope)):
        missed = missed_id_of(key)
        if missed is not None:
            out.add(missed)
    return out


def districts_of_students(s: Session, student_ids: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(student_ids))
    out: dict[str, str] = {}
    for i in range(0, len(wanted), 5000):
        q = (
            select(m.Student.id, m.School.district_id)
            .join(m.School, m.School.id == m.Student.school_id)
            .where(m.Student.id.in_(wanted[i : i + 5000]))
        )
        out.update({sid: did for sid, did in s.execute(q)})
    return out


def change_stamp(s: Session) -> tuple[int | None, ...]:
    """What changes whenever a session is added, marked, noted or booked, or a roster import
    changes anything (the newest session, audit record and note ids: each such import leaves
    its own ``roster.imported`` audit record, even when it writes into empty tables with no
    row-by-row audit): three index look-ups, to tell a cached summary is out of date."""
    newest = [
        select(func.max(TS.id)).scalar_subquery(),
        select(func.max(m.AuditLog.id)).scalar_subquery(),
        select(func.max(m.SoapNote.id)).scalar_subquery(),
    ]
    return tuple(s.execute(select(*newest)).one())
