"""Services: availability previews, saves, undo, and the weekly schedule view.

A preview is stored as a pending action; Save, Cancel and Undo are conditional status updates
(``pending -> applied -> undone``), so a double click, a Slack retry or a second process acts
once. Each change records who made it, the schedule before and after, in the audit log.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.availability_text import (
    DateSpan,
    Intent,
    ParseResult,
    parse_availability,
    zone_label,
)
from bot.domain.conflicts import TimeOff
from bot.domain.schedule import (
    TimeOffSpan as TimeOffSpan,  # re-exported: the previews' and views' type
)
from bot.domain.schedule import (
    WeeklyWindow,
    in_zone,
    local_date,
    merge,
    week_monday,
)
from bot.services import hours_notice, schedule_effects
from bot.services.availability_changes import (
    apply_saved_change,
    as_window,
    changed_week,
    restore_time_off,
    rows_of,
    valid_on,
)
from bot.services.errors import Conflict, NotAllowed, NotFound
from bot.services.people import Person, identify, provider_for_edit, require_known
from bot.services.schedule_effects import Effects
from storage import models as m

KIND = "availability"
EXAMPLES = (
    "`Tue 8-11 PT` (your whole week)",
    "`add Fri 1-4` or `no longer Thursdays after 2`",
    "`out Dec 23 - Jan 2`",
)


@dataclass(frozen=True)
class Question:
    """The message cannot be saved as it stands: ask, with examples."""

    text: str
    question: str


@dataclass(frozen=True)
class ScheduleView:
    provider_id: str
    provider_name: str
    tz: str
    windows: tuple[WeeklyWindow, ...]  # current, in the provider's zone
    upcoming: tuple[tuple[date, tuple[WeeklyWindow, ...]], ...]  # dated changes ahead
    time_off: tuple[TimeOffSpan, ...]
    school_zones: tuple[str, ...]
    monday: date
    on_behalf: bool = False


@dataclass(frozen=True)
class Preview:
    pending_id: str
    provider_name: str
    tz: str
    intent: str
    before: tuple[WeeklyWindow, ...]
    after: tuple[WeeklyWindow, ...]
    time_off: TimeOffSpan | None
    effective_from: date | None
    assumptions: tuple[str, ...]
    school_zones: tuple[str, ...]
    monday: date
    on_behalf: bool
    unchanged: bool = False
    effective_to: date | None = None  # a temporary schedule: the previous one returns after
    cancel_time_off: bool = False
    # A replace that would drop days the message did not name: offer "only the days named".
    dropped_days: tuple[int, ...] = ()
    named_days: tuple[int, ...] = ()
    effects: Effects = Effects()  # what saving would do to the planned sessions


@dataclass(frozen=True)
class Saved:
    pending_id: str
    already: bool
    view: ScheduleView
    summary: str
    effects: Effects = Effects()  # what the save did to the planned sessions


@dataclass(frozen=True)
class Undone:
    already: bool
    view: ScheduleView


@dataclass
class _Snapshot:
    windows: list[list[Any]] = field(default_factory=list)
    time_off: list[list[Any]] = field(default_factory=list)

    def fingerprint(self) -> str:
        raw = json.dumps([self.windows, self.time_off], sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


# --- reading -------------------------------------------------------------------------------


def _today(deps: Deps, tz: str) -> date:
    return local_date(deps.clock.now(), tz)


def windows_on(s: Session, provider_id: str, day: date) -> tuple[WeeklyWindow, ...]:
    return merge(as_window(r) for r in rows_of(s, provider_id) if valid_on(r, day))


def _snapshot(s: Session, provider_id: str) -> _Snapshot:
    snap = _Snapshot()
    for r in rows_of(s, provider_id):
        snap.windows.append(
            [
                r.day,
                r.start_minute,
                r.end_minute,
                r.timezone,
                r.effective_from.isoformat() if r.effective_from else None,
                r.effective_to.isoformat() if r.effective_to else None,
            ]
        )
    snap.windows.sort(key=lambda w: json.dumps(w))
    q = select(m.TimeOff).where(m.TimeOff.provider_id == provider_id)
    for t in s.scalars(q):
        snap.time_off.append(
            [
                str(t.id),
                t.start_date.isoformat(),
                t.end_date.isoformat(),
                t.start_minute,
                t.end_minute,
                t.timezone,
            ]
        )
    snap.time_off.sort(key=lambda t: (int(t[0]), t[1]))
    return snap


def _school_zones(s: Session, provider: m.Provider) -> tuple[str, ...]:
    """The zones of the provider's schools other than the provider's own."""
    zones = set(_all_school_zones(s, provider))
    zones.discard(provider.timezone)
    return tuple(sorted(zones))


def _all_school_zones(s: Session, provider: m.Provider) -> tuple[str, ...]:
    q = (
        select(m.School.timezone, m.District.timezone)
        .join(m.District, m.District.id == m.School.district_id)
        .join(m.Student, m.Student.school_id == m.School.id)
        .join(m.Assignment, m.Assignment.student_id == m.Student.id)
        .where(m.Assignment.provider_id == provider.id)
        .distinct()
    )
    zones = {school_tz or district_tz for school_tz, district_tz in s.execute(q)}
    return tuple(sorted(zones))


def _view(s: Session, deps: Deps, provider: m.Provider, on_behalf: bool) -> ScheduleView:
    today = _today(deps, provider.timezone)
    rows = rows_of(s, provider.id)
    monday = week_monday(today + timedelta(days=2))  # the coming school week from Saturday on
    current = in_zone((as_window(r) for r in rows if valid_on(r, today)), provider.timezone, monday)
    starts = sorted(
        {r.effective_from for r in rows if r.effective_from and r.effective_from > today}
    )
    upcoming = tuple(
        (
            d,
            in_zone(
                (as_window(r) for r in rows if valid_on(r, d)), provider.timezone, week_monday(d)
            ),
        )
        for d in starts
    )
    q = (
        select(m.TimeOff)
        .where(m.TimeOff.provider_id == provider.id, m.TimeOff.end_date >= today)
        .order_by(m.TimeOff.start_date)
    )
    offs = tuple(_time_off_span(t) for t in s.scalars(q))
    return ScheduleView(
        provider.id,
        provider.name,
        provider.timezone,
        current,
        upcoming,
        offs,
        _school_zones(s, provider),
        monday,
        on_behalf,
    )


def _time_off_span(t: m.TimeOff) -> TimeOffSpan:
    hours = (
        () if t.start_minute is None or t.end_minute is None else ((t.start_minute, t.end_minute),)
    )
    return TimeOffSpan(t.start_date, t.end_date, hours, t.timezone, t.id)


def show(deps: Deps, slack_user_id: str, target_slack_id: str | None = None) -> ScheduleView:
    with deps.session_factory() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        provider = provider_for_edit(s, person, target_slack_id)
        return _view(s, deps, provider, on_behalf=provider.slack_user_id != slack_user_id)


def view_for_provider(deps: Deps, provider_id: str) -> ScheduleView | None:
    with deps.session_factory() as s:
        provider = s.get(m.Provider, provider_id)
        return None if provider is None else _view(s, deps, provider, on_behalf=False)


# --- preview -------------------------------------------------------------------------------


def preview(
    deps: Deps, slack_user_id: str, text: str, target_slack_id: str | None = None
) -> Preview | Question | ScheduleView:
    """Understand ``text`` and store a preview; nothing is saved until Save."""
    with deps.session_factory.begin() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        require_known(person)
        provider = provider_for_edit(s, person, target_slack_id)
        today = _today(deps, provider.timezone)
        result = parse_availability(text, today=today)
        if result.error is not None or result.intent is None:
            return Question(text=text, question=result.error or "I didn't understand that.")
        on_behalf = provider.slack_user_id != slack_user_id
        if result.intent == Intent.SHOW:
            return _view(s, deps, provider, on_behalf)
        if result.school_time:
            zones = _all_school_zones(s, provider)
            if len(zones) != 1:
                return Question(text=text, question=_school_time_question(zones, on_behalf))
            result = replace(result, tz=zones[0], school_time=False)
        return _store_preview(s, deps, person, provider, result, today, on_behalf)


def preview_cancel_time_off(deps: Deps, slack_user_id: str, time_off_id: int) -> Preview:
    """The Cancel button of a stretch in the time-off list: a preview that cancels it."""
    with deps.session_factory.begin() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        require_known(person)
        row = s.get(m.TimeOff, time_off_id)
        if row is None:
            raise NotFound("That time off is no longer there: it was cancelled already.")
        owner = s.get(m.Provider, row.provider_id)
        assert owner is not None
        provider = provider_for_edit(s, person, owner.slack_user_id)
        if provider.id != owner.id:
            raise NotAllowed("You can only cancel your own time off.")
        text = f"cancel time off {row.start_date:%b %-d} - {row.end_date:%b %-d}"
        result = ParseResult(
            text,
            Intent.CANCEL_TIME_OFF,
            None,
            (),
            DateSpan(row.start_date, row.end_date),
            None,
        )
        today = _today(deps, provider.timezone)
        on_behalf = provider.slack_user_id != slack_user_id
        return _store_preview(s, deps, person, provider, result, today, on_behalf)


def undo_last(deps: Deps, slack_user_id: str) -> Undone | None:
    """ "undo" in a DM: the person's most recent saved availability change, if any."""
    with deps.session_factory() as s:
        q = (
            select(m.PendingAction.id)
            .where(
                m.PendingAction.kind == KIND,
                m.PendingAction.actor_slack_id == slack_user_id,
                m.PendingAction.status == "applied",
            )
            .order_by(m.PendingAction.decided_at.desc())
            .limit(1)
        )
        pending_id = s.scalar(q)
    return None if pending_id is None else undo(deps, slack_user_id, pending_id)


