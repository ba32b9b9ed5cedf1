"""Domain: time ranges from clock times: the bare-hour rule, am/pm carry, open ranges."""

from __future__ import annotations

from bot.domain.availability_text.elements import ClockTime, TimeSpan
from bot.domain.availability_text.questions import (
    Q_AM_OR_PM,
    Q_BAD_TIME,
    Q_END_BEFORE_START,
    Q_OVERNIGHT,
    AskUser,
)
from bot.domain.availability_text.result import Window
from bot.domain.availability_text.vocabulary import DAY_TITLES, DAYS

# Bare hours read as an evening range ("5-7") must end by then; later ones get a question.
_LATEST_EVENING = 21 * 60


def minutes_with_meridiem(t: ClockTime, meridiem: str | None) -> int:
    if meridiem is None:
        return t.hour * 60 + t.minute
    return (t.hour % 12 + (12 if meridiem == "pm" else 0)) * 60 + t.minute


def bare_hour_minutes(t: ClockTime) -> tuple[int, bool]:
    """A time without am/pm: 7-11 am, 12 noon, 1-6 pm, anything else as 24-hour.
    Returns (minutes, read_as_pm)."""
    if t.fixed or t.hour == 0 or t.hour > 12:
        return t.hour * 60 + t.minute, False
    if 1 <= t.hour <= 6:
        return (t.hour + 12) * 60 + t.minute, True
    return t.hour * 60 + t.minute, False


def time_range(a: ClockTime, b: ClockTime, text: str) -> TimeSpan:
    raw = text[a.start : b.end]
    for t in (a, b):
        if t.bad:
            raise AskUser(Q_BAD_TIME.format(raw=t.raw))
    guessed_pm = False
    if b.meridiem is not None:
        end = minutes_with_meridiem(b, b.meridiem)
    elif a.meridiem is not None and not b.fixed:
        carried = minutes_with_meridiem(b, a.meridiem)
        start_explicit = minutes_with_meridiem(a, a.meridiem)
        if carried > start_explicit:
            end = carried
        else:
            end, guessed_pm = bare_hour_minutes(b)
    else:
        end, guessed_pm = bare_hour_minutes(b)
    if a.meridiem is not None:
        start = minutes_with_meridiem(a, a.meridiem)
    elif b.meridiem is not None and not a.fixed and 1 <= a.hour <= 12:
        carried = minutes_with_meridiem(a, b.meridiem)
        end_cmp = 1440 if end == 0 else end
        if carried < end_cmp:
            start = carried
        else:
            start, start_pm = bare_hour_minutes(a)
            guessed_pm = guessed_pm or start_pm
    else:
        start, start_pm = bare_hour_minutes(a)
        guessed_pm = guessed_pm or start_pm
    if end == 0:
        end = 1440  # "10pm-12am", "9-midnight": the end of the day
    both_bare = a.meridiem is None and b.meridiem is None and not a.fixed and not b.fixed
    evening = both_bare and start >= 720 and b.hour < 12
    if end <= start and evening and start < end + 720 <= _LATEST_EVENING:
        # "Tue 5-7": both ends read as pm make a rising range that ends by 9 pm.
        end += 720
        guessed_pm = True
    if end <= start:
        if a.meridiem == "pm" and b.meridiem == "am" or (a.fixed and b.fixed and start >= 720):
            raise AskUser(Q_OVERNIGHT.format(raw=raw))
        if both_bare:
            raise AskUser(Q_AM_OR_PM.format(raw=raw))
        raise AskUser(Q_END_BEFORE_START.format(raw=raw))
    assumption = f"read {raw} as {twelve_hour(start)}–{twelve_hour(end)}" if guessed_pm else None
    return TimeSpan(start, end, raw, assumption)


def open_span(role: str, t: ClockTime, text: str) -> TimeSpan:
    if t.bad:
        raise AskUser(Q_BAD_TIME.format(raw=t.raw))
    if t.meridiem is not None:
        minutes, guessed_pm = minutes_with_meridiem(t, t.meridiem), False
    else:
        minutes, guessed_pm = bare_hour_minutes(t)
    raw = f"{role} {t.raw}"
    if role == "after":
        if minutes >= 1440:
            raise AskUser(Q_BAD_TIME.format(raw=raw))
        span = TimeSpan(minutes, 1440, raw, open_ended=True)
    else:
        # "before midnight": the whole day
        span = TimeSpan(0, minutes or 1440, raw, open_ended=True)
    if guessed_pm:
        span.assumption = f"read {raw} as {role} {twelve_hour(minutes)}"
    return span


def twelve_hour(m: int) -> str:
    if m in (0, 1440):
        return "midnight"
    hour, minute = divmod(m, 60)
    suffix = "am" if hour < 12 else "pm"
    hour12 = hour % 12 or 12
    return f"{hour12} {suffix}" if minute == 0 else f"{hour12}:{minute:02d} {suffix}"


def merge_windows(windows: list[tuple[int, int, int]]) -> tuple[Window, ...]:
    merged: list[list[int]] = []
    for day, start, end in sorted(windows):
        if merged and merged[-1][0] == day and start <= merged[-1][2]:
            merged[-1][2] = max(merged[-1][2], end)
        else:
            merged.append([day, start, end])
    return tuple(Window(DAYS[d], s, e) for d, s, e in merged)


def days_text(days: list[int]) -> str:
    return "/".join(DAY_TITLES[d] for d in days)
