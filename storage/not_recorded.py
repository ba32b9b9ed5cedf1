"""Storage: a ``not_recorded`` session withdrawn once its date's session is on file after all
(takes a session, never commits).

The make-ups job records a weekly slot's date that passed with no session on file as a session
cancelled ``not_recorded`` (``bot.services.unrecorded``). When a session of that student and
service lands on that school-local date later (a ``sessions.csv`` import, a session moved
there), the date was not missed after all: the bot's row is deleted, with an audit row
(``session.not_recorded_withdrawn``) that keeps what it said and names the session on file. The
figures, the service log and the make-up DMs then read as if the date had been on file all
along (a make-up DM, reminder or escalation still queued for it is dropped unsent: nothing is
owed), and the sweeper, which sees the date's session, does not write it again. The counting is
the sweeper's: a slot's own session stands for that slot, any other session for one slot of
that day, so with two slots of a service on one day the second row needs a second session.

A row someone acted on stays: marked since (it is no longer ``not_recorded``), or with a
make-up booked or held against it (a person booked that time; held, it pays the row back).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    String,
    cast,
    delete,
    exists,
    func,
    insert,
    literal,
    literal_column,
    select,
)
from sqlalchemy.orm import Session, aliased

from bot.domain.sessions import session_key
from bot.domain.vocabulary import CancelReason, SessionStatus
from storage import models as m
from storage.outbox import chunks

TS = m.TherapySession
WITHDRAWN = "session.not_recorded_withdrawn"
BUSY = (SessionStatus.SCHEDULED, SessionStatus.HELD)
IN_CHUNK = 500
NEAR = timedelta(days=2)  # wider than any two zones' dates apart: the rule decides the rest


class _Session(NamedTuple):
    id: int
    student_id: str
    service: str
    starts_at: datetime
    session_key: str
    provider_id: str
    minutes: int
    not_recorded: bool  # the bot's row: cancelled not_recorded, no note


def _chunks(values: Iterable[Any]) -> Iterable[Sequence[Any]]:
    """The distinct values, sorted, in chunks for ``IN (…)``."""
    return chunks(sorted(set(values)), IN_CHUNK)


def _not_recorded(t: Any = TS) -> Any:
    """``t`` (the sessions table, or an alias of it) is the bot's row: cancelled
    ``not_recorded``, no note, not a make-up."""
    return (
        (t.status == SessionStatus.CANCELLED)
        & (t.cancel_reason == CancelReason.NOT_RECORDED)
        & t.note_done_at.is_(None)
        & t.makeup.is_(False)
    )


def _columns() -> tuple[Any, ...]:
    return (
        TS.id, TS.student_id, TS.service, TS.starts_at, TS.session_key, TS.provider_id,
        TS.minutes, _not_recorded(),
    )  # fmt: skip


def _rows(s: Session, q: Any) -> list[_Session]:
    return [
        _Session(i, sid, svc, at, key, pid, minutes, bool(mine))
        for i, sid, svc, at, key, pid, minutes, mine in s.execute(q)
    ]


def _candidates(
    s: Session, since: datetime | None, near: Iterable[tuple[str, str, datetime]] | None
) -> list[_Session]:
    """The bot's rows to look at: from ``since``, or within NEAR of a session in ``near``; in
    both cases only those with another session of the student and service (not the bot's, not
    a make-up) within NEAR, looked up in the database (most rows have none)."""
    other = aliased(TS)
    postgres = s.get_bind().dialect.name == "postgresql"

    def shifted(days: int) -> Any:
        if postgres:
            return TS.starts_at + literal_column(f"interval '{days} days'")
        return func.datetime(TS.starts_at, f"{days:+d} days")  # SQLite: UTC text

    beside = exists().where(
        other.student_id == TS.student_id,
        other.service == TS.service,
        other.id != TS.id,
        other.makeup.is_(False),
        ~_not_recorded(other),
        other.starts_at > shifted(-NEAR.days),
        other.starts_at < shifted(NEAR.days),
    )
    if near is None:
        q = select(*_columns()).where(_not_recorded(), beside)
        if since is not None:
            q = q.where(TS.starts_at >= since)
        return _rows(s, q)
    arrived: dict[tuple[str, str], list[datetime]] = defaultdict(list)
    for sid, svc, at in near:
        arrived[(sid, svc)].append(at)
    out = []
    for part in _chunks(sid for sid, _ in arrived):
        q = select(*_columns()).where(_not_recorded(), beside, TS.student_id.in_(part))
        for row in _rows(s, q):
            times = arrived.get((row.student_id, row.service), ())
            if any(abs(at - row.starts_at) < NEAR for at in times):
                out.append(row)
    return out


def withdraw_superseded(
    s: Session,
    now: datetime,
    actor: str,
    *,
    since: datetime | None = None,
    near: Iterable[tuple[str, str, datetime]] | None = None,
) -> list[int]:
    """Withdraw the ``not_recorded`` sessions whose date now has its session on file; returns
    their ids. ``since``: only those from then on (the sweeper's months); ``near``: only those
    within a day or so of these (student, service, starts_at) (the sessions an import wrote)."""
    rows = _candidates(s, since, near)
    if not rows:
        return []
    students = {r.student_id for r in rows}
    zones = _zones(s, students)
    day_of: dict[tuple[datetime, str], date] = {}

    def local(at: datetime, sid: str) -> date:
        zone = zones.get(sid, "UTC")
        d = day_of.get((at, zone))
        if d is None:
            d = day_of[(at, zone)] = at.astimezone(ZoneInfo(zone)).date()
        return d

    # Every session (not a make-up) of those students around those dates, by school-local day.
    lo = min(r.starts_at for r in rows) - NEAR
    hi = max(r.starts_at for r in rows) + NEAR
    on_day: dict[tuple[str, str, date], list[_Session]] = defaultdict(list)
    for part in _chunks(students):
        q = select(*_columns()).where(
            TS.student_id.in_(part), TS.makeup.is_(False), TS.starts_at >= lo, TS.starts_at < hi
        )
        for row in _rows(s, q):
            on_day[(row.student_id, row.service, local(row.starts_at, row.student_id))].append(row)
    wanted = {(r.student_id, r.service, local(r.starts_at, r.student_id)) for r in rows}
    # Only a day with a session besides the bot's rows can have its session on file after all.
    days = [d for d in wanted if any(not x.not_recorded for x in on_day[d])]
    if not days:
        return []
    booked = _booked(s, {d[0] for d in days})
    slots = _slots(s, {d[0] for d in days}, zones)
    # The slots due on each day (approved before it, inside the service's dates) and their own
    # keys for it: a slot whose own session is on file (that day or moved to another) needs
    # nothing more; one without needs another session of that day.
    own: dict[tuple[str, str, date], set[str]] = {}
    for sid, svc, d in days:
        own[(sid, svc, d)] = {
            session_key(slot_id, group, d)
            for slot_id, group, weekday, first, last in slots.get((sid, svc), ())
            if weekday == d.weekday() and first <= d and (last is None or d <= last)
        }
    keys_on_file = _keys_on_file(s, {(k, sid) for (sid, _, _), ks in own.items() for k in ks})
    chosen: dict[int, int] = {}  # the bot's row -> a session of that day on file
    for day in days:
        sessions = on_day[day]
        mine = [x for x in sessions if x.not_recorded]
        others = [x for x in sessions if not x.not_recorded]
        keys = own[day]
        # Sessions standing for their own slot; the rest stand for one slot each.
        standing = sum(x.session_key in keys for x in others)
        spare = len(others) - standing
        lacking = sum(
            1
            for k in keys
            if (k, day[0]) not in keys_on_file and k not in {x.session_key for x in mine}
        )
        free = [x for x in mine if x.id not in booked]
        covered = min(len(free), max(0, spare - lacking))
        extra = [x for x in others if x.session_key not in keys] or others
        for x in sorted(free, key=lambda x: -x.id)[:covered]:
            chosen[x.id] = extra[0].id
    return _withdraw(s, now, actor, [r for r in rows if r.id in chosen], chosen)


def _zones(s: Session, students: Iterable[str]) -> dict[str, str]:
    """Each student's school zone (the school's own, or its district's)."""
    out: dict[str, str] = {}
    for part in _chunks(students):
        q = (
            select(m.Student.id, m.School.timezone, m.District.timezone)
            .join(m.School, m.School.id == m.Student.school_id)
            .join(m.District, m.District.id == m.School.district_id)
            .where(m.Student.id.in_(part))
        )
        out.update({sid: stz or dtz for sid, stz, dtz in s.execute(q)})
    return out


def _booked(s: Session, students: Iterable[str]) -> set[int]:
    """The sessions of these students with a make-up scheduled or held against them."""
    out: set[int] = set()
    for part in _chunks(students):
        q = select(TS.session_key).where(
            TS.makeup.is_(True), TS.status.in_(BUSY), TS.student_id.in_(part)
        )
        for key in s.scalars(q):
            head = key.split(":")
            if len(head) > 1 and head[1].isdigit():
                out.add(int(head[1]))  # makeup:<missed id>:<attempt>
    return out


Slot = tuple[int, str | None, int, date, date | None]  # id, group, weekday, first, last day


def _slots(
    s: Session, students: Iterable[str], zones: dict[str, str]
) -> dict[tuple[str, str], list[Slot]]:
    """The approved weekly slots of these students, with the dates each applies to: from the
    day after its approval and the service's start to the service's end or the exit."""
    a, slot, svc = m.Assignment, m.AssignmentSlot, m.StudentService
    out: dict[tuple[str, str], list[Slot]] = defaultdict(list)
    for part in _chunks(students):
        q = (
            select(
                a.student_id, a.service, slot.id, slot.group_key, slot.day, a.approved_at,
                svc.starts_on, svc.ends_on, m.Student.exited_at,
            )
            .join(slot, slot.assignment_id == a.id)
            .join(m.Student, m.Student.id == a.student_id)
            .join(svc, (svc.student_id == a.student_id) & (svc.service == a.service))
            .where(a.student_id.in_(part), a.approved_at.is_not(None))
        )  # fmt: skip
        for sid, service, slot_id, group, day, approved, starts, ends, exited in s.execute(q):
            if approved is None:
                continue  # (filtered above: no telling since when the slot stood)
            zone = ZoneInfo(zones.get(sid, "UTC"))
            first = approved.astimezone(zone).date() + timedelta(days=1)
            if starts is not None:
                first = max(first, starts)
            if exited is not None:
                gone = exited.date()
                ends = gone if ends is None else min(ends, gone)
            out[(sid, service)].append((slot_id, group, day, first, ends))
    return out


def _keys_on_file(s: Session, wanted: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (session key, student) are on file, on any date and in any status."""
    out: set[tuple[str, str]] = set()
    for part in _chunks(k for k, _ in wanted):
        q = select(TS.session_key, TS.student_id).where(TS.session_key.in_(part))
        out.update((k, sid) for k, sid in s.execute(q) if (k, sid) in wanted)
    return out


def _withdraw(
    s: Session, now: datetime, actor: str, rows: list[_Session], on_file: dict[int, int]
) -> list[int]:
    """Delete the rows if they are still the bot's, unmarked and with no make-up booked (a
    click may have landed since), with one audit row each."""
    if not rows:
        return []
    later = aliased(TS)
    booked = exists().where(
        later.makeup.is_(True),
        later.status.in_(BUSY),
        later.student_id == TS.student_id,
        later.session_key.like(literal("makeup:") + cast(TS.id, String) + literal(":%")),
    )
    gone: set[int] = set()
    for part in _chunks(r.id for r in rows):
        q = delete(TS).where(TS.id.in_(part), _not_recorded(), ~booked).returning(TS.id)
        gone.update(s.scalars(q.execution_options(synchronize_session=False)))
    audit = [
        {
            "at": now,
            "actor": actor,
            "action": WITHDRAWN,
            "subject_type": "session",
            "subject_id": str(r.id),
            "before": {
                "session_key": r.session_key,
                "student_id": r.student_id,
                "service": r.service,
                "provider_id": r.provider_id,
                "starts_at": r.starts_at.isoformat(),
                "minutes": r.minutes,
                "status": SessionStatus.CANCELLED.value,
                "cancel_reason": CancelReason.NOT_RECORDED.value,
            },
            "after": {"on_file": on_file[r.id]},
        }
        for r in rows
        if r.id in gone
    ]
    if audit:
        s.execute(insert(m.AuditLog), audit)
    return sorted(gone)
