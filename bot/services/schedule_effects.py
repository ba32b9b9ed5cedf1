"""Services: what an availability or time-off change does to the sessions already planned.

The availability service calls these inside its own transaction (they never commit):

* ``preview_effects`` names what a preview would affect: the weekly slots that fall outside
  the new hours, and how many sessions time off would cancel;
* ``apply_effects`` runs on Save and on Undo: sessions inside time off are cancelled with the
  reason ``provider_out`` (so no note is asked, and the student is owed them), sessions that it
  cancelled are scheduled again when their time off is gone and they are still ahead, and weekly
  slots newly outside the provider's hours are returned so that their managers hear of them.

The checks are the conflict rule's own (``bot.domain.conflicts.Rule``), on the provider's facts
with the windows or time off of the change.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import privacy
from bot.domain.conflicts import (
    Cause,
    DatedSession,
    Facts,
    ProviderFacts,
    Rule,
    Slot,
    StudentFacts,
    TimeOff,
    Window,
    find_conflicts,
    utc_minute,
)
from bot.domain.schedule import WeeklyWindow, local_date
from bot.domain.sessions import GENERATED_PREFIXES
from bot.domain.vocabulary import CancelReason, SessionStatus
from bot.services import dm
from bot.services import sessions as sessions_svc
from bot.services.conflicts import facts_for, time_off_rows
from storage import models as m
from storage import outbox
from storage.db import plain_rows

TS = m.TherapySession
WEEKS_CHECKED = timedelta(days=13)  # two weeks: every weekly slot twice


@dataclass(frozen=True)
class SlotEffect:
    """A weekly slot (school wall time) and the students in it, as people may read them."""

    slot_ids: tuple[int, ...]
    day: int
    start: int
    tz: str  # the school's zone
    students: tuple[str, ...]  # labels: initials and id
    student_ids: tuple[str, ...]


@dataclass(frozen=True)
class Effects:
    outside: tuple[SlotEffect, ...] = ()  # weekly slots newly outside the provider's hours
    cancelled: int = 0  # sessions time off cancels (or would)
    restored: int = 0  # sessions scheduled again because their time off is gone

    @property
    def outside_sessions(self) -> int:
        return sum(len(e.slot_ids) for e in self.outside)

    @property
    def student_ids(self) -> tuple[str, ...]:
        return tuple(sorted({sid for e in self.outside for sid in e.student_ids}))


@dataclass(frozen=True)
class _Planned:
    slots: list[Slot]
    sessions: list[DatedSession]
    facts: Facts


def _planned(
    s: Session, provider_id: str, start: date, end: date, *, slots: list[SlotAt] | None = None
) -> _Planned:
    """The provider's weekly slots (``slots``, when already read) and the facts the rule reads."""
    if slots is None:
        slots = placed(s, provider_id).slots
    schools = {x.student_id: x.school_id for x in slots}
    facts = facts_for(s, start, end, schools, {provider_id})
    return _Planned([x.slot for x in slots], [], facts)


@dataclass(frozen=True)
class SlotAt:
    """A weekly slot with its student's school and that school's zone."""

    slot: Slot
    school_id: str
    tz: str

    @property
    def student_id(self) -> str:
        return self.slot.student_id


@dataclass(frozen=True)
class Placed:
    """A provider's weekly slots, and the zones of every school they serve (slots or not)."""

    slots: list[SlotAt]
    zones: tuple[str, ...]


# Every assignment of the provider with its weekly slots, if any (an outer join), and its
# school's zone: one statement gives both the slots and the zones of the provider's schools.
_PLACED = (
    select(
        m.AssignmentSlot.id, m.Assignment.student_id, m.Assignment.service,
        m.AssignmentSlot.day, m.AssignmentSlot.start_minute, m.AssignmentSlot.end_minute,
        m.Student.school_id, m.School.timezone, m.District.timezone,
    )
    .select_from(m.Assignment)
    .join(m.Student, m.Student.id == m.Assignment.student_id)
    .join(m.School, m.School.id == m.Student.school_id)
    .join(m.District, m.District.id == m.School.district_id)
    .outerjoin(m.AssignmentSlot, m.AssignmentSlot.assignment_id == m.Assignment.id)
    .where(m.Assignment.provider_id == bindparam("provider_id"))
    .order_by(m.AssignmentSlot.day, m.AssignmentSlot.start_minute, m.AssignmentSlot.id)
)  # fmt: skip  # built once: every preview reads it


