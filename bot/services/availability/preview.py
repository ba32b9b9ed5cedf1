"""Services: availability previews: understand the message and store what Save would do.

A preview is stored as a pending action with the fingerprint of the schedule it was made
against; nothing changes until Save (see `bot.services.availability.saving`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.availability_text import (
    DateSpan,
    Intent,
    ParseResult,
    parse_availability,
    zone_label,
)
from bot.domain.conflicts import ProviderFacts, TimeOff
from bot.domain.schedule import WeeklyWindow, in_zone, week_monday
from bot.services import schedule_effects
from bot.services.availability.changes import changed_week, conflict_window, schedule_rows
from bot.services.availability.reading import (
    KIND,
    Question,
    ScheduleView,
    TimeOffSpan,
    other_school_zones,
    schedule_view,
    take_snapshot,
    today_of,
    windows_on,
)
from bot.services.errors import NotAllowed, NotFound
from bot.services.people import Person, identify, provider_for_edit, require_known
from bot.services.schedule_effects import Effects
from bot.services.scope import audited, check_provider_availability, visible_effects
from storage import models as m
from storage.db import each_statement_commits


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


@audited
def preview(
    deps: Deps, slack_user_id: str, text: str, target_slack_id: str | None = None
) -> Preview | Question | ScheduleView:
    """Understand ``text`` and store a preview; nothing is saved until Save.

    Reads, then one INSERT as the last statement: each statement commits on its own
    (``each_statement_commits``), which spares a BEGIN and a COMMIT round trip on every preview.
    The snapshot the preview is checked against on Save comes from one statement
    (``schedule_rows``)."""
    with deps.session_factory(bind=each_statement_commits(deps.engine)) as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        require_known(person)
        provider = provider_for_edit(s, person, target_slack_id)
        check_provider_availability(s, slack_user_id, provider)
        today = today_of(deps, provider.timezone)
        result = parse_availability(text, today=today)
        if result.error is not None or result.intent is None:
            return Question(text=text, question=result.error or "I didn't understand that.")
        on_behalf = provider.slack_user_id != slack_user_id
        if result.intent == Intent.SHOW:
            return schedule_view(s, deps, provider, on_behalf)
        plan = schedule_effects.placed(s, provider.id)  # slots and schools' zones, read once
        if result.school_time:
            if len(plan.zones) != 1:
                return Question(text=text, question=_school_time_question(plan.zones, on_behalf))
            result = replace(result, tz=plan.zones[0], school_time=False)
        return _store_preview(s, deps, person, provider, result, today, on_behalf, plan)


@audited
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
        check_provider_availability(s, slack_user_id, provider)
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
        today = today_of(deps, provider.timezone)
        on_behalf = provider.slack_user_id != slack_user_id
        return _store_preview(s, deps, person, provider, result, today, on_behalf)


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
    plan: schedule_effects.Placed | None = None,
) -> Preview:
    """``plan``: the provider's weekly slots and schools' zones, when already read."""
    if plan is None:
        plan = schedule_effects.placed(s, provider.id)
    # read once: the snapshot, the week before and the conflict rule all use them
    rows, offs = schedule_rows(s, provider.id)
    snap = take_snapshot(s, provider.id, (rows, offs))
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
        before = after = windows_on(s, provider.id, today, rows)
        monday = week_monday(time_off.start)
    else:
        if result.dates is not None:
            effective, until = result.dates.start, result.dates.end
            if effective is None:  # "until Dec 18 …": from today
                effective = today
        basis_day = effective or today
        monday = week_monday(basis_day + timedelta(days=2))
        windows = tuple(WeeklyWindow(w.day_index, w.start, w.end, tz) for w in _windows(result))
        before = windows_on(s, provider.id, basis_day, rows)
        named = tuple(sorted({w.day for w in windows}))
        days_only = result.days_only
        after = changed_week(before, str(result.intent), windows, monday, days_only)
        if result.intent == Intent.REPLACE and not days_only:
            dropped = tuple(sorted({w.day for w in before} - set(named)))
        payload["windows"] = [[w.day, w.start, w.end, w.tz] for w in windows]
        payload["effective_from"] = effective.isoformat() if effective else None
        payload["effective_to"] = until.isoformat() if until else None
        payload["days_only"] = days_only
    pending_id = str(uuid.uuid4())
    # A plain INSERT: nothing reads the row back in this transaction, so the ORM's unit of work
    # (identity map, flush) would only cost CPU.
    s.connection().execute(
        insert(m.PendingAction),
        {
            "id": pending_id,
            "kind": KIND,
            "actor_slack_id": person.slack_user_id,
            "subject_id": provider.id,
            "payload": payload,
            "fingerprint": snap.fingerprint(),
            "status": "pending",
            "created_at": deps.clock.now(),
        },
    )
    shown_before = in_zone(before, provider.timezone, monday)
    shown_after = in_zone(after, provider.timezone, monday)
    effects = schedule_effects.preview_effects(
        s,
        ProviderFacts(provider.id, provider.timezone, tuple(conflict_window(r) for r in rows)),
        plan,
        today,
        deps.settings.show_student_names,
        after=after if time_off is None else None,
        from_day=effective,
        time_off=_as_time_off(time_off) if time_off and not is_cancel else (),
        cancelling=(time_off.start, time_off.end) if time_off and is_cancel else None,
    )
    effects = visible_effects(s, person.slack_user_id, provider, effects)
    return Preview(
        pending_id=pending_id,
        provider_name=provider.name,
        tz=provider.timezone,
        intent=str(result.intent),
        before=shown_before,
        after=shown_after,
        time_off=time_off,
        effective_from=effective,
        assumptions=tuple(result.assumptions),
        school_zones=other_school_zones(s, provider, plan.zones),
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
