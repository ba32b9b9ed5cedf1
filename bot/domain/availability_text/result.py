"""Domain: what the availability parser returns (intent, weekly windows, dates, question)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.domain.schedule import hhmm as format_minutes  # "08:00"; 1440 is "24:00"
from bot.domain.vocabulary import Day  # the one weekday vocabulary, re-exported here


class Intent(StrEnum):
    REPLACE = "replace"
    ADD = "add"
    REMOVE = "remove"
    TIME_OFF = "time_off"
    CANCEL_TIME_OFF = "cancel_time_off"
    SHOW = "show"


@dataclass(frozen=True)
class Window:
    """A weekly window in local wall time: minutes from midnight, 0 <= start < end <= 1440."""

    day: Day
    start: int
    end: int


@dataclass(frozen=True)
class DateSpan:
    """Inclusive dates. `end` None: a change that starts later and stays; `start` None: a
    schedule that holds from now until `end`, after which the previous one comes back."""

    start: date | None
    end: date | None


@dataclass(frozen=True)
class ParseResult:
    text: str
    intent: Intent | None
    tz: str | None
    windows: tuple[Window, ...]
    dates: DateSpan | None
    error: str | None
    assumptions: tuple[str, ...] = ()
    # A replace of just the days named ("Wed 1-4 instead of 9-12"), other days kept.
    days_only: bool = False
    # The hours are in the zone of the provider's schools ("school time"): the service resolves it.
    school_time: bool = False

    def to_json(self) -> dict[str, object]:
        """The `parse` output object (README: Availability in plain words), keys in the
        documented order, then the extra keys `days_only`, `school_time` and `assumptions`
        when they say something."""
        dates: dict[str, object] | None = None
        if self.dates is not None:
            start, end = self.dates.start, self.dates.end
            dates = {
                "start": None if start is None else start.isoformat(),
                "end": None if end is None else end.isoformat(),
            }
        out: dict[str, object] = {
            "text": self.text,
            "intent": None if self.intent is None else self.intent.value,
            "tz": self.tz,
            "windows": [
                {"day": w.day.value, "start": format_minutes(w.start), "end": format_minutes(w.end)}
                for w in self.windows
            ],
            "dates": dates,
            "error": self.error,
        }
        if self.days_only:
            out["days_only"] = True
        if self.school_time:
            out["school_time"] = True
        if self.assumptions:
            out["assumptions"] = list(self.assumptions)
        return out
