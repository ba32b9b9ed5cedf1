"""Demo data: the roster folder's CSV schema and what both generators share.

The columns of each CSV file, how values are written (times, instants, booleans, hours), the
writers, a few time helpers (local midnights, bell schedules, availability specs) and the names
and grades both rosters draw from. Days come from the product's own vocabulary.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.vocabulary import SCHOOL_DAYS, Day
from storage.roster_spec import SPECS

ANCHOR = date(2026, 11, 30)  # a Monday: demo/roster/ was generated for this day

DAYS: tuple[str, ...] = tuple(Day)

# The roster format's own column lists, in the order the import reads them.
HEADERS: dict[str, tuple[str, ...]] = {
    spec.filename: tuple(col.name for col in spec.columns) for spec in SPECS
}

Row = Sequence[object]
Windows = dict[str, list[tuple[int, int]]]  # day -> [(start, end)] in minutes after local midnight


def hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def to_minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def utc_offset(zone: str, moment: datetime) -> int:
    """Minutes east of UTC in `zone` at `moment` (an aware datetime)."""
    wall = moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return int((wall - moment.astimezone(UTC).replace(tzinfo=None)).total_seconds()) // 60


def csv_bool(value: bool) -> str:
    return "true" if value else "false"


def csv_hours(value: float) -> str:
    return f"{value:g}"


def csv_writer(stack: ExitStack, folder: Path, name: str) -> Any:
    handle = stack.enter_context((folder / name).open("w", encoding="utf-8", newline=""))
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(HEADERS[name])
    return writer


def write_csv(folder: Path, name: str, rows: Iterable[Row]) -> None:
    with ExitStack() as stack:
        csv_writer(stack, folder, name).writerows(rows)


class LocalMidnights:
    """UTC instant of local 00:00 per (zone, date), using the offset at noon.

    School hours and availability never touch the 02:00 daylight-saving switch, so the noon offset
    is the offset of every session that day; caching it keeps a million sessions cheap.
    """

    def __init__(self) -> None:
        self._zones: dict[str, ZoneInfo] = {}
        self._cache: dict[tuple[str, date], datetime] = {}

    def __call__(self, zone: str, day: date) -> datetime:
        key = (zone, day)
        found = self._cache.get(key)
        if found is None:
            info = self._zones.setdefault(zone, ZoneInfo(zone))
            noon = datetime.combine(day, time(12), info).astimezone(UTC)
            found = self._cache[key] = noon - timedelta(hours=12)
        return found


def bell(
    start: str, lunch: str, back: str, end: str, early: tuple[str, str] | None = None
) -> Windows:
    """A Mon-Fri bell schedule with a lunch gap; `early` = (day, end) for an early-release day."""
    hours: Windows = {}
    for day in SCHOOL_DAYS:
        last = early[1] if early and early[0] == day else end
        hours[day] = [(to_minutes(start), to_minutes(lunch)), (to_minutes(back), to_minutes(last))]
    return hours


def week_windows(spec: dict[str, str]) -> Windows:
    """{'mon-thu': '07:00-13:00', 'fri': '09:00-11:00 12:00-14:00'} -> windows per day."""
    windows: Windows = {}
    for days, spans in spec.items():
        first, _, last = days.partition("-")
        selected = DAYS[DAYS.index(first) : DAYS.index(last or first) + 1]
        for day in selected:
            for span in spans.split():
                begin, end = span.split("-")
                windows.setdefault(day, []).append((to_minutes(begin), to_minutes(end)))
    return {day: sorted(windows[day]) for day in DAYS if day in windows}


def fits(windows: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(begin <= start and end <= finish for begin, finish in windows)


# fmt: off
FIRST_NAMES = (
    "Aiden", "Amelia", "Anaya", "Arlo", "Aurora", "Beckett", "Bodhi", "Camila", "Cyrus", "Dahlia",
    "Eli", "Elowen", "Emeka", "Esme", "Ezra", "Fatima", "Finn", "Gemma", "Hana", "Hugo", "Imani",
    "Iris", "Jasper", "Juniper", "Kai", "Keanu", "Lena", "Leo", "Lila", "Luca", "Mabel", "Mateo",
    "Mila", "Milo", "Naomi", "Nico", "Noor", "Oakley", "Olive", "Omar", "Paloma", "Quinn", "Rafael",
    "Remy", "Rosa", "Rowan", "Sage", "Santiago", "Sena", "Silas", "Sofia", "Tallulah", "Theo",
    "Uma", "Valentina", "Wes", "Willa", "Xavier", "Yara", "Zane", "Zuri", "Ayasha", "Tuktu", "Nita",
)
LAST_NAMES = (
    "Abernathy", "Alvarado", "Amundsen", "Baptiste", "Bellweather", "Brightwater", "Caldera",
    "Castellano", "Chen-Harper", "Cordova", "Dunmore", "Echohawk", "Ellingsen", "Farrow",
    "Fontaine", "Galloway", "Greywolf", "Halvorsen", "Hartigan", "Ibarra", "Jablonski", "Kaleo",
    "Kettering", "Lindqvist", "Longbrake", "Madrigal", "Marchbank", "Nakagawa", "Navarrete",
    "Okonkwo", "Oyelowo", "Pemberton", "Quintero", "Ravenscroft", "Redfeather", "Rosales",
    "Sandoval", "Silverthorn", "Sorensen", "Strand", "Takahashi", "Thorvaldsen", "Underhill",
    "Valdivia", "Vasquez-Lee", "Whitcomb", "Winterbourne", "Yazzie", "Zamora", "Zeller",
)
# fmt: on

GRADES = {
    "elementary": ("K", "1", "2", "3", "4", "5"),
    "middle": ("6", "7", "8"),
    "junior": ("7", "8"),
    "high": ("9", "10", "11", "12"),
}
