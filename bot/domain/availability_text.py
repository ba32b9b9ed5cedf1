"""Domain: the availability message grammar.

Turns one plain-words Slack message from a provider ("Mon/Wed 8-12, Fri 1-4 PT", "add Fri 1-4",
"out Dec 23 - Jan 2") into a `ParseResult`: what the provider wants done (intent), the weekly
windows in local wall time, the zone they named, the dates involved, or a short question to put
back to them when the message cannot be saved as it stands.

Pure: no I/O and no clock; `today` is passed in. Weekday sets, times, ranges and zones come from the
hand-written grammar below, so every rule is visible and testable; `dateparser` is used only to read
calendar dates ("Dec 23", "January 5th", "12/23"), and the year is always chosen by our own rules
(`_resolve_start`), never by dateparser's guessing.

Product decisions worth knowing (the tests pin each one):
- a bare hour is am for 7-11, noon for 12, pm for 1-6, 24-hour for 13-24; an explicit am/pm on
  one end of a range carries to the other only when the range still increases;
- "daily" / "every day" mean Mon-Fri (a school product), recorded as an assumption;
- "mornings" 08:00-12:00, "afternoons" (and "pm" after a day) 12:00-16:00, "evenings" 16:00-20:00,
  "all day" 00:00-24:00, "after X" X-24:00, "before X" 00:00-X;
- "next <weekday>" is that weekday in next week (Mon-Sun), "<weekday>" / "this <weekday>" the next
  occurrence, today included;
- time off always has both ends (one day: start == end); open-ended leave is asked about;
- "PT" next to a profession word ("a PT", "PT students") is a physical therapist, not a zone;
- when a question (error) is returned, nothing else is: intent, tz, windows and dates are empty.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from types import MappingProxyType
from typing import Final
from zoneinfo import available_timezones

from dateparser.date import DateDataParser

from bot.domain.schedule import hhmm as format_minutes  # "08:00"; 1440 is "24:00"

__all__ = [
    "ZONE_ABBREVIATIONS",
    "DateSpan",
    "Day",
    "Intent",
    "ParseResult",
    "Window",
    "format_minutes",
    "parse_availability",
    "warm_up",
    "zone_label",
]


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


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


ZONE_ABBREVIATIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "PT": "America/Los_Angeles",
        "PST": "America/Los_Angeles",
        "PDT": "America/Los_Angeles",
        "MT": "America/Denver",
        "MST": "America/Denver",
        "MDT": "America/Denver",
        "AZ": "America/Phoenix",
        "CT": "America/Chicago",
        "CST": "America/Chicago",
        "CDT": "America/Chicago",
        "ET": "America/New_York",
        "EST": "America/New_York",
        "EDT": "America/New_York",
        "AKT": "America/Anchorage",
        "AKST": "America/Anchorage",
        "AKDT": "America/Anchorage",
        "HT": "Pacific/Honolulu",
        "HST": "Pacific/Honolulu",
    }
)

_ZONE_NAMES: Final[Mapping[str, str]] = {
    "pacific": "America/Los_Angeles",
    "mountain": "America/Denver",
    "arizona": "America/Phoenix",
    "central": "America/Chicago",
    "eastern": "America/New_York",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
}

_ZONE_LABELS: Final[Mapping[str, str]] = {
    "America/Los_Angeles": "Pacific",
    "America/Anchorage": "Alaska",
    "America/Phoenix": "Arizona",
    "America/Chicago": "Central",
    "America/New_York": "Eastern",
    "America/Denver": "Mountain",
    "Pacific/Honolulu": "Hawaii",
}

# Abbreviations that name several zones around the world; we ask rather than guess.
_AMBIGUOUS_ZONES: Final = frozenset({"IST", "BST", "AST", "SST"})

# First segment of an IANA name; lets "Mon/Wed" skip the zone lookup entirely.
_IANA_AREAS: Final = _words(
    "africa america antarctica arctic asia atlantic australia brazil canada chile etc "
    "europe indian mexico pacific us"
)

# "PT" is also a physical therapist in this product; these neighbours mean the profession.
_PT_PROFESSION_BEFORE: Final = frozenset({"a", "an", "the", "my", "as", "our", "your", "another"})
_PT_PROFESSION_AFTER: Final = _words(
    "student students session sessions caseload caseloads service services eval evals "
    "evaluation evaluations kid kids group groups provider providers therapist therapists "
    "license licence minutes"
)


def zone_label(tz: str) -> str:
    """A short everyday name for a zone ("America/Los_Angeles" -> "Pacific"), else the IANA name."""
    return _ZONE_LABELS.get(tz, tz)


# --- questions put back to the user -----------------------------------------------------------

_Q_OFF_TOPIC: Final = (
    "I can only update availability and time off. Try “Tue 8-11 PT” or “out Dec 23 - Jan 2”."
)
_Q_NO_DAYS: Final = "Which days? Try “Tue 8-11”."
_Q_NO_TIME: Final = "What times on {days}? Try “{day} 8-11”."
_Q_SINGLE_TIME: Final = "From when to when? Try “Tue 9-11” rather than a single time like “{raw}”."
_Q_END_BEFORE_START: Final = "“{raw}” ends before it starts. Which hours did you mean?"
_Q_OVERNIGHT: Final = "“{raw}” runs past midnight. Could you split it at midnight, one day each?"
_Q_BAD_TIME: Final = "“{raw}” isn't a time I can read. Which time did you mean?"
_Q_ALTERNATIVES: Final = (
    "Which one should I save? Send just the days and hours you want, e.g. “Tue 8-11”."
)
_Q_TWO_ZONES: Final = "Which time zone: {zones}? Send one zone per message, e.g. “Tue 8-11 PT”."
_Q_AMBIGUOUS_ZONE: Final = (
    "Which time zone do you mean by “{raw}”? Try “PT”, “ET” or a full name like “Europe/London”."
)
_Q_PAST_DATE: Final = "{label} has already passed. Which date did you mean?"
_Q_BAD_DATE: Final = "I couldn't read “{raw}” as a date. Which date did you mean?"
_Q_WRONG_WEEKDAY: Final = "{label} is a {weekday}. Which date did you mean?"
_Q_BACKWARDS_DATES: Final = "Those dates run backwards. Which dates did you mean?"
_Q_OFF_NO_DATE: Final = "Which dates are you out? Try “out Dec 23 - Jan 2” or “off Friday”."
_Q_OFF_NO_END: Final = "Until when are you out? Add the last day, e.g. “out {label} - {example}”."
_Q_OFF_ONE_SPAN: Final = "Please send one stretch of time off at a time, e.g. “out Dec 23 - Jan 2”."
_Q_OFF_WITH_TIMES: Final = (
    "Time off is saved as whole days. Which days are you out? Try “off Friday”, "
    "or “remove Fri 1-4” to drop weekly hours."
)
_Q_OFF_RECURRING: Final = (
    "Do you mean one {day} or every {day}? Try “off {example}” for one day, "
    "or “drop {plural}” to stop working them every week."
)
_Q_DATE_IN_WEEKLY: Final = (
    "I keep weekly hours, not one-off dates. Did you mean starting {label}? "
    "Try “starting {label}, Tue 8-11”."
)
_Q_DATES_ONLY: Final = "Are you out then? Try “out {raw}”, or give days and hours like “Tue 8-11”."
_Q_MIXED: Final = "One change at a time, please: send the removal and the addition separately."


class _Question(Exception):
    """Raised inside the parser to stop at the first thing the user must clarify."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# --- vocabulary -------------------------------------------------------------------------------