def _school_time_question(zones: tuple[str, ...], on_behalf: bool) -> str:
    whose = "their" if on_behalf else "your"
    if not zones:
        return f"I don't know {whose} schools' time zone yet. Which zone, e.g. “Tue 8-11 AKT”?"
    labels = " and ".join(zone_label(z) for z in zones)
    return f"{whose.capitalize()} schools are in {labels} time. Which one, e.g. “Tue 8-11 AKT”?"


def _as_time_off(span: TimeOffSpan) -> tuple[TimeOff, ...]:
    """The preview's time off as the conflict rule reads it."""
    if not span.hours:
        return (TimeOff(span.start, span.end),)
    return tuple(TimeOff(span.start, span.end, a, b, span.tz) for a, b in span.hours)


def _store_preview(
    s: Session,
    deps: Deps,
    person: Person,
    provider: m.Provider,
    result: ParseResult,
    today: date,
    on_behalf: bool,
) -> Preview:
    snap = _snapshot(s, provider.id)
    tz = result.tz or provider.timezone
    payload: dict[str, Any] = {"provider_id": provider.id, "intent": str(result.intent)}
    time_off: TimeOffSpan | None = None
    effective: date | None = None
    until: date | None = None
    dropped: tuple[int, ...] = ()
    named: tuple[int, ...] = ()
    is_off = result.intent in (Intent.TIME_OFF, Intent.CANCEL_TIME_OFF)
    is_cancel = result.intent == Intent.CANCEL_TIME_OFF
    if is_off:
        assert result.dates is not None and result.dates.start is not None
        end = result.dates.end or result.dates.start
        hours = tuple(sorted({(w.start, w.end) for w in result.windows}))
        time_off = TimeOffSpan(result.dates.start, end, hours, tz if hours else None)
        payload["time_off"] = [time_off.start.isoformat(), time_off.end.isoformat()]
        payload["hours"] = [list(h) for h in hours]
        payload["tz"] = time_off.tz
        before = after = windows_on(s, provider.id, today)
        monday = week_monday(time_off.start)
    else:
        if result.dates is not None:
            effective, until = result.dates.start, result.dates.end
            if effective is None:  # "until Dec 18 …": from today
                effective = today
        basis_day = effective or today
        monday = week_monday(basis_day + timedelta(days=2))
        windows = tuple(WeeklyWindow(w.day_index, w.start, w.end, tz) for w in _windows(result))
        before = windows_on(s, provider.id, basis_day)
        named = tuple(sorted({w.day for w in windows}))
        days_only = result.days_only
        after = changed_week(before, str(result.intent), windows, monday, days_only)
        if result.intent == Intent.REPLACE and not days_only:
            dropped = tuple(sorted({w.day for w in before} - set(named)))
        payload["windows"] = [[w.day, w.start, w.end, w.tz] for w in windows]
        payload["effective_from"] = effective.isoformat() if effective else None
        payload["effective_to"] = until.isoformat() if until else None
        payload["days_only"] = days_only
    pending = m.PendingAction(
        id=str(uuid.uuid4()),
        kind=KIND,
        actor_slack_id=person.slack_user_id,
        subject_id=provider.id,
        payload=payload,
        fingerprint=snap.fingerprint(),
        status="pending",
        created_at=deps.clock.now(),
    )
    s.add(pending)
    shown_before = in_zone(before, provider.timezone, monday)
    shown_after = in_zone(after, provider.timezone, monday)
    effects = schedule_effects.preview_effects(
        s,
        provider.id,
        today,
        deps.settings.show_student_names,
        after=after if time_off is None else None,
        from_day=effective,
        time_off=_as_time_off(time_off) if time_off and not is_cancel else (),
        cancelling=(time_off.start, time_off.end) if time_off and is_cancel else None,
    )
    return Preview(
        pending_id=pending.id,
        provider_name=provider.name,
        tz=provider.timezone,
        intent=str(result.intent),
        before=shown_before,
        after=shown_after,
        time_off=time_off,
        effective_from=effective,
        assumptions=tuple(result.assumptions),
        school_zones=_school_zones(s, provider),
        monday=monday,
        on_behalf=on_behalf,
        unchanged=time_off is None and shown_before == shown_after,
        effective_to=until,
        cancel_time_off=result.intent == Intent.CANCEL_TIME_OFF,
        dropped_days=dropped,
        named_days=named,
        effects=effects,
    )


