"""Domain: reading a zone as people write it: "PT", "Alaska", "TX time", "Chicago time",
"mountain (AZ)", "school time", and "Guam time" (a place we can't resolve: a question)."""

from __future__ import annotations

from bot.domain.availability_text.elements import ClockTime, Element, TimeSpan, ZoneMention
from bot.domain.availability_text.tokens import TokenCursor
from bot.domain.availability_text.zones import (
    AMBIGUOUS_ZONES,
    NOT_PLACES,
    PLACE_ZONES,
    PT_PROFESSION_AFTER,
    PT_PROFESSION_BEFORE,
    SCHOOL_ZONE,
    STATE_CODES,
    STATE_CODES_ONLY_BEFORE_TIME,
    ZONE_NAMES,
)
from bot.domain.labels import ZONE_ABBREVIATIONS

_TIME_WORDS = frozenset({"time", "timezone", "zone"})


def zone_at(lx: TokenCursor, i: int, prev: Element | None) -> tuple[ZoneMention, int] | None:
    """The zone named at token i, and the index after it (a trailing "time" included)."""
    t = lx.toks[i]
    w = t.text
    lw = w.lower()
    after_time = isinstance(prev, ClockTime | TimeSpan)
    school = _school_time_at(lx, i)
    if school is not None:
        return ZoneMention(SCHOOL_ZONE, lx.text[t.start : lx.toks[school - 1].end]), school
    upper = w.upper()
    if upper in ZONE_ABBREVIATIONS or upper in AMBIGUOUS_ZONES:
        # Upper-case counts anywhere; lower-case two-letter ones ("pt" = patient) only after a time.
        if not (w.isupper() or after_time or (len(w) >= 3 and upper not in AMBIGUOUS_ZONES)):
            return None
        if upper == "PT" and not after_time and _means_physical_therapist(lx, i):
            return None
        if upper in AMBIGUOUS_ZONES:
            return ZoneMention(None, w), i + 1
        return ZoneMention(ZONE_ABBREVIATIONS[upper], w), _after_time_word(lx, i + 1)
    name = ZONE_NAMES.get(lw)
    if name is not None:
        return ZoneMention(name, w), _after_time_word(lx, i + 1)
    two = lx.word(i + 1)
    if two is not None and f"{lw} {two}" in PLACE_ZONES:
        end = _after_time_word(lx, i + 2)
        return ZoneMention(PLACE_ZONES[f"{lw} {two}"], lx.text[t.start : lx.toks[i + 1].end]), end
    timed = lx.word(i + 1) in _TIME_WORDS
    if lw in PLACE_ZONES and (timed or after_time):
        return ZoneMention(PLACE_ZONES[lw], w), _after_time_word(lx, i + 1)
    if upper in STATE_CODES and (w.isupper() or timed):
        if timed or (after_time and upper not in STATE_CODES_ONLY_BEFORE_TIME):
            return ZoneMention(STATE_CODES[upper], w), _after_time_word(lx, i + 1)
        return None
    if timed and w[0].isupper() and lw not in NOT_PLACES and i > 0:
        # "Guam time": a place we can't place. A question, never a silent default.
        return ZoneMention(None, lx.text[t.start : lx.toks[i + 1].end]), i + 2
    return None


def _after_time_word(lx: TokenCursor, j: int) -> int:
    if lx.word(j) == "time" and lx.word(j + 1) == "zone":
        return j + 2
    return j + 1 if lx.word(j) in _TIME_WORDS else j


def _school_time_at(lx: TokenCursor, i: int) -> int | None:
    """ "school time", "school's time", "my school's time", "my schools' time", "school zone"."""
    j = i
    if lx.word(j) in ("my", "the", "our"):
        j += 1
    w = lx.word(j)
    if w not in ("school", "school's", "schools", "schools'"):
        return None
    k = j + 1
    nxt = lx.get(k)
    if nxt is not None and nxt.text == "'":
        k += 1
    return k + 1 if lx.word(k) in _TIME_WORDS else None


def _means_physical_therapist(lx: TokenCursor, i: int) -> bool:
    before = lx.word(i - 1)
    after = lx.word(i + 1)
    return (before is not None and before in PT_PROFESSION_BEFORE) or (
        after is not None and after in PT_PROFESSION_AFTER
    )