_DAY_TITLES: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_DAY_FULL: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_DAYS: Final = tuple(Day)
_MONTH_ABBR: Final = (
    "",
    *("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"),
)


def _day_words() -> dict[str, tuple[int, bool]]:
    words: dict[str, tuple[int, bool]] = {}
    abbreviations = (
        ("mon", "mons"),
        ("tue", "tues", "tu", "tus"),
        ("wed", "weds"),
        ("thu", "thur", "thurs", "th", "thr", "thrs"),
        ("fri", "fris"),
        ("sat", "sats", "sa"),
        ("sun", "suns", "su"),
    )
    for index, full in enumerate(_DAY_FULL):
        words[full.lower()] = (index, False)
        words[full.lower() + "s"] = (index, True)
        for abbr in abbreviations[index]:
            words[abbr] = (index, False)
    return words


_DAY_WORDS: Final = _day_words()
_FUZZY_TARGETS: Final = tuple(
    (full.lower() + suffix, index) for index, full in enumerate(_DAY_FULL) for suffix in ("", "s")
)
# Real words close to a day name; a typo match must never produce them.
_NOT_DAYS: Final = _words(
    "midday today someday holiday holidays birthday birthdays weekday weekdays workday "
    "workdays yesterday payday sundae sundaes mayday monkey monkeys mondo sunday's "
    "tuesdays' thursday's sturdy study saturate"
)
_SINGLE_LETTER_DAYS: Final = {"m": 0, "t": 1, "w": 2, "f": 4}
_COMPACT_RE: Final = re.compile(r"(?:M|Tu|Th|T|W|R|F|Sa|Su)+")
_COMPACT_LOWER_RE: Final = re.compile(r"(?:m|tu|th|t|w|f)+")
_NOT_COMPACT: Final = frozenset({"FT", "MR", "WTF", "TMW", "MTF"})  # full-time, Mr., ...
_COMPACT_PART_RE: Final = re.compile(r"Tu|Th|Sa|Su|M|T|W|R|F", re.IGNORECASE)
_COMPACT_PARTS: Final = {"m": 0, "tu": 1, "t": 1, "w": 2, "th": 3, "r": 3, "f": 4, "sa": 5, "su": 6}

_MONTHS: Final = {
    name: index
    for index, names in enumerate(
        (
            (),
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        )
    )
    for name in names
}
_ORDINALS: Final = frozenset({"st", "nd", "rd", "th"})
_MERIDIEMS: Final = {"am": "am", "pm": "pm", "a": "am", "p": "pm"}
# A number followed by one of these is a quantity, not a time ("30 min sessions", "4 hours").
_QUANTITY_WORDS: Final = _words(
    "min mins minute minutes hr hrs hour hours h x students kids sessions session percent "
    "days weeks"
)

# Each word maps to a neutral connector/keyword the second pass understands.
_WORD_ROLES: Final[Mapping[str, str]] = {
    "to": "range",
    "until": "range",
    "till": "range",
    "til": "range",
    "untill": "range",
    "thru": "range",
    "through": "range",
    "and": "and",
    "or": "or",
    "either": "or",
    "from": "from",
    "between": "between",
    "after": "after",
    "before": "before",
    "except": "except",
    "excluding": "except",
    "but": "except",
    "starting": "start",
    "start": "start",
    "starts": "start",
    "beginning": "start",
    "begin": "start",
    "begins": "start",
    "effective": "start",
    "commencing": "start",
    "back": "back",
    "returning": "back",
    "return": "back",
    "next": "next",
    "this": "this",
}
_UNTIL_WORDS: Final = frozenset({"until", "till", "til", "untill", "thru", "through"})
_DATE_MARKER_ROLES: Final = frozenset({"start", "back", "from"})
_RANGE_PUNCT: Final = frozenset({"-", "~"})
_LIST_PUNCT: Final = {"/": "/", ",": ",", ";": ",", "&": "and", "+": "and"}
_SPAN_WORDS: Final[Mapping[str, tuple[int, int]]] = {
    "morning": (480, 720),
    "mornings": (480, 720),
    "afternoon": (720, 960),
    "afternoons": (720, 960),
    "evening": (960, 1200),
    "evenings": (960, 1200),
}

# --- intent cues (matched on the lower-cased message) ------------------------------------------

_SHOW_RE: Final = re.compile(
    r"(?:please\s+)?(?:"
    r"(?:show|list|view|see|display|check)(?:\s+me)?(?:\s+(?:my|the))?(?:\s+(?:current|saved))?"
    r"(?:\s+(?:schedule|availability|hours|times|windows|time\s+off))?"
    r"|what(?:'s|\s+is|\s+are)\s+my\s+(?:current\s+)?(?:schedule|availability|hours|times)"
    r"|what\s+do\s+i\s+have(?:\s+(?:on\s+file|set(?:\s+up)?|saved|now))?"
    r"|what\s+(?:hours|times|days)\s+do\s+i\s+have(?:\s+(?:on\s+file|set(?:\s+up)?|saved|now))?"
    r"|when\s+am\s+i\s+available"
    r"|(?:my\s+)?(?:current\s+)?(?:schedule|availability|hours)"
    r")(?:\s+please)?"
)
_OFF_TOPIC_RE: Final = re.compile(
    r"\b(?:move|moving|moved|reschedul\w*|swap\w*|weather)\b"
    # "my 2pm" points at a session, not at hours ("my 8-3" is still hours).
    r"|\bmy\s+[0-9]{1,2}(?::[0-9]{2})?\s*(?:am|pm|a|p)?\b(?!\s*(?:-|to\b|until\b|till\b))"
)
_TIME_OFF_RE: Final = re.compile(
    r"(?<!figure )(?<!check )(?<!find )(?<!work )\bout\b|\booo\b|\bpto\b|\bvacation\b|\bvacay\b"
    r"|\bon\s+leave\b|(?<!right )\baway\b|\bsick\b|\btime\s+off\b|\bdays?\s+off\b"
    r"|(?<!take )\boff\b(?!\s+(?:my|the)\s+(?:schedule|calendar|availability|hours))"
    r"|\bback\b|\breturning\b"
)
_REMOVE_RE: Final = re.compile(
    r"\bno\s+longer\b|\bdrop\b|\bremove\b|\bdelete\b|\btake\s+off\b|\bcan'?t\s+(?:do|make|work)\b"
    r"|\bcannot\s+(?:do|make|work)\b|\bcan\s+not\s+(?:do|make|work)\b|\bdon'?t\s+do\b"
    r"|\bdo\s+not\s+do\b|\bnot\s+available\b|\bunavailable\b|\bnot\s+free\b"
    r"|\bwon'?t\s+be\s+(?:available|free)\b|\bno\s+more\b|\bnot\s+doing\b|\bstop\b|\bclear\b"
)
_ADD_STRONG_RE: Final = re.compile(
    r"\badd\b|\badding\b|\bplus\b|\bin\s+addition\b|\badditionally\b|\bextra\b|\banother\b"
)
_ADD_WEAK_RE: Final = re.compile(r"\balso\b|\btoo\b|\bas\s+well\b")
# Enough on its own to make a message about availability (else a lone "thanks" is off topic).
_ON_TOPIC_RE: Final = re.compile(
    r"\b(?:ooo|pto|vacation|out\s+of\s+(?:the\s+)?office|time\s+off|add|remove|drop|delete"
    r"|no\s+longer|not\s+available|unavailable|available|availability|hours|schedule"
    r"|out|off|sick|on\s+leave)\b"
)
_OR_RE: Final = re.compile(r"\bor\b|\beither\b")

