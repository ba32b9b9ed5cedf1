"""Domain: what the availability parser returns (intent, weekly windows, dates, question)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from bot.domain.schedule import hhmm as format_minutes  # "08:00"; 1440 is "24:00"


class Day(StrEnum):
    """A weekday; declaration order is the `date.weekday()` index 0..6."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"


class Intent(StrEnum):
    REPLACE = "replace"
    ADD = "add"
    REMOVE = "remove"
    TIME_OFF = "time_off"
    SHOW = "show"


@dataclass(frozen=True)
class Window:
    """A weekly window in local wall time: minutes from midnight, 0 <= start < end <= 1440."""

    day: Day
    start: int
    end: int


@dataclass(frozen=True)
class DateSpan:
    """Inclusive dates; `end` None means open-ended (a change that starts later, or leave)."""

    start: date
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

    def to_json(self) -> dict[str, object]:
        """The `parse` output object of CONTRACTS.md, keys in contract order."""
        dates: dict[str, object] | None = None
        if self.dates is not None:
            end = self.dates.end
            dates = {
                "start": self.dates.start.isoformat(),
                "end": None if end is None else end.isoformat(),
            }
        return {
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
