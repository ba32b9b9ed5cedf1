"""Domain: the first pass, from tokens to elements (times, days, dates, zones, keywords)."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain.availability_text.calendar_dates import read_calendar_date
from bot.domain.availability_text.day_words import day_word, fuzzy_day
from bot.domain.availability_text.elements import (
    CalendarDate,
    ClockTime,
    DateMention,
    DaySet,
    Element,
    Keyword,
    TimeSpan,
    ZoneMention,
)
from bot.domain.availability_text.questions import Q_OFF_ONE_SPAN, AskUser
from bot.domain.availability_text.tokens import TokenCursor
from bot.domain.availability_text.vocabulary import (
    LIST_PUNCT,
    MERIDIEMS,
    MONTHS,
    ORDINALS,
    QUANTITY_WORDS,
    RANGE_PUNCT,
    SPAN_WORDS,
    WORD_ROLES,
)
from bot.domain.availability_text.zone_phrases import zone_at
from bot.domain.availability_text.zones import (
    PT_PROFESSION_AFTER,
    PT_PROFESSION_BEFORE,
)


def read_elements(lx: TokenCursor, today: date) -> list[Element]:
    els: list[Element] = []
    toks = lx.toks
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "zone":
            unknown = t.text.startswith("?")
            els.append(ZoneMention(None if unknown else t.text, t.text.lstrip("?")))
            i += 1
        elif t.kind == "num":
            i = _number_at(lx, i, els, today)
        elif t.kind == "punct":
            if t.text in RANGE_PUNCT:
                els.append(Keyword("range", t.text))
            elif t.text in LIST_PUNCT:
                els.append(Keyword(LIST_PUNCT[t.text], t.text))
            i += 1
        else:
            i = _word_at(lx, i, els, today)
    return els


def _number_at(lx: TokenCursor, i: int, els: list[Element], today: date) -> int:
    date_match = (
        _iso_date_at(lx, i)
        or _numeric_date_at(lx, i)
        or _ordinal_date_at(lx, i)
        or _day_month_at(lx, i)
        or _day_of_month_at(lx, i, today)
    )
    if date_match is not None:
        el, i = date_match
        els.append(el)
        return i
    t = lx.toks[i]
    following = lx.word(i + 1)
    if following is not None and (following in QUANTITY_WORDS or following in ORDINALS):
        return i + 1  # a quantity or an ordinal outside a date: not a time
    parsed = _clock_number(t.text)
    if parsed is None:
        return i + 1
    hour, minute, fixed, bad = parsed
    meridiem = None
    end_index = i + 1
    # "8a" only when written together; "8 a" is more likely "8 a week".
    if (
        following is not None
        and following in MERIDIEMS
        and (len(following) == 2 or lx.attached(i + 1))
    ):
        meridiem = MERIDIEMS[following]
        end_index = i + 2
    if meridiem is not None and (hour == 0 or hour > 12):
        bad = True
    end_tok = lx.toks[end_index - 1]
    raw = lx.text[t.start : end_tok.end]
    els.append(ClockTime(hour, minute, meridiem, fixed, raw, t.start, end_tok.end, bad))
    return end_index


def _clock_number(s: str) -> tuple[int, int, bool, bool] | None:
    """(hour, minute, is_24h_form, impossible) for "8", "830", "0830", "8:30", "8.30"."""
    if ":" in s or "." in s:
        sep = ":" if ":" in s else "."
        hour_s, minute_s = s.split(sep, 1)
        if len(minute_s) != 2 or len(hour_s) > 2:
            if sep == ".":
                return None  # "3.5" is a quantity
            return 0, 0, False, True
        hour, minute = int(hour_s), int(minute_s)
        fixed = hour_s.startswith("0") or hour >= 13
    elif len(s) <= 2:
        hour, minute = int(s), 0
        fixed = s.startswith("0") or hour >= 13
    elif len(s) == 3:
        hour, minute = int(s[0]), int(s[1:])
        fixed = False
    elif len(s) == 4:
        hour, minute = int(s[:2]), int(s[2:])
        fixed = s.startswith("0") or hour >= 13
    else:
        return None
    bad = minute > 59 or hour > 24 or (hour == 24 and minute > 0)
    return hour, minute, fixed, bad


def _iso_date_at(lx: TokenCursor, i: int) -> tuple[DateMention, int] | None:
    """ "2026-12-28": year, month and day joined by dashes, nothing between."""
    year = lx.get(i)
    if year is None or len(year.text) != 4 or not year.text.isdigit():
        return None
    if not 1900 <= int(year.text) <= 2199:
        return None
    dashes_attached = all(
        (tok := lx.get(k)) is not None and tok.text == "-" and lx.attached(k) and lx.attached(k + 1)
        for k in (i + 1, i + 3)
    )
    month, day = lx.small_int(i + 2, 12), lx.small_int(i + 4, 31)
    if not dashes_attached or month is None or day is None:
        return None
    raw = lx.text[year.start : lx.toks[i + 4].end]
    return DateMention(read_calendar_date(month, day, int(year.text), raw), None, raw), i + 5


def _day_month_at(lx: TokenCursor, i: int) -> tuple[DateMention, int] | None:
    """Day first: "23 Dec", "8 Jan 2027", and the range "23-31 Dec". A month followed by a day
    number is month first instead ("8-11 Jan 5" is Jan 5 from 8 to 11)."""
    day = lx.small_int(i, 31)
    if day is None:
        return None
    end_day: int | None = None
    j = i + 1
    conn = lx.get(j)
    if conn is not None and (conn.text in RANGE_PUNCT or conn.text.lower() in ("to", "thru")):
        end_day = lx.small_int(j + 1, 31)
        if end_day is None:
            return None
        j += 2
    month_word = lx.word(j)
    if month_word is None or month_word not in MONTHS or lx.small_int(j + 1, 31) is not None:
        return None
    k, year = _year_after(lx, j + 1)
    raw = lx.text[lx.toks[i].start : lx.toks[k - 1].end]
    start = read_calendar_date(MONTHS[month_word], day, year, raw)
    if end_day is None:
        return DateMention(start, None, raw), k
    end = read_calendar_date(MONTHS[month_word], end_day, year, raw)
    return DateMention(start, end, raw, day_only_end=True), k


def _day_of_month_at(lx: TokenCursor, i: int, today: date) -> tuple[DateMention, int] | None:
    """ "the 30th": the next date with that day of the month, today included."""
    day = lx.small_int(i, 31)
    if day is None or lx.word(i + 1) not in ORDINALS or not lx.attached(i + 1):
        return None
    year, month = today.year, today.month
    for _ in range(13):
        try:
            found = date(year, month, day)
        except ValueError:
            found = None
        if found is not None and found >= today:
            raw = lx.text[lx.toks[i].start : lx.toks[i + 1].end]
            return DateMention(found, None, raw), i + 2
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return None


def _numeric_date_at(lx: TokenCursor, i: int) -> tuple[DateMention, int] | None:
    """ "12/23", "12/23/2026", "12/23/26" (month first)."""
    if lx.small_int(i, 12) is None:
        return None
    slash = lx.get(i + 1)
    if slash is None or slash.text != "/" or not lx.attached(i + 1) or not lx.attached(i + 2):
        return None
    day = lx.small_int(i + 2, 31)
    if day is None:
        return None
    end_index = i + 3
    year_tok = lx.get(i + 4)
    after_slash = lx.get(i + 3)
    if (
        after_slash is not None
        and after_slash.text == "/"
        and lx.attached(i + 3)
        and year_tok is not None
        and year_tok.kind == "num"
        and year_tok.text.isdigit()
        and len(year_tok.text) in (2, 4)
        and lx.attached(i + 4)
    ):
        end_index = i + 5
    raw = lx.text[lx.toks[i].start : lx.toks[end_index - 1].end]
    year = int(lx.toks[i + 4].text) if end_index == i + 5 else None
    month = int(lx.toks[i].text)
    return DateMention(read_calendar_date(month, day, year, raw), None, raw), end_index


def _ordinal_date_at(lx: TokenCursor, i: int) -> tuple[DateMention, int] | None:
    """ "5th of January", "23rd Dec": day-first needs the ordinal ("8-11 Jan 5" is no "11 Jan")."""
    day = lx.small_int(i, 31)
    if day is None or lx.word(i + 1) not in ORDINALS or not lx.attached(i + 1):
        return None
    j = i + 2
    if lx.word(j) == "of":
        j += 1
    month_word = lx.word(j)
    if month_word is None or month_word not in MONTHS:
        return None
    j += 1
    j, year = _year_after(lx, j)
    raw = lx.text[lx.toks[i].start : lx.toks[j - 1].end]
    return DateMention(read_calendar_date(MONTHS[month_word], day, year, raw), None, raw), j


def _year_after(lx: TokenCursor, j: int) -> tuple[int, int | None]:
    k = j
    comma = lx.get(k)
    if comma is not None and comma.text == ",":
        k += 1
    year = lx.get(k)
    if (
        year is not None
        and year.kind == "num"
        and len(year.text) == 4
        and year.text.isdigit()
        and 1900 <= int(year.text) <= 2199
    ):
        return k + 1, int(year.text)
    return j, None


def _month_date_at(lx: TokenCursor, i: int) -> tuple[DateMention, int] | None:
    """ "Dec 23", "December 23rd, 2027", "Jan. 5", and the day-only range "Jan 5-9"."""
    j = i + 1
    dot = lx.get(j)
    if dot is not None and dot.text == ".":
        j += 1
    day = lx.small_int(j, 31)
    if day is None:
        return None
    if lx.word(j + 1) in MERIDIEMS:
        return None  # "mar 8am"? not a date
    j += 1
    if lx.word(j) in ORDINALS and lx.attached(j):
        j += 1
    j, year = _year_after(lx, j)
    raw = lx.text[lx.toks[i].start : lx.toks[j - 1].end]
    start = read_calendar_date(MONTHS[lx.toks[i].text.lower()], day, year, raw)
    # "Jan 5-9": a bare day number after a dash, unless it starts a time ("Jan 5 - 8-3").
    conn = lx.get(j)
    is_range = conn is not None and (
        conn.text in RANGE_PUNCT or conn.text.lower() in ("to", "through", "thru")
    )
    is_pair = conn is not None and conn.text.lower() in ("&", "and")  # "Dec 24 & 25"
    if conn is not None and (is_range or is_pair):
        end_day = lx.small_int(j + 1, 31)
        nxt = lx.get(j + 2)
        time_follows = nxt is not None and (
            nxt.text.lower() in MERIDIEMS
            or nxt.text in RANGE_PUNCT
            or nxt.text.lower() in ("to", "until", "till")
        )
        if end_day is not None and not time_follows:
            if is_pair and end_day != start.day + 1:
                raise AskUser(Q_OFF_ONE_SPAN)
            k = j + 2
            if lx.word(k) in ORDINALS and lx.attached(k):
                k += 1
            end = CalendarDate(start.month, end_day, start.year, raw)
            full_raw = lx.text[lx.toks[i].start : lx.toks[k - 1].end]
            return DateMention(start, end, full_raw, day_only_end=True), k
    return DateMention(start, None, raw), j


def _word_at(lx: TokenCursor, i: int, els: list[Element], today: date) -> int:
    t = lx.toks[i]
    w = t.text
    lw = w.lower()
    prev = els[-1] if els else None

    if lw in MONTHS:
        found = _month_date_at(lx, i)
        if found is not None:
            els.append(found[0])
            return found[1]

    zone = zone_at(lx, i, prev)
    if zone is not None:
        mention, after = zone
        before = lx.get(i - 1)
        if isinstance(prev, ZoneMention) and before is not None and before.text == "(":
            els[-1] = mention  # "mountain (AZ)": the bracket says which zone was meant
        else:
            els.append(mention)
        return after

    if lw == "noon":
        els.append(ClockTime(12, 0, "pm", True, w, t.start, t.end))
        return i + 1
    if lw == "midnight":
        els.append(ClockTime(0, 0, "am", True, w, t.start, t.end))
        return i + 1
    if lw in SPAN_WORDS:
        start, end = SPAN_WORDS[lw]
        els.append(TimeSpan(start, end, w, period=True))
        return i + 1
    if lw in ("am", "pm") and isinstance(prev, DaySet):
        # "Tue am" = Tuesday morning; "I am" is not.
        els.append(TimeSpan(*((480, 720) if lw == "am" else (720, 960)), w, period=True))
        return i + 1
    next_tok = lx.get(i + 1)
    if lw in ("lunch", "break") and next_tok is not None and next_tok.kind == "num":
        els.append(Keyword("cut", w))  # "except lunch 12-12:30", "with lunch 11:30-12"
        return i + 1
    if lw == "instead" and lx.word(i + 1) == "of":
        els.append(Keyword("instead", "instead of"))
        return i + 2
    if lw in ("all", "whole", "full"):
        j = i + 1
        nxt = lx.get(j)
        if nxt is not None and nxt.text == "-":
            j += 1
        if lx.word(j) == "day":
            els.append(TimeSpan(0, 1440, lx.text[t.start : lx.toks[j].end]))
            return j + 1
        return i + 1
    if lw in ("today", "tomorrow", "tmrw", "tmr", "tomorow", "tommorow", "tommorrow"):
        when = today if lw == "today" else today + timedelta(days=1)
        els.append(DateMention(when, None, w))
        return i + 1
    if lw in ("next", "this") and lx.word(i + 1) == "week":
        monday = today - timedelta(days=today.weekday())
        if lw == "next":
            els.append(DateMention(monday + timedelta(days=7), monday + timedelta(days=11), w))
        else:
            els.append(DateMention(today, max(today, monday + timedelta(days=4)), w))
        return i + 2
    if lw == "week" and lx.word(i + 1) == "of":
        els.append(Keyword("weekof", "week of"))
        return i + 2
    if lw == "as" and lx.word(i + 1) == "of":
        els.append(Keyword("start", "as of"))
        return i + 2
    if lw in ("every", "each"):
        nxt_word = lx.word(i + 1)
        if nxt_word in ("day", "weekday"):
            every_day = nxt_word == "day"
            end = lx.toks[i + 1].end
            els.append(DaySet([0, 1, 2, 3, 4], True, False, w, t.start, end, every_day))
            return i + 2
        els.append(Keyword("every", w))  # "every Monday": the day word itself follows
        return i + 1

    day = day_word(w, lw)
    if day is not None:
        days, plural, weak, every = day
        if isinstance(prev, Keyword) and prev.role == "every":
            plural = True
        els.append(DaySet(days, plural, weak, w, t.start, t.end, every))
        return i + 1

    role = WORD_ROLES.get(lw)
    if role is not None:
        if role == "except" and lw == "but":
            if lx.word(i + 1) != "not":
                els.append(Keyword("but", w))  # an exception only when days follow
                return i + 1
            els.append(Keyword("except", "but not"))
            return i + 2
        els.append(Keyword(role, w))
        return i + 1

    fuzzy = fuzzy_day(lw)
    if fuzzy is not None:
        els.append(DaySet([fuzzy[0]], fuzzy[1], False, w, t.start, t.end))
    return i + 1


def _means_physical_therapist(lx: TokenCursor, i: int) -> bool:
    before = lx.word(i - 1)
    after = lx.word(i + 1)
    return (before is not None and before in PT_PROFESSION_BEFORE) or (
        after is not None and after in PT_PROFESSION_AFTER
    )