# --- lexer ------------------------------------------------------------------------------------

_NORMALIZE: Final = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2012": "-",
        "\u2212": "-",
        "\u2015": "-",
        "\u2010": "-",
        "\u2011": "-",
        "\u2019": "'",
        "\u2018": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u00a0": " ",
    }
)
_DOTTED_MERIDIEM_RE: Final = re.compile(r"(?<![A-Za-z])([AaPp])\.\s?([Mm])\.?")
_TOKEN_RE: Final = re.compile(
    r"(?P<num>[0-9]+(?:[:.][0-9]+)?)|(?P<word>[A-Za-z]+(?:'[A-Za-z]+)*)|(?P<punct>[-/,&+;?!.()~])"
)
_IANA_RE: Final = re.compile(r"(?<![A-Za-z0-9_/])[A-Za-z]+(?:_[A-Za-z]+)*(?:/[A-Za-z0-9_+-]+)+")


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # "num", "word", "punct" or "zone"
    text: str
    start: int
    end: int


def _lex(text: str) -> list[_Tok]:
    zones: list[_Tok] = []
    if "/" in text:
        for m in _IANA_RE.finditer(text):
            name = m.group(0)
            if name.split("/", 1)[0].lower() in _IANA_AREAS:
                # An unknown name ("America/Nowhere") becomes a question, not a silent default.
                canonical = _iana_names().get(name.lower(), "?" + name)
                zones.append(_Tok("zone", canonical, m.start(), m.end()))
    toks: list[_Tok] = []
    for m in _TOKEN_RE.finditer(text):
        kind = m.lastgroup
        assert kind is not None
        if zones and any(z.start <= m.start() < z.end for z in zones):
            continue
        toks.append(_Tok(kind, m.group(0), m.start(), m.end()))
    if zones:
        toks.extend(zones)
        toks.sort(key=lambda t: t.start)
    return toks


@lru_cache(maxsize=1)
def _iana_names() -> dict[str, str]:
    # Computed once, on the first message that names a zone like "America/Boise".
    return {name.lower(): name for name in available_timezones()}


# --- first-pass elements ----------------------------------------------------------------------


@dataclass(slots=True)
class _Time:
    hour: int
    minute: int
    meridiem: str | None  # "am" / "pm" as written
    fixed: bool  # 24-hour form ("0830", "13:00"), noon or midnight: no am/pm guessing
    raw: str
    start: int
    end: int
    bad: bool = False


@dataclass(slots=True)
class _Days:
    days: list[int]
    plural: bool
    weak: bool  # a lone lower-case letter ("t", "w"): a day only next to another day or a time
    raw: str
    start: int
    end: int
    every: bool = False  # "daily" / "every day": recorded as an assumption


@dataclass(slots=True)
class _Cal:
    month: int
    day: int
    year: int | None
    raw: str
    weekday_hint: int | None = None


@dataclass(slots=True)
class _DateEl:
    start: _Cal | date
    end: _Cal | date | None
    raw: str
    day_only_end: bool = False  # "Jan 5-9": the end shares the start's month and year


@dataclass(slots=True)
class _Zone:
    tz: str | None  # None: an ambiguous abbreviation or an unknown IANA name
    raw: str


@dataclass(slots=True)
class _Word:
    role: str
    raw: str


@dataclass(slots=True)
class _Span:
    start: int
    end: int
    raw: str
    assumption: str | None = None


_El = _Time | _Days | _DateEl | _Zone | _Word | _Span


class _Lexed:
    """Token cursor with the handful of look-ahead helpers the first pass needs."""

    def __init__(self, text: str, toks: list[_Tok]) -> None:
        self.text = text
        self.toks = toks

    def get(self, i: int) -> _Tok | None:
        return self.toks[i] if 0 <= i < len(self.toks) else None

    def attached(self, i: int) -> bool:
        """Token i touches the previous token (no space between)."""
        return 0 < i < len(self.toks) and self.toks[i - 1].end == self.toks[i].start

    def word(self, i: int) -> str | None:
        t = self.get(i)
        return t.text.lower() if t is not None and t.kind == "word" else None

    def small_int(self, i: int, limit: int) -> int | None:
        t = self.get(i)
        if t is None or t.kind != "num" or not t.text.isdigit() or len(t.text) > 2:
            return None
        value = int(t.text)
        return value if 1 <= value <= limit else None


def _pass1(lx: _Lexed, today: date) -> list[_El]:
    els: list[_El] = []
    toks = lx.toks
    i = 0
    while i < len(toks):
        t = toks[i]
        if t.kind == "zone":
            unknown = t.text.startswith("?")
            els.append(_Zone(None if unknown else t.text, t.text.lstrip("?")))
            i += 1
        elif t.kind == "num":
            i = _num_at(lx, i, els)
        elif t.kind == "punct":
            if t.text in _RANGE_PUNCT:
                els.append(_Word("range", t.text))
            elif t.text in _LIST_PUNCT:
                els.append(_Word(_LIST_PUNCT[t.text], t.text))
            i += 1
        else:
            i = _word_at(lx, i, els, today)
    return els