def placed(s: Session, provider_id: str) -> Placed:
    """The provider's weekly slots and their schools' zones, in one statement."""
    slots: list[SlotAt] = []
    zones: set[str] = set()
    rows = plain_rows(s, _PLACED, {"provider_id": provider_id})
    for sid, student, service, day, a, b, school, school_tz, district_tz in rows:
        tz = school_tz or district_tz  # the school's own zone, or its district's
        zones.add(tz)
        if sid is not None:
            slots.append(SlotAt(Slot(sid, provider_id, student, service, day, a, b), school, tz))
    return Placed(slots, tuple(sorted(zones)))


def _with(facts: Facts, provider: ProviderFacts) -> Facts:
    return replace(facts, providers={**facts.providers, provider.provider_id: provider})


def _outside(rule: Rule, planned: _Planned, provider: ProviderFacts, start: date) -> set[int]:
    """Slots with a date in the two weeks from ``start`` outside the provider's windows."""
    out: set[int] = set()
    for slot in planned.slots:
        student = planned.facts.students.get(slot.student_id)
        if student is None:
            continue
        tz = planned.facts.school_tz.get(student.school_id, "UTC")
        for k in range(14):
            on = start + timedelta(days=k)
            if on.weekday() != slot.day:
                continue
            begin = _slot_minute(tz, on, slot.start)
            if not rule.available(provider, begin, slot.end - slot.start):
                out.add(slot.slot_id)
                break
    return out


def _slot_minute(tz: str, on: date, minute: int) -> int:
    local = datetime.combine(on, time(0), ZoneInfo(tz)) + timedelta(minutes=minute)
    return utc_minute(local)


def _slot_effects(
    s: Session, planned: _Planned, slot_ids: set[int], show_names: bool
) -> tuple[SlotEffect, ...]:
    if not slot_ids:
        return ()
    chosen = [x for x in planned.slots if x.slot_id in slot_ids]
    ids = sorted({x.student_id for x in chosen})
    names = {
        sid: privacy.student_label(sid, first, last, show_names)
        for sid, first, last in s.execute(
            select(m.Student.id, m.Student.first_name, m.Student.last_name).where(
                m.Student.id.in_(ids)
            )
        )
    }
    groups: dict[tuple[int, int, str], list[Slot]] = {}
    for x in chosen:
        student = planned.facts.students[x.student_id]
        tz = planned.facts.school_tz.get(student.school_id, "UTC")
        groups.setdefault((x.day, x.start, tz), []).append(x)
    return tuple(
        SlotEffect(
            tuple(x.slot_id for x in xs),
            day,
            start,
            tz,
            tuple(names.get(x.student_id, x.student_id) for x in sorted(xs, key=_by_student)),
            tuple(sorted({x.student_id for x in xs})),
        )
        for (day, start, tz), xs in sorted(groups.items())
    )


def _by_student(x: Slot) -> str:
    return x.student_id


def _windows(rows: Sequence[Sequence[Any]]) -> tuple[Window, ...]:
    """Windows from the availability service's snapshot rows [day, start, end, tz, from, to]."""
    return tuple(
        Window(
            day, a, b, tz,
            date.fromisoformat(frm) if frm else None,
            date.fromisoformat(to) if to else None,
        )
        for day, a, b, tz, frm, to in rows
    )  # fmt: skip


# --- previews -----------------------------------------------------------------------------


