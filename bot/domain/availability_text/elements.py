"""Domain: the pieces the first pass finds in a message (times, days, dates, zones, words)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(slots=True)
class ClockTime:
    hour: int
    minute: int
    meridiem: str | None  # "am" / "pm" as written
    fixed: bool  # 24-hour form ("0830", "13:00"), noon or midnight: no am/pm guessing
    raw: str
    start: int
    end: int
    bad: bool = False


@dataclass(slots=True)
class DaySet:
    days: list[int]
    plural: bool
    weak: bool  # a lone lower-case letter ("t", "w"): a day only next to another day or a time
    raw: str
    start: int
    end: int
    every: bool = False  # "daily" / "every day": recorded as an assumption


@dataclass(slots=True)
class CalendarDate:
    month: int
    day: int
    year: int | None
    raw: str
    weekday_hint: int | None = None


@dataclass(slots=True)
class DateMention:
    start: CalendarDate | date
    end: CalendarDate | date | None
    raw: str
    day_only_end: bool = False  # "Jan 5-9": the end shares the start's month and year


@dataclass(slots=True)
class ZoneMention:
    tz: str | None  # None: an ambiguous abbreviation or an unknown IANA name
    raw: str


@dataclass(slots=True)
class Keyword:
    role: str
    raw: str


@dataclass(slots=True)
class TimeSpan:
    start: int
    end: int
    raw: str
    assumption: str | None = None
    period: bool = False  # a period word ("mornings"): explicit hours in the same group win
    open_ended: bool = False  # "after 2", "until 1": one end given, the other the day's


Element = ClockTime | DaySet | DateMention | ZoneMention | Keyword | TimeSpan
