"""Demo data: `write_synthetic_roster`, a seeded roster of any size for benchmarks and tests.

Every date is computed from `today` and drawn from seeded `random.Random`s, so the same arguments
always give the same bytes; nothing reads the clock.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

from demo.schema import (
    FIRST_NAMES,
    GRADES,
    LAST_NAMES,
    SCHOOL_DAYS,
    LocalMidnights,
    Row,
    Windows,
    csv_bool,
    csv_hours,
    csv_writer,
    hm,
    utc_offset,
    write_csv,
)

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
        self._midnights = LocalMidnights()
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
            "Elementary": (480, GRADES["elementary"]),
            "Middle School": (465, GRADES["middle"]),
            "High School": (450, GRADES["high"]),
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
        offsets = {state: utc_offset(zone, noon) for state, zone, *_ in _STATES}
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
                csv_writer(stack, folder, "students.csv"),
                csv_writer(stack, folder, "services.csv"),
                csv_writer(stack, folder, "assignments.csv"),
                csv_writer(stack, folder, "sessions.csv"),
            )
        write_csv(folder, "districts.csv", self.district_rows)
        write_csv(folder, "schools.csv", self.school_rows)
        # Every district closes for the same winter break, the next one after `today`.
        year = (
            self.today.year if self.today < date(self.today.year, 12, 21) else self.today.year + 1
        )
        closed = (date(year, 12, 21).isoformat(), date(year + 1, 1, 1).isoformat())
        write_csv(
            folder,
            "calendar.csv",
            ((row[0], "", *closed, "closed", "") for row in self.district_rows),
        )
        write_csv(
            folder,
            "school_hours.csv",
            (
                (school.school_id, day, hm(s), hm(e))
                for school in self.schools
                for day in SCHOOL_DAYS
                for s, e in school.hours[day]
            ),
        )
        write_csv(folder, "providers.csv", (self._provider_row(p) for p in self.providers))
        write_csv(
            folder,
            "licenses.csv",
            (
                (p.provider_id, s, e.isoformat(), n)
                for p in self.providers
                for s, e, n in p.licences
            ),
        )
        write_csv(
            folder,
            "availability.csv",
            (
                (p.provider_id, day, hm(s), hm(e))
                for p in self.providers
                for day, spans in p.availability.items()
                for s, e in spans
            ),
        )
        write_csv(
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
            csv_hours(p.weekly_hours),
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
                        rng.choice(FIRST_NAMES),
                        rng.choice(LAST_NAMES),
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
                    group_ok = csv_bool(rng.random() < 0.45)
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
    first = FIRST_NAMES[index % len(FIRST_NAMES)]
    return first, LAST_NAMES[(index * 7 + index // len(FIRST_NAMES)) % len(LAST_NAMES)]
