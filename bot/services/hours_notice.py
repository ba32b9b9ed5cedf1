"""Services: the provider's DM when a manager saved a change to their hours or time off.

The save queues one outbox row for the provider in its own transaction; once it has committed,
``deliver`` sends it at once. A failed send stays in the outbox and goes out with the
provider's next nudges from the clock process (``notice_of`` reads it back).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.schedule import TimeOffSpan, WeeklyWindow
from bot.services import dm
from storage import models as m
from storage import outbox

HOURS_RULE = "hours_changed"  # the outbox rule of the provider's DM
HOURS_LEASE = timedelta(minutes=2)


Week = tuple[date | None, tuple[WeeklyWindow, ...]]  # from this date on (None: now), these hours


@dataclass(frozen=True)
class HoursChanged:
    """A manager changed this provider's availability: the week and time off, before → after,
    in the provider's own zone."""

    change_id: str  # the saved preview
    manager: str
    tz: str
    before: tuple[Week, ...]  # the current week first (from None), then dated changes ahead
    after: tuple[Week, ...]
    time_off_before: tuple[TimeOffSpan, ...]
    time_off_after: tuple[TimeOffSpan, ...]

    @property
    def week_changed(self) -> bool:
        return self.before != self.after

    @property
    def time_off_changed(self) -> bool:
        return self.time_off_before != self.time_off_after

    def to_payload(self) -> dict[str, Any]:
        return {
            "hours_changed": {
                "change_id": self.change_id,
                "manager": self.manager,
                "tz": self.tz,
                "before": [_week(w) for w in self.before],
                "after": [_week(w) for w in self.after],
                "time_off_before": [_span(t) for t in self.time_off_before],
                "time_off_after": [_span(t) for t in self.time_off_after],
            }
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> HoursChanged | None:
        data = payload.get("hours_changed")
        if not isinstance(data, dict):
            return None
        return cls(
            str(data["change_id"]),
            str(data["manager"]),
            str(data["tz"]),
            tuple(_week_of(w) for w in data["before"]),
            tuple(_week_of(w) for w in data["after"]),
            tuple(_span_of(t) for t in data["time_off_before"]),
            tuple(_span_of(t) for t in data["time_off_after"]),
        )


def _week(week: Week) -> list[Any]:
    start, windows = week
    return [start.isoformat() if start else None, [[w.day, w.start, w.end, w.tz] for w in windows]]


def _week_of(raw: list[Any]) -> Week:
    start, windows = raw
    return (date.fromisoformat(start) if start else None, tuple(WeeklyWindow(*w) for w in windows))


def _span(t: TimeOffSpan) -> list[Any]:
    return [t.start.isoformat(), t.end.isoformat(), [list(h) for h in t.hours], t.tz]


def _span_of(raw: list[Any]) -> TimeOffSpan:
    start, end, hours, tz = raw
    return TimeOffSpan(
        date.fromisoformat(start), date.fromisoformat(end), tuple((a, b) for a, b in hours), tz
    )


def queue(s: Session, provider: m.Provider, message: HoursChanged, now: datetime) -> None:
    """One outbox row for the provider, in the save's transaction (nothing when the change
    left their week and time off as they were)."""
    if not (message.week_changed or message.time_off_changed):
        return
    row = outbox.dm_now(
        key=f"{HOURS_RULE}:{message.change_id}",
        rule=HOURS_RULE,
        recipient_kind="provider",
        recipient_id=provider.id,
        subject_id=message.change_id,
        payload=message.to_payload(),
        now=now,
    )
    outbox.enqueue(s, [row])


def deliver(deps: Deps, change_id: str) -> int:
    """After the save committed: send the provider's DM now (or leave it to the clock)."""
    return dm.deliver_now(deps, f"{HOURS_RULE}:{change_id}", HOURS_LEASE, HoursChanged.from_payload)
