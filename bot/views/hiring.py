"""Views: one hire profile in words, as the proposal and the manager's Home both say it:
"1 OT licensed in AK, about 3 h a week, Mon 08:00–11:00, Wed 08:00–10:00 AKT, would serve 3
students"."""

from __future__ import annotations

from collections.abc import Iterable

from bot.domain.labels import zone_abbr
from bot.views.format import plural


def hire_sentence(
    service: str,
    state: str,
    weekly_hours: float,
    windows: Iterable[tuple[str, str, str]],  # (school-local day, start, end)
    timezone: str,
    would_serve: int,
) -> str:
    when = ", ".join(f"{d.title()} {a}–{b}" for d, a, b in windows)
    return (
        f"1 {service.upper()} licensed in {state}, about {weekly_hours:g} h a week, "
        f"{when} {zone_abbr(timezone)}, would serve {plural(would_serve, 'student')}"
    )
