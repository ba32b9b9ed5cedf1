"""Services: make-up sessions — times that fit, booking one, and the DMs that ask for them.

- ``makeup_options``: times in the next 2 weeks for a missed session's make-up, inside the
  school's hours on open days, inside the provider's availability (not on time off), clashing
  with none of the provider's or the student's sessions, and keeping the provider's week within
  their weekly hours.
- ``book_makeup``: creates the dated session (``makeup`` true, key ``makeup:<missed>:<n>``) once;
  a double click or a second tab finds it already booked.
- ``sweep_makeups`` / ``deliver_makeups``: a make-up owed queues one DM to the provider (sent in
  their working hours, with [Schedule make-up]); while it stays unbooked, a reminder each week,
  and after two weeks one message to the managers of the student's district. Rows live in the
  one outbox (``storage.outbox``) under their own recipient kinds.
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import privacy
from bot.domain.deadlines import WorkingHours, in_working_hours, send_after, usable_zone
from bot.domain.minutes import free_starts, intersect
from bot.domain.schedule import WeeklyWindow, to_instants, week_monday
from bot.domain.vocabulary import SessionStatus
from bot.services import dm
from bot.services.errors import Conflict, InvalidInput
from bot.services.minutes import OwedMakeup, owed_makeups, student_labels
from bot.services.people import identify, require_known
from bot.services.scope import Refused, audited
from storage import minutes as q
from storage import models as m
from storage import outbox
from storage.not_recorded import WITHDRAWN
from storage.queries import manager_district_scope, school_zones

log = logging.getLogger(__name__)

TS = m.TherapySession
N = m.Nudge
HORIZON_DAYS = 14
LEAD = timedelta(hours=1)  # a make-up starts at least this long from now
STEP = 30  # suggested starts fall on the hour and half hour
PER_DAY = 3
MAX_OPTIONS = 20
RULE = "makeup"
TO_PROVIDER, TO_MANAGER = "makeup_provider", "makeup_manager"
ESCALATE_AFTER_WEEKS = 2
NUDGE_FOR = timedelta(weeks=8)  # older debts stay in the reports, without DMs
LEASE = timedelta(minutes=5)
BUSY = (SessionStatus.SCHEDULED, SessionStatus.HELD)


# --- times that fit -------------------------------------------------------------------------


@dataclass(frozen=True)
class MakeupSlot:
    starts_at: datetime  # aware UTC
    school_tz: str
    provider_tz: str

    @property
    def value(self) -> str:
        return self.starts_at.strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True)
class MakeupOptions:
    missed_session_id: int
    student: str
    service: str
    minutes: int
    missed_at: datetime
    school_tz: str
    slots: tuple[MakeupSlot, ...]


@dataclass(frozen=True)
class _Missed:
    row: m.TherapySession
    owner: m.Provider
    school_id: str
    school_tz: str
    student: str


# A session that does not exist and someone else's get the same answer: ids can't be probed.
MAKEUP_NOT_YOURS = "Only the student's provider can schedule this make-up."
NOT_OWED = "No make-up is owed for that session any more."
WITHDRAWN_TEXT = f"{NOT_OWED} Its date's session is on file after all."


def _withdrawn_for(s: Session, missed_id: int, provider: m.Provider | None) -> bool:
    """The bot's ``not_recorded`` row, withdrawn since (its date's session turned up), and
    ``provider`` is who owed its make-up (then, or now the student's approved provider)."""
    if provider is None:
        return False
    before = s.scalar(
        select(m.AuditLog.before)
        .where(
            m.AuditLog.action == WITHDRAWN,
            m.AuditLog.subject_type == "session",
            m.AuditLog.subject_id == str(missed_id),
        )
        .limit(1)
    )
    if not isinstance(before, dict):
        return False
    now_owed_by = s.scalar(
        select(m.Assignment.provider_id).where(
            m.Assignment.student_id == before.get("student_id"),
            m.Assignment.service == before.get("service"),
        )
    )
    return provider.id in {before.get("provider_id"), now_owed_by}


def _missed(s: Session, deps: Deps, slack_user_id: str, missed_id: int) -> _Missed:
    """The missed session, checked: it is the asker's to make up, and still owed."""
    person = identify(s, slack_user_id, deps.settings.org_timezone)
    require_known(person)
    row = s.get(TS, missed_id)
    if row is None:
        if _withdrawn_for(s, missed_id, person.provider):
            raise Conflict(WITHDRAWN_TEXT)
        raise Refused(
            MAKEUP_NOT_YOURS, action="makeup.denied", subject_type="session",
            subject_id=str(missed_id), reason="not_found",
        )  # fmt: skip
    student = s.get(m.Student, row.student_id)
    assert student is not None  # a foreign key
    owed = {
        o.session_id: o
        for o in owed_makeups(
            s, q.Scope(student_ids=frozenset({row.student_id})), deps.clock.now(), deps.settings
        )
    }
    booked = [r for r in q.makeups_for(s, missed_id) if r.status in BUSY]
    owner_id = owed[missed_id].provider_id if missed_id in owed else row.provider_id
    if person.provider is None or person.provider.id != owner_id:
        raise Refused(
            MAKEUP_NOT_YOURS, action="makeup.denied", subject_type="session",
            subject_id=str(missed_id), reason="not_own",
        )  # fmt: skip
    if booked:
        when = booked[0].starts_at.astimezone(ZoneInfo(person.provider.timezone))
        raise Conflict(f"That make-up is already booked for {when:%a %b %-d %H:%M}.")
    if missed_id not in owed:
        raise Conflict(NOT_OWED)
    zone = school_zones(s).get(student.school_id, deps.settings.org_timezone)
    label = privacy.student_label(
        student.id, student.first_name, student.last_name, deps.settings.show_student_names
    )
    return _Missed(row, person.provider, student.school_id, zone, label)


def _day_instants(day: date, start: int, end: int, tz: str) -> tuple[datetime, datetime]:
    zone = ZoneInfo(tz)
    midnight = datetime.combine(day, time(0), zone)
    return (
        (midnight + timedelta(minutes=start)).astimezone(UTC),
        (midnight + timedelta(minutes=end)).astimezone(UTC),
    )


def _slots(s: Session, missed: _Missed, now: datetime) -> list[MakeupSlot]:
    base = now.replace(minute=0, second=0, microsecond=0)

    def mins(t: datetime) -> int:
        return int((t - base).total_seconds() // 60)

    provider, length = missed.owner, missed.row.minutes
    first = (now + LEAD).astimezone(ZoneInfo(missed.school_tz)).date()
    days = [first + timedelta(days=i) for i in range(HORIZON_DAYS + 1)]  # today + 2 weeks
    end = datetime.combine(days[-1] + timedelta(days=2), time(0), UTC)
    # School side: open days, school hours, early release.
    hours: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for h in s.scalars(select(m.SchoolHours).where(m.SchoolHours.school_id == missed.school_id)):
        hours[h.day].append((h.start_minute, h.end_minute))
    closed: set[date] = set()
    early: dict[date, int] = {}
    school = s.get(m.School, missed.school_id)
    cal = m.SchoolCalendarDay
    district_id = school.district_id if school else ""
    for c in s.scalars(
        select(cal).where(
            or_(cal.school_id == missed.school_id, cal.district_id == district_id),
            cal.start_date <= days[-1],
            cal.end_date >= days[0],
        )
    ):
        d = c.start_date
        while d <= c.end_date:
            if c.kind == "closed":
                closed.add(d)
            elif c.ends_at_minute is not None:
                early[d] = min(early.get(d, 1440), c.ends_at_minute)
            d += timedelta(days=1)
    school_windows: list[tuple[int, int]] = []
    for d in days:
        if d in closed:
            continue
        for a, b in hours.get(d.weekday(), []):
            b = min(b, early.get(d, 1440))
            if a < b:
                lo, hi = _day_instants(d, a, b, missed.school_tz)
                school_windows.append((mins(lo), mins(hi)))
    # Provider side: availability by effective date, minus time off (the provider's dates).
    off = [
        (t.start_date, t.end_date)
        for t in s.scalars(select(m.TimeOff).where(m.TimeOff.provider_id == provider.id))
    ]
    avail: list[tuple[int, int]] = []
    mondays = sorted({week_monday(d) for d in days} | {week_monday(days[-1] + timedelta(1))})
    for w in s.scalars(
        select(m.AvailabilityWindow).where(m.AvailabilityWindow.provider_id == provider.id)
    ):
        for monday in mondays:
            day = monday + timedelta(days=w.day)
            if (w.effective_from and day < w.effective_from) or (
                w.effective_to and day > w.effective_to
            ):
                continue
            if any(a <= day <= b for a, b in off):
                continue
            lo, hi = to_instants(
                WeeklyWindow(w.day, w.start_minute, w.end_minute, w.timezone), monday
            )
            avail.append((mins(lo), mins(hi)))
    # Busy: the provider's and the student's sessions (a group counts once).
    busy_rows = s.execute(
        select(TS.session_key, TS.starts_at, TS.minutes, TS.provider_id)
        .where(
            or_(TS.provider_id == provider.id, TS.student_id == missed.row.student_id),
            TS.status.in_(BUSY),
            TS.starts_at >= base - timedelta(days=8),
            TS.starts_at < end,
        )
        .distinct()
    ).all()
    busy = [(mins(at), mins(at) + n) for _, at, n, _ in busy_rows]
    # Weekly hours, per the provider's own week.
    pzone = ZoneInfo(provider.timezone)
    used: dict[date, int] = defaultdict(int)
    seen: set[str] = set()
    for key, at, n, pid in busy_rows:
        if pid == provider.id and key not in seen:
            seen.add(key)
            used[week_monday(at.astimezone(pzone).date())] += n
    cap = int(provider.weekly_hours * 60)
    earliest = mins(now + LEAD)
    out: list[MakeupSlot] = []
    for start in free_starts(intersect(school_windows, avail), busy, length, STEP):
        if start < earliest:
            continue
        at = base + timedelta(minutes=start)
        if used[week_monday(at.astimezone(pzone).date())] + length > cap:
            continue
        out.append(MakeupSlot(at, missed.school_tz, provider.timezone))
    return out


def _shortlist(slots: Sequence[MakeupSlot]) -> tuple[MakeupSlot, ...]:
    """At most PER_DAY a school day, MAX_OPTIONS in all, earliest first."""
    per: dict[date, int] = defaultdict(int)
    out: list[MakeupSlot] = []
    for slot in slots:
        day = slot.starts_at.astimezone(ZoneInfo(slot.school_tz)).date()
        if per[day] < PER_DAY:
            per[day] += 1
            out.append(slot)
        if len(out) == MAX_OPTIONS:
            break
    return tuple(out)


@audited
def makeup_options(deps: Deps, slack_user_id: str, missed_id: int) -> MakeupOptions:
    """Suggested times for the make-up of ``missed_id`` (the provider's own, still owed)."""
    now = deps.clock.now()
    with deps.session_factory() as s:
        missed = _missed(s, deps, slack_user_id, missed_id)
        slots = _shortlist(_slots(s, missed, now))
    return MakeupOptions(
        missed_id,
        missed.student,
        missed.row.service,
        missed.row.minutes,
        missed.row.starts_at,
        missed.school_tz,
        slots,
    )


@dataclass(frozen=True)
class Booked:
    session_id: int
    missed_session_id: int
    student: str
    service: str
    slot: MakeupSlot
    provider_slack_id: str | None


@audited
def book_makeup(deps: Deps, slack_user_id: str, missed_id: int, start: str) -> Booked:
    """Create the make-up session at ``start`` (a value from ``makeup_options``), once."""
    try:
        at = datetime.strptime(start, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInput("Please pick one of the suggested times.") from None
    now = deps.clock.now()
    with deps.session_factory.begin() as s:
        missed = _missed(s, deps, slack_user_id, missed_id)
        fits = {slot.starts_at: slot for slot in _slots(s, missed, now)}
        if at not in fits:
            raise Conflict("That time no longer fits. Please pick another one.")
        attempt = len(q.makeups_for(s, missed_id))
        row = missed.row
        created = outbox.insert_ignore(
            s,
            TS,
            [
                {
                    "session_key": q.makeup_key(missed_id, attempt),
                    "provider_id": missed.owner.id,
                    "student_id": row.student_id,
                    "service": row.service,
                    "starts_at": at,
                    "minutes": row.minutes,
                    "status": "scheduled",
                    "note_done_at": None,
                    "makeup": True,
                }
            ],
            ["session_key", "student_id"],
            returning=TS.id,
        )
        if not created:
            raise Conflict("That make-up was just booked (another click got there first).")
        s.add(
            m.AuditLog(
                at=now,
                actor=f"provider:{missed.owner.id}",
                action="session.makeup_booked",
                subject_type="session",
                subject_id=str(created[0]),
                before=None,
                after={"missed_session_id": missed_id, "starts_at": fits[at].value},
            )
        )
        return Booked(
            int(created[0]),
            missed_id,
            missed.student,
            row.service,
            fits[at],
            missed.owner.slack_user_id,
        )


# --- the DMs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class MakeupItem:
    missed_session_id: int
    student: str
    service: str
    missed_at: datetime  # in the recipient's zone
    minutes: int
    provider: str  # who owes it (for a manager's message)
    weeks: int  # weeks since the first DM


@dataclass(frozen=True)
class MakeupMessage:
    to_manager: bool
    recipient: str
    items: tuple[MakeupItem, ...]


def _row(o: OwedMakeup, stage: str, kind: str, recipient: str, now: datetime) -> dict[str, object]:
    return outbox.dm_now(
        key=f"{RULE}:{o.session_id}:{stage}:{kind}:{recipient}",
        rule=RULE,
        recipient_kind=kind,
        recipient_id=recipient,
        subject_id=str(o.session_id),
        payload={},
        now=now,
        stage=stage,
    )


def _managers_by_district(s: Session) -> dict[str | None, list[str]]:
    """Manager ids per district they serve; the key None lists those who serve every district."""
    out: dict[str | None, list[str]] = defaultdict(list)
    for manager_id, slack_id in s.execute(select(m.Manager.id, m.Manager.slack_user_id)).all():
        if not slack_id:
            continue  # nobody to message
        scope = manager_district_scope(s, slack_id)
        for district in [None] if scope is None else sorted(scope):
            out[district].append(manager_id)
    return out


def sweep_makeups(deps: Deps, now: datetime) -> int:
    """Queue the make-up DMs that are due: the first, weekly reminders, the escalation."""
    with deps.session_factory.begin() as s:
        owed = owed_makeups(s, q.Scope(), now, deps.settings, since=now - NUDGE_FOR)
        if not owed:
            return 0
        first: dict[int, datetime] = {}
        for subject, created in s.execute(
            select(N.subject_id, func.min(N.created_at))
            .where(N.rule == RULE, N.recipient_kind == TO_PROVIDER)
            .group_by(N.subject_id)
        ):
            if subject.isdigit():
                first[int(subject)] = created
        district_of = q.districts_of_students(s, {o.student_id for o in owed})
        managers = _managers_by_district(s)
        rows: list[dict[str, object]] = []
        for o in owed:
            started = first.get(o.session_id)
            if started is None:
                rows.append(_row(o, "w0", TO_PROVIDER, o.provider_id, now))
                continue
            weeks = (now - started) // timedelta(weeks=1)
            if weeks >= 1:
                rows.append(_row(o, f"w{weeks}", TO_PROVIDER, o.provider_id, now))
            if weeks >= ESCALATE_AFTER_WEEKS:
                district = district_of.get(o.student_id)
                for manager in sorted({*managers.get(None, []), *managers.get(district, [])}):
                    rows.append(_row(o, "escalated", TO_MANAGER, manager, now))
        queued = outbox.enqueue(s, rows)
    log.info("makeups.swept", extra={"owed": len(owed), "queued": queued})
    return queued


def _worker() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def deliver_makeups(deps: Deps, *, worker: str | None = None) -> int:
    """Send the due make-up DMs, one per recipient, through the Notifier; returns how many
    messages went out. A failed send gives its rows back for the next run."""
    settings = deps.settings
    hours = WorkingHours.of(
        settings.working_days, settings.working_hours_start, settings.working_hours_end
    )
    now = deps.clock.now()
    worker = worker or _worker()
    due = and_(
        N.rule == RULE,
        N.recipient_kind.in_((TO_PROVIDER, TO_MANAGER)),
        N.send_after <= now,
        N.skipped_at.is_(None),
    )
    with deps.session_factory.begin() as s:
        claimed = outbox.claim(s, due, worker, now, LEASE)
    by_recipient: dict[tuple[str, str], list[int]] = defaultdict(list)
    for nudge_id, kind, rid in claimed:
        by_recipient[(kind, rid)].append(nudge_id)
    sent = 0
    pending = sorted(by_recipient.items())
    for index, ((kind, rid), ids) in enumerate(pending):
        with deps.session_factory.begin() as s:
            prepared = _prepare(s, deps, kind, rid, ids, now, hours, worker)
        if prepared is None:
            continue
        slack_user, message, keep = prepared
        keep, found = dm.settle_earlier(deps, worker, keep, slack_user, now)
        if not keep:
            sent += bool(found)
            continue  # Slack took it on an earlier, interrupted run
        batch = dm.new_batch_id()
        dm.stamp(deps, keep, worker, batch)
        result = dm.send(deps, worker, keep, slack_user, message, batch, now)
        if result.outcome == dm.Outcome.SENT:
            sent += 1
        elif result.outcome == dm.Outcome.FAILED:
            # Slack is down or limiting us: give the rest back for the next run.
            rest = [i for _, more in pending[index + 1 :] for i in more]
            with deps.session_factory.begin() as s:
                outbox.release(s, rest, worker, result.error)
            log.warning("makeups.delivery_failed", extra={"recipient": rid})
            break
    log.info("makeups.delivered", extra={"messages": sent})
    return sent


def _prepare(
    s: Session,
    deps: Deps,
    kind: str,
    rid: str,
    ids: list[int],
    now: datetime,
    hours: WorkingHours,
    worker: str,
) -> tuple[str, MakeupMessage, list[int]] | None:
    """Check the claimed rows against today's data; hold them outside working hours."""
    rows = list(s.scalars(select(N).where(N.id.in_(ids), N.claimed_by == worker)))
    person: m.Provider | m.Manager | None = (
        s.get(m.Provider, rid) if kind == TO_PROVIDER else s.get(m.Manager, rid)
    )
    if person is None or not person.slack_user_id:
        outbox.mark_skipped(s, [r.id for r in rows], now, "no_slack_user")
        return None
    zone = usable_zone(person.timezone, deps.settings.org_timezone)
    if not in_working_hours(now, zone, hours):
        later = send_after(now, zone, hours)
        for r in rows:
            r.send_after, r.claimed_by, r.claimed_until = later, None, None
        return None
    missed = [int(r.subject_id) for r in rows if r.subject_id.isdigit()]
    students = set(s.scalars(select(TS.student_id).where(TS.id.in_(missed)))) if missed else set()
    still = {
        o.session_id: o
        for o in owed_makeups(s, q.Scope(student_ids=frozenset(students)), now, deps.settings)
    }
    names = dict(s.execute(select(m.Provider.id, m.Provider.name)).all())
    labels = student_labels(s, students, deps.settings.show_student_names)
    items: dict[int, MakeupItem] = {}
    keep: list[int] = []
    stale: list[int] = []
    tz = ZoneInfo(zone)
    for r in rows:
        sid = int(r.subject_id) if r.subject_id.isdigit() else -1
        owed = still.get(sid)
        if owed is None or (kind == TO_PROVIDER and owed.provider_id != rid):
            stale.append(r.id)  # booked, marked held, or handed to another provider since
            continue
        keep.append(r.id)
        weeks = int(r.stage[1:]) if r.stage[1:].isdigit() else ESCALATE_AFTER_WEEKS
        items[sid] = MakeupItem(
            sid,
            labels.get(owed.student_id, owed.student_id),
            owed.service,
            owed.starts_at.astimezone(tz),
            owed.minutes,
            names.get(owed.provider_id, owed.provider_id),
            max(weeks, items[sid].weeks if sid in items else 0),
        )
    if stale:
        outbox.mark_skipped(s, stale, now, "no_longer_owed")
    if not keep:
        return None
    ordered = tuple(sorted(items.values(), key=lambda i: (i.missed_at, i.missed_session_id)))
    return person.slack_user_id, MakeupMessage(kind == TO_MANAGER, person.name, ordered), keep