def preview_effects(
    s: Session,
    provider: ProviderFacts,
    plan: Placed,
    today: date,
    show_names: bool,
    *,
    after: Sequence[WeeklyWindow] | None = None,
    from_day: date | None = None,
    time_off: Sequence[TimeOff] = (),
    cancelling: tuple[date, date] | None = None,
) -> Effects:
    """What saving would do: slots newly outside ``after`` hours (from ``from_day``), how many
    planned sessions ``time_off`` would cancel, or how many cancelled for time off would come
    back when time off over ``cancelling`` is cancelled.

    ``provider``: the provider's zone and windows as they stand (their time off and licences are
    read here when needed); ``plan``: their weekly slots (``placed``), read by the caller."""
    if cancelling is not None:
        return Effects(restored=_cancelled_for_time_off(s, provider, today, *cancelling))
    start = from_day or today
    if time_off:
        start = max(today, min(t.start for t in time_off))
        end = max(start, max(t.end for t in time_off))
    else:
        end = start + WEEKS_CHECKED
    if after is not None:
        # Whether a slot lies inside the hours reads only the windows, the slots and their
        # schools' zones, all in hand: no conflict facts to read.
        if not plan.slots:
            return Effects()
        students = {x.student_id: StudentFacts(x.student_id, x.school_id, "") for x in plan.slots}
        zones = {x.school_id: x.tz for x in plan.slots}
        facts = Facts({provider.provider_id: provider}, students, zones)
        planned = _Planned([x.slot for x in plan.slots], [], facts)
        new = replace(provider, windows=tuple(Window(w.day, w.start, w.end, w.tz) for w in after))
        before = _outside(Rule(planned.facts), planned, provider, start)
        now_out = _outside(Rule(_with(planned.facts, new)), planned, new, start)
        return Effects(outside=_slot_effects(s, planned, now_out - before, show_names))
    if not time_off:
        return Effects()
    # Time off: what it would cancel is what the whole rule says is newly on time off (a closed
    # school, an ended licence or service come first), so every fact is read.
    sessions = _dated_sessions(s, provider.provider_id, start, end)
    if not plan.slots and not sessions:  # nothing planned: the facts need not be read
        return Effects()
    first, last = start - timedelta(days=1), end + timedelta(days=1)
    full = _planned(s, provider.provider_id, first, last, slots=plan.slots)
    read = full.facts.providers.get(provider.provider_id)
    if read is None:
        return Effects()
    extra = replace(read, time_off=(*read.time_off, *time_off))
    return Effects(cancelled=_count_time_off(full, sessions, read, extra, start, end))


def _count_time_off(
    planned: _Planned,
    sessions: list[DatedSession],
    provider: ProviderFacts,
    extra: ProviderFacts,
    start: date,
    end: date,
) -> int:
    """Planned dates (slots, and dated sessions not from slots) newly inside time off."""

    def hits(p: ProviderFacts) -> int:
        found = find_conflicts(planned.slots, sessions, _with(planned.facts, p), start, end)
        return sum(c.count for c in found if c.cause == Cause.TIME_OFF)

    return max(0, hits(extra) - hits(provider))


def _cancelled_for_time_off(
    s: Session, provider: ProviderFacts, today: date, start: date, end: date
) -> int:
    """Sessions still ahead, cancelled for time off, on the provider's dates ``start..end``."""
    zone = ZoneInfo(provider.tz)
    q = select(TS.starts_at).where(
        TS.provider_id == provider.provider_id,
        TS.status == SessionStatus.CANCELLED,
        TS.cancel_reason == CancelReason.PROVIDER_OUT.value,
        TS.starts_at >= datetime.combine(max(today, start) - timedelta(days=1), time(0), UTC),
        TS.starts_at < datetime.combine(end + timedelta(days=2), time(0), UTC),
    )
    return sum(1 for at in s.scalars(q) if max(today, start) <= at.astimezone(zone).date() <= end)


def _dated_sessions(s: Session, provider_id: str, start: date, end: date) -> list[DatedSession]:
    q = select(TS.id, TS.student_id, TS.service, TS.starts_at, TS.minutes).where(
        TS.provider_id == provider_id,
        TS.status == SessionStatus.SCHEDULED,
        TS.starts_at >= datetime.combine(start - timedelta(days=1), time(0), UTC),
        TS.starts_at < datetime.combine(end + timedelta(days=2), time(0), UTC),
        *(TS.session_key.not_like(f"{p}%") for p in GENERATED_PREFIXES),
    )
    return [DatedSession(i, provider_id, st, sv, at, n) for i, st, sv, at, n in s.execute(q)]