@dataclass(frozen=True)
class _ParsedWindow:
    day_index: int
    start: int
    end: int


def _windows(result: ParseResult) -> list[_ParsedWindow]:
    return [_ParsedWindow(w.day.weekday, w.start, w.end) for w in result.windows]


# --- save / cancel / undo ------------------------------------------------------------------


def _claim(s: Session, pending_id: str, slack_user_id: str, frm: str, to: str, now: Any) -> bool:
    """Move the action from ``frm`` to ``to`` once; False if someone already did."""
    res = s.execute(
        update(m.PendingAction)
        .where(
            m.PendingAction.id == pending_id,
            m.PendingAction.kind == KIND,
            m.PendingAction.status == frm,
        )
        .values(status=to, decided_at=now, decided_by=slack_user_id)
    )
    return res.rowcount == 1  # type: ignore[attr-defined,no-any-return]


def _load_pending(s: Session, pending_id: str, slack_user_id: str) -> m.PendingAction:
    action = s.get(m.PendingAction, pending_id)
    if action is None or action.kind != KIND:
        raise NotFound("That preview has expired. Please send your availability again.")
    if action.actor_slack_id != slack_user_id:
        raise NotAllowed("Only the person who asked for this change can save or undo it.")
    return action


def _lock_provider_of(s: Session, pending_id: str) -> None:
    """Locks the row of the provider a preview is about, as the transaction's first statement.

    Saves and undos of one provider then run one after another, so the fingerprint check that
    follows sees every change committed before it: of two previews saved at the same instant, the
    second is refused as changed-since-preview, and repeated clicks find the first one's result.
    PostgreSQL takes a row lock; SQLite has none, so a no-op UPDATE takes its write lock (it must
    come first: a SQLite transaction that has read cannot wait for the lock, only fail).
    """
    subject = (
        select(m.PendingAction.subject_id)
        .where(m.PendingAction.id == pending_id, m.PendingAction.kind == KIND)
        .scalar_subquery()
    )
    if s.get_bind().dialect.name == "sqlite":
        s.execute(update(m.Provider).where(m.Provider.id == subject).values(name=m.Provider.name))
    else:
        s.execute(select(m.Provider.id).where(m.Provider.id == subject).with_for_update())


