"""Domain: the reading of time off, and of cancelling it: one stretch of dates, whole days or
some hours on those days."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.availability_text.calendar_dates import resolve_end, resolve_start
from bot.domain.availability_text.clock_times import merge_windows
from bot.domain.availability_text.grouping import Assembled
from bot.domain.availability_text.questions import (
    Q_BACKWARDS_DATES,
    Q_LONG_STRETCH,
    Q_OFF_NO_DATE,
    Q_OFF_NO_END,
    Q_OFF_ONE_SPAN,
    Q_PAST_DATE,
    AskUser,
)
from bot.domain.availability_text.result import DateSpan, Intent, ParseResult
from bot.domain.availability_text.vocabulary import MONTH_ABBR

# A stretch longer than this many school days is asked about: it is most likely a slip.
MAX_SCHOOL_DAYS_OFF = 30


def time_off_result(
    text: str, intent: Intent, tz: str | None, parts: Assembled, today: date
) -> ParseResult:
    start, end = _stretch(parts, today)
    _check_length(start, end)
    spans = [s for g in parts.groups for s in g.spans]
    windows: list[tuple[int, int, int]] = []
    if spans:
        # Some hours on those dates: one window per weekday the stretch covers.
        weekdays = {(start + timedelta(days=k)).weekday() for k in range(min(7, _days(start, end)))}
        windows = [(d, s.start, s.end) for d in sorted(weekdays) for s in spans]
    assumptions = tuple(dict.fromkeys(s.assumption for s in spans if s.assumption is not None))
    return ParseResult(
        text,
        intent,
        tz if spans else None,
        merge_windows(windows),
        DateSpan(start, end),
        None,
        assumptions,
    )


def _days(start: date, end: date) -> int:
    return (end - start).days + 1


def _label(d: date, with_year: bool = False) -> str:
    label = f"{MONTH_ABBR[d.month]} {d.day}"
    return f"{label}, {d.year}" if with_year else label


def _check_length(start: date, end: date) -> None:
    school_days = sum(1 for k in range(_days(start, end)) if (start + timedelta(k)).weekday() < 5)
    if school_days > MAX_SCHOOL_DAYS_OFF:
        raise AskUser(
            Q_LONG_STRETCH.format(
                span=f"{_label(start)} – {_label(end, with_year=end.year != start.year)}",
                days=_days(start, end),
                school_days=school_days,
            )
        )


def _stretch(parts: Assembled, today: date) -> tuple[date, date]:
    """The first and last day of the one stretch the message names."""
    start: date | None = None
    end: date | None = None
    plain: list[tuple[date, date]] = []
    back: date | None = None
    instead: date | None = None
    for marker, el in parts.dates:
        first = resolve_start(el.start, today)
        last = None if el.end is None else resolve_end(el.end, first, el.day_only_end)
        if marker == "weekof":
            first = first - timedelta(days=first.weekday())
            first, last = first, first + timedelta(days=4)
            if last < today:
                raise AskUser(Q_PAST_DATE.format(label=el.raw))
            first = max(first, today)
            marker = "plain"
        if marker == "plain":
            plain.append((first, last if last is not None else first))
        elif marker == "start":
            if start is not None:
                raise AskUser(Q_OFF_ONE_SPAN)
            start, end = first, last
        elif marker == "until":
            end = last if last is not None else first
        elif marker == "instead":  # "back Dec 29 instead of Jan 4"
            instead = first
        else:  # "back Jan 4": the last day out is the day before
            back = first
    if back is not None and instead is not None:
        # Back earlier than planned: the days from the new return to the old one are cancelled.
        if instead <= back:
            raise AskUser(Q_BACKWARDS_DATES)
        return back, instead - timedelta(days=1)
    if plain:
        if start is not None:
            raise AskUser(Q_OFF_ONE_SPAN)
        start, plain_end = _one_stretch(plain)
        end = plain_end if end is None else max(end, plain_end)
    if back is not None:
        end = back - timedelta(days=1)
    if start is None and end is None:
        raise AskUser(Q_OFF_NO_DATE)
    if start is None:
        start = today
    if end is None:
        # Open-ended leave ("out starting Jan 5") would block every week from then on: ask.
        example = start + timedelta(days=4)
        raise AskUser(Q_OFF_NO_END.format(label=_label(start), example=_label(example)))
    if end < start:
        raise AskUser(Q_BACKWARDS_DATES)
    return start, end


def _one_stretch(pieces: list[tuple[date, date]]) -> tuple[date, date]:
    """ "out Mon 11/30 and Tue 12/1": dates that follow one another (a weekend between is fine)
    are one stretch; anything else is asked about."""
    pieces.sort()
    start, end = pieces[0]
    for first, last in pieces[1:]:
        gap = [end + timedelta(days=k) for k in range(1, (first - end).days)]
        if first > end + timedelta(days=1) and any(d.weekday() < 5 for d in gap):
            raise AskUser(Q_OFF_ONE_SPAN)
        end = max(end, last)
    return start, end
