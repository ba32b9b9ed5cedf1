"""Demo data: the demo roster's cast: its districts, schools, providers, managers and stories.

Pure data: `demo.roster` turns it into the ten CSV files. Licence expiries, calendar days and the
near deadlines are counted in days from the roster's `today`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from demo.schema import Windows, bell, week_windows


@dataclass(frozen=True)
class School:
    school_id: str
    district_id: str
    name: str
    timezone: str  # as written: empty means the district's
    level: str
    hours: Windows
    size: int
    extra_services: tuple[str, ...]  # non-SLP services given to some of its students


@dataclass(frozen=True)
class Provider:
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
class Student:
    student_id: str
    school: School
    first_name: str
    last_name: str
    grade: str
    annual_in: int
    triennial_in: int | None
    services: list[tuple[str, int, int, bool]] = field(default_factory=list)


DEMO_DISTRICTS = (
    ("anc", "Anchorage School District", "AK", "America/Anchorage"),
    ("mesa", "Mesa Public Schools", "AZ", "America/Phoenix"),
    ("pflugerville", "Pflugerville ISD", "TX", "America/Chicago"),
)

DEMO_SCHOOLS = (
    School(
        "anc-spenard",
        "anc",
        "Spenard Creek Elementary",
        "",
        "elementary",
        bell("08:30", "11:30", "12:15", "15:00", early=("wed", "13:00")),
        9,
        ("ot", "ot"),
    ),
    School(
        "anc-chugach",
        "anc",
        "Chugach Ridge Middle School",
        "America/Anchorage",
        "middle",
        bell("07:45", "11:15", "12:00", "14:45"),
        7,
        ("ot", "mh"),
    ),
    School(
        "anc-kincaid",
        "anc",
        "Kincaid Bluff High School",
        "America/Anchorage",
        "high",
        bell("07:30", "11:00", "11:45", "14:15"),
        5,
        ("mh",),
    ),
    School(
        "mesa-redmtn",
        "mesa",
        "Red Mountain Vista Elementary",
        "America/Phoenix",
        "elementary",
        bell("08:00", "11:15", "12:00", "14:45", early=("wed", "12:30")),
        8,
        ("ot", "ot"),
    ),
    School(
        "mesa-saguaro",
        "mesa",
        "Saguaro Wash Junior High",
        "",
        "junior",
        bell("07:50", "11:20", "12:05", "14:50"),
        7,
        ("psych", "ot"),
    ),
    School(
        "mesa-falcon",
        "mesa",
        "Falcon Ridge Elementary",
        "America/Phoenix",
        "elementary",
        bell("08:15", "11:30", "12:10", "15:00"),
        5,
        ("ot",),
    ),
    School(
        "pf-windermere",
        "pflugerville",
        "Windermere Crossing Elementary",
        "America/Chicago",
        "elementary",
        bell("07:45", "11:00", "11:45", "15:00", early=("fri", "12:45")),
        10,
        ("ot", "ot", "psych"),
    ),
    School(
        "pf-blackhawk",
        "pflugerville",
        "Blackhawk Prairie Middle School",
        "America/Chicago",
        "middle",
        bell("08:50", "11:45", "12:30", "16:05"),
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
DEMO_PROVIDERS = (
    Provider(
        "P01", "Rosalind Achterberg", "slp", "CA", _PT, 25,
        week_windows({"mon-thu": "07:00-13:00"}),
        (("CA", 412), ("AK", 233), ("AZ", 575)),
    ),
    Provider(
        "P02", "Devin Castellanos", "slp", "WA", _PT, 20,
        week_windows({"mon": "06:30-12:00", "tue": "09:00-14:00", "wed": "06:30-12:00",
               "fri": "06:30-12:00"}),
        (("WA", 298), ("AK", 641), ("TX", 187)),
    ),
    Provider(
        "P03", "Kiri Tallbrook", "slp", "AK", _AKT, 30,
        week_windows({"mon": "09:00-12:00", "tue": "08:00-15:00", "wed": "08:30-11:30",
               "thu": "08:00-15:00"}),
        (("AK", 520),),
    ),
    Provider(
        "P04", "Soledad Varga-Huynh", "slp", "TX", _CT, 22.5,
        week_windows({"mon-fri": "08:00-12:00", "tue": "13:00-15:30", "thu": "13:00-15:30"}),
        (("TX", 366), ("AZ", 5)),
    ),
    Provider(
        "P05", "Theo Marchetti", "slp", "OR", _PT, 12.5,
        week_windows({"tue-thu": "10:00-14:00"}),
        (("OR", 702), ("AZ", 150), ("AK", 23)),
    ),
    Provider(
        "P06", "Ines Bergqvist", "slp", "IL", _CT, 18,
        week_windows({"mon-tue": "09:00-15:30", "thu": "09:00-15:30", "fri": "08:00-11:00"}),
        (("IL", 455), ("TX", 318)),
    ),
    Provider(
        "P07", "Harper Nakamura-Cole", "slp", "AZ", _AZT, 28,
        week_windows({"mon-fri": "07:30-11:30 12:30-14:30"}),
        (("AZ", 389), ("TX", 96)),
    ),
    Provider(
        "P08", "Amara Delacroix", "slp", "CA", _PT, 15,
        week_windows({"mon": "06:00-10:00", "wed": "06:00-10:00", "fri": "09:00-13:00"}),
        (("CA", 268), ("AK", 431), ("TX", 812)),
    ),
    Provider(
        "P09", "Wren Solheim", "ot", "TX", _CT, 20,
        week_windows({"mon-thu": "08:00-14:00"}),
        (("TX", 344), ("AZ", 209)),
    ),
    Provider(
        "P10", "Callum Iwasaki-Ford", "ot", "CA", _PT, 16,
        week_windows({"tue-fri": "07:00-12:00"}),
        (("CA", 488), ("AZ", 127), ("AK", -12)),
    ),
    Provider(
        "P11", "Jonah Redcloud", "mh", "AK", _AKT, 10,
        week_windows({"mon": "09:00-14:00", "wed": "09:00-14:00"}),
        (("AK", 611),),
    ),
    Provider(
        "P12", "Beatriz Ostrowski", "psych", "TX", _CT, 14,
        week_windows({"tue": "08:00-15:00", "thu": "08:00-15:00"}),
        (("TX", 257), ("AZ", 338)),
    ),
)
# fmt: on

# M01 serves every district (empty district_ids); M02 and M03 serve theirs only.
DEMO_MANAGERS = (
    ("M01", "Priya Venkataraman", "priya.venkataraman@example.org", "U0DEMOM01", ""),
    ("M02", "Marcus Oyelaran", "marcus.oyelaran@example.org", "U0DEMOM02", "anc"),
    ("M03", "Grace Lindholm", "grace.lindholm@example.org", "U0DEMOM03", "mesa;pflugerville"),
)
# Winter break, in days from `today`: Dec 21 - Jan 1 for ANCHOR, after the demo's sessions.
DEMO_WINTER_BREAK = (21, 32)
# One early release per district (school-local end of the day), in days from `today`.
DEMO_EARLY_RELEASE = (("anc", 18, "12:30"), ("mesa", 18, "12:00"), ("pflugerville", 17, "13:00"))


# Annual reviews: a handful close to `today` (so every week has something due), the rest spread
# over the year; a few are already late.
ANNUAL_NEAR = (-10, -6, -2, 0, 1, 2, 3, 5, 6, 8, 10, 12, 13, 16, 19, 23, 26, 29)
TRIENNIAL_NEAR = (-3, 4, 9, 12, 17, 25, 28, 38, 47, 55, 59)

# (school, service, provider): caseload that tells a story. P04's AZ licence lapses in days and
# P05's AK licence within the month, so their next sessions there stop at the expiry date.
DEMO_STORIES = (
    ("mesa-redmtn", "slp", "P04"),
    ("anc-chugach", "slp", "P05"),
    ("pf-windermere", "psych", "P12"),
    ("anc-kincaid", "mh", "P11"),
    ("mesa-falcon", "ot", "P10"),
)
DEMO_GROUP = ("anc-spenard", "slp", "P03", 3)  # a weekly SLP group of three
DEMO_ASSIGNED_STUDENTS = 20
DEMO_OVERDUE_NOTES = 5