def _num_at(lx: _Lexed, i: int, els: list[_El]) -> int:
    date_match = _numeric_date_at(lx, i) or _ordinal_date_at(lx, i)
    if date_match is not None:
        el, i = date_match
        els.append(el)
        return i
    t = lx.toks[i]
    following = lx.word(i + 1)
    if following is not None and (following in _QUANTITY_WORDS or following in _ORDINALS):
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
        and following in _MERIDIEMS
        and (len(following) == 2 or lx.attached(i + 1))
    ):
        meridiem = _MERIDIEMS[following]
        end_index = i + 2
    if meridiem is not None and (hour == 0 or hour > 12):
        bad = True
    end_tok = lx.toks[end_index - 1]
    raw = lx.text[t.start : end_tok.end]
    els.append(_Time(hour, minute, meridiem, fixed, raw, t.start, end_tok.end, bad))
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


def _numeric_date_at(lx: _Lexed, i: int) -> tuple[_DateEl, int] | None:
    """ "12/23", "12/23/2026", "12/23/26" (month first)."""
    if lx.small_int(i, 12) is None:
        return None
    slash = lx.get(i + 1)
    if slash is None or slash.text != "/" or not lx.attached(i + 1) or not lx.attached(i + 2):
        return None
    if lx.small_int(i + 2, 31) is None:
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
    return _DateEl(_read_calendar_date(raw, explicit_year=end_index == i + 5), None, raw), end_index


def _ordinal_date_at(lx: _Lexed, i: int) -> tuple[_DateEl, int] | None:
    """ "5th of January", "23rd Dec": day-first needs the ordinal ("8-11 Jan 5" is no "11 Jan")."""
    if lx.small_int(i, 31) is None or lx.word(i + 1) not in _ORDINALS or not lx.attached(i + 1):
        return None
    j = i + 2
    if lx.word(j) == "of":
        j += 1
    month_word = lx.word(j)
    if month_word is None or month_word not in _MONTHS:
        return None
    j += 1
    j, explicit_year = _year_after(lx, j)
    raw = lx.text[lx.toks[i].start : lx.toks[j - 1].end]
    return _DateEl(_read_calendar_date(raw, explicit_year), None, raw), j


def _year_after(lx: _Lexed, j: int) -> tuple[int, bool]:
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
        return k + 1, True
    return j, False


def _month_date_at(lx: _Lexed, i: int) -> tuple[_DateEl, int] | None:
    """ "Dec 23", "December 23rd, 2027", "Jan. 5", and the day-only range "Jan 5-9"."""
    j = i + 1
    dot = lx.get(j)
    if dot is not None and dot.text == ".":
        j += 1
    day = lx.small_int(j, 31)
    if day is None:
        return None
    if lx.word(j + 1) in _MERIDIEMS:
        return None  # "mar 8am"? not a date
    j += 1
    if lx.word(j) in _ORDINALS and lx.attached(j):
        j += 1
    j, explicit_year = _year_after(lx, j)
    raw = lx.text[lx.toks[i].start : lx.toks[j - 1].end]
    start = _read_calendar_date(raw, explicit_year)
    # "Jan 5-9": a bare day number after a dash, unless it starts a time ("Jan 5 - 8-3").
    conn = lx.get(j)
    is_range = conn is not None and (
        conn.text in _RANGE_PUNCT or conn.text.lower() in ("to", "through", "thru")
    )
    is_pair = conn is not None and conn.text.lower() in ("&", "and")  # "Dec 24 & 25"
    if conn is not None and (is_range or is_pair):
        end_day = lx.small_int(j + 1, 31)
        nxt = lx.get(j + 2)
        time_follows = nxt is not None and (
            nxt.text.lower() in _MERIDIEMS
            or nxt.text in _RANGE_PUNCT
            or nxt.text.lower() in ("to", "until", "till")
        )
        if end_day is not None and not time_follows:
            if is_pair and end_day != start.day + 1:
                raise _Question(_Q_OFF_ONE_SPAN)
            k = j + 2
            if lx.word(k) in _ORDINALS and lx.attached(k):
                k += 1
            end = _Cal(start.month, end_day, start.year, raw)
            full_raw = lx.text[lx.toks[i].start : lx.toks[k - 1].end]
            return _DateEl(start, end, full_raw, day_only_end=True), k
    return _DateEl(start, None, raw), j


def _word_at(lx: _Lexed, i: int, els: list[_El], today: date) -> int:
    t = lx.toks[i]
    w = t.text
    lw = w.lower()
    prev = els[-1] if els else None

    if lw in _MONTHS:
        found = _month_date_at(lx, i)
        if found is not None:
            els.append(found[0])
            return found[1]

    zone = _zone_word(lx, i, prev)
    if zone is not None:
        els.append(zone)
        return i + 1

    if lw == "noon":
        els.append(_Time(12, 0, "pm", True, w, t.start, t.end))
        return i + 1
    if lw == "midnight":
        els.append(_Time(0, 0, "am", True, w, t.start, t.end))
        return i + 1
    if lw in _SPAN_WORDS:
        start, end = _SPAN_WORDS[lw]
        els.append(_Span(start, end, w))
        return i + 1
    if lw in ("am", "pm") and isinstance(prev, _Days):
        # "Tue am" = Tuesday morning; "I am" is not.
        els.append(_Span(*((480, 720) if lw == "am" else (720, 960)), w))
        return i + 1
    if lw in ("all", "whole", "full"):
        j = i + 1
        nxt = lx.get(j)
        if nxt is not None and nxt.text == "-":
            j += 1
        if lx.word(j) == "day":
            els.append(_Span(0, 1440, lx.text[t.start : lx.toks[j].end]))
            return j + 1
        return i + 1
    if lw in ("today", "tomorrow", "tmrw", "tmr", "tomorow", "tommorow", "tommorrow"):
        when = today if lw == "today" else today + timedelta(days=1)
        els.append(_DateEl(when, None, w))
        return i + 1
    if lw in ("next", "this") and lx.word(i + 1) == "week":
        monday = today - timedelta(days=today.weekday())
        if lw == "next":
            els.append(_DateEl(monday + timedelta(days=7), monday + timedelta(days=11), w))
        else:
            els.append(_DateEl(today, max(today, monday + timedelta(days=4)), w))
        return i + 2
    if lw == "week" and lx.word(i + 1) == "of":
        els.append(_Word("weekof", "week of"))
        return i + 2
    if lw == "as" and lx.word(i + 1) == "of":
        els.append(_Word("start", "as of"))
        return i + 2
    if lw in ("every", "each"):
        nxt_word = lx.word(i + 1)
        if nxt_word in ("day", "weekday"):
            every_day = nxt_word == "day"
            end = lx.toks[i + 1].end
            els.append(_Days([0, 1, 2, 3, 4], True, False, w, t.start, end, every_day))
            return i + 2
        els.append(_Word("every", w))  # "every Monday": the day word itself follows
        return i + 1

    day = _day_word(w, lw)
    if day is not None:
        days, plural, weak, every = day
        if isinstance(prev, _Word) and prev.role == "every":
            plural = True
        els.append(_Days(days, plural, weak, w, t.start, t.end, every))
        return i + 1

    role = _WORD_ROLES.get(lw)
    if role is not None:
        if role == "except" and lw == "but":
            if lx.word(i + 1) != "not":
                return i + 1
            els.append(_Word("except", "but not"))
            return i + 2
        els.append(_Word(role, w))
        return i + 1

    fuzzy = _fuzzy_day(lw)
    if fuzzy is not None:
        els.append(_Days([fuzzy[0]], fuzzy[1], False, w, t.start, t.end))
    return i + 1


