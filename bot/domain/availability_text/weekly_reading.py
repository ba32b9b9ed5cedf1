"""Domain: the reading of a weekly change: day/time groups, exceptions, cut-outs and dates."""

from __future__ import annotations

from datetime import date

from bot.domain.availability_text.calendar_dates import resolve_end, resolve_start
from bot.domain.availability_text.clock_times import days_text, merge_windows
from bot.domain.availability_text.elements import TimeSpan
from bot.domain.availability_text.grouping import Assembled, DayGroup
from bot.domain.availability_text.questions import (
    Q_BACKWARDS_DATES,
    Q_DATE_IN_WEEKLY,
    Q_NO_DAYS,
    Q_NO_TIME,
    AskUser,
)
from bot.domain.availability_text.result import DateSpan, Intent, ParseResult
from bot.domain.availability_text.vocabulary import DAY_TITLES, MONTH_ABBR

Hours = dict[int, list[tuple[int, int]]]  # weekday -> (start, end) minutes


def weekly_result(
    text: str,
    intent: Intent,
    tz: str | None,
    parts: Assembled,
    today: date,
    *,
    school_time: bool = False,
) -> ParseResult:
    dates = _weekly_dates(parts, today)
    if not parts.groups:
        raise AskUser(Q_NO_DAYS)
    assumptions: list[str] = []
    hours: Hours = {}
    for group in parts.groups:
        if not group.days:
            raise AskUser(Q_NO_DAYS)
        spans = _explicit_first(group.spans)
        for span in spans:
            if span.assumption is not None and span.assumption not in assumptions:
                assumptions.append(span.assumption)
        if group.exception:
            _apply_exception(hours, group, spans)
            continue
        if not spans:
            if intent is not Intent.REMOVE:
                days = days_text(group.days)
                raise AskUser(Q_NO_TIME.format(days=days, day=DAY_TITLES[group.days[0]]))
            spans = [TimeSpan(0, 1440, "")]
        for day in group.days:
            hours.setdefault(day, []).extend((s.start, s.end) for s in spans)
    found = [(day, start, end) for day, pieces in hours.items() for start, end in pieces]
    for cut in parts.cuts:
        found = [piece for window in found for piece in _without(window, cut)]
    if not found:
        raise AskUser(Q_NO_DAYS)
    if parts.every:
        assumptions.append("read “daily” as Mon–Fri")
    return ParseResult(
        text,
        intent,
        tz,
        merge_windows(found),
        dates,
        None,
        tuple(assumptions),
        days_only=parts.instead and intent is Intent.REPLACE,
        school_time=school_time,
    )


def _weekly_dates(parts: Assembled, today: date) -> DateSpan | None:
    """ "starting Jan 5" (from then on), "until Dec 18" (from now until then, after which the
    previous schedule returns), or both."""
    start: date | None = None
    end: date | None = None
    for marker, el in parts.dates:
        first = resolve_start(el.start, today)
        if marker == "start":
            start = first
            if el.end is not None:
                end = resolve_end(el.end, first, el.day_only_end)
        elif marker == "until":
            end = first if el.end is None else resolve_end(el.end, first, el.day_only_end)
        else:
            label = f"{MONTH_ABBR[first.month]} {first.day}"
            raise AskUser(Q_DATE_IN_WEEKLY.format(label=label))
    if start is not None and end is not None and end < start:
        raise AskUser(Q_BACKWARDS_DATES)
    if start is None and end is None:
        return None
    return DateSpan(start, end)


def _explicit_first(spans: list[TimeSpan]) -> list[TimeSpan]:
    """ "Tuesday mornings 8:30-11": explicit hours beat the period word beside them."""
    explicit = [s for s in spans if not s.period]
    return explicit or spans


def _apply_exception(hours: Hours, group: DayGroup, spans: list[TimeSpan]) -> None:
    """ "except Wed 9-12" gives Wednesday those hours; "but Thursdays only until 1" trims
    Thursday's; "except Wednesdays" (no hours) drops the day."""
    for day in group.days:
        before = hours.pop(day, [])
        if not spans:
            continue
        if all(s.open_ended for s in spans) and before:
            trimmed = [(max(a, s.start), min(b, s.end)) for a, b in before for s in spans]
            hours[day] = [(a, b) for a, b in trimmed if a < b]
        else:
            hours[day] = [(s.start, s.end) for s in spans]
        if not hours[day]:
            del hours[day]


def _without(window: tuple[int, int, int], cut: TimeSpan) -> list[tuple[int, int, int]]:
    day, start, end = window
    if cut.end <= start or cut.start >= end:
        return [window]
    pieces = []
    if start < cut.start:
        pieces.append((day, start, cut.start))
    if cut.end < end:
        pieces.append((day, cut.end, end))
    return pieces