def still_outside(
    s: Session, provider_id: str, services: Collection[tuple[str, str]], today: date
) -> dict[tuple[str, str], int]:
    """Of ``services`` (student, service), those whose weekly slots with this provider fall
    outside the provider's hours now, in the two weeks from ``today``: how many slots each."""
    wanted = set(services)
    end = today + WEEKS_CHECKED + timedelta(days=1)
    planned = _planned(s, provider_id, today - timedelta(days=1), end)
    provider = planned.facts.providers.get(provider_id)
    if provider is None or not wanted:
        return {}
    out = _outside(Rule(planned.facts), planned, provider, today)
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for slot in planned.slots:
        if slot.slot_id in out and (slot.student_id, slot.service) in wanted:
            counts[(slot.student_id, slot.service)] += 1
    return dict(counts)


# --- saves --------------------------------------------------------------------------------


def apply_effects(
    s: Session,
    provider_id: str,
    now: datetime,
    today: date,
    show_names: bool,
    before_windows: Sequence[Sequence[Any]] | None = None,
) -> Effects:
    """After a save (or an undo) of the provider's schedule: cancel what time off covers,
    restore what it no longer covers, and list slots newly outside the hours."""
    cancelled, restored = _reconcile_time_off(s, provider_id, now)
    outside: tuple[SlotEffect, ...] = ()
    if before_windows is not None:
        end = today + WEEKS_CHECKED
        planned = _planned(s, provider_id, today - timedelta(days=1), end + timedelta(days=1))
        provider = planned.facts.providers.get(provider_id)
        if provider is not None:
            old = replace(provider, windows=_windows(before_windows))
            was = _outside(Rule(_with(planned.facts, old)), planned, old, today)
            now_out = _outside(Rule(planned.facts), planned, provider, today)
            outside = _slot_effects(s, planned, now_out - was, show_names)
    return Effects(outside=outside, cancelled=cancelled, restored=restored)


def _reconcile_time_off(s: Session, provider_id: str, now: datetime) -> tuple[int, int]:
    """(cancelled, restored) among the provider's sessions from ``now`` on."""
    row = s.get(m.Provider, provider_id)
    if row is None:
        return 0, 0
    offs = tuple(
        off for _, off in time_off_rows(s, now.date(), m.TimeOff.provider_id == provider_id)
    )
    provider = ProviderFacts(provider_id, row.timezone, time_off=offs)
    q = select(TS.id, TS.starts_at, TS.minutes, TS.status).where(
        TS.provider_id == provider_id,
        TS.starts_at >= now,
        or_(
            (TS.status == SessionStatus.SCHEDULED) & TS.note_done_at.is_(None),
            (TS.status == SessionStatus.CANCELLED)
            & (TS.cancel_reason == CancelReason.PROVIDER_OUT.value),
        ),
    )
    cancel: list[int] = []
    back: list[int] = []
    for sid, starts_at, minutes, status in s.execute(q):
        out = Rule.on_time_off(provider, utc_minute(starts_at), minutes)
        if out and status == SessionStatus.SCHEDULED:
            cancel.append(sid)
        elif not out and status == SessionStatus.CANCELLED:
            back.append(sid)
    return (
        sessions_svc.cancel_untouched(s, cancel, CancelReason.PROVIDER_OUT),
        sessions_svc.restore(s, back),
    )


# --- the availability service's hooks ---------------------------------------------------------

CHANGE_KIND = "schedule_change"  # the pending action a manager's [Find new times] carries
CHANGE_RULE = "schedule_change"  # the outbox rule of the manager's DM
CHANGE_LEASE = timedelta(minutes=2)
TIME_OFF_INTENTS = ("time_off", "cancel_time_off")  # saves that leave the weekly hours alone


def on_save(
    s: Session,
    deps: Deps,
    provider: m.Provider,
    pending_id: str,
    before_windows: Sequence[Sequence[Any]],
    intent: str,
) -> Effects:
    """Inside the save's transaction: apply the change to the sessions and, when weekly slots
    now fall outside the provider's hours, queue one DM to each of their managers."""
    now = deps.clock.now()
    today = local_date(now, provider.timezone)
    show = deps.settings.show_student_names
    hours_changed = intent not in TIME_OFF_INTENTS
    effects = apply_effects(
        s, provider.id, now, today, show, before_windows if hours_changed else None
    )
    if effects.outside:
        _queue_manager_dms(s, provider, effects, pending_id, now)
    return effects


