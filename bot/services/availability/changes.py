"""Services: applying a saved availability change to the schedule and time-off tables.

`apply_saved_change` is the one place a saved preview reaches the tables (weekly hours with
their effective dates, time off added or cancelled); `restore_time_off` puts time off back on
Undo. Both run inside the caller's transaction and never commit.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import CompoundSelect, bindparam, delete, literal_column, null, select, union_all
from sqlalchemy.orm import Session

from bot.domain.conflicts import Window
from bot.domain.schedule import Change, WeeklyWindow, apply_change, merge, week_monday
from storage import models as m
from storage.db import plain_rows

_ROWS = (
    select(m.AvailabilityWindow)
    .where(m.AvailabilityWindow.provider_id == bindparam("provider_id"))
    .order_by(m.AvailabilityWindow.id)
)  # built once: every preview reads them


def rows_of(s: Session, provider_id: str) -> list[m.AvailabilityWindow]:
    return list(s.scalars(_ROWS, {"provider_id": provider_id}))


class WindowRow(NamedTuple):
    """An ``availability_windows`` row as plain values (read, never written back)."""

    id: int
    day: int
    start_minute: int
    end_minute: int
    timezone: str
    effective_from: date | None
    effective_to: date | None


class TimeOffRow(NamedTuple):
    """A ``time_off`` row as plain values."""

    id: int
    start_date: date
    end_date: date
    start_minute: int | None
    end_minute: int | None
    timezone: str | None


_aw, _off = m.AvailabilityWindow, m.TimeOff
# A provider's window rows and time-off rows in one statement (built once: every preview and
# every save reads them): both are (id, day, minutes, zone, two dates), time off with no day.
_SCHEDULE: CompoundSelect[*tuple[Any, ...]] = union_all(
    select(
        literal_column("0").label("kind"), _aw.id, _aw.day, _aw.start_minute, _aw.end_minute,
        _aw.timezone, _aw.effective_from, _aw.effective_to,
    ).where(_aw.provider_id == bindparam("provider_id")),
    select(
        literal_column("1"), _off.id, null(), _off.start_minute, _off.end_minute, _off.timezone,
        _off.start_date, _off.end_date,
    ).where(_off.provider_id == bindparam("provider_id")),
).order_by(literal_column("kind"), literal_column("id"))  # fmt: skip


def schedule_rows(s: Session, provider_id: str) -> tuple[list[WindowRow], list[TimeOffRow]]:
    """The provider's window rows (by id) and time-off rows (by id), in one statement."""
    windows: list[WindowRow] = []
    time_off: list[TimeOffRow] = []
    for kind, row_id, day, a, b, tz, first, last in plain_rows(
        s, _SCHEDULE, {"provider_id": provider_id}
    ):
        if kind == 0:
            windows.append(WindowRow(row_id, day, a, b, tz, first, last))
        else:
            time_off.append(TimeOffRow(row_id, first, last, a, b, tz))
    return windows, time_off


AnyWindowRow = m.AvailabilityWindow | WindowRow


def valid_on(row: AnyWindowRow, day: date) -> bool:
    return (row.effective_from is None or row.effective_from <= day) and (
        row.effective_to is None or row.effective_to >= day
    )


def as_window(row: AnyWindowRow) -> WeeklyWindow:
    return WeeklyWindow(row.day, row.start_minute, row.end_minute, row.timezone)


def conflict_window(row: AnyWindowRow) -> Window:
    """The row as the conflict rule reads it, with its effective dates."""
    return Window(
        row.day, row.start_minute, row.end_minute, row.timezone, row.effective_from,
        row.effective_to,
    )  # fmt: skip


def changed_week(
    before: tuple[WeeklyWindow, ...],
    intent: str,
    windows: tuple[WeeklyWindow, ...],
    monday: date,
    days_only: bool,
) -> tuple[WeeklyWindow, ...]:
    """The week after the change; a replace of only the days named keeps every other day."""
    if intent == "replace" and days_only:
        named = {w.day for w in windows}
        return merge([*(w for w in before if w.day not in named), *windows])
    return apply_change(before, Change(intent, windows), monday)


def apply_saved_change(
    s: Session, provider: m.Provider, payload: dict[str, Any], today: date, now: datetime
) -> str:
    """The one place a saved change reaches the schedule and time-off tables; returns the
    sentence that confirms it."""
    intent = payload["intent"]
    if intent == "time_off":
        return _add_time_off(s, provider, payload, now)
    if intent == "cancel_time_off":
        return _cancel_time_off(s, provider, payload)
    return _change_week(s, provider, payload, today)


