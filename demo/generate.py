"""Demo data (outside the bot's layers): deterministic generators of roster folders (ROSTER.md).

`write_demo_roster` writes the small hand-crafted roster that `python -m bot console` loads:
three districts (Alaska, Arizona, Texas), twelve providers, sixty students, an existing caseload
and three weeks of sessions around `today`. `demo/roster/` holds its output for ANCHOR.
`write_synthetic_roster` writes a roster of any size for benchmarks. Both compute every date from
`today` and draw from seeded `random.Random`s, so the same arguments always give the same bytes;
neither reads the clock.

Every session the demo writes lies inside its school's hours (school zone) and its provider's
availability (provider zone) on the actual date, so daylight saving is honoured week by week; the
caseload keeps the matching rules of ROSTER.md (licences, no double booking, weekly_hours).

    python -m demo.generate demo FOLDER [--today YYYY-MM-DD]
    python -m demo.generate synthetic FOLDER --students N [--providers P] [--districts D]
        [--seed S] [--today YYYY-MM-DD] [--sessions-per-student K] [--assign-all]
"""

from __future__ import annotations

import argparse
import csv
import random
from collections.abc import Iterable, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ANCHOR = date(2026, 11, 30)  # a Monday: demo/roster/ was generated for this day

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SCHOOL_DAYS = DAYS[:5]

HEADERS: dict[str, tuple[str, ...]] = {
    "districts.csv": ("district_id", "name", "state", "timezone"),
    "schools.csv": ("school_id", "district_id", "name", "timezone"),
    "school_hours.csv": ("school_id", "day", "start", "end"),
    "providers.csv": (
        "provider_id",
        "name",
        "email",
        "slack_user_id",
        "discipline",
        "home_state",
        "timezone",
        "weekly_hours",
    ),
    "licenses.csv": ("provider_id", "state", "expires_on", "license_number"),
    "managers.csv": ("manager_id", "name", "email", "slack_user_id", "district_ids"),
    "students.csv": (
        "student_id",
        "school_id",
        "first_name",
        "last_name",
        "grade",
        "annual_review_due",
        "triennial_due",
    ),
    "services.csv": (
        "student_id",
        "service",
        "sessions_per_week",
        "session_minutes",
        "group_ok",
        "minutes_per_week",
        "minutes_per_month",
        "starts_on",
        "ends_on",
    ),
    "availability.csv": ("provider_id", "day", "start", "end"),
    "assignments.csv": ("student_id", "service", "provider_id"),
    "calendar.csv": ("district_id", "school_id", "start", "end", "kind", "ends_at"),
    "sessions.csv": (
        "session_id",
        "provider_id",
        "student_id",
        "service",
        "starts_at",
        "minutes",
        "status",
        "note_done_at",
    ),
}

Row = Sequence[object]
Windows = dict[str, list[tuple[int, int]]]  # day -> [(start, end)] in minutes after local midnight


# --------------------------------------------------------------------------------------------------
# Small helpers shared by both generators


def _hm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _offset(zone: str, moment: datetime) -> int:
    """Minutes east of UTC in `zone` at `moment` (an aware datetime)."""
    wall = moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    return int((wall - moment.astimezone(UTC).replace(tzinfo=None)).total_seconds()) // 60


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _hours(value: float) -> str:
    return f"{value:g}"


def _writer(stack: ExitStack, folder: Path, name: str) -> Any:
    handle = stack.enter_context((folder / name).open("w", encoding="utf-8", newline=""))
    writer = csv.writer(handle, lineterminator="\n")
    writer.writerow(HEADERS[name])
    return writer


def _write(folder: Path, name: str, rows: Iterable[Row]) -> None:
    with ExitStack() as stack:
        _writer(stack, folder, name).writerows(rows)


class _LocalMidnights:
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


def _bell(
    start: str, lunch: str, back: str, end: str, early: tuple[str, str] | None = None
) -> Windows:
    """A Mon-Fri bell schedule with a lunch gap; `early` = (day, end) for an early-release day."""
    hours: Windows = {}
    for day in SCHOOL_DAYS:
        last = early[1] if early and early[0] == day else end
        hours[day] = [(_minutes(start), _minutes(lunch)), (_minutes(back), _minutes(last))]
    return hours


def _week(spec: dict[str, str]) -> Windows:
    """{'mon-thu': '07:00-13:00', 'fri': '09:00-11:00 12:00-14:00'} -> windows per day."""
    windows: Windows = {}
    for days, spans in spec.items():
        first, _, last = days.partition("-")
        selected = DAYS[DAYS.index(first) : DAYS.index(last or first) + 1]
        for day in selected:
            for span in spans.split():
                begin, end = span.split("-")
                windows.setdefault(day, []).append((_minutes(begin), _minutes(end)))
    return {day: sorted(windows[day]) for day in DAYS if day in windows}