def save(
    deps: Deps, slack_user_id: str, pending_id: str, *, only_named_days: bool = False
) -> Saved:
    """Saves a preview once. ``only_named_days``: the [Change Tue only] choice of a replace
    that would drop other days."""
    saved = _save(deps, slack_user_id, pending_id, only_named_days)
    if saved.already:
        return saved
    if saved.effects.outside:  # committed: the managers hear of it now (or from the clock)
        schedule_effects.deliver_change_dms(deps, pending_id)
    if saved.view.on_behalf:  # and the provider, of what their manager changed
        hours_notice.deliver(deps, pending_id)
    return saved


def _save(deps: Deps, slack_user_id: str, pending_id: str, only_named_days: bool) -> Saved:
    now = deps.clock.now()
    with deps.session_factory.begin() as s:
        _lock_provider_of(s, pending_id)
        action = _load_pending(s, pending_id, slack_user_id)
        provider = s.get(m.Provider, action.subject_id)
        if provider is None:
            raise NotFound("That provider is no longer in the roster.")
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        if action.status != "pending":
            if action.status in ("applied", "undone"):
                s.refresh(action)
                view = _view(s, deps, provider, action.subject_id != _provider_id(person))
                return Saved(pending_id, True, view, "Already saved.")
            raise Conflict(
                "That preview was cancelled. Send your availability again to start over."
            )
        snap = _snapshot(s, provider.id)
        if snap.fingerprint() != action.fingerprint:
            raise Conflict(
                "Your availability changed since this preview was made, so I didn't save it. "
                "Please send the change again and I'll show a fresh preview."
            )
        if not _claim(s, pending_id, slack_user_id, "pending", "applied", now):
            view = _view(s, deps, provider, False)
            return Saved(pending_id, True, view, "Already saved.")
        if only_named_days:
            action.payload = {**action.payload, "days_only": True}
        on_behalf = action.subject_id != _provider_id(person)
        before_view = _view(s, deps, provider, on_behalf)
        today = _today(deps, provider.timezone)
        summary = apply_saved_change(s, provider, action.payload, today, now)
        effects = schedule_effects.on_save(
            s, deps, provider, pending_id, snap.windows, str(action.payload["intent"])
        )
        after = _snapshot(s, provider.id)
        action.payload = {
            **action.payload,
            "before": snap.windows,
            "before_time_off": snap.time_off,
            "after_fingerprint": after.fingerprint(),
        }
        s.add(
            m.AuditLog(
                at=now,
                actor=person.actor,
                action=f"availability.{action.payload['intent']}",
                subject_type="provider",
                subject_id=provider.id,
                before={"windows": snap.windows, "time_off": snap.time_off},
                after={"windows": after.windows, "time_off": after.time_off},
            )
        )
        view = _view(s, deps, provider, on_behalf)
        if on_behalf:  # the provider hears what their manager changed, before → after
            hours_notice.queue(
                s, provider, _hours_changed(pending_id, person, before_view, view), now
            )
        return Saved(pending_id, False, view, summary, effects)


