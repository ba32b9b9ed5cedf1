"""Domain: the parser's entry points and the final readings (weekly change or time off)."""

from __future__ import annotations

from datetime import date

from bot.domain.availability_text.elements import ZoneMention
from bot.domain.availability_text.grouping import assemble_groups, join_days
from bot.domain.availability_text.intent_cues import (
    ADD_STRONG_RE,
    ADD_WEAK_RE,
    CANCEL_TIME_OFF_RE,
    NOT_WEEKLY_RE,
    OFF_TOPIC_RE,
    ON_TOPIC_RE,
    OR_RE,
    REMOVE_RE,
    SHOW_RE,
    TAKE_OFF_SCHEDULE_RE,
    TIME_OFF_RE,
)
from bot.domain.availability_text.questions import (
    MAX_MESSAGE_CHARS,
    Q_ALTERNATIVES,
    Q_AMBIGUOUS_ZONE,
    Q_DATES_ONLY,
    Q_MIXED,
    Q_NOT_WEEKLY,
    Q_OFF_TOPIC,
    Q_TOO_LONG,
    Q_TWO_ZONES,
    AskUser,
)
from bot.domain.availability_text.result import Intent, ParseResult
from bot.domain.availability_text.scanner import read_elements
from bot.domain.availability_text.time_off_reading import time_off_result
from bot.domain.availability_text.tokens import DOTTED_MERIDIEM_RE, NORMALIZE, TokenCursor, tokenize
from bot.domain.availability_text.weekly_reading import weekly_result
from bot.domain.availability_text.zones import SCHOOL_ZONE
from bot.domain.labels import zone_label


def parse_availability(text: str, *, today: date) -> ParseResult:
    """Reads one message. Never raises on user text: anything unclear comes back as `error`.
    A message over `MAX_MESSAGE_CHARS` is not read at all: it gets a polite question."""
    if len(text) > MAX_MESSAGE_CHARS:
        question = Q_TOO_LONG.format(length=f"{len(text):,}", limit=MAX_MESSAGE_CHARS)
        return ParseResult(text, None, None, (), None, question)
    try:
        return _parse(text, today)
    except AskUser as question:
        return ParseResult(text, None, None, (), None, question.message)


def warm_up() -> None:
    """Runs one message through every pass so the first real message is fast."""
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
    if NOT_WEEKLY_RE.search(low):
        raise AskUser(Q_NOT_WEEKLY)

    cancel_off = CANCEL_TIME_OFF_RE.search(low) is not None
    time_off = cancel_off or (
        TIME_OFF_RE.search(low) is not None and TAKE_OFF_SCHEDULE_RE.search(low) is None
    )
    remove = REMOVE_RE.search(low) is not None or TAKE_OFF_SCHEDULE_RE.search(low) is not None
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
    school_time = tz == SCHOOL_ZONE
    if school_time:
        tz = None

    if cancel_off:
        return time_off_result(text, Intent.CANCEL_TIME_OFF, tz, parts, today)
    if time_off:
        return time_off_result(text, Intent.TIME_OFF, tz, parts, today)
    if remove and add_strong:
        raise AskUser(Q_MIXED)
    if remove and parts.dates and not has_spans and not has_days:
        return time_off_result(text, Intent.TIME_OFF, tz, parts, today)
    if not (remove or add) and not has_days and not has_spans:
        plain = [el for marker, el in parts.dates if marker == "plain"]
        if plain:
            raise AskUser(Q_DATES_ONLY.format(raw=plain[0].raw))
    intent = Intent.REMOVE if remove else Intent.ADD if add else Intent.REPLACE
    return weekly_result(text, intent, tz, parts, today, school_time=school_time)


def _single_zone(zones: list[ZoneMention]) -> str | None:
    names: list[str] = []
    for zone in zones:
        if zone.tz is None:
            raise AskUser(Q_AMBIGUOUS_ZONE.format(raw=zone.raw))
        if zone.tz not in names:
            names.append(zone.tz)
    if len(names) > 1:
        labels = (zone_label(n) if n != SCHOOL_ZONE else "your schools' zone" for n in names)
        raise AskUser(Q_TWO_ZONES.format(zones=" or ".join(labels)))
    return names[0] if names else None
