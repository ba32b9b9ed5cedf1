"""Domain: the words of availability messages: days, months, connectors, period words."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from bot.domain.labels import DAY_FULL as DAY_FULL  # re-exported for the readers
from bot.domain.labels import DAY_LABELS
from bot.domain.vocabulary import Day


def words(text: str) -> frozenset[str]:
    return frozenset(text.split())


DAY_TITLES: Final = DAY_LABELS
DAYS: Final = tuple(Day)
MONTH_ABBR: Final = (
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
    for index, full in enumerate(DAY_FULL):
        words[full.lower()] = (index, False)
        words[full.lower() + "s"] = (index, True)
        for abbr in abbreviations[index]:
            words[abbr] = (index, False)
    return words


DAY_WORDS: Final = _day_words()
FUZZY_TARGETS: Final = tuple(
    (full.lower() + suffix, index) for index, full in enumerate(DAY_FULL) for suffix in ("", "s")
)

# Real words close to a day name; a typo match must never produce them.
NOT_DAYS: Final = words(
    "midday today someday holiday holidays birthday birthdays weekday weekdays workday "
    "workdays yesterday payday sundae sundaes mayday monkey monkeys mondo sunday's "
    "tuesdays' thursday's sturdy study saturate"
)
SINGLE_LETTER_DAYS: Final = {"m": 0, "t": 1, "w": 2, "f": 4}
COMPACT_RE: Final = re.compile(r"(?:M|Tu|Th|T|W|R|F|Sa|Su)+")
COMPACT_LOWER_RE: Final = re.compile(r"(?:m|tu|th|t|w|f)+")
NOT_COMPACT: Final = frozenset({"FT", "MR", "WTF", "TMW", "MTF"})  # full-time, Mr., ...
COMPACT_PART_RE: Final = re.compile(r"Tu|Th|Sa|Su|M|T|W|R|F", re.IGNORECASE)
COMPACT_PARTS: Final = {"m": 0, "tu": 1, "t": 1, "w": 2, "th": 3, "r": 3, "f": 4, "sa": 5, "su": 6}
MONTHS: Final = {
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
ORDINALS: Final = frozenset({"st", "nd", "rd", "th"})
MERIDIEMS: Final = {"am": "am", "pm": "pm", "a": "am", "p": "pm"}

# A number followed by one of these is a quantity, not a time ("30 min sessions", "4 hours").
QUANTITY_WORDS: Final = words(
    "min mins minute minutes hr hrs hour hours h x students kids sessions session percent "
    "days weeks"
)

# Each word maps to a neutral connector/keyword the second pass understands.
WORD_ROLES: Final[Mapping[str, str]] = {
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
UNTIL_WORDS: Final = frozenset({"until", "till", "til", "untill", "thru", "through"})
DATE_MARKER_ROLES: Final = frozenset({"start", "back", "from"})
RANGE_PUNCT: Final = frozenset({"-", "~"})
LIST_PUNCT: Final = {"/": "/", ",": ",", ";": ",", "&": "and", "+": "and"}
SPAN_WORDS: Final[Mapping[str, tuple[int, int]]] = {
    "morning": (480, 720),
    "mornings": (480, 720),
    "afternoon": (720, 960),
    "afternoons": (720, 960),
    "evening": (960, 1200),
    "evenings": (960, 1200),
}
