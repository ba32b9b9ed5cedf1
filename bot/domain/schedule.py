"""Domain: weekly availability schedules, their edits, and conversion between zones.

A window is a recurring wall-clock promise (weekday, start, end, IANA zone). Edits happen in
the zone the person spoke in; conversion to another zone is done for an actual date, because
daylight saving differs (Arizona and Hawaii do not shift).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.labels import DAY_LABELS as DAY_LABELS  # re-exported for bot.services.matching
from bot.domain.labels import day_label
from bot.domain.vocabulary import Day

# Weekday codes by ``date.weekday()`` index; kept for bot.services.matching until it uses ``Day``.
DAY_NAMES = tuple(Day)
DAY_MINUTES = 1440


@dataclass(frozen=True, order=True)
class WeeklyWindow:
    day: int  # 0 = Monday
    start: int  # minutes from local midnight
    end: int
    tz: str

    def __post_init__(self) -> None:
        if not (0 <= self.day <= 6 and 0 <= self.start < self.end <= DAY_MINUTES):
            raise ValueError(f"invalid window {self!r}")


def local_date(now: datetime, tz: str) -> date:
    """The calendar date in ``tz`` at the instant ``now``."""
    return now.astimezone(ZoneInfo(tz)).date()


def hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def clock_label(minutes: int) -> str:
    """08:00 -> '8:00 am', 13:30 -> '1:30 pm', 1440 -> 'midnight'."""
    if minutes in (0, DAY_MINUTES):
        return "midnight"
    if minutes == 720:
        return "noon"
    h, m = divmod(minutes, 60)
    suffix = "am" if h < 12 else "pm"
    h12 = h % 12 or 12
    return f"{h12}:{m:02d} {suffix}"


def merge(windows: Iterable[WeeklyWindow]) -> tuple[WeeklyWindow, ...]:
    """Sort and merge overlapping or touching windows of the same day and zone."""
    out: list[WeeklyWindow] = []
    for w in sorted(windows, key=lambda w: (w.tz, w.day, w.start, w.end)):
        last = out[-1] if out else None
        if last and last.tz == w.tz and last.day == w.day and w.start <= last.end:
            out[-1] = WeeklyWindow(last.day, last.start, max(last.end, w.end), last.tz)
        else:
            out.append(w)
    return tuple(sorted(out, key=lambda w: (w.day, w.start, w.tz)))


def subtract(windows: Iterable[WeeklyWindow], cut: WeeklyWindow) -> list[WeeklyWindow]:
    """Remove ``cut`` from windows of the same zone and day."""
    out: list[WeeklyWindow] = []
    for w in windows:
        if w.tz != cut.tz or w.day != cut.day or cut.end <= w.start or cut.start >= w.end:
            out.append(w)
            continue
        if w.start < cut.start:
            out.append(WeeklyWindow(w.day, w.start, cut.start, w.tz))
        if cut.end < w.end:
            out.append(WeeklyWindow(w.day, cut.end, w.end, w.tz))
    return out


def week_monday(on: date) -> date:
    return on - timedelta(days=on.weekday())


def to_instants(w: WeeklyWindow, monday: date) -> tuple[datetime, datetime]:
    """The window's actual UTC instants in the week starting ``monday``."""
    zone = ZoneInfo(w.tz)
    day = monday + timedelta(days=w.day)
    wall_midnight = datetime(day.year, day.month, day.day)  # noqa: DTZ001 - wall clock
    start = (wall_midnight + timedelta(minutes=w.start)).replace(tzinfo=zone)
    end = (wall_midnight + timedelta(minutes=w.end)).replace(tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def convert(w: WeeklyWindow, to_tz: str, monday: date) -> list[WeeklyWindow]:
    """The same instants as wall time in ``to_tz`` for the week of ``monday``.

    A window that crosses local midnight in the target zone is split in two.
    """
    if w.tz == to_tz:
        return [w]
    start, end = to_instants(w, monday)
    zone = ZoneInfo(to_tz)
    out: list[WeeklyWindow] = []
    cur, stop = start.astimezone(zone), end.astimezone(zone)
    while cur < stop:
        wall_next = datetime(cur.year, cur.month, cur.day) + timedelta(days=1)  # noqa: DTZ001
        next_midnight = wall_next.replace(tzinfo=zone)
        seg_end = min(stop, next_midnight)
        s_min = cur.hour * 60 + cur.minute
        e_min = DAY_MINUTES if seg_end >= next_midnight else seg_end.hour * 60 + seg_end.minute
        if e_min > s_min:
            out.append(WeeklyWindow(cur.weekday(), s_min, e_min, to_tz))
        cur = seg_end.astimezone(zone)
    return out


def in_zone(windows: Iterable[WeeklyWindow], tz: str, monday: date) -> tuple[WeeklyWindow, ...]:
    return merge(c for w in windows for c in convert(w, tz, monday))


@dataclass(frozen=True)
class Change:
    intent: str  # replace | add | remove
    windows: tuple[WeeklyWindow, ...]


def apply_change(
    current: Sequence[WeeklyWindow], change: Change, monday: date
) -> tuple[WeeklyWindow, ...]:
    """The schedule after ``change``. Removals in another zone are converted for ``monday``."""
    if change.intent == "replace":
        return merge(change.windows)
    if change.intent == "add":
        return merge([*current, *change.windows])
    if change.intent == "remove":
        remaining = list(current)
        for cut in change.windows:
            for zone in {w.tz for w in remaining}:
                for piece in convert(cut, zone, monday):
                    remaining = subtract(remaining, piece)
        return merge(remaining)
    raise ValueError(f"unknown change {change.intent!r}")


def describe_day_lines(windows: Iterable[WeeklyWindow]) -> list[str]:
    """'Tue  08:00–11:00, 13:00–15:00' per day, in the windows' own wall time."""
    by_day: dict[int, list[WeeklyWindow]] = {}
    for w in merge(windows):
        by_day.setdefault(w.day, []).append(w)
    return [
        f"{day_label(d)}  " + ", ".join(f"{hhmm(w.start)}–{hhmm(w.end)}" for w in ws)
        for d, ws in sorted(by_day.items())
    ]


def weekly_minutes(windows: Iterable[WeeklyWindow]) -> int:
    return sum(w.end - w.start for w in merge(windows))


@dataclass(frozen=True)
class TimeOffSpan:
    """A stretch of time off as people read it: whole days, or these hours on each day."""

    start: date
    end: date
    hours: tuple[tuple[int, int], ...] = ()  # empty: whole days; else minutes in `tz`
    tz: str | None = None
    id: int | None = field(default=None, compare=False)  # the stored row, for its Cancel button
