"""Domain: calendar dates: month and day as written, and our rules for the year.

The scanner has already read the month (a name or a number) and the day; this module checks the
pair against a leap-year calendar (so "Feb 29" is kept and "Feb 30" is a question) and picks the
year by our own rules, never by a library's guess. Reading dates here rather than through
dateparser keeps a date at microseconds, so a message full of dates stays cheap.
"""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.availability_text.elements import CalendarDate
from bot.domain.availability_text.questions import (
    Q_BACKWARDS_DATES,
    Q_BAD_DATE,
    Q_PAST_DATE,
    Q_WRONG_WEEKDAY,
    AskUser,
)
from bot.domain.availability_text.vocabulary import DAY_FULL, MONTH_ABBR

_LEAP_YEAR = 2000


def read_calendar_date(month: int, day: int, year: int | None, raw: str) -> CalendarDate:
    """A month and day as written (checked on a leap year), with the year only if one was given;
    a two-digit year is in this century."""
    try:
        date(_LEAP_YEAR, month, day)
    except ValueError:
        raise AskUser(Q_BAD_DATE.format(raw=raw)) from None
    if year is not None and year < 100:
        year += 2000
    return CalendarDate(month, day, year, raw)


def calendar_label(c: CalendarDate) -> str:
    label = f"{MONTH_ABBR[c.month]} {c.day}"
    return label if c.year is None else f"{label}, {c.year}"


def _make_date(year: int, c: CalendarDate) -> date:
    try:
        return date(year, c.month, c.day)
    except ValueError:
        raise AskUser(Q_BAD_DATE.format(raw=c.raw)) from None


def _check_hint(d: date, c: CalendarDate) -> date:
    if c.weekday_hint is not None and d.weekday() != c.weekday_hint:
        raise AskUser(
            Q_WRONG_WEEKDAY.format(label=calendar_label(c), weekday=DAY_FULL[d.weekday()])
        )
    return d


def resolve_start(c: CalendarDate | date, today: date) -> date:
    """A date without a year is this year if not yet past, a question if it passed within 60
    days (a slip, most likely), else next year. A date with an explicit past year is a question."""
    if isinstance(c, date):
        return c
    if c.year is not None:
        explicit = _make_date(c.year, c)
        if explicit < today:
            raise AskUser(Q_PAST_DATE.format(label=calendar_label(c)))
        return _check_hint(explicit, c)
    # The latest occurrence before today may be last year's ("Dec 23" typed on Jan 10).
    for year in (today.year, today.year - 1):
        try:
            past = date(year, c.month, c.day)
        except ValueError:  # Feb 29 outside a leap year
            continue
        if past < today and (today - past).days <= 60:
            raise AskUser(Q_PAST_DATE.format(label=calendar_label(c)))
    try:
        d = date(today.year, c.month, c.day)
        if d >= today:
            return _check_hint(d, c)
    except ValueError:
        pass
    return _check_hint(_make_date(today.year + 1, c), c)


def resolve_end(c: CalendarDate | date, start: date, day_only: bool) -> date:
    """The end of a range takes the start's year, or the next one if it would fall before it."""
    if isinstance(c, date):
        end = c
    elif c.year is not None:
        end = _check_hint(_make_date(c.year, c), c)
    else:
        end = _make_date(start.year, c)
        if end < start and not day_only:
            end = _make_date(start.year + 1, c)
        end = _check_hint(end, c)
    if end < start:
        raise AskUser(Q_BACKWARDS_DATES)
    return end


def next_occurrence(day: int, today: date, next_week: bool) -> date:
    if next_week:
        return today - timedelta(days=today.weekday()) + timedelta(days=7 + day)
    return today + timedelta(days=(day - today.weekday()) % 7)
