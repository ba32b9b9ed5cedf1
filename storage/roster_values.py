"""Storage: the roster's value parsers: one function per kind of cell (README: Importing a roster).

Each takes the stripped cell text and returns the stored value, or raises ``RosterError`` whose
message is the "what is wrong" part of ``file.csv:LINE: column: what is wrong``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.vocabulary import Day, Service, SessionStatus

DAYS = tuple(d.value for d in Day)
SERVICES = tuple(s.value for s in Service)
SESSION_STATUSES = tuple(s.value for s in SessionStatus)
CALENDAR_KINDS = ("closed", "early_release")
_STATE_CODES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH "
    "NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI AS MP"
)
STATES = frozenset(_STATE_CODES.split())


class RosterError(Exception):
    """A problem with one value; the message is the 'what is wrong' part."""


_ID = re.compile(r"\S{1,64}")  # one C call instead of a look at each character


def p_id(v: str) -> str:
    if _ID.fullmatch(v) is not None:
        return v
    if len(v) > 64:
        raise RosterError("is longer than 64 characters")
    raise RosterError(f"{v!r} contains spaces")


def p_text(v: str) -> str:
    if len(v) > 200:
        raise RosterError("is longer than 200 characters")
    return v


def p_day(v: str) -> int:
    d = v.lower()
    if d not in DAYS:
        raise RosterError(f"{v!r} is not a day (mon tue wed thu fri sat sun)")
    return DAYS.index(d)


def p_time(v: str) -> int:
    try:
        hh, mm = v.split(":")
        if len(hh) != 2 or len(mm) != 2:
            raise ValueError
        h, mi = int(hh), int(mm)
    except ValueError:
        raise RosterError(f"{v!r} is not a time HH:MM (24-hour)") from None
    if not (0 <= h <= 24 and 0 <= mi < 60) or (h == 24 and mi):
        raise RosterError(f"{v!r} is not a time of day")
    return h * 60 + mi


def p_date(v: str) -> date:
    try:
        if len(v) != 10:
            raise ValueError
        return date.fromisoformat(v)
    except ValueError:
        pass
    guess = _us_date(v)
    if guess is not None:
        raise RosterError(f"use YYYY-MM-DD; this looks like MM/DD/YYYY: {guess.isoformat()}?")
    raise RosterError(f"{v!r} is not a date YYYY-MM-DD")


def _us_date(v: str) -> date | None:
    """The date a US spreadsheet means by ``09/19/2027`` (or ``9-19-2027``), if it is one."""
    parts = v.replace("-", "/").split("/")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        return None
    try:
        return date(int(parts[2]), int(parts[0]), int(parts[1]))
    except ValueError:
        return None


def p_timestamp(v: str) -> datetime:
    try:
        ts = datetime.fromisoformat(v)
    except ValueError:
        raise RosterError(f"{v!r} is not an ISO 8601 timestamp") from None
    if ts.tzinfo is None:  # fromisoformat gives a fixed offset or none at all
        raise RosterError(f"{v!r} has no UTC offset (e.g. 2026-11-30T16:00:00+00:00)")
    return ts


def p_state(v: str) -> str:
    s = v.upper()
    if s not in STATES or len(v) != 2:
        raise RosterError(f"{v!r} is not a two-letter USPS state code")
    return s


@lru_cache(maxsize=512)
def _zone_ok(name: str) -> bool:
    try:
        ZoneInfo(name)
        return "/" in name or name == "UTC"
    except (ZoneInfoNotFoundError, ValueError):
        return False


def p_zone(v: str) -> str:
    if not _zone_ok(v):
        raise RosterError(f"{v!r} is not an IANA time zone (e.g. America/Anchorage)")
    return v


def p_bool(v: str) -> bool:
    b = v.lower()
    if b in ("true", "yes", "1"):
        return True
    if b in ("false", "no", "0"):
        return False
    raise RosterError(f"{v!r} is not a boolean (true/false/yes/no/1/0)")


def p_service(v: str) -> str:
    s = v.lower()
    if s not in SERVICES:
        raise RosterError(f"{v!r} is not a service ({' '.join(SERVICES)})")
    return s


def p_status(v: str) -> str:
    s = v.lower()
    if s not in SESSION_STATUSES:
        raise RosterError(f"{v!r} is not a status ({' '.join(SESSION_STATUSES)})")
    return s


def p_email(v: str) -> str:
    if "@" not in v or len(v) > 254 or " " in v:
        raise RosterError(f"{v!r} is not an email address")
    return v


def p_slack_id(v: str) -> str:
    if not (v[:1] in "UW" and v[1:].isalnum() and 3 <= len(v) <= 32):
        raise RosterError(f"{v!r} is not a Slack user id (like U0123ABCD)")
    return v


def p_hours(v: str) -> Decimal:
    try:
        h = Decimal(v)
    except InvalidOperation:
        raise RosterError(f"{v!r} is not a number of hours") from None
    if not (0 <= h <= 80):
        raise RosterError(f"{v} is outside 0 to 80 hours a week")
    return h.quantize(Decimal("0.01"))


def int_between(lo: int, hi: int, what: str) -> Callable[[str], int]:
    def parse(v: str) -> int:
        try:
            n = int(v)
        except ValueError:
            raise RosterError(f"{v!r} is not a whole number") from None
        if not lo <= n <= hi:
            raise RosterError(f"{n} is outside {lo} to {hi} {what}")
        return n

    return parse


_GRADE_WORDS = {"PK": "PK", "PRE-K": "PK", "PREK": "PK", "-1": "PK", "K": "K", "KG": "K", "0": "K"}
_ORDINALS = ("ST", "ND", "RD", "TH")


def p_grade(v: str) -> str:
    """A grade as SIS exports write it, stored as ``PK``, ``K`` or ``1`` to ``12``."""
    g = v.upper().replace(" ", "")
    if g in _GRADE_WORDS:
        return _GRADE_WORDS[g]
    if g.isdigit() and 1 <= int(g) <= 12:
        return str(int(g))
    number, suffix = g[:-2], g[-2:]
    if suffix in _ORDINALS and number.isdigit() and 1 <= int(number) <= 12:
        return str(int(number))
    raise RosterError(f"{v!r} is not a grade (PK, K, 1-12)")


def p_id_list(v: str) -> tuple[str, ...]:
    """``;``-separated ids, each once, in the order given."""
    ids = [p_id(part.strip()) for part in v.split(";") if part.strip()]
    return tuple(dict.fromkeys(ids))


def p_calendar_kind(v: str) -> str:
    k = v.lower()
    if k not in CALENDAR_KINDS:
        raise RosterError(f"{v!r} is not a kind ({' or '.join(CALENDAR_KINDS)})")
    return k
