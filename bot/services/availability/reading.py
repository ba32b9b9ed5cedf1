"""Services: a provider's weekly schedule as it stands (the view /availability and Home show).

The values the availability services return live here too, with the snapshot of a provider's
schedule and time off whose fingerprint tells a preview that is still current from a stale one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.schedule import (
    TimeOffSpan as TimeOffSpan,  # re-exported: the previews' and views' type
)
from bot.domain.schedule import WeeklyWindow, in_zone, local_date, merge, week_monday
from bot.services.availability.changes import (
    AnyWindowRow,
    TimeOffRow,
    WindowRow,
    as_window,
    rows_of,
    schedule_rows,
    valid_on,
)
from bot.services.people import identify, provider_for_edit
from bot.services.scope import audited, check_provider_availability
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


@dataclass
class Snapshot:
    windows: list[list[Any]] = field(default_factory=list)
    time_off: list[list[Any]] = field(default_factory=list)

    def fingerprint(self) -> str:
        raw = json.dumps([self.windows, self.time_off], sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:32]


def today_of(deps: Deps, tz: str) -> date:
    return local_date(deps.clock.now(), tz)


def windows_on(
    s: Session,
    provider_id: str,
    day: date,
    rows: Sequence[AnyWindowRow] | None = None,
) -> tuple[WeeklyWindow, ...]:
    """The provider's week on ``day``; ``rows``: their window rows, when already read."""
    rows = rows_of(s, provider_id) if rows is None else rows
    return merge(as_window(r) for r in rows if valid_on(r, day))


def take_snapshot(
    s: Session,
    provider_id: str,
    read: tuple[list[WindowRow], list[TimeOffRow]] | None = None,
) -> Snapshot:
    """The provider's windows and time off as they stand; ``read``: their rows
    (``schedule_rows``), when already read in this transaction."""
    snap = Snapshot()
    rows, offs = schedule_rows(s, provider_id) if read is None else read
    for r in rows:
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
    for t in offs:
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


def other_school_zones(
    s: Session, provider: m.Provider, every: tuple[str, ...] | None = None
) -> tuple[str, ...]:
    """The zones of the provider's schools other than the provider's own (``every``: all of
    them, when already read)."""
    zones = set(all_school_zones(s, provider) if every is None else every)
    zones.discard(provider.timezone)
    return tuple(sorted(zones))


# Built once: building a statement costs more than running it.
_ZONES = (
    select(m.School.timezone, m.District.timezone)
    .join(m.District, m.District.id == m.School.district_id)
    .join(m.Student, m.Student.school_id == m.School.id)
    .join(m.Assignment, m.Assignment.student_id == m.Student.id)
    .where(m.Assignment.provider_id == bindparam("provider_id"))
    .distinct()
)


def all_school_zones(s: Session, provider: m.Provider) -> tuple[str, ...]:
    rows = s.execute(_ZONES, {"provider_id": provider.id})
    zones = {school_tz or district_tz for school_tz, district_tz in rows}
    return tuple(sorted(zones))


def schedule_view(s: Session, deps: Deps, provider: m.Provider, on_behalf: bool) -> ScheduleView:
    today = today_of(deps, provider.timezone)
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
        other_school_zones(s, provider),
        monday,
        on_behalf,
    )


def _time_off_span(t: m.TimeOff) -> TimeOffSpan:
    hours = (
        () if t.start_minute is None or t.end_minute is None else ((t.start_minute, t.end_minute),)
    )
    return TimeOffSpan(t.start_date, t.end_date, hours, t.timezone, t.id)


@audited
def show(deps: Deps, slack_user_id: str, target_slack_id: str | None = None) -> ScheduleView:
    with deps.session_factory() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        provider = provider_for_edit(s, person, target_slack_id)
        check_provider_availability(s, slack_user_id, provider)
        return schedule_view(s, deps, provider, on_behalf=provider.slack_user_id != slack_user_id)


def view_for_provider(deps: Deps, provider_id: str) -> ScheduleView | None:
    with deps.session_factory() as s:
        provider = s.get(m.Provider, provider_id)
        return None if provider is None else schedule_view(s, deps, provider, on_behalf=False)
