"""Domain: the parser's entry points and the final readings (weekly change or time off)."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.availability_text.calendar_dates import date_parser, resolve_end, resolve_start
from bot.domain.availability_text.clock_times import days_text, merge_windows
from bot.domain.availability_text.elements import ZoneMention
from bot.domain.availability_text.grouping import Assembled, assemble_groups, join_days
from bot.domain.availability_text.intent_cues import (
    ADD_STRONG_RE,
    ADD_WEAK_RE,
    OFF_TOPIC_RE,
    ON_TOPIC_RE,
    OR_RE,
    REMOVE_RE,
    SHOW_RE,
    TIME_OFF_RE,
)
from bot.domain.availability_text.questions import (
    Q_ALTERNATIVES,
    Q_AMBIGUOUS_ZONE,
    Q_BACKWARDS_DATES,
    Q_DATE_IN_WEEKLY,
    Q_DATES_ONLY,
    Q_MIXED,
    Q_NO_DAYS,
    Q_NO_TIME,
    Q_OFF_NO_DATE,
    Q_OFF_NO_END,
    Q_OFF_ONE_SPAN,
    Q_OFF_TOPIC,
    Q_OFF_WITH_TIMES,
    Q_PAST_DATE,
    Q_TWO_ZONES,
    AskUser,
)
from bot.domain.availability_text.result import DateSpan, Intent, ParseResult
from bot.domain.availability_text.scanner import read_elements
from bot.domain.availability_text.tokens import DOTTED_MERIDIEM_RE, NORMALIZE, TokenCursor, tokenize
from bot.domain.availability_text.vocabulary import DAY_TITLES, MONTH_ABBR
from bot.domain.availability_text.zones import zone_label


def parse_availability(text: str, *, today: date) -> ParseResult:
    """Reads one message. Never raises on user text: anything unclear comes back as `error`."""
    try:
        return _parse(text, today)
    except AskUser as question:
        return ParseResult(text, None, None, (), None, question.message)


def warm_up() -> None:
    """Loads dateparser's language data and the regexes so the first real message is fast."""
    date_parser().get_date_data("Jan 5")
    parse_availability("Mon/Wed 8-12, Fri 1-4 PT from Jan 5", today=date(2000, 1, 1))


def _parse(text: str, today: date) -> ParseResult:
    norm = text.translate(NORMALIZE)
    if "." in norm:
        norm = DOTTED_MERIDIEM_RE.sub(r"\1\2", norm)
    low = norm.lower()
    bare = low.strip(" \t\r\n.!?")
    if not bare or SHOW_RE.fullmatch(bare):
        return ParseResult(text, Intent.SHOW, None, (), None, None)
    if OFF_TOPIC_RE.search(low):
        raise AskUser(Q_OFF_TOPIC)

    time_off = TIME_OFF_RE.search(low) is not None
    remove = REMOVE_RE.search(low) is not None
    add_strong = ADD_STRONG_RE.search(low) is not None
    add = add_strong or ADD_WEAK_RE.search(low) is not None

    els = read_elements(TokenCursor(norm, tokenize(norm)), today)
    els = join_days(els, today, time_off)
    parts = assemble_groups(els, norm)

    has_days = any(g.days for g in parts.groups)
    has_spans = any(g.spans for g in parts.groups)
    if not (has_days or has_spans or parts.dates or parts.zones) and not ON_TOPIC_RE.search(low):
        raise AskUser(Q_OFF_TOPIC)
    if OR_RE.search(low) and (has_days or has_spans or parts.dates):
        raise AskUser(Q_ALTERNATIVES)
    tz = _single_zone(parts.zones)

    if time_off:
        return _time_off_result(text, parts, today)
    if remove and add_strong:
        raise AskUser(Q_MIXED)
    if remove and parts.dates and not has_spans and not has_days:
        return _time_off_result(text, parts, today)
    if not (remove or add) and not has_days and not has_spans:
        plain = [el for marker, el in parts.dates if marker == "plain"]
        if plain:
            raise AskUser(Q_DATES_ONLY.format(raw=plain[0].raw))
    intent = Intent.REMOVE if remove else Intent.ADD if add else Intent.REPLACE
    return _weekly_result(text, intent, tz, parts, today)


def _single_zone(zones: list[ZoneMention]) -> str | None:
    names: list[str] = []
    for zone in zones:
        if zone.tz is None:
            raise AskUser(Q_AMBIGUOUS_ZONE.format(raw=zone.raw))
        if zone.tz not in names:
            names.append(zone.tz)
    if len(names) > 1:
        raise AskUser(Q_TWO_ZONES.format(zones=" or ".join(zone_label(n) for n in names)))
    return names[0] if names else None


def _time_off_result(text: str, parts: Assembled, today: date) -> ParseResult:
    if any(g.spans for g in parts.groups):
        raise AskUser(Q_OFF_WITH_TIMES)
    start: date | None = None
    end: date | None = None
    plain_seen = False
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
            if plain_seen or start is not None:
                raise AskUser(Q_OFF_ONE_SPAN)
            plain_seen = True
            start, end = first, last if last is not None else first
        elif marker == "start":
            if start is not None:
                raise AskUser(Q_OFF_ONE_SPAN)
            start, end = first, last
        elif marker == "until":
            end = last if last is not None else first
        else:  # "back Jan 4": the last day out is the day before
            end = first - timedelta(days=1)
    if start is None and end is None:
        raise AskUser(Q_OFF_NO_DATE)
    if start is None:
        start = today
    if end is None:
        # Open-ended leave ("out starting Jan 5") would block every week from then on: ask.
        example = start + timedelta(days=4)
        raise AskUser(
            Q_OFF_NO_END.format(
                label=f"{MONTH_ABBR[start.month]} {start.day}",
                example=f"{MONTH_ABBR[example.month]} {example.day}",
            )
        )
    if end < start:
        raise AskUser(Q_BACKWARDS_DATES)
    return ParseResult(text, Intent.TIME_OFF, None, (), DateSpan(start, end), None)


def _weekly_result(
    text: str, intent: Intent, tz: str | None, parts: Assembled, today: date
) -> ParseResult:
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
    if end is not None and start is None:
        start = today
    if start is not None and end is not None and end < start:
        raise AskUser(Q_BACKWARDS_DATES)
    dates = None if start is None else DateSpan(start, end)

    if not parts.groups:
        raise AskUser(Q_NO_DAYS)
    found: list[tuple[int, int, int]] = []
    assumptions: list[str] = []
    for group in parts.groups:
        days = [d for d in group.days if d not in parts.excluded]
        if not group.days:
            raise AskUser(Q_NO_DAYS)
        if not days:
            continue
        if not group.spans:
            if intent is not Intent.REMOVE:
                raise AskUser(Q_NO_TIME.format(days=days_text(days), day=DAY_TITLES[days[0]]))
            found.extend((d, 0, 1440) for d in days)
            continue
        for span in group.spans:
            if span.assumption is not None and span.assumption not in assumptions:
                assumptions.append(span.assumption)
            found.extend((d, span.start, span.end) for d in days)
    if not found:
        raise AskUser(Q_NO_DAYS)
    if parts.every:
        assumptions.append("read “daily” as Mon–Fri")
    return ParseResult(text, intent, tz, merge_windows(found), dates, None, tuple(assumptions))