def _zone_word(lx: _Lexed, i: int, prev: _El | None) -> _Zone | None:
    t = lx.toks[i]
    w = t.text
    upper = w.upper()
    after_time = isinstance(prev, _Time)
    if upper in ZONE_ABBREVIATIONS or upper in _AMBIGUOUS_ZONES:
        # Upper-case counts anywhere; lower-case two-letter ones ("pt" = patient) only after a time.
        if not (w.isupper() or after_time or (len(w) >= 3 and upper not in _AMBIGUOUS_ZONES)):
            return None
        if upper == "PT" and not after_time and _means_physical_therapist(lx, i):
            return None
        if upper in _AMBIGUOUS_ZONES:
            return _Zone(None, w)
        return _Zone(ZONE_ABBREVIATIONS[upper], w)
    name = _ZONE_NAMES.get(w.lower())
    if name is not None:
        return _Zone(name, w)
    return None


def _means_physical_therapist(lx: _Lexed, i: int) -> bool:
    before = lx.word(i - 1)
    after = lx.word(i + 1)
    return (before is not None and before in _PT_PROFESSION_BEFORE) or (
        after is not None and after in _PT_PROFESSION_AFTER
    )


def _day_word(w: str, lw: str) -> tuple[list[int], bool, bool, bool] | None:
    """(days, plural, weak, every) for one word that names days, else None."""
    known = _DAY_WORDS.get(lw[:-2] if lw.endswith("'s") else lw)
    if known is not None:
        return [known[0]], known[1], False, False
    if lw in ("weekday", "weekdays"):
        return [0, 1, 2, 3, 4], True, False, False
    if lw in ("weekend", "weekends"):
        return [5, 6], True, False, False
    if lw in ("daily", "everyday"):
        return [0, 1, 2, 3, 4], True, False, True
    if len(w) == 1:
        index = _SINGLE_LETTER_DAYS.get(lw)
        if index is None:
            return None
        return [index], False, not w.isupper(), False
    compact = _compact_days(w, lw)
    if compact is not None:
        return compact, False, False, False
    return None


def _compact_days(w: str, lw: str) -> list[int] | None:
    """ "MWF", "TTh", "TuTh", "MTWThF", "MTWRF"; lower-case only when unmistakable ("mwf")."""
    if w in _NOT_COMPACT:
        return None
    if _COMPACT_RE.fullmatch(w) is None:
        if _COMPACT_LOWER_RE.fullmatch(lw) is None or len(w) < 3:
            return None
        if "w" not in lw and "th" not in lw:
            return None  # "tuft", "ftt": letters that merely look like days
    days: list[int] = []
    for part in _COMPACT_PART_RE.findall(w):
        index = _COMPACT_PARTS[part.lower()]
        # In "MTWTF" the second T follows Wednesday, so it is Thursday.
        if part.lower() == "t" and days and (days[-1] >= 2 or 1 in days):
            index = 3
        if index not in days:
            days.append(index)
    return days if len(days) >= 2 else None


def _fuzzy_day(lw: str) -> tuple[int, bool] | None:
    """A misspelt full day name ("Tuseday", "thrusday", "wendesday", "firday")."""
    if len(lw) < 5 or lw in _NOT_DAYS or not lw.isalpha():
        return None
    limit = 2 if len(lw) >= 6 else 1
    best: tuple[int, bool] | None = None
    best_distance = limit + 1
    tie = False
    for target, index in _FUZZY_TARGETS:
        if target[0] != lw[0] or abs(len(target) - len(lw)) > limit:
            continue
        distance = _osa_distance(lw, target, limit)
        # Two edits only for words that still end like a day name ("firday"), never "monkey".
        if distance == 2 and not lw.endswith(("day", "days")):
            continue
        if distance < best_distance:
            best, best_distance, tie = (index, target.endswith("s")), distance, False
        elif distance == best_distance and best is not None and best[0] != index:
            tie = True
    return None if tie else best


