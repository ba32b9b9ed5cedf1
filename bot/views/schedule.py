"""Views: a weekly schedule and a stretch of time off as text, for previews, schedules and the
provider's DM when a manager changed their hours."""

from __future__ import annotations

from bot.domain.labels import zone_label
from bot.domain.schedule import TimeOffSpan, WeeklyWindow, describe_day_lines, hhmm


def week_lines(windows: tuple[WeeklyWindow, ...]) -> str:
    lines = describe_day_lines(windows)
    return "\n".join(f"`{line}`" for line in lines) if lines else "_no hours_"


def time_off_span(t: TimeOffSpan) -> str:
    days = (
        f"{t.start:%a %b %-d, %Y}"
        if t.start == t.end
        else f"{t.start:%a %b %-d} – {t.end:%a %b %-d, %Y}"
    )
    if not t.hours:
        return days
    hours = ", ".join(f"{hhmm(a)}–{hhmm(b)}" for a, b in t.hours)
    zone = f" {zone_label(t.tz)} time" if t.tz else ""
    return f"{days}, {hours}{zone}"