def _add_time_off(s: Session, provider: m.Provider, payload: dict[str, Any], now: datetime) -> str:
    start, end = (date.fromisoformat(d) for d in payload["time_off"])
    hours = [tuple(h) for h in payload.get("hours") or []] or [(None, None)]
    tz = payload.get("tz") or (provider.timezone if payload.get("hours") else None)
    for first, last in hours:
        s.add(
            m.TimeOff(
                provider_id=provider.id,
                start_date=start,
                end_date=end,
                start_minute=first,
                end_minute=last,
                timezone=tz if first is not None else None,
                created_at=now,
            )
        )
    return "Time off saved." if hours == [(None, None)] else "Time off saved for those hours."


def _cancel_time_off(s: Session, provider: m.Provider, payload: dict[str, Any]) -> str:
    """Takes the dates out of every stretch that covers them: a stretch inside the dates goes,
    one that overlaps is shortened, one that spans them is split in two."""
    start, end = (date.fromisoformat(d) for d in payload["time_off"])
    q = select(m.TimeOff).where(
        m.TimeOff.provider_id == provider.id,
        m.TimeOff.start_date <= end,
        m.TimeOff.end_date >= start,
    )
    touched = 0
    for row in s.scalars(q):
        touched += 1
        before_part = (
            (row.start_date, start - timedelta(days=1)) if row.start_date < start else None
        )
        after_part = (end + timedelta(days=1), row.end_date) if row.end_date > end else None
        if before_part is None and after_part is None:
            s.delete(row)
            continue
        first_part = before_part or after_part
        assert first_part is not None
        row.start_date, row.end_date = first_part
        if before_part is not None and after_part is not None:
            s.add(
                m.TimeOff(
                    provider_id=provider.id,
                    start_date=after_part[0],
                    end_date=after_part[1],
                    start_minute=row.start_minute,
                    end_minute=row.end_minute,
                    timezone=row.timezone,
                    created_at=row.created_at,
                )
            )
    s.flush()
    return "Time off cancelled." if touched else "There was no time off on those dates."


def _change_week(s: Session, provider: m.Provider, payload: dict[str, Any], today: date) -> str:
    effective = (
        date.fromisoformat(payload["effective_from"]) if payload.get("effective_from") else None
    )
    until = date.fromisoformat(payload["effective_to"]) if payload.get("effective_to") else None
    basis_day = effective or today
    monday = week_monday(basis_day + timedelta(days=2))
    rows = rows_of(s, provider.id)
    basis = [r for r in rows if valid_on(r, basis_day)]
    windows = tuple(WeeklyWindow(d, a, b, tz) for d, a, b, tz in payload["windows"])
    old = tuple(as_window(r) for r in basis)
    new = changed_week(old, payload["intent"], windows, monday, bool(payload.get("days_only")))
    later = [r.effective_from for r in rows if r.effective_from and r.effective_from > basis_day]
    next_change = min(later) if later else None
    returning: list[tuple[m.AvailabilityWindow, date | None]] = []
    for r in basis:
        if until is not None and (r.effective_to is None or r.effective_to > until):
            returning.append((r, r.effective_to))  # comes back the day after `until`
        if effective is not None and (r.effective_from is None or r.effective_from < effective):
            r.effective_to = effective - timedelta(days=1)
        else:
            s.delete(r)
    new_to = next_change - timedelta(days=1) if next_change else None
    if until is not None and (new_to is None or until < new_to):
        new_to = until
    for w in new:
        s.add(_window_row(provider.id, w, effective, new_to))
    for r, to in returning:
        back = WeeklyWindow(r.day, r.start_minute, r.end_minute, r.timezone)
        s.add(_window_row(provider.id, back, until + timedelta(days=1) if until else None, to))
    s.flush()
    if until is not None:
        return f"Saved until {until:%a %b %-d}; your usual hours come back the day after."
    return "Availability saved." if effective is None else f"Saved, from {effective:%a %b %-d}."


def _window_row(
    provider_id: str, w: WeeklyWindow, frm: date | None, to: date | None
) -> m.AvailabilityWindow:
    return m.AvailabilityWindow(
        provider_id=provider_id,
        day=w.day,
        start_minute=w.start,
        end_minute=w.end,
        timezone=w.tz,
        effective_from=frm,
        effective_to=to,
    )


def restore_time_off(s: Session, provider_id: str, before: list[list[Any]], now: datetime) -> None:
    """Puts the time-off rows back exactly as they were: cancelled stretches return, shortened
    ones regain their dates, and stretches added since go."""
    wanted = {int(t[0]): t for t in before}
    s.execute(
        delete(m.TimeOff).where(
            m.TimeOff.provider_id == provider_id, m.TimeOff.id.not_in(wanted or {-1})
        )
    )
    for row_id, (_, start, end, *hours) in wanted.items():
        row = s.get(m.TimeOff, row_id) or m.TimeOff(id=row_id, provider_id=provider_id)
        row.start_date, row.end_date = date.fromisoformat(start), date.fromisoformat(end)
        row.start_minute, row.end_minute, row.timezone = (hours + [None, None, None])[:3]
        if row.created_at is None:
            row.created_at = now
        s.add(row)