def _fits(windows: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    return any(begin <= start and end <= finish for begin, finish in windows)


# --------------------------------------------------------------------------------------------------
# The demo roster


@dataclass(frozen=True)
class _School:
    school_id: str
    district_id: str
    name: str
    timezone: str  # as written: empty means the district's
    level: str
    hours: Windows
    size: int
    extra_services: tuple[str, ...]  # non-SLP services given to some of its students


@dataclass(frozen=True)
class _Provider:
    provider_id: str
    name: str
    discipline: str
    home_state: str
    timezone: str
    weekly_hours: float
    availability: Windows
    licences: tuple[tuple[str, int], ...]  # (state, expires in days from today)

    @property
    def email(self) -> str:
        first, *rest = self.name.lower().split()
        return f"{first}.{''.join(rest).replace('-', '')}@example.org"

    @property
    def slack_user_id(self) -> str:
        return f"U0DEMO{self.provider_id}"

    def licence_number(self, state: str) -> str:
        serial = random.Random(f"{self.provider_id}-{state}").randint(1, 99999)
        return f"{state}-{self.discipline.upper()}-{serial:05d}"


@dataclass
class _Student:
    student_id: str
    school: _School
    first_name: str
    last_name: str
    grade: str
    annual_in: int
    triennial_in: int | None
    services: list[tuple[str, int, int, bool]] = field(default_factory=list)


_DEMO_DISTRICTS = (
    ("anc", "Anchorage School District", "AK", "America/Anchorage"),
    ("mesa", "Mesa Public Schools", "AZ", "America/Phoenix"),
    ("pflugerville", "Pflugerville ISD", "TX", "America/Chicago"),
)

_DEMO_SCHOOLS = (
    _School(
        "anc-spenard",
        "anc",
        "Spenard Creek Elementary",
        "",
        "elementary",
        _bell("08:30", "11:30", "12:15", "15:00", early=("wed", "13:00")),
        9,
        ("ot", "ot"),
    ),
    _School(
        "anc-chugach",
        "anc",
        "Chugach Ridge Middle School",
        "America/Anchorage",
        "middle",
        _bell("07:45", "11:15", "12:00", "14:45"),
        7,
        ("ot", "mh"),
    ),
    _School(
        "anc-kincaid",
        "anc",
        "Kincaid Bluff High School",
        "America/Anchorage",
        "high",
        _bell("07:30", "11:00", "11:45", "14:15"),
        5,
        ("mh",),
    ),
    _School(
        "mesa-redmtn",
        "mesa",
        "Red Mountain Vista Elementary",
        "America/Phoenix",
        "elementary",
        _bell("08:00", "11:15", "12:00", "14:45", early=("wed", "12:30")),
        8,
        ("ot", "ot"),
    ),
    _School(
        "mesa-saguaro",
        "mesa",
        "Saguaro Wash Junior High",
        "",
        "junior",
        _bell("07:50", "11:20", "12:05", "14:50"),
        7,
        ("psych", "ot"),
    ),
    _School(
        "mesa-falcon",
        "mesa",
        "Falcon Ridge Elementary",
        "America/Phoenix",
        "elementary",
        _bell("08:15", "11:30", "12:10", "15:00"),
        5,
        ("ot",),
    ),
    _School(
        "pf-windermere",
        "pflugerville",
        "Windermere Crossing Elementary",
        "America/Chicago",
        "elementary",
        _bell("07:45", "11:00", "11:45", "15:00", early=("fri", "12:45")),
        10,
        ("ot", "ot", "psych"),
    ),
    _School(
        "pf-blackhawk",
        "pflugerville",
        "Blackhawk Prairie Middle School",
        "America/Chicago",
        "middle",
        _bell("08:50", "11:45", "12:30", "16:05"),
        9,
        ("ot", "ot", "psych"),
    ),
)

_PT, _AKT, _CT, _AZT = (
    "America/Los_Angeles",
    "America/Anchorage",
    "America/Chicago",
    "America/Phoenix",
)

# Availability is in each provider's own zone. Licence offsets are days from `today`: P04's Arizona
# licence lapses within a week, P05's Alaska one within a month, and P10's Alaska one has lapsed, so
# no OT can take Anchorage students.
# fmt: off
_DEMO_PROVIDERS = (
    _Provider(
        "P01", "Rosalind Achterberg", "slp", "CA", _PT, 25,
        _week({"mon-thu": "07:00-13:00"}),
        (("CA", 412), ("AK", 233), ("AZ", 575)),
    ),
    _Provider(
        "P02", "Devin Castellanos", "slp", "WA", _PT, 20,
        _week({"mon": "06:30-12:00", "tue": "09:00-14:00", "wed": "06:30-12:00",
               "fri": "06:30-12:00"}),
        (("WA", 298), ("AK", 641), ("TX", 187)),
    ),
    _Provider(
        "P03", "Kiri Tallbrook", "slp", "AK", _AKT, 30,
        _week({"mon": "09:00-12:00", "tue": "08:00-15:00", "wed": "08:30-11:30",
               "thu": "08:00-15:00"}),
        (("AK", 520),),
    ),
    _Provider(
        "P04", "Soledad Varga-Huynh", "slp", "TX", _CT, 22.5,
        _week({"mon-fri": "08:00-12:00", "tue": "13:00-15:30", "thu": "13:00-15:30"}),
        (("TX", 366), ("AZ", 5)),
    ),
    _Provider(
        "P05", "Theo Marchetti", "slp", "OR", _PT, 12.5,
        _week({"tue-thu": "10:00-14:00"}),
        (("OR", 702), ("AZ", 150), ("AK", 23)),
    ),
    _Provider(
        "P06", "Ines Bergqvist", "slp", "IL", _CT, 18,
        _week({"mon-tue": "09:00-15:30", "thu": "09:00-15:30", "fri": "08:00-11:00"}),
        (("IL", 455), ("TX", 318)),
    ),
    _Provider(
        "P07", "Harper Nakamura-Cole", "slp", "AZ", _AZT, 28,
        _week({"mon-fri": "07:30-11:30 12:30-14:30"}),
        (("AZ", 389), ("TX", 96)),
    ),
    _Provider(
        "P08", "Amara Delacroix", "slp", "CA", _PT, 15,
        _week({"mon": "06:00-10:00", "wed": "06:00-10:00", "fri": "09:00-13:00"}),
        (("CA", 268), ("AK", 431), ("TX", 812)),
    ),
    _Provider(
        "P09", "Wren Solheim", "ot", "TX", _CT, 20,
        _week({"mon-thu": "08:00-14:00"}),
        (("TX", 344), ("AZ", 209)),
    ),
    _Provider(
        "P10", "Callum Iwasaki-Ford", "ot", "CA", _PT, 16,
        _week({"tue-fri": "07:00-12:00"}),
        (("CA", 488), ("AZ", 127), ("AK", -12)),
    ),
    _Provider(
        "P11", "Jonah Redcloud", "mh", "AK", _AKT, 10,
        _week({"mon": "09:00-14:00", "wed": "09:00-14:00"}),
        (("AK", 611),),
    ),
    _Provider(
        "P12", "Beatriz Ostrowski", "psych", "TX", _CT, 14,
        _week({"tue": "08:00-15:00", "thu": "08:00-15:00"}),
        (("TX", 257), ("AZ", 338)),
    ),
)
# fmt: on

# M01 serves every district (empty district_ids); M02 and M03 serve theirs only.
_DEMO_MANAGERS = (
    ("M01", "Priya Venkataraman", "priya.venkataraman@example.org", "U0DEMOM01", ""),
    ("M02", "Marcus Oyelaran", "marcus.oyelaran@example.org", "U0DEMOM02", "anc"),
    ("M03", "Grace Lindholm", "grace.lindholm@example.org", "U0DEMOM03", "mesa;pflugerville"),
)
# Winter break, in days from `today`: Dec 21 - Jan 1 for ANCHOR, after the demo's sessions.
_DEMO_WINTER_BREAK = (21, 32)
# One early release per district (school-local end of the day), in days from `today`.
_DEMO_EARLY_RELEASE = (("anc", 18, "12:30"), ("mesa", 18, "12:00"), ("pflugerville", 17, "13:00"))

# fmt: off
_FIRST_NAMES = (
    "Aiden", "Amelia", "Anaya", "Arlo", "Aurora", "Beckett", "Bodhi", "Camila", "Cyrus", "Dahlia",
    "Eli", "Elowen", "Emeka", "Esme", "Ezra", "Fatima", "Finn", "Gemma", "Hana", "Hugo", "Imani",
    "Iris", "Jasper", "Juniper", "Kai", "Keanu", "Lena", "Leo", "Lila", "Luca", "Mabel", "Mateo",
    "Mila", "Milo", "Naomi", "Nico", "Noor", "Oakley", "Olive", "Omar", "Paloma", "Quinn", "Rafael",
    "Remy", "Rosa", "Rowan", "Sage", "Santiago", "Sena", "Silas", "Sofia", "Tallulah", "Theo",
    "Uma", "Valentina", "Wes", "Willa", "Xavier", "Yara", "Zane", "Zuri", "Ayasha", "Tuktu", "Nita",
)
_LAST_NAMES = (
    "Abernathy", "Alvarado", "Amundsen", "Baptiste", "Bellweather", "Brightwater", "Caldera",
    "Castellano", "Chen-Harper", "Cordova", "Dunmore", "Echohawk", "Ellingsen", "Farrow",
    "Fontaine", "Galloway", "Greywolf", "Halvorsen", "Hartigan", "Ibarra", "Jablonski", "Kaleo",
    "Kettering", "Lindqvist", "Longbrake", "Madrigal", "Marchbank", "Nakagawa", "Navarrete",
    "Okonkwo", "Oyelowo", "Pemberton", "Quintero", "Ravenscroft", "Redfeather", "Rosales",
    "Sandoval", "Silverthorn", "Sorensen", "Strand", "Takahashi", "Thorvaldsen", "Underhill",
    "Valdivia", "Vasquez-Lee", "Whitcomb", "Winterbourne", "Yazzie", "Zamora", "Zeller",
)
# fmt: on

_GRADES = {
    "elementary": ("K", "1", "2", "3", "4", "5"),
    "middle": ("6", "7", "8"),
    "junior": ("7", "8"),
    "high": ("9", "10", "11", "12"),
}

# Annual reviews: a handful close to `today` (so every week has something due), the rest spread
# over the year; a few are already late.
_ANNUAL_NEAR = (-10, -6, -2, 0, 1, 2, 3, 5, 6, 8, 10, 12, 13, 16, 19, 23, 26, 29)
_TRIENNIAL_NEAR = (-3, 4, 9, 12, 17, 25, 28, 38, 47, 55, 59)

# (school, service, provider): caseload that tells a story. P04's AZ licence lapses in days and
# P05's AK licence within the month, so their next sessions there stop at the expiry date.
_DEMO_STORIES = (
    ("mesa-redmtn", "slp", "P04"),
    ("anc-chugach", "slp", "P05"),
    ("pf-windermere", "psych", "P12"),
    ("anc-kincaid", "mh", "P11"),
    ("mesa-falcon", "ot", "P10"),
)
_DEMO_GROUP = ("anc-spenard", "slp", "P03", 3)  # a weekly SLP group of three
_DEMO_ASSIGNED_STUDENTS = 20
_DEMO_OVERDUE_NOTES = 5


def _demo_students(rng: random.Random) -> list[_Student]:
    count = sum(school.size for school in _DEMO_SCHOOLS)
    annual = list(_ANNUAL_NEAR) + [rng.randint(31, 330) for _ in range(count - len(_ANNUAL_NEAR))]
    rng.shuffle(annual)
    with_triennial = sorted(rng.sample(range(count), count // 2))
    triennial = list(_TRIENNIAL_NEAR)
    triennial += [rng.randint(61, 1050) for _ in range(len(with_triennial) - len(triennial))]
    rng.shuffle(triennial)
    triennial_by_index = dict(zip(with_triennial, triennial, strict=True))
    names = rng.sample([(f, s) for f in _FIRST_NAMES for s in _LAST_NAMES], count)

    students: list[_Student] = []
    for school in _DEMO_SCHOOLS:
        members: list[_Student] = []
        for _ in range(school.size):
            index = len(students) + len(members)
            first, last = names[index]
            members.append(
                _Student(
                    student_id=f"S{1001 + index}",
                    school=school,
                    first_name=first,
                    last_name=last,
                    grade=rng.choice(_GRADES[school.level]),
                    annual_in=annual[index],
                    triennial_in=triennial_by_index.get(index),
                )
            )
        takers = rng.sample(members, len(school.extra_services))
        for member in members:
            extra = [s for s, m in zip(school.extra_services, takers, strict=True) if m is member]
            if not extra or rng.random() < 0.75:
                young = member.grade in ("K", "1")
                minutes = rng.choices((30, 20, 45), (6, 3 if young else 0, 0 if young else 1))[0]
                per_week = rng.choices((1, 2, 3), (35, 50, 15))[0]
                member.services.append(("slp", per_week, minutes, rng.random() < 0.5))
            for service in extra:
                if service in ("mh", "psych"):
                    member.services.append((service, 1, rng.choice((45, 60)), False))
                else:
                    per_week = rng.choice((1, 2))
                    member.services.append((service, per_week, 30, rng.random() < 0.4))
        students.extend(members)
    return students


class _Planner:
    """Places weekly recurring sessions for the demo's existing caseload.

    A slot is a school weekday and start time; it is kept only if every real date it falls on in
    the window (two weeks back, one ahead) fits the school's hours, the provider's availability in
    the provider's zone on that date, and the provider's other sessions.
    """

    def __init__(self, today: date, providers: Sequence[_Provider]) -> None:
        self.today = today
        self.booked: dict[str, list[tuple[datetime, datetime]]] = {
            p.provider_id: [] for p in providers
        }
        self.used: dict[str, int] = {p.provider_id: 0 for p in providers}
        self.window = [today + timedelta(days=k) for k in range(-14, 8) if k != 0]

    def until(self, provider: _Provider, state: str) -> date | None:
        """The first day the provider may not serve `state`, or None if not eligible today."""
        expiry = {s: self.today + timedelta(days=days) for s, days in provider.licences}
        home, there = expiry.get(provider.home_state), expiry.get(state)
        if home is None or there is None or min(home, there) <= self.today:
            return None
        return min(home, there)

    def _options(
        self, school: _School, zone: str, provider: _Provider, minutes: int, until: date
    ) -> dict[int, list[tuple[int, list[tuple[datetime, datetime]]]]]:
        school_zone, provider_zone = ZoneInfo(zone), ZoneInfo(provider.timezone)
        options: dict[int, list[tuple[int, list[tuple[datetime, datetime]]]]] = {}
        for weekday, day in enumerate(SCHOOL_DAYS):
            dates = [d for d in self.window if d.weekday() == weekday and d < until]
            if not dates:
                continue
            for opens, closes in school.hours[day]:
                for start in range(-(-opens // 5) * 5, closes - minutes + 1, 5):
                    instances = []
                    for when in dates:
                        local = datetime.combine(when, time(start // 60, start % 60), school_zone)
                        begin = local.astimezone(UTC)
                        end = begin + timedelta(minutes=minutes)
                        there = begin.astimezone(provider_zone)
                        at = there.hour * 60 + there.minute
                        windows = provider.availability.get(DAYS[there.weekday()], [])
                        if not _fits(windows, at, at + minutes) or any(
                            b < end and begin < e for b, e in self.booked[provider.provider_id]
                        ):
                            break
                        instances.append((begin, end))
                    else:
                        options.setdefault(weekday, []).append((start, instances))
        return options

    def place(
        self,
        rng: random.Random,
        school: _School,
        zone: str,
        state: str,
        provider: _Provider,
        per_week: int,
        minutes: int,
    ) -> list[tuple[datetime, datetime]] | None:
        """Book `per_week` slots on different days; returns every dated instance, or None."""
        until = self.until(provider, state)
        if until is None or self.used[provider.provider_id] + per_week * minutes > (
            provider.weekly_hours * 60
        ):
            return None
        options = self._options(school, zone, provider, minutes, until)
        if len(options) < per_week:
            return None
        instances: list[tuple[datetime, datetime]] = []
        for weekday in sorted(rng.sample(sorted(options), per_week)):
            found = options[weekday]
            # people book on the half hour, else the quarter, else whatever the bell allows
            found = (
                [o for o in found if o[0] % 30 == 0]
                or [o for o in found if o[0] % 15 == 0]
                or found
            )
            instances.extend(rng.choice(found)[1])
        self.booked[provider.provider_id].extend(instances)
        self.used[provider.provider_id] += per_week * minutes
        return sorted(instances)


def write_demo_roster(folder: Path, today: date = ANCHOR) -> None:
    """Write the demo roster (all ten CSV files) into `folder`, dated relative to `today`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2026)
    districts = {d[0]: d for d in _DEMO_DISTRICTS}
    providers = {p.provider_id: p for p in _DEMO_PROVIDERS}
    students = _demo_students(rng)

    def zone_of(school: _School) -> str:
        return school.timezone or districts[school.district_id][3]

    def state_of(school: _School) -> str:
        return districts[school.district_id][2]

    def in_days(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    # The Spenard group: students whose only service is SLP, made alike so they may share a slot.
    group_school, group_service, group_provider, group_size = _DEMO_GROUP
    group = [
        s
        for s in students
        if s.school.school_id == group_school and [v[0] for v in s.services] == [group_service]
    ][:group_size]
    for member in group:
        member.services[0] = (group_service, 1, 30, True)

    planner = _Planner(today, _DEMO_PROVIDERS)
    assignments: list[tuple[str, str, str]] = []
    # (provider_id, service, minutes, student_ids, dated instances)
    plans: list[tuple[str, str, int, list[str], list[tuple[datetime, datetime]]]] = []

    def assign(members: list[_Student], service: str, provider: _Provider) -> bool:
        school = members[0].school
        per_week, minutes = next((v[1], v[2]) for v in members[0].services if v[0] == service)
        placed = planner.place(
            rng, school, zone_of(school), state_of(school), provider, per_week, minutes
        )
        if placed is None:
            return False
        ids = [m.student_id for m in members]
        assignments.extend((sid, service, provider.provider_id) for sid in ids)
        plans.append((provider.provider_id, service, minutes, ids, placed))
        return True

    if not assign(group, group_service, providers[group_provider]):
        raise RuntimeError("the demo group found no slot")
    taken = {(s.student_id, group_service) for s in group}
    for school_id, service, provider_id in _DEMO_STORIES:
        for student in students:
            wanted = (student.student_id, service)
            if (
                student.school.school_id == school_id
                and wanted not in taken
                and any(v[0] == service for v in student.services)
                and assign([student], service, providers[provider_id])
            ):
                taken.add(wanted)
                break

    others = [s for s in students if s not in group]
    rng.shuffle(others)
    for student in others:
        if len({sid for sid, _ in taken}) >= _DEMO_ASSIGNED_STUDENTS:
            break
        for service, *_ in student.services:
            if (student.student_id, service) in taken:
                continue
            eligible = [
                p
                for p in _DEMO_PROVIDERS
                if p.discipline == service and planner.until(p, state_of(student.school))
            ]
            rng.shuffle(eligible)
            for provider in eligible:
                if assign([student], service, provider):
                    taken.add((student.student_id, service))
                    break

    _write(folder, "districts.csv", _DEMO_DISTRICTS)
    _write(
        folder,
        "schools.csv",
        ((s.school_id, s.district_id, s.name, s.timezone) for s in _DEMO_SCHOOLS),
    )
    _write(
        folder,
        "school_hours.csv",
        (
            (s.school_id, day, _hm(opens), _hm(closes))
            for s in _DEMO_SCHOOLS
            for day, rows in s.hours.items()
            for opens, closes in rows
        ),
    )
    _write(
        folder,
        "providers.csv",
        (
            (
                p.provider_id,
                p.name,
                p.email,
                p.slack_user_id,
                p.discipline,
                p.home_state,
                p.timezone,
                _hours(p.weekly_hours),
            )
            for p in _DEMO_PROVIDERS
        ),
    )
    _write(
        folder,
        "licenses.csv",
        (
            (
                p.provider_id,
                state,
                in_days(days),
                p.licence_number(state),
            )
            for p in _DEMO_PROVIDERS
            for state, days in p.licences
        ),
    )
    _write(folder, "managers.csv", _DEMO_MANAGERS)
    _write(
        folder,
        "students.csv",
        (
            (
                s.student_id,
                s.school.school_id,
                s.first_name,
                s.last_name,
                s.grade,
                in_days(s.annual_in),
                "" if s.triennial_in is None else in_days(s.triennial_in),
            )
            for s in students
        ),
    )
    _write(
        folder,
        "services.csv",
        (
            (s.student_id, service, per_week, minutes, _bool(group_ok), *_demo_mandate(service))
            for s in students
            for service, per_week, minutes, group_ok in s.services
        ),
    )
    first, last = _DEMO_WINTER_BREAK
    _write(
        folder,
        "calendar.csv",
        [(d[0], "", in_days(first), in_days(last), "closed", "") for d in _DEMO_DISTRICTS]
        + [
            (d, "", in_days(k), in_days(k), "early_release", at) for d, k, at in _DEMO_EARLY_RELEASE
        ],
    )
    _write(
        folder,
        "availability.csv",
        (
            (p.provider_id, day, _hm(begin), _hm(end))
            for p in _DEMO_PROVIDERS
            for day, rows in p.availability.items()
            for begin, end in rows
        ),
    )
    _write(folder, "assignments.csv", sorted(assignments))
    _write(folder, "sessions.csv", _demo_sessions(rng, today, plans))


def _demo_mandate(service: str) -> tuple[object, ...]:
    """minutes_per_week, minutes_per_month, starts_on, ends_on: mental-health IEPs state a
    monthly mandate (four hours a month); the others leave it to sessions × minutes."""
    return ("", 240, "", "") if service == "mh" else ("", "", "", "")


def _demo_sessions(
    rng: random.Random,
    today: date,
    plans: list[tuple[str, str, int, list[str], list[tuple[datetime, datetime]]]],
) -> list[Row]:
    """Dated instances of the caseload's slots: past ones mostly held, next week's scheduled."""
    cutoff = datetime.combine(today, time(), UTC)  # notes are never written after this "now"
    instances = sorted(
        (begin, end, provider_id, service, minutes, tuple(students))
        for provider_id, service, minutes, students, placed in plans
        for begin, end in placed
    )
    # [session_id, provider_id, student_id, service, begin, minutes, status, note_done_at]
    rows: list[list[Any]] = []
    for number, (begin, end, provider_id, service, minutes, students) in enumerate(instances, 1):
        session_id = f"DS{number:04d}"
        if begin >= cutoff:
            status = "scheduled"
        else:
            status = rng.choices(("held", "scheduled", "cancelled", "no_show"), (84, 5, 6, 5))[0]
            if len(students) > 1 and status != "held":
                status = "held"  # the group meets; absences are per student and rare
        for student_id in students:
            note: datetime | None = None
            # a past "scheduled" session was held but not marked so; half have their note
            documented = status in ("held", "no_show") or (
                status == "scheduled" and begin < cutoff and rng.random() < 0.5
            )
            if documented:
                delay = rng.choices(
                    (rng.randint(10, 240), rng.randint(360, 1800), rng.randint(1800, 3600)),
                    (70, 22, 8),
                )[0]
                note = end + timedelta(minutes=delay)
                if note >= cutoff:
                    note = None
            rows.append(
                [session_id, provider_id, student_id, service, begin, minutes, status, note]
            )

    # Make the story certain whatever `today` is: some cancellations, a no-show, and notes overdue.
    groups = _group_ids(rows)
    past_single = [r for r in rows if r[4] + timedelta(hours=48) < cutoff and r[0] not in groups]
    for status, wanted in (("cancelled", 2), ("no_show", 1)):
        short = max(0, wanted - sum(r[6] == status for r in past_single))
        for row in [r for r in past_single if r[6] == "held"][:short]:
            row[6] = status
            row[7] = None if status == "cancelled" else row[7]
    for row in rows:
        if row[6] == "cancelled":
            row[7] = None
    documented = [r for r in rows if r[6] == "held" and r[7] is not None]
    documented = [r for r in documented if r[4] + timedelta(hours=48) < cutoff]
    for row in rng.sample(documented, min(_DEMO_OVERDUE_NOTES, len(documented))):
        row[7] = None
    return [
        [r[0], r[1], r[2], r[3], _stamp(r[4]), r[5], r[6], "" if r[7] is None else _stamp(r[7])]
        for r in rows
    ]


def _group_ids(rows: list[list[Any]]) -> set[str]:
    seen: set[str] = set()
    groups: set[str] = set()
    for row in rows:
        (groups if row[0] in seen else seen).add(row[0])
    return groups


# --------------------------------------------------------------------------------------------------
# The synthetic roster

# (state, zone, how readily out-of-state providers hold a licence there, weight as a district state)
_STATES: tuple[tuple[str, str, float, float], ...] = (
    ("TX", "America/Chicago", 1.0, 4.0),
    ("CA", "America/Los_Angeles", 1.0, 5.0),
    ("AZ", "America/Phoenix", 1.0, 2.0),
    ("AK", "America/Anchorage", 0.35, 1.0),
    ("NY", "America/New_York", 0.5, 3.0),
    ("HI", "Pacific/Honolulu", 0.15, 0.6),
    ("CO", "America/Denver", 1.0, 1.5),
    ("WA", "America/Los_Angeles", 1.0, 1.5),
    ("IL", "America/Chicago", 0.9, 2.0),
    ("FL", "America/New_York", 0.9, 3.0),
    ("OR", "America/Los_Angeles", 1.0, 1.0),
    ("NV", "America/Los_Angeles", 1.0, 0.8),
    ("UT", "America/Denver", 1.0, 0.8),
    ("NM", "America/Denver", 0.8, 0.6),
    ("GA", "America/New_York", 0.9, 2.0),
    ("MI", "America/Detroit", 0.9, 1.5),
    ("OH", "America/New_York", 0.9, 2.0),
    ("MN", "America/Chicago", 0.9, 1.0),
)
_STATE_ZONE = {s[0]: s[1] for s in _STATES}

_SERVICE_MIX = (("slp", 0.60), ("ot", 0.20), ("pt", 0.05), ("psych", 0.07), ("mh", 0.08))
# Calibrated so that a greedy matcher leaves roughly 5-10 % of services unserved.
_TWO_SERVICES = 0.4  # share of students with two services
_PER_WEEK = (25, 45, 30)  # weights of 1, 2, 3 sessions a week
_EXTRA_LICENCES = (5, 4, 1)  # weights of 1, 2, 3 licences besides the home state's
_LICENCES_ELSEWHERE = 0.15  # weight of a state with no students, relative to demand shares
_HOME_NEAR = 0.5  # share of providers living in a state that has students
_AVAILABLE_DAYS = (1, 2, 4, 3)  # weights of 2, 3, 4, 5 available weekdays
_AVAILABLE_MINUTES = (180, 240, 300, 360, 420)  # length of a day's availability, drawn evenly
_MINUTES = (60, 8, 20, 12)  # weights of 30, 20, 45, 60-minute SLP/OT/PT sessions
_HOURS_MODE = 22.5  # weekly_hours is triangular on 10-35 with this mode
# (service, state) that no provider may serve: the company has no PT licensed in Alaska or Hawaii
# and no school psychologist in Hawaii, so those services always end up no_licensed_provider.
_UNCOVERED = frozenset({("pt", "AK"), ("pt", "HI"), ("psych", "HI")})

# fmt: off
_TOWNS = (
    "Alder", "Antler", "Aspen", "Basalt", "Bear", "Birch", "Bluestem", "Boulder", "Cedar", "Cinder",
    "Clover", "Copper", "Cottonwood", "Coyote", "Crane", "Driftwood", "Eagle", "Elk", "Fern", "Fox",
    "Granite", "Hawk", "Heron", "Hollow", "Iron", "Juniper", "Kestrel", "Larch", "Lark", "Maple",
    "Marsh", "Mesquite", "Mill", "Oak", "Osprey", "Otter", "Pine", "Quail", "Raven", "Redwood",
    "Sage", "Salmon", "Sandhill", "Silver", "Spruce", "Stone", "Sumac", "Thistle", "Timber",
    "Willow",
)
_PLACES = (
    "Bend", "Bluff", "Creek", "Crossing", "Falls", "Flats", "Grove", "Harbor", "Heights", "Hills",
    "Lake", "Meadows", "Park", "Point", "Prairie", "Ridge", "Springs", "Valley", "View", "Wells",
)
# fmt: on
_DISTRICT_KINDS = {
    "CA": "Unified School District",
    "TX": "ISD",
    "NY": "Central School District",
    "AK": "Borough School District",
    "FL": "County Schools",
}


def _largest_remainder(total: int, shares: Sequence[float]) -> list[int]:
    raw = [total * s / sum(shares) for s in shares]
    counts = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: counts[i] - raw[i])
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


_ROTATIONS = tuple(tuple((start + k) % 5 for k in range(5)) for start in range(5))
_ZEROS = [bytes(n) for n in range(16)]  # free runs of n cells (4 hours at most)


@dataclass
class _SynthSchool:
    school_id: str
    state: str
    zone: str
    grades: tuple[str, ...]
    hours: Windows
    students: int
    # per school weekday: [(first, last)] 15-minute cells of the reference week
    cells: list[list[tuple[int, int]]] = field(default_factory=list)


@dataclass
class _SynthProvider:
    index: int
    provider_id: str
    discipline: str
    home_state: str
    zone: str
    weekly_hours: float
    availability: Windows
    licences: list[tuple[str, date, str]]
    cells: list[tuple[int, int]] = field(default_factory=list)  # availability, reference week
    used: int = 0  # minutes a week already assigned


class _Minutes:
    """Instants as whole minutes after UTC midnight of `origin`, formatted without datetime.

    A million sessions would spend most of their time in datetime arithmetic and isoformat; local
    midnights are cached per (zone, day), so the rest is integer arithmetic.
    """

    def __init__(self, origin: date, days: int) -> None:
        self.origin = origin
        self._epoch = datetime.combine(origin, time(), UTC)
        self._days = [(origin + timedelta(days=k)).isoformat() for k in range(days)]
        self._midnights = _LocalMidnights()
        self._cache: dict[tuple[str, int], int] = {}
        self._stamps: dict[int, str] = {}

    def midnight(self, zone: str, day: int) -> int:
        """The minute of local 00:00 on day number `day` in `zone`."""
        key = (zone, day)
        found = self._cache.get(key)
        if found is None:
            moment = self._midnights(zone, self.origin + timedelta(days=day))
            found = self._cache[key] = int((moment - self._epoch).total_seconds()) // 60
        return found

    def stamp(self, minute: int) -> str:
        found = self._stamps.get(minute)
        if found is None:
            day, rest = divmod(minute, 1440)
            found = f"{self._days[day]}T{rest // 60:02d}:{rest % 60:02d}:00+00:00"
            self._stamps[minute] = found
        return found


class _Synthetic:
    """Builds one synthetic roster; `write` streams it into a folder."""

    CELL = 15  # minutes per cell of the reference week, in which slots are booked
    HISTORY_WEEKS = 60  # sessions go back this far, or one week per session if that is more

    def __init__(
        self,
        *,
        students: int,
        providers: int | None,
        districts: int | None,
        seed: int,
        today: date,
        sessions_per_student: int,
        assign_all: bool,
    ) -> None:
        if students < 1:
            raise ValueError("students must be at least 1")
        self.rng = random.Random(seed)
        self.today = today
        self.n_students = students
        self.n_districts = districts or max(1, round(students / 300))
        # at least one provider per discipline, so that assign_all can always find one
        self.n_providers = max(len(_SERVICE_MIX), providers or round(students / 7.5))
        self.sessions_per_student = sessions_per_student
        self.assign_all = assign_all or sessions_per_student > 0
        weeks = max(self.HISTORY_WEEKS, sessions_per_student) + 1  # a slot a week at least
        origin = today - timedelta(days=7 * weeks)
        self.minutes = _Minutes(origin, (today - origin).days + 1200)
        self.today_index = (today - origin).days
        self.monday_index = self.today_index - today.weekday()  # the reference week
        self.district_rows: list[tuple[str, str, str, str]] = []
        self.school_rows: list[tuple[str, str, str, str]] = []
        self.schools: list[_SynthSchool] = []
        self.providers: list[_SynthProvider] = []
        self._bases: dict[tuple[str, int], int] = {}

    # The reference week, in cells -----------------------------------------------------------------

    def _base(self, zone: str, weekday: int) -> int:
        """Minutes from the reference Monday 00:00 UTC to local midnight of `weekday` in `zone`."""
        key = (zone, weekday)
        found = self._bases.get(key)
        if found is None:
            monday = self.monday_index * 1440
            found = self.minutes.midnight(zone, self.monday_index + weekday) - monday
            self._bases[key] = found
        return found

    def _cells(self, zone: str, weekday: int, start: int, end: int) -> tuple[int, int]:
        """The whole cells [first, last) inside local `start`-`end` (11:40 starts at 11:45)."""
        base = self._base(zone, weekday)
        return -(-(base + start) // self.CELL), (base + end) // self.CELL

    # Districts, schools, providers ----------------------------------------------------------------

    def make_districts(self) -> None:
        rng, names = self.rng, set()
        weights = [s[3] for s in _STATES]
        for i in range(self.n_districts):
            state, zone, *_ = _STATES[i] if i < len(_STATES) else rng.choices(_STATES, weights)[0]
            kind = _DISTRICT_KINDS.get(state, "Public Schools")
            name = f"{rng.choice(_TOWNS)} {rng.choice(_PLACES)} {kind}"
            while name in names:
                name = f"{rng.choice(_TOWNS)} {rng.choice(_PLACES)} {kind} {len(names)}"
            names.add(name)
            self.district_rows.append((f"D{i + 1:04d}", name, state, zone))

    def make_schools(self) -> None:
        rng = self.rng
        plan: list[tuple[int, float]] = []  # (district index, relative size)
        for i in range(self.n_districts):
            plan += [(i, rng.uniform(0.6, 1.4)) for _ in range(rng.randint(6, 10))]
        sizes = _largest_remainder(self.n_students, [w for _, w in plan])
        levels = {
            "Elementary": (480, _GRADES["elementary"]),
            "Middle School": (465, _GRADES["middle"]),
            "High School": (450, _GRADES["high"]),
        }
        for number, ((d, _), size) in enumerate(zip(plan, sizes, strict=True), 1):
            district_id, _, state, zone = self.district_rows[d]
            level = rng.choices(tuple(levels), (55, 25, 20))[0]
            opens, grades = levels[level]
            opens += rng.choice((-30, -15, 0, 15, 30, 45))
            lunch = opens + rng.choice((180, 195, 210))
            back = lunch + rng.choice((30, 40, 45))
            closes = opens + rng.choice((390, 405, 420))
            early = rng.choice(("wed", "fri")) if rng.random() < 0.3 else None
            hours = {
                day: [(opens, lunch), (back, max(780, back + 60) if day == early else closes)]
                for day in SCHOOL_DAYS
            }
            school = _SynthSchool(f"SC{number:05d}", state, zone, grades, hours, size)
            school.cells = [
                [self._cells(zone, weekday, s, e) for s, e in hours[day]]
                for weekday, day in enumerate(SCHOOL_DAYS)
            ]
            self.schools.append(school)
            written_zone = "" if rng.random() < 0.25 else zone
            name = f"{rng.choice(_TOWNS)} {rng.choice(_PLACES)} {level}"
            self.school_rows.append((school.school_id, district_id, name, written_zone))

    def make_providers(self) -> None:
        rng, today = self.rng, self.today
        demand: dict[str, float] = {}
        for school in self.schools:
            demand[school.state] = demand.get(school.state, 0) + school.students
        district_states = sorted(demand)
        # providers per discipline follow the minutes asked of it: psych and mh sessions run longer
        minutes = [s * (45 if d in ("psych", "mh") else 36) for d, s in _SERVICE_MIX]
        counts = [1 + n for n in _largest_remainder(self.n_providers - len(_SERVICE_MIX), minutes)]
        per_discipline = {d: n for (d, _), n in zip(_SERVICE_MIX, counts, strict=True)}
        disciplines = [d for d, n in per_discipline.items() for _ in range(n)]
        rng.shuffle(disciplines)
        # Licences go where the discipline's supply lags the state's share of students, so every
        # state ends up about equally tight, whatever the scale.
        supply: dict[tuple[str, str], float] = {}
        ease = {s[0]: s[2] for s in _STATES}
        noon = datetime.combine(today, time(12), UTC)
        offsets = {state: _offset(zone, noon) for state, zone, *_ in _STATES}
        mean_hours = (10 + 35 + _HOURS_MODE) / 3

        def lag(discipline: str, state: str) -> float:
            """How far the discipline's licensed hours in `state` trail its share of students."""
            wanted = demand.get(state, 0) / self.n_students
            held = supply.get((discipline, state), 0) / (per_discipline[discipline] * mean_hours)
            return max(0.0, wanted - held)

        for i, discipline in enumerate(disciplines):
            weekly_hours = round(rng.triangular(10, 35, _HOURS_MODE) * 2) / 2
            homes = [s for s in district_states if (discipline, s) not in _UNCOVERED]
            if homes and rng.random() < _HOME_NEAR:
                home = rng.choices(homes, [lag(discipline, s) + 0.01 for s in homes])[0]
            else:
                anywhere = [s for s in _STATES if (discipline, s[0]) not in _UNCOVERED]
                home = rng.choices(anywhere, [s[3] for s in anywhere])[0][0]
            others = [
                s[0] for s in _STATES if s[0] != home and (discipline, s[0]) not in _UNCOVERED
            ]
            weights = [(lag(discipline, s) * 12 + _LICENCES_ELSEWHERE) * ease[s] for s in others]
            states = [home]
            for _ in range(rng.choices((1, 2, 3), _EXTRA_LICENCES)[0]):
                pick = rng.choices(others, weights)[0]
                if pick not in states:
                    states.append(pick)
            licences = []
            for state in states:
                roll = rng.random()
                if state == home or roll >= 0.08:
                    expires = today + timedelta(days=rng.randint(31, 1000))
                elif roll < 0.04:
                    expires = today - timedelta(days=rng.randint(1, 90))
                else:
                    expires = today + timedelta(days=rng.randint(1, 30))
                number = f"{state}-{discipline.upper()}-{rng.randint(100000, 999999)}"
                licences.append((state, expires, number))
            zone = _STATE_ZONE[home]
            valid = [s for s, e, _ in licences if e > today]
            for state in valid:
                key = (discipline, state)
                supply[key] = supply.get(key, 0) + weekly_hours / len(valid)
            availability: Windows = {}
            # each day is aimed at the school day of one state where the provider has students
            served = [s for s in valid if s in demand] or [home]
            n_days = rng.choices((2, 3, 4, 5), _AVAILABLE_DAYS)[0]
            for weekday in sorted(rng.sample(range(5), n_days)):
                target = rng.choice(served)
                length = rng.choice(_AVAILABLE_MINUTES)
                begin = 480 + offsets[home] - offsets[target] + rng.choice((-60, -30, 0, 0, 30, 60))
                begin = max(360, min(begin, 1200 - length))
                end = begin + length
                if length >= 300 and rng.random() < 0.4:
                    gap = begin + rng.choice((150, 180, 210))
                    availability[SCHOOL_DAYS[weekday]] = [
                        (begin, gap),
                        (gap + rng.choice((30, 60)), end),
                    ]
                else:
                    availability[SCHOOL_DAYS[weekday]] = [(begin, end)]
            provider = _SynthProvider(
                index=i,
                provider_id=f"P{i + 1:05d}",
                discipline=discipline,
                home_state=home,
                zone=zone,
                weekly_hours=weekly_hours,
                availability=availability,
                licences=licences,
            )
            provider.cells = sorted(
                self._cells(zone, SCHOOL_DAYS.index(day), s, e)
                for day, spans in availability.items()
                for s, e in spans
            )
            self.providers.append(provider)

    # Assignments (only with assign_all) -----------------------------------------------------------

    def _prepare_assignments(self) -> None:
        self.eligible: dict[tuple[str, str], list[_SynthProvider]] = {}
        for provider in self.providers:
            valid = {s for s, e, _ in provider.licences if e > self.today}
            if provider.home_state in valid:
                for state in valid:
                    self.eligible.setdefault((provider.discipline, state), []).append(provider)
        self.by_discipline: dict[str, list[_SynthProvider]] = {}
        for provider in self.providers:
            self.by_discipline.setdefault(provider.discipline, []).append(provider)
        self.booked = [bytearray(8 * 96) for _ in self.providers]

    def _place(
        self, school: _SynthSchool, provider: _SynthProvider, per_week: int, need: int, free: bool
    ) -> list[tuple[int, int]]:
        """Up to `per_week` (weekday, cell) slots on different days inside school hours and the
        provider's availability, on cells nobody booked if `free`."""
        booked, empty = self.booked[provider.index], _ZEROS[need]
        slots: list[tuple[int, int]] = []
        for weekday in _ROTATIONS[int(self.rng.random() * 5)]:
            found = -1
            for first, last in school.cells[weekday]:
                for a, b in provider.cells:  # sorted by start
                    if a >= last:
                        break
                    lo = a if a > first else first
                    hi = b if b < last else last
                    if hi - lo >= need:
                        found = booked.find(empty, lo, hi) if free else lo
                        if found >= 0:
                            break
                if found >= 0:
                    slots.append((weekday, found))
                    break
            if len(slots) == per_week:
                break
        return slots

    def assign(
        self, school: _SynthSchool, discipline: str, per_week: int, minutes: int
    ) -> tuple[_SynthProvider, list[tuple[int, int]]]:
        """A licensed provider and (weekday, local start) slots, greedy by load."""
        rng, today = self.rng, self.today
        candidates = self.eligible.get((discipline, school.state))
        if not candidates:
            # Nobody may serve here: license a provider so that the caseload stays valid.
            provider = rng.choice(self.by_discipline[discipline])
            number = f"{school.state}-{discipline.upper()}-{rng.randint(100000, 999999)}"
            expires = today + timedelta(days=rng.randint(120, 900))
            # one licence per state: a lapsed one is renewed rather than duplicated
            provider.licences = [x for x in provider.licences if x[0] != school.state]
            provider.licences.append((school.state, expires, number))
            candidates = self.eligible[(discipline, school.state)] = [provider]
        need = -(-minutes // self.CELL)
        tried = sorted(
            (rng.choice(candidates) for _ in range(min(4, len(candidates)))),
            key=lambda p: p.used / p.weekly_hours,
        )

        def fit(
            tried: list[_SynthProvider], within_hours: bool, free: bool
        ) -> tuple[_SynthProvider, list[tuple[int, int]]]:
            for provider in tried:
                if within_hours and provider.used + per_week * minutes > provider.weekly_hours * 60:
                    continue
                slots = self._place(school, provider, per_week, need, free=free)
                if len(slots) == per_week:
                    return provider, slots
            return tried[0], []

        # First within weekly_hours, then beyond them (a full caseload), then on top of other
        # sessions; always inside school hours, and inside availability where there is any.
        provider, slots = fit(tried, True, True)
        if not slots:
            more = tried + [rng.choice(candidates) for _ in range(min(20, len(candidates)))]
            provider, slots = fit(more, False, True)
        if not slots:
            provider, slots = fit(tried, False, False)
        if not slots:
            slots = self._place(school, provider, per_week, need, free=False)
            for weekday in range(5):
                if len(slots) < per_week and weekday not in {d for d, _ in slots}:
                    slots.append((weekday, school.cells[weekday][0][0]))
        booked = self.booked[provider.index]
        for _, cell in slots:
            booked[cell : cell + need] = b"\x01" * need
        provider.used += per_week * minutes
        return provider, [
            (weekday, cell * self.CELL - self._base(school.zone, weekday))
            for weekday, cell in slots
        ]

    # Output ---------------------------------------------------------------------------------------

    def write(self, folder: Path) -> None:
        self.make_districts()
        self.make_schools()
        self.make_providers()
        if self.assign_all:
            self._prepare_assignments()
        with ExitStack() as stack:
            self._write_students(
                _writer(stack, folder, "students.csv"),
                _writer(stack, folder, "services.csv"),
                _writer(stack, folder, "assignments.csv"),
                _writer(stack, folder, "sessions.csv"),
            )
        _write(folder, "districts.csv", self.district_rows)
        _write(folder, "schools.csv", self.school_rows)
        # Every district closes for the same winter break, the next one after `today`.
        year = (
            self.today.year if self.today < date(self.today.year, 12, 21) else self.today.year + 1
        )
        closed = (date(year, 12, 21).isoformat(), date(year + 1, 1, 1).isoformat())
        _write(
            folder,
            "calendar.csv",
            ((row[0], "", *closed, "closed", "") for row in self.district_rows),
        )
        _write(
            folder,
            "school_hours.csv",
            (
                (school.school_id, day, _hm(s), _hm(e))
                for school in self.schools
                for day in SCHOOL_DAYS
                for s, e in school.hours[day]
            ),
        )
        _write(folder, "providers.csv", (self._provider_row(p) for p in self.providers))
        _write(
            folder,
            "licenses.csv",
            (
                (p.provider_id, s, e.isoformat(), n)
                for p in self.providers
                for s, e, n in p.licences
            ),
        )
        _write(
            folder,
            "availability.csv",
            (
                (p.provider_id, day, _hm(s), _hm(e))
                for p in self.providers
                for day, spans in p.availability.items()
                for s, e in spans
            ),
        )
        _write(
            folder,
            "managers.csv",
            (
                (
                    f"M{i:03d}",
                    f"{first} {last}",
                    f"{first}.{last}.m{i}@example.org".lower(),
                    f"USYNM{i:05d}",
                    "",
                )
                for i in range(1, 4 + self.n_districts // 25)
                for first, last in [_synthetic_name(7919 * i)]
            ),
        )

    @staticmethod
    def _provider_row(p: _SynthProvider) -> Row:
        first, last = _synthetic_name(p.index)
        return (
            p.provider_id,
            f"{first} {last}",
            f"{first}.{last}{p.index + 1}@example.org".lower(),
            f"USYN{p.index + 1:07d}",
            p.discipline,
            p.home_state,
            p.zone,
            _hours(p.weekly_hours),
        )

    def _write_students(
        self, students: Any, services: Any, assignments: Any, sessions: Any
    ) -> None:
        rng = self.rng
        # cumulative weights spare random.choices an accumulate() per call (same draws)
        kinds = [s for s, _ in _SERVICE_MIX]
        kind_weights = list(accumulate(w for _, w in _SERVICE_MIX))
        per_week_weights = list(accumulate(_PER_WEEK))
        minute_weights = list(accumulate(_MINUTES))
        long_weights = list(accumulate((3, 4, 3)))
        day_text = [
            self.minutes.stamp((self.today_index + k) * 1440)[:10] for k in range(-10, 1096)
        ]
        number = 0
        self._session_number = 0
        for school in self.schools:
            for _ in range(school.students):
                number += 1
                student_id = f"S{number:06d}"
                triennial = day_text[rng.randint(5, 1105)] if rng.random() < 0.5 else ""
                students.writerow(
                    (
                        student_id,
                        school.school_id,
                        rng.choice(_FIRST_NAMES),
                        rng.choice(_LAST_NAMES),
                        rng.choice(school.grades),
                        day_text[rng.randint(0, 340)],
                        triennial,
                    )
                )
                mine = rng.choices(kinds, cum_weights=kind_weights)
                if rng.random() < _TWO_SERVICES:
                    second = mine[0]
                    while second == mine[0]:
                        second = rng.choices(kinds, cum_weights=kind_weights)[0]
                    mine.append(second)
                slots: list[tuple[int, int, int, str, str]] = []
                for service in mine:
                    per_week = rng.choices((1, 2, 3), cum_weights=per_week_weights)[0]
                    if service in ("psych", "mh"):
                        minutes = rng.choices((30, 45, 60), cum_weights=long_weights)[0]
                    else:
                        minutes = rng.choices((30, 20, 45, 60), cum_weights=minute_weights)[0]
                    group_ok = _bool(rng.random() < 0.45)
                    services.writerow(
                        (student_id, service, per_week, minutes, group_ok, "", "", "", "")
                    )
                    if self.assign_all:
                        provider, placed = self.assign(school, service, per_week, minutes)
                        assignments.writerow((student_id, service, provider.provider_id))
                        slots += [(d, s, minutes, service, provider.provider_id) for d, s in placed]
                if self.sessions_per_student:
                    self._write_sessions(sessions, student_id, school.zone, slots)

    def _write_sessions(
        self, out: Any, student_id: str, zone: str, slots: list[tuple[int, int, int, str, str]]
    ) -> None:
        """The student's last sessions_per_student sessions before today, week by week back."""
        rng, stamp, midnight = self.rng, self.minutes.stamp, self.minutes.midnight
        cutoff = self.today_index * 1440
        latest = sorted(slots, reverse=True)  # Friday's first: newest first within a week
        left = self.sessions_per_student
        monday = self.monday_index
        while left and monday > 0:
            for weekday, start, minutes, service, provider_id in latest:
                day = monday + weekday
                if day >= self.today_index:
                    continue
                begin = midnight(zone, day) + start
                roll = rng.random()
                if roll < 0.89:
                    status = "held"
                elif roll < 0.94:
                    status = "cancelled"
                elif roll < 0.97:
                    status = "no_show"
                else:
                    status = "scheduled"  # in the past: held but never marked
                note = ""
                if status != "cancelled" and rng.random() >= 0.03:
                    done = begin + minutes + 5 + int(rng.random() * 1435)
                    if done < cutoff:
                        note = stamp(done)
                self._session_number += 1
                out.writerow(
                    (
                        f"X{self._session_number:08d}",
                        provider_id,
                        student_id,
                        service,
                        stamp(begin),
                        minutes,
                        status,
                        note,
                    )
                )
                left -= 1
                if not left:
                    break
            monday -= 7


def write_synthetic_roster(
    folder: Path,
    *,
    students: int,
    providers: int | None = None,
    districts: int | None = None,
    seed: int = 7,
    today: date,
    sessions_per_student: int = 0,
    assign_all: bool = False,
) -> None:
    """Write a synthetic roster of `students` students (all ten CSV files) into `folder`.

    Defaults: `districts` = students / 300 (at least 1) with 6-10 schools each, spread over 18
    states and 8 IANA zones; `providers` = students / 7.5 (at least one per discipline), with
    disciplines in proportion to the minutes of the service mix. Licences follow demand per state
    but leave a few (service, state) pairs uncovered (no PT in AK or HI, no psych in HI), and
    availability is tight, so a greedy matcher leaves several percent unserved (about 6-9 % at
    300-3,000 students, less at larger sizes where each state has more providers). Without
    `assign_all`, assignments.csv and sessions.csv hold only their headers.

    With `assign_all` (implied by `sessions_per_student` > 0) every service is assigned to a
    provider of its discipline licensed in the school's state and in the provider's home state (a
    licence is added where nobody holds one), on weekly slots inside school hours and, where the
    greedy pass finds room, inside the provider's free availability within weekly_hours; the rest
    (about 6 %) overbook. Each student then gets `sessions_per_student` past sessions on those
    slots, week by week back from `today`: about 89 % held, 5 % cancelled, 3 % no_show, 3 % still
    "scheduled", and about 3 % of the uncancelled ones without a note. Slots are fitted to the week
    of `today`; earlier weeks keep the school's wall-clock time, so across a daylight-saving change
    a few sessions leave the provider's availability.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    _Synthetic(
        students=students,
        providers=providers,
        districts=districts,
        seed=seed,
        today=today,
        sessions_per_student=sessions_per_student,
        assign_all=assign_all,
    ).write(folder)


def _synthetic_name(index: int) -> tuple[str, str]:
    first = _FIRST_NAMES[index % len(_FIRST_NAMES)]
    return first, _LAST_NAMES[(index * 7 + index // len(_FIRST_NAMES)) % len(_LAST_NAMES)]


# --------------------------------------------------------------------------------------------------
# Command line


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"not a YYYY-MM-DD date: {text!r}") from error


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo.generate", description="Write a demo or synthetic roster folder."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="write the hand-crafted demo roster")
    demo.add_argument("folder", type=Path, help="created if missing; files are overwritten")
    demo.add_argument(
        "--today",
        type=_parse_date,
        default=ANCHOR,
        help=f"date the roster is built around ({ANCHOR})",
    )
    synthetic = commands.add_parser("synthetic", help="write a synthetic roster of any size")
    synthetic.add_argument("folder", type=Path, help="created if missing; files are overwritten")
    synthetic.add_argument("--students", type=int, required=True)
    synthetic.add_argument("--providers", type=int, help="default: students / 7.5")
    synthetic.add_argument("--districts", type=int, help="default: students / 300, at least 1")
    synthetic.add_argument("--seed", type=int, default=7)
    synthetic.add_argument("--today", type=_parse_date, default=ANCHOR, help=f"default: {ANCHOR}")
    synthetic.add_argument(
        "--sessions-per-student",
        type=int,
        default=0,
        help="past sessions each; implies --assign-all",
    )
    synthetic.add_argument(
        "--assign-all", action="store_true", help="assign every service to a licensed provider"
    )
    args = parser.parse_args(argv)
    if args.command == "demo":
        write_demo_roster(args.folder, args.today)
    else:
        write_synthetic_roster(
            args.folder,
            students=args.students,
            providers=args.providers,
            districts=args.districts,
            seed=args.seed,
            today=args.today,
            sessions_per_student=args.sessions_per_student,
            assign_all=args.assign_all,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