def on_undo(s: Session, deps: Deps, provider: m.Provider) -> Effects:
    now = deps.clock.now()
    today = local_date(now, provider.timezone)
    return apply_effects(s, provider.id, now, today, deps.settings.show_student_names)


def managers_of(s: Session, district_ids: Collection[str]) -> list[m.Manager]:
    """The managers who serve any of these districts (a manager with no districts serves all)."""
    scoped: dict[str, set[str]] = defaultdict(set)
    for manager_id, district_id in s.execute(
        select(m.ManagerDistrict.manager_id, m.ManagerDistrict.district_id)
    ):
        scoped[manager_id].add(district_id)
    wanted = set(district_ids)
    return [
        mg
        for mg in s.scalars(select(m.Manager).order_by(m.Manager.id))
        if not scoped.get(mg.id) or scoped[mg.id] & wanted
    ]


@dataclass(frozen=True)
class ScheduleChanged:
    """The managers' DM: a provider's new hours left these weekly sessions outside them."""

    change_id: str  # the pending action [Find new times] and [Keep for now] carry
    provider: str
    slots: tuple[SlotEffect, ...]

    def to_payload(self) -> dict[str, Any]:
        return {
            "schedule_changed": {
                "change_id": self.change_id,
                "provider": self.provider,
                "slots": [asdict(x) for x in self.slots],
            }
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> ScheduleChanged | None:
        data = payload.get("schedule_changed")
        if not isinstance(data, dict):
            return None
        return cls(
            str(data["change_id"]),
            str(data["provider"]),
            tuple(
                SlotEffect(
                    tuple(x["slot_ids"]), x["day"], x["start"], x["tz"], tuple(x["students"]),
                    tuple(x["student_ids"]),
                )
                for x in data["slots"]
            ),
        )  # fmt: skip


def _queue_manager_dms(
    s: Session, provider: m.Provider, effects: Effects, pending_id: str, now: datetime
) -> list[str]:
    """One pending change (what the buttons act on) and one outbox row per manager; the keys."""
    students = effects.student_ids
    services = sorted(
        {
            (a.student_id, a.service)
            for a in s.scalars(
                select(m.Assignment).where(
                    m.Assignment.provider_id == provider.id,
                    m.Assignment.student_id.in_(students),
                )
            )
        }
    )
    districts = set(
        s.scalars(
            select(m.School.district_id)
            .join(m.Student, m.Student.school_id == m.School.id)
            .where(m.Student.id.in_(students))
        )
    )
    change_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{CHANGE_KIND}:{pending_id}"))
    s.add(
        m.PendingAction(
            id=change_id,
            kind=CHANGE_KIND,
            actor_slack_id=provider.slack_user_id or provider.id,
            subject_id=provider.id,
            payload={
                "provider_id": provider.id,
                "services": [list(x) for x in services],
                "availability_change": pending_id,
            },
            status="pending",
            created_at=now,
        )
    )
    message = ScheduleChanged(change_id, provider.name, effects.outside)
    rows = [
        outbox.dm_now(
            key=f"{CHANGE_RULE}:{pending_id}:{mg.id}",
            rule=CHANGE_RULE,
            recipient_kind="manager",
            recipient_id=mg.id,
            subject_id=change_id,
            payload=message.to_payload(),
            now=now,
        )
        for mg in managers_of(s, districts)
    ]
    outbox.enqueue(s, rows)
    return [str(r["key"]) for r in rows]


def deliver_change_dms(deps: Deps, pending_id: str) -> int:
    """After the save committed: send its managers' DMs now. A failure leaves the row for the
    clock process, which sends it with the manager's next nudges."""
    return dm.deliver_now(
        deps, f"{CHANGE_RULE}:{pending_id}:", CHANGE_LEASE, ScheduleChanged.from_payload
    )