def _osa_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment edit distance (a swap of neighbours counts once), capped."""
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return previous[-1]


# --- calendar dates: dateparser reads them, our rules pick the year ------------------------------


@lru_cache(maxsize=1)
def _date_parser() -> DateDataParser:
    # A fixed leap-year base: dateparser only supplies month and day (Feb 29 included) and never
    # reads the clock; the year comes from `_resolve_start`.
    return DateDataParser(
        languages=["en"],
        settings={
            "DATE_ORDER": "MDY",
            "PREFER_DAY_OF_MONTH": "first",
            "REQUIRE_PARTS": ["day", "month"],
            "PARSERS": ["absolute-time"],
            "RELATIVE_BASE": datetime.combine(date(2000, 1, 1), time()),
        },
    )


def _read_calendar_date(raw: str, explicit_year: bool) -> _Cal:
    found = _date_parser().get_date_data(raw).date_obj
    if not isinstance(found, datetime):
        raise _Question(_Q_BAD_DATE.format(raw=raw))
    return _Cal(found.month, found.day, found.year if explicit_year else None, raw)


def _cal_label(c: _Cal) -> str:
    label = f"{_MONTH_ABBR[c.month]} {c.day}"
    return label if c.year is None else f"{label}, {c.year}"


def _make_date(year: int, c: _Cal) -> date:
    try:
        return date(year, c.month, c.day)
    except ValueError:
        raise _Question(_Q_BAD_DATE.format(raw=c.raw)) from None


def _check_hint(d: date, c: _Cal) -> date:
    if c.weekday_hint is not None and d.weekday() != c.weekday_hint:
        raise _Question(
            _Q_WRONG_WEEKDAY.format(label=_cal_label(c), weekday=_DAY_FULL[d.weekday()])
        )
    return d


def _resolve_start(c: _Cal | date, today: date) -> date:
    """A date without a year is this year if not yet past, a question if it passed within 60
    days (a slip, most likely), else next year. A date with an explicit past year is a question."""
    if isinstance(c, date):
        return c
    if c.year is not None:
        explicit = _make_date(c.year, c)
        if explicit < today:
            raise _Question(_Q_PAST_DATE.format(label=_cal_label(c)))
        return _check_hint(explicit, c)
    # The latest occurrence before today may be last year's ("Dec 23" typed on Jan 10).
    for year in (today.year, today.year - 1):
        try:
            past = date(year, c.month, c.day)
        except ValueError:  # Feb 29 outside a leap year
            continue
        if past < today and (today - past).days <= 60:
            raise _Question(_Q_PAST_DATE.format(label=_cal_label(c)))
    try:
        d = date(today.year, c.month, c.day)
        if d >= today:
            return _check_hint(d, c)
    except ValueError:
        pass
    return _check_hint(_make_date(today.year + 1, c), c)


def _resolve_end(c: _Cal | date, start: date, day_only: bool) -> date:
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
        raise _Question(_Q_BACKWARDS_DATES)
    return end


def _next_occurrence(day: int, today: date, next_week: bool) -> date:
    if next_week:
        return today - timedelta(days=today.weekday()) + timedelta(days=7 + day)
    return today + timedelta(days=(day - today.weekday()) % 7)


# --- second pass: days, date markers, time ranges, groups ---------------------------------------


def _join_days(els: list[_El], today: date, time_off: bool) -> list[_El]:
    """Joins day words into day sets ("M-F", "Mon, Wed", "Tuesdays and Thursdays"), and turns
    weekdays used as dates ("starting next Monday", "off Friday") into dates."""
    out: list[_El] = []
    n = len(els)
    j = 0
    while j < n:
        e = els[j]
        if isinstance(e, _Word) and e.role in ("next", "this") and j + 1 < n:
            nxt = els[j + 1]
            if isinstance(nxt, _Days) and not nxt.plural and len(nxt.days) == 1:
                out.append(_days_as_date(nxt, today, next_week=e.role == "next"))
                j += 2
                continue
        if isinstance(e, _Word) and e.role == "weekof" and j + 1 < n:
            nxt = els[j + 1]
            if isinstance(nxt, _DateEl) and nxt.end is None:
                out.append(_Word("weekof", e.raw))
                out.append(nxt)
                j += 2
                continue
        if isinstance(e, _Days):
            prev = out[-1] if out else None
            # After "starting"/"back"/"from" the first day is a date: "starting Monday Tue 8-11".
            after_marker = isinstance(prev, _Word) and prev.role in _DATE_MARKER_ROLES
            chain, j2 = _day_chain(els, j, lists=not after_marker)
            label = _day_label_for_date(els, j2, chain)
            if label is not None:
                label.weekday_hint = chain.days[0]
                j = j2
                continue
            if chain.weak:
                following = els[j2] if j2 < n else None
                if not isinstance(following, _Time):
                    j = j2
                    continue  # a stray letter, not a day
            as_date = False
            if isinstance(prev, _Word) and len(chain.days) == 1 and not chain.plural:
                if prev.role in ("start", "back"):
                    as_date = True
                elif prev.role == "range":
                    before = out[-2] if len(out) >= 2 else None
                    as_date = not isinstance(before, _Days) and prev.raw.lower() in _UNTIL_WORDS
                elif prev.role == "from":
                    then = els[j2] if j2 < n else None
                    later_days = any(isinstance(x, _Days) for x in els[j2:])
                    as_date = later_days and not (isinstance(then, _Word) and then.role == "range")
            if time_off and not as_date and not (isinstance(prev, _Word) and prev.role == "except"):
                if chain.plural:
                    raise _Question(_recurring_question(chain, today))
                as_date = True
            if as_date:
                out.append(_days_as_date(chain, today, next_week=False))
            else:
                out.append(chain)
            j = j2
            continue
        out.append(e)
        j += 1
    return out


def _day_label_for_date(els: list[_El], j: int, chain: _Days) -> _Cal | None:
    """ "Fri Dec 4" / "Friday, Dec 4": the weekday only labels the date that follows."""
    if len(chain.days) != 1 or chain.plural:
        return None
    k = j
    if k < len(els):
        comma = els[k]
        if isinstance(comma, _Word) and comma.role == ",":
            k += 1
    if k < len(els):
        nxt = els[k]
        if isinstance(nxt, _DateEl) and isinstance(nxt.start, _Cal):
            return nxt.start
    return None


def _day_chain(els: list[_El], j: int, *, lists: bool = True) -> tuple[_Days, int]:
    """Joins day words by ranges ("Mon-Thu"), and unless `lists` is off by lists ("Mon, Wed")."""
    first = els[j]
    assert isinstance(first, _Days)
    days = list(first.days)
    plural, every = first.plural, first.every
    weak_only = first.weak
    last_single: int | None = first.days[0] if len(first.days) == 1 else None
    start, end = first.start, first.end
    parts = 1
    k = j + 1
    n = len(els)
    while k < n:
        e = els[k]
        conn: str | None = None
        nxt: _El = e
        if isinstance(e, _Word) and e.role in ("/", ",", "and", "range") and k + 1 < n:
            conn = e.role
            nxt = els[k + 1]
        if not isinstance(nxt, _Days) or (conn != "range" and not lists):
            break
        if conn == "range":
            if last_single is None or len(nxt.days) != 1:
                break
            span = (nxt.days[0] - last_single) % 7
            for step in range(1, span + 1):
                index = (last_single + step) % 7
                if index not in days:
                    days.append(index)
            last_single = None
        else:
            for index in nxt.days:
                if index not in days:
                    days.append(index)
            last_single = nxt.days[0] if len(nxt.days) == 1 else None
        plural = plural or nxt.plural
        every = every or nxt.every
        weak_only = weak_only and nxt.weak
        end = nxt.end
        parts += 1
        k += 2 if conn is not None else 1
    weak = weak_only and parts == 1
    return _Days(days, plural, weak, "", start, end, every), k


def _days_as_date(chain: _Days, today: date, next_week: bool) -> _DateEl:
    first = _next_occurrence(chain.days[0], today, next_week)
    consecutive = all(d == (chain.days[0] + k) % 7 for k, d in enumerate(chain.days))
    if not consecutive:
        raise _Question(_Q_OFF_ONE_SPAN)
    last = first + timedelta(days=len(chain.days) - 1)
    return _DateEl(first, last if last != first else None, _DAY_TITLES[chain.days[0]])


def _recurring_question(chain: _Days, today: date) -> str:
    index = chain.days[0]
    day = _DAY_FULL[index]
    example = _next_occurrence(index, today, next_week=False)
    return _Q_OFF_RECURRING.format(
        day=day, plural=day + "s", example=f"{_MONTH_ABBR[example.month]} {example.day}"
    )


@dataclass(slots=True)
class _Group:
    days: list[int]
    spans: list[_Span]
    times_first: bool


@dataclass(slots=True)
class _Assembled:
    groups: list[_Group]
    dates: list[tuple[str, _DateEl]]
    zones: list[_Zone]
    excluded: list[int]
    every: bool


def _assemble(els: list[_El], text: str) -> _Assembled:
    groups: list[_Group] = []
    dates: list[tuple[str, _DateEl]] = []
    zones: list[_Zone] = []
    excluded: list[int] = []
    every = False
    current: _Group | None = None
    marker: str | None = None
    n = len(els)
    j = 0

    def add_span(span: _Span) -> None:
        nonlocal current
        if current is None or (current.times_first and current.days):
            current = _Group([], [], times_first=True)
            groups.append(current)
        current.spans.append(span)

    while j < n:
        e = els[j]
        if isinstance(e, _Zone):
            zones.append(e)
        elif isinstance(e, _DateEl):
            nxt = els[j + 1] if j + 1 < n else None
            after = els[j + 2] if j + 2 < n else None
            if (
                e.end is None
                and isinstance(nxt, _Word)
                and nxt.role == "range"
                and isinstance(after, _DateEl)
            ):
                end = after.end if after.end is not None else after.start
                e = _DateEl(e.start, end, f"{e.raw} - {after.raw}")
                j += 2
            dates.append((marker or "plain", e))
            marker = None
        elif isinstance(e, _Word):
            if e.role in ("start", "back", "weekof"):
                marker = e.role
            elif e.role == "from":
                if j + 1 < n and isinstance(els[j + 1], _DateEl):
                    marker = "start"
            elif e.role == "range" and e.raw.lower() in _UNTIL_WORDS:
                if j + 1 < n and isinstance(els[j + 1], _DateEl):
                    marker = "until"
            elif e.role in ("after", "before") and j + 1 < n:
                target = els[j + 1]
                if isinstance(target, _Time):
                    add_span(_open_span(e.role, target, text))
                    j += 1
            elif e.role == "between" and j + 3 < n:
                a, conn, b = els[j + 1], els[j + 2], els[j + 3]
                if (
                    isinstance(a, _Time)
                    and isinstance(b, _Time)
                    and isinstance(conn, _Word)
                    and conn.role in ("and", "range")
                ):
                    add_span(_time_range(a, b, text))
                    j += 3
            elif e.role == "except" and j + 1 < n:
                target = els[j + 1]
                if isinstance(target, _Days):
                    excluded.extend(target.days)
                    j += 1
        elif isinstance(e, _Time):
            nxt = els[j + 1] if j + 1 < n else None
            after = els[j + 2] if j + 2 < n else None
            if isinstance(nxt, _Word) and nxt.role == "range" and isinstance(after, _Time):
                add_span(_time_range(e, after, text))
                j += 2
            elif e.bad:
                raise _Question(_Q_BAD_TIME.format(raw=e.raw))
            else:
                raise _Question(_Q_SINGLE_TIME.format(raw=e.raw))
        elif isinstance(e, _Span):
            add_span(e)
        else:
            every = every or e.every
            if current is not None and current.days and current.spans and not current.times_first:
                current = None
            if current is None:
                current = _Group([], [], times_first=False)
                groups.append(current)
            for index in e.days:
                if index not in current.days:
                    current.days.append(index)
        j += 1
    return _Assembled(groups, dates, zones, excluded, every)


def _minutes(t: _Time, meridiem: str | None) -> int:
    if meridiem is None:
        return t.hour * 60 + t.minute
    return (t.hour % 12 + (12 if meridiem == "pm" else 0)) * 60 + t.minute


def _bare(t: _Time) -> tuple[int, bool]:
    """A time without am/pm: 7-11 am, 12 noon, 1-6 pm, anything else as 24-hour.
    Returns (minutes, read_as_pm)."""
    if t.fixed or t.hour == 0 or t.hour > 12:
        return t.hour * 60 + t.minute, False
    if 1 <= t.hour <= 6:
        return (t.hour + 12) * 60 + t.minute, True
    return t.hour * 60 + t.minute, False


def _time_range(a: _Time, b: _Time, text: str) -> _Span:
    raw = text[a.start : b.end]
    for t in (a, b):
        if t.bad:
            raise _Question(_Q_BAD_TIME.format(raw=t.raw))
    guessed_pm = False
    if b.meridiem is not None:
        end = _minutes(b, b.meridiem)
    elif a.meridiem is not None and not b.fixed:
        carried = _minutes(b, a.meridiem)
        start_explicit = _minutes(a, a.meridiem)
        if carried > start_explicit:
            end = carried
        else:
            end, guessed_pm = _bare(b)
    else:
        end, guessed_pm = _bare(b)
    if a.meridiem is not None:
        start = _minutes(a, a.meridiem)
    elif b.meridiem is not None and not a.fixed and 1 <= a.hour <= 12:
        carried = _minutes(a, b.meridiem)
        end_cmp = 1440 if end == 0 else end
        if carried < end_cmp:
            start = carried
        else:
            start, start_pm = _bare(a)
            guessed_pm = guessed_pm or start_pm
    else:
        start, start_pm = _bare(a)
        guessed_pm = guessed_pm or start_pm
    if end == 0:
        end = 1440  # "10pm-12am", "9-midnight": the end of the day
    if end <= start:
        if a.meridiem == "pm" and b.meridiem == "am" or (a.fixed and b.fixed and start >= 720):
            raise _Question(_Q_OVERNIGHT.format(raw=raw))
        raise _Question(_Q_END_BEFORE_START.format(raw=raw))
    assumption = f"read {raw} as {_clock12(start)}–{_clock12(end)}" if guessed_pm else None
    return _Span(start, end, raw, assumption)


def _open_span(role: str, t: _Time, text: str) -> _Span:
    if t.bad:
        raise _Question(_Q_BAD_TIME.format(raw=t.raw))
    if t.meridiem is not None:
        minutes, guessed_pm = _minutes(t, t.meridiem), False
    else:
        minutes, guessed_pm = _bare(t)
    raw = f"{role} {t.raw}"
    if role == "after":
        if minutes >= 1440:
            raise _Question(_Q_BAD_TIME.format(raw=raw))
        span = _Span(minutes, 1440, raw)
    else:
        span = _Span(0, minutes or 1440, raw)  # "before midnight": the whole day
    if guessed_pm:
        span.assumption = f"read {raw} as {role} {_clock12(minutes)}"
    return span


def _clock12(m: int) -> str:
    if m in (0, 1440):
        return "midnight"
    hour, minute = divmod(m, 60)
    suffix = "am" if hour < 12 else "pm"
    hour12 = hour % 12 or 12
    return f"{hour12} {suffix}" if minute == 0 else f"{hour12}:{minute:02d} {suffix}"


def _merge(windows: list[tuple[int, int, int]]) -> tuple[Window, ...]:
    merged: list[list[int]] = []
    for day, start, end in sorted(windows):
        if merged and merged[-1][0] == day and start <= merged[-1][2]:
            merged[-1][2] = max(merged[-1][2], end)
        else:
            merged.append([day, start, end])
    return tuple(Window(_DAYS[d], s, e) for d, s, e in merged)


def _days_text(days: list[int]) -> str:
    return "/".join(_DAY_TITLES[d] for d in days)


# --- the public entry points --------------------------------------------------------------------


def parse_availability(text: str, *, today: date) -> ParseResult:
    """Reads one message. Never raises on user text: anything unclear comes back as `error`."""
    try:
        return _parse(text, today)
    except _Question as question:
        return ParseResult(text, None, None, (), None, question.message)


def warm_up() -> None:
    """Loads dateparser's language data and the regexes so the first real message is fast."""
    _date_parser().get_date_data("Jan 5")
    parse_availability("Mon/Wed 8-12, Fri 1-4 PT from Jan 5", today=date(2000, 1, 1))


