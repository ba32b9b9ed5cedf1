"""Demo data: `write_demo_roster`, the small hand-crafted roster that `python -m bot console` loads.

Three districts (Alaska, Arizona, Texas), twelve providers, sixty students, an existing caseload
and three weeks of sessions around `today`; `demo/roster/` holds its output for ANCHOR. Every date
is computed from `today` and drawn from a seeded `random.Random`, so the same `today` always gives
the same bytes. Every session lies inside its school's hours (school zone) and its provider's
availability (provider zone) on the actual date, so daylight saving is honoured week by week; the
caseload keeps the roster format's matching rules (licences, no double booking, weekly_hours).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from demo.cast import (
    ANNUAL_NEAR,
    DEMO_ASSIGNED_STUDENTS,
    DEMO_DISTRICTS,
    DEMO_EARLY_RELEASE,
    DEMO_GROUP,
    DEMO_MANAGERS,
    DEMO_OVERDUE_NOTES,
    DEMO_PROVIDERS,
    DEMO_SCHOOLS,
    DEMO_STORIES,
    DEMO_WINTER_BREAK,
    TRIENNIAL_NEAR,
    Provider,
    School,
    Student,
)
from demo.schema import (
    ANCHOR,
    DAYS,
    FIRST_NAMES,
    GRADES,
    LAST_NAMES,
    SCHOOL_DAYS,
    Row,
    csv_bool,
    csv_hours,
    fits,
    hm,
    iso_utc,
    write_csv,
)


def _demo_students(rng: random.Random) -> list[Student]:
    count = sum(school.size for school in DEMO_SCHOOLS)
    annual = list(ANNUAL_NEAR) + [rng.randint(31, 330) for _ in range(count - len(ANNUAL_NEAR))]
    rng.shuffle(annual)
    with_triennial = sorted(rng.sample(range(count), count // 2))
    triennial = list(TRIENNIAL_NEAR)
    triennial += [rng.randint(61, 1050) for _ in range(len(with_triennial) - len(triennial))]
    rng.shuffle(triennial)
    triennial_by_index = dict(zip(with_triennial, triennial, strict=True))
    names = rng.sample([(f, s) for f in FIRST_NAMES for s in LAST_NAMES], count)

    students: list[Student] = []
    for school in DEMO_SCHOOLS:
        members: list[Student] = []
        for _ in range(school.size):
            index = len(students) + len(members)
            first, last = names[index]
            members.append(
                Student(
                    student_id=f"S{1001 + index}",
                    school=school,
                    first_name=first,
                    last_name=last,
                    grade=rng.choice(GRADES[school.level]),
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

    def __init__(self, today: date, providers: Sequence[Provider], now: date | None = None) -> None:
        self.today = today
        self.booked: dict[str, list[tuple[datetime, datetime]]] = {
            p.provider_id: [] for p in providers
        }
        self.used: dict[str, int] = {p.provider_id: 0 for p in providers}
        # Not the day the demo is looked at: its sessions are neither past nor future.
        skip = now or today
        self.window = [d for k in range(-14, 8) if (d := today + timedelta(days=k)) != skip]

    def until(self, provider: Provider, state: str) -> date | None:
        """The first day the provider may not serve `state`, or None if not eligible today."""
        expiry = {s: self.today + timedelta(days=days) for s, days in provider.licences}
        home, there = expiry.get(provider.home_state), expiry.get(state)
        if home is None or there is None or min(home, there) <= self.today:
            return None
        return min(home, there)

    def _options(
        self, school: School, zone: str, provider: Provider, minutes: int, until: date
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
                        if not fits(windows, at, at + minutes) or any(
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
        school: School,
        zone: str,
        state: str,
        provider: Provider,
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


def write_demo_roster(folder: Path, today: date = ANCHOR, *, now: date | None = None) -> None:
    """Write the demo roster (all ten CSV files) into `folder`, dated relative to `today`.

    `now` (default `today`) is the day the demo is looked at: the sessions before it have
    happened (held, or cancelled, a no-show, left unmarked); those from it on are scheduled.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(2026)
    districts = {d[0]: d for d in DEMO_DISTRICTS}
    providers = {p.provider_id: p for p in DEMO_PROVIDERS}
    students = _demo_students(rng)

    def zone_of(school: School) -> str:
        return school.timezone or districts[school.district_id][3]

    def state_of(school: School) -> str:
        return districts[school.district_id][2]

    def in_days(offset: int) -> str:
        return (today + timedelta(days=offset)).isoformat()

    # The Spenard group: students whose only service is SLP, made alike so they may share a slot.
    group_school, group_service, group_provider, group_size = DEMO_GROUP
    group = [
        s
        for s in students
        if s.school.school_id == group_school and [v[0] for v in s.services] == [group_service]
    ][:group_size]
    for member in group:
        member.services[0] = (group_service, 1, 30, True)

    planner = _Planner(today, DEMO_PROVIDERS, now)
    assignments: list[tuple[str, str, str]] = []
    # (provider_id, service, minutes, student_ids, dated instances)
    plans: list[tuple[str, str, int, list[str], list[tuple[datetime, datetime]]]] = []

    def assign(members: list[Student], service: str, provider: Provider) -> bool:
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
    for school_id, service, provider_id in DEMO_STORIES:
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
        if len({sid for sid, _ in taken}) >= DEMO_ASSIGNED_STUDENTS:
            break
        for service, *_ in student.services:
            if (student.student_id, service) in taken:
                continue
            eligible = [
                p
                for p in DEMO_PROVIDERS
                if p.discipline == service and planner.until(p, state_of(student.school))
            ]
            rng.shuffle(eligible)
            for provider in eligible:
                if assign([student], service, provider):
                    taken.add((student.student_id, service))
                    break

    write_csv(folder, "districts.csv", DEMO_DISTRICTS)
    write_csv(
        folder,
        "schools.csv",
        ((s.school_id, s.district_id, s.name, s.timezone) for s in DEMO_SCHOOLS),
    )
    write_csv(
        folder,
        "school_hours.csv",
        (
            (s.school_id, day, hm(opens), hm(closes))
            for s in DEMO_SCHOOLS
            for day, rows in s.hours.items()
            for opens, closes in rows
        ),
    )
    write_csv(
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
                csv_hours(p.weekly_hours),
            )
            for p in DEMO_PROVIDERS
        ),
    )
    write_csv(
        folder,
        "licenses.csv",
        (
            (
                p.provider_id,
                state,
                in_days(days),
                p.licence_number(state),
            )
            for p in DEMO_PROVIDERS
            for state, days in p.licences
        ),
    )
    write_csv(folder, "managers.csv", DEMO_MANAGERS)
    write_csv(
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
    # The caseload's services began with the sessions on file (two weeks back), so most of the
    # caseload is on track and the few behind are behind for a reason the log shows (a
    # cancellation, a no-show, a session nobody marked). The students still waiting for a
    # provider start next week: their minutes are not yet due.
    started = min(planner.window).isoformat()
    upcoming = (today + timedelta(days=7 - today.weekday())).isoformat()
    served = {(sid, service) for sid, service, _ in assignments}
    write_csv(
        folder,
        "services.csv",
        (
            (
                s.student_id, service, per_week, minutes, csv_bool(group_ok),
                *_demo_mandate(
                    service, started if (s.student_id, service) in served else upcoming
                ),
            )
            for s in students
            for service, per_week, minutes, group_ok in s.services
        ),
    )  # fmt: skip
    first, last = DEMO_WINTER_BREAK
    write_csv(
        folder,
        "calendar.csv",
        [(d[0], "", in_days(first), in_days(last), "closed", "") for d in DEMO_DISTRICTS]
        + [(d, "", in_days(k), in_days(k), "early_release", at) for d, k, at in DEMO_EARLY_RELEASE],
    )
    write_csv(
        folder,
        "availability.csv",
        (
            (p.provider_id, day, hm(begin), hm(end))
            for p in DEMO_PROVIDERS
            for day, rows in p.availability.items()
            for begin, end in rows
        ),
    )
    write_csv(folder, "assignments.csv", sorted(assignments))
    district_of = {s.student_id: s.school.district_id for s in students}
    write_csv(folder, "sessions.csv", _demo_sessions(rng, now or today, plans, district_of))


def _demo_mandate(service: str, starts_on: str) -> tuple[object, ...]:
    """minutes_per_week, minutes_per_month, starts_on, ends_on: mental-health IEPs state a
    monthly mandate (four hours a month); the others leave it to sessions × minutes."""
    return ("", 240, starts_on, "") if service == "mh" else ("", "", starts_on, "")


def _demo_sessions(
    rng: random.Random,
    today: date,
    plans: list[tuple[str, str, int, list[str], list[tuple[datetime, datetime]]]],
    district_of: dict[str, str],
) -> list[Row]:
    """Dated instances of the caseload's slots: those before `today` mostly held, the rest
    scheduled."""
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
            status = rng.choices(("held", "scheduled", "cancelled", "no_show"), (95, 2, 2, 1))[0]
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
                # the last day and a half: held, the note still within its grace
                if note >= cutoff or begin >= cutoff - timedelta(hours=36):
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
    # ...and in every district its latest session before today cancelled with no reason given
    # (owed), so each district's /minutes has a student behind this month for a session missed
    # (not merely one still to come) and a make-up to schedule.
    recent = [r for r in rows if r[4] < cutoff and r[0] not in groups]
    for district in sorted(set(district_of.values())):
        held = [r for r in recent if district_of.get(r[2]) == district and r[6] == "held"]
        if held:
            max(held, key=lambda r: (r[4], r[0], r[2]))[6] = "cancelled"
    for row in rows:
        if row[6] == "cancelled":
            row[7] = None
    documented = [r for r in rows if r[6] == "held" and r[7] is not None]
    documented = [r for r in documented if r[4] + timedelta(hours=48) < cutoff]
    # One overdue note for each of the first providers, so whoever a newcomer plays has one.
    by_provider: dict[str, list[list[Any]]] = {}
    for row in documented:
        by_provider.setdefault(row[1], []).append(row)
    for provider_id in sorted(by_provider)[:DEMO_OVERDUE_NOTES]:
        rng.choice(by_provider[provider_id])[7] = None
    return [
        [r[0], r[1], r[2], r[3], iso_utc(r[4]), r[5], r[6], "" if r[7] is None else iso_utc(r[7])]
        for r in rows
    ]


def _group_ids(rows: list[list[Any]]) -> set[str]:
    seen: set[str] = set()
    groups: set[str] = set()
    for row in rows:
        (groups if row[0] in seen else seen).add(row[0])
    return groups