def _hours_changed(
    pending_id: str, manager: Person, before: ScheduleView, after: ScheduleView
) -> hours_notice.HoursChanged:
    def weeks(v: ScheduleView) -> tuple[hours_notice.Week, ...]:
        return ((None, v.windows), *v.upcoming)

    return hours_notice.HoursChanged(
        pending_id,
        manager.name,
        after.tz,
        weeks(before),
        weeks(after),
        before.time_off,
        after.time_off,
    )


def _provider_id(person: Person) -> str | None:
    return person.provider.id if person.provider else None


def cancel(deps: Deps, slack_user_id: str, pending_id: str) -> bool:
    with deps.session_factory.begin() as s:
        _load_pending(s, pending_id, slack_user_id)
        return _claim(s, pending_id, slack_user_id, "pending", "cancelled", deps.clock.now())


def undo(deps: Deps, slack_user_id: str, pending_id: str) -> Undone:
    undone = _undo(deps, slack_user_id, pending_id)
    if not undone.already and undone.view.on_behalf:  # the provider hears of it, as of the save
        hours_notice.deliver(deps, f"{pending_id}.undo")
    return undone


def _undo(deps: Deps, slack_user_id: str, pending_id: str) -> Undone:
    now = deps.clock.now()
    with deps.session_factory.begin() as s:
        _lock_provider_of(s, pending_id)
        action = _load_pending(s, pending_id, slack_user_id)
        provider = s.get(m.Provider, action.subject_id)
        if provider is None:
            raise NotFound("That provider is no longer in the roster.")
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        on_behalf = action.subject_id != _provider_id(person)
        if action.status == "undone":
            return Undone(True, _view(s, deps, provider, on_behalf))
        if action.status != "applied":
            raise Conflict("There is nothing to undo: that change was never saved.")
        current = _snapshot(s, provider.id)
        if current.fingerprint() != action.payload.get("after_fingerprint"):
            raise Conflict(
                "Your availability has changed again since then, so I can't undo this one. "
                "Send the schedule you want and I'll replace it."
            )
        if not _claim(s, pending_id, slack_user_id, "applied", "undone", now):
            return Undone(True, _view(s, deps, provider, on_behalf))
        before_view = _view(s, deps, provider, on_behalf)
        s.execute(
            delete(m.AvailabilityWindow).where(m.AvailabilityWindow.provider_id == provider.id)
        )
        for day, start, end, tz, frm, to in action.payload["before"]:
            s.add(
                m.AvailabilityWindow(
                    provider_id=provider.id,
                    day=day,
                    start_minute=start,
                    end_minute=end,
                    timezone=tz,
                    effective_from=date.fromisoformat(frm) if frm else None,
                    effective_to=date.fromisoformat(to) if to else None,
                )
            )
        restore_time_off(s, provider.id, action.payload.get("before_time_off", []), now)
        schedule_effects.on_undo(s, deps, provider)
        after = _snapshot(s, provider.id)
        s.add(
            m.AuditLog(
                at=now,
                actor=person.actor,
                action="availability.undo",
                subject_type="provider",
                subject_id=provider.id,
                before={"windows": current.windows, "time_off": current.time_off},
                after={"windows": after.windows, "time_off": after.time_off},
            )
        )
        view = _view(s, deps, provider, on_behalf)
        if on_behalf:
            changed = _hours_changed(f"{pending_id}.undo", person, before_view, view)
            hours_notice.queue(s, provider, changed, now)
        return Undone(False, view)