def _parse(text: str, today: date) -> ParseResult:
    norm = text.translate(_NORMALIZE)
    if "." in norm:
        norm = _DOTTED_MERIDIEM_RE.sub(r"\1\2", norm)
    low = norm.lower()
    bare = low.strip(" \t\r\n.!?")
    if not bare or _SHOW_RE.fullmatch(bare):
        return ParseResult(text, Intent.SHOW, None, (), None, None)
    if _OFF_TOPIC_RE.search(low):
        raise _Question(_Q_OFF_TOPIC)

    time_off = _TIME_OFF_RE.search(low) is not None
    remove = _REMOVE_RE.search(low) is not None
    add_strong = _ADD_STRONG_RE.search(low) is not None
    add = add_strong or _ADD_WEAK_RE.search(low) is not None

    els = _pass1(_Lexed(norm, _lex(norm)), today)
    els = _join_days(els, today, time_off)
    parts = _assemble(els, norm)

    has_days = any(g.days for g in parts.groups)
    has_spans = any(g.spans for g in parts.groups)
    if not (has_days or has_spans or parts.dates or parts.zones) and not _ON_TOPIC_RE.search(low):
        raise _Question(_Q_OFF_TOPIC)
    if _OR_RE.search(low) and (has_days or has_spans or parts.dates):
        raise _Question(_Q_ALTERNATIVES)
    tz = _single_zone(parts.zones)

    if time_off:
        return _time_off_result(text, parts, today)
    if remove and add_strong:
        raise _Question(_Q_MIXED)
    if remove and parts.dates and not has_spans and not has_days:
        return _time_off_result(text, parts, today)
    if not (remove or add) and not has_days and not has_spans:
        plain = [el for marker, el in parts.dates if marker == "plain"]
        if plain:
            raise _Question(_Q_DATES_ONLY.format(raw=plain[0].raw))
    intent = Intent.REMOVE if remove else Intent.ADD if add else Intent.REPLACE
    return _weekly_result(text, intent, tz, parts, today)


def _single_zone(zones: list[_Zone]) -> str | None:
    names: list[str] = []
    for zone in zones:
        if zone.tz is None:
            raise _Question(_Q_AMBIGUOUS_ZONE.format(raw=zone.raw))
        if zone.tz not in names:
            names.append(zone.tz)
    if len(names) > 1:
        raise _Question(_Q_TWO_ZONES.format(zones=" or ".join(zone_label(n) for n in names)))
    return names[0] if names else None


def _time_off_result(text: str, parts: _Assembled, today: date) -> ParseResult:
    if any(g.spans for g in parts.groups):
        raise _Question(_Q_OFF_WITH_TIMES)
    start: date | None = None
    end: date | None = None
    plain_seen = False
    for marker, el in parts.dates:
        first = _resolve_start(el.start, today)
        last = None if el.end is None else _resolve_end(el.end, first, el.day_only_end)
        if marker == "weekof":
            first = first - timedelta(days=first.weekday())
            first, last = first, first + timedelta(days=4)
            if last < today:
                raise _Question(_Q_PAST_DATE.format(label=el.raw))
            first = max(first, today)
            marker = "plain"
        if marker == "plain":
            if plain_seen or start is not None:
                raise _Question(_Q_OFF_ONE_SPAN)
            plain_seen = True
            start, end = first, last if last is not None else first
        elif marker == "start":
            if start is not None:
                raise _Question(_Q_OFF_ONE_SPAN)
            start, end = first, last
        elif marker == "until":
            end = last if last is not None else first
        else:  # "back Jan 4": the last day out is the day before
            end = first - timedelta(days=1)
    if start is None and end is None:
        raise _Question(_Q_OFF_NO_DATE)
    if start is None:
        start = today
    if end is None:
        # Open-ended leave ("out starting Jan 5") would block every week from then on: ask.
        example = start + timedelta(days=4)
        raise _Question(
            _Q_OFF_NO_END.format(
                label=f"{_MONTH_ABBR[start.month]} {start.day}",
                example=f"{_MONTH_ABBR[example.month]} {example.day}",
            )
        )
    if end < start:
        raise _Question(_Q_BACKWARDS_DATES)
    return ParseResult(text, Intent.TIME_OFF, None, (), DateSpan(start, end), None)


def _weekly_result(
    text: str, intent: Intent, tz: str | None, parts: _Assembled, today: date
) -> ParseResult:
    start: date | None = None
    end: date | None = None
    for marker, el in parts.dates:
        first = _resolve_start(el.start, today)
        if marker == "start":
            start = first
            if el.end is not None:
                end = _resolve_end(el.end, first, el.day_only_end)
        elif marker == "until":
            end = first if el.end is None else _resolve_end(el.end, first, el.day_only_end)
        else:
            label = f"{_MONTH_ABBR[first.month]} {first.day}"
            raise _Question(_Q_DATE_IN_WEEKLY.format(label=label))
    if end is not None and start is None:
        start = today
    if start is not None and end is not None and end < start:
        raise _Question(_Q_BACKWARDS_DATES)
    dates = None if start is None else DateSpan(start, end)

    if not parts.groups:
        raise _Question(_Q_NO_DAYS)
    found: list[tuple[int, int, int]] = []
    assumptions: list[str] = []
    for group in parts.groups:
        days = [d for d in group.days if d not in parts.excluded]
        if not group.days:
            raise _Question(_Q_NO_DAYS)
        if not days:
            continue
        if not group.spans:
            if intent is not Intent.REMOVE:
                raise _Question(_Q_NO_TIME.format(days=_days_text(days), day=_DAY_TITLES[days[0]]))
            found.extend((d, 0, 1440) for d in days)
            continue
        for span in group.spans:
            if span.assumption is not None and span.assumption not in assumptions:
                assumptions.append(span.assumption)
            found.extend((d, span.start, span.end) for d in days)
    if not found:
        raise _Question(_Q_NO_DAYS)
    if parts.every:
        assumptions.append("read “daily” as Mon–Fri")
    return ParseResult(text, intent, tz, _merge(found), dates, None, tuple(assumptions))
