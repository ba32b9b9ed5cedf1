"""Domain: every conflict cause, across daylight-saving dates (US clocks went forward on
Sunday 2027-03-14 and back on Sunday 2026-11-01; Arizona never shifts)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.conflicts import (
    Cause,
    Closure,
    DatedSession,
    Facts,
    ProviderFacts,
    Rule,
    Slot,
    StudentFacts,
    TimeOff,
    Window,
    closures_in,
    find_conflicts,
    licence_gaps,
    utc_minute,
)

PT, AZ, AK, NY = "America/Los_Angeles", "America/Phoenix", "America/Anchorage", "America/New_York"
MON = 0
SPRING = (date(2027, 3, 1), date(2027, 3, 22))  # Mondays Mar 1, 8 (winter), 15, 22 (summer)
FALL = (date(2026, 10, 19), date(2026, 11, 9))  # Mondays Oct 19, 26 (summer), Nov 2, 9 (winter)


def hm(text: str) -> int:
    h, m = text.split(":")
    return int(h) * 60 + int(m)


def provider(**kw: object) -> ProviderFacts:
    base: dict[str, object] = {
        "provider_id": "P1",
        "tz": PT,
        "windows": (Window(MON, hm("08:00"), hm("11:00"), PT),),
        "licences": {"AZ": date(2030, 1, 1), "CA": date(2030, 1, 1)},
    }
    base.update(kw)
    return ProviderFacts(**base)  # type: ignore[arg-type]


def facts(p: ProviderFacts | None = None, **kw: object) -> Facts:
    base: dict[str, object] = {
        "providers": {"P1": p or provider()},
        "students": {"S1": StudentFacts("S1", "SCH-AZ", "AZ")},
        "school_tz": {"SCH-AZ": AZ},
    }
    base.update(kw)
    return Facts(**base)  # type: ignore[arg-type]


def slot(start: str, end: str, day: int = MON, slot_id: int = 1) -> Slot:
    return Slot(slot_id, "P1", "S1", "slp", day, hm(start), hm(end))


def hits(f: Facts, s: Slot, span: tuple[date, date]) -> list[tuple[Cause, date, date, int]]:
    found = find_conflicts([s], [], f, *span)
    return sorted((c.cause, c.first, c.last, c.count) for c in found)


# --- outside the provider's availability -----------------------------------------------------


def test_arizona_slot_before_pacific_hours_in_winter_only() -> None:
    # 08:00 Phoenix is 07:00 PST (before 08:00) in winter and 08:00 PDT in summer.
    assert hits(facts(), slot("08:00", "08:30"), SPRING) == [
        (Cause.OUTSIDE_AVAILABILITY, date(2027, 3, 1), date(2027, 3, 8), 2)
    ]


def test_arizona_slot_after_pacific_hours_in_summer_only() -> None:
    # 11:00 Phoenix is 11:00 PDT (outside) in summer and 10:00 PST (inside) in winter.
    assert hits(facts(), slot("11:00", "11:30"), FALL) == [
        (Cause.OUTSIDE_AVAILABILITY, date(2026, 10, 19), date(2026, 10, 26), 2)
    ]
    assert hits(facts(), slot("10:00", "10:30"), FALL) == []


def test_touching_windows_hold_a_slot_across_them_and_effective_dates_count() -> None:
    p = provider(
        windows=(
            Window(MON, hm("08:00"), hm("09:00"), PT),
            Window(MON, hm("09:00"), hm("11:00"), PT, effective_to=date(2027, 3, 14)),
        )
    )
    # 09:45 Phoenix = 08:45 PST (winter, across both windows) / 09:45 PDT (summer, the second
    # window ended on Mar 14).
    assert hits(facts(p), slot("09:45", "10:15"), SPRING) == [
        (Cause.OUTSIDE_AVAILABILITY, date(2027, 3, 15), date(2027, 3, 22), 2)
    ]


def test_windows_in_another_zone_than_the_providers_are_converted_on_each_date() -> None:
    # The provider lives in Pacific time but gave hours in Alaska time: Mon 07:00-10:00 AKT.
    p = provider(windows=(Window(MON, hm("07:00"), hm("10:00"), AK),))
    # 10:00 Phoenix = 08:00 AKST (winter) and 09:00 AKDT (summer): inside both.
    assert hits(facts(p), slot("10:00", "10:30"), SPRING) == []
    # 11:30 Phoenix = 09:30 AKST (inside) and 10:30 AKDT (outside).
    assert hits(facts(p), slot("11:30", "12:00"), SPRING) == [
        (Cause.OUTSIDE_AVAILABILITY, date(2027, 3, 15), date(2027, 3, 22), 2)
    ]


# --- time off --------------------------------------------------------------------------------


def test_whole_day_time_off_in_the_providers_dates() -> None:
    p = provider(time_off=(TimeOff(date(2027, 3, 13), date(2027, 3, 16)),))
    assert hits(facts(p), slot("09:00", "09:30"), SPRING) == [
        (Cause.TIME_OFF, date(2027, 3, 15), date(2027, 3, 15), 1)
    ]


def test_partial_time_off_hits_the_hours_it_covers_converted_per_date() -> None:
    # Out 08:00-09:00 Pacific on both Mondays; 09:00 Phoenix is 08:00 PST (hit) on Mar 8 and
    # 09:00 PDT (not hit: the time off ends at 09:00) on Mar 15.
    p = provider(
        time_off=(
            TimeOff(date(2027, 3, 8), date(2027, 3, 8), hm("08:00"), hm("09:00")),
            TimeOff(date(2027, 3, 15), date(2027, 3, 15), hm("08:00"), hm("09:00")),
        )
    )
    assert hits(facts(p), slot("09:00", "09:30"), SPRING) == [
        (Cause.TIME_OFF, date(2027, 3, 8), date(2027, 3, 8), 1)
    ]


def test_time_off_is_in_the_providers_own_dates() -> None:
    # 23:30 Pacific on Dec 22 is Dec 23 in UTC: the provider's own date counts.
    late = utc_minute(datetime(2026, 12, 23, 7, 30, tzinfo=UTC))
    off = (TimeOff(date(2026, 12, 23), date(2027, 1, 2)),)
    assert not Rule.on_time_off(provider(time_off=off), late, 30)
    assert Rule.on_time_off(provider(tz="UTC", time_off=off), late, 30)


# --- licences --------------------------------------------------------------------------------


def test_licence_ending_mid_range_conflicts_from_its_date() -> None:
    p = provider(licences={"AZ": date(2027, 3, 15)})
    found = find_conflicts([slot("09:00", "09:30")], [], facts(p), *SPRING)
    assert [(c.cause, c.first, c.count, c.state, c.licence_expires) for c in found] == [
        (Cause.LICENCE, date(2027, 3, 15), 2, "AZ", date(2027, 3, 15))
    ]


def test_no_licence_for_the_students_state_conflicts_every_date() -> None:
    p = provider(licences={"CA": date(2030, 1, 1)})
    found = find_conflicts([slot("09:00", "09:30")], [], facts(p), *SPRING)
    assert [(c.cause, c.count, c.state, c.licence_expires) for c in found] == [
        (Cause.LICENCE, 4, "AZ", None)
    ]


def test_a_renewed_licence_clears_it() -> None:
    p = provider(licences={"AZ": date(2028, 3, 15)})
    assert hits(facts(p), slot("09:00", "09:30"), SPRING) == []


def test_licence_gaps_group_services_per_provider_state_and_expiry() -> None:
    p = provider(licences={"AZ": date(2027, 3, 15)})
    f = facts(
        p,
        students={
            "S1": StudentFacts("S1", "SCH-AZ", "AZ"),
            "S2": StudentFacts("S2", "SCH-AZ", "AZ"),
        },
    )
    slots = [
        slot("09:00", "09:30"),
        Slot(2, "P1", "S2", "slp", MON, hm("09:30"), hm("10:00")),
        Slot(3, "P1", "S2", "slp", 2, hm("09:30"), hm("10:00")),  # same service, another day
    ]
    [gap] = licence_gaps(find_conflicts(slots, [], f, *SPRING))
    assert (gap.provider_id, gap.state, gap.expires) == ("P1", "AZ", date(2027, 3, 15))
    assert gap.services == (("S1", "slp"), ("S2", "slp"))


# --- students, services, providers ---------------------------------------------------------


def test_exited_student() -> None:
    f = facts(students={"S1": StudentFacts("S1", "SCH-AZ", "AZ", exited=True)})
    assert hits(f, slot("09:00", "09:30"), SPRING) == [
        (Cause.STUDENT_EXITED, date(2027, 3, 1), date(2027, 3, 22), 4)
    ]


def test_service_ended_after_its_last_day() -> None:
    f = facts(service_ends={("S1", "slp"): date(2027, 3, 15)})
    assert hits(f, slot("09:00", "09:30"), SPRING) == [
        (Cause.SERVICE_ENDED, date(2027, 3, 22), date(2027, 3, 22), 1)
    ]


def test_removed_provider_comes_first_of_all_causes() -> None:
    p = provider(removed=True, licences={}, time_off=(TimeOff(date(2027, 3, 1), date(2027, 4, 1)),))
    f = facts(p, closures={"SCH-AZ": [Closure(date(2027, 3, 1), date(2027, 3, 31))]})
    assert hits(f, slot("06:00", "06:30"), SPRING) == [
        (Cause.PROVIDER_REMOVED, date(2027, 3, 1), date(2027, 3, 22), 4)
    ]


# --- school calendars ------------------------------------------------------------------------


def test_closed_days_and_an_early_release() -> None:
    f = facts(
        closures={
            "SCH-AZ": [
                Closure(date(2027, 3, 8), date(2027, 3, 12)),  # spring break
                Closure(date(2027, 3, 22), date(2027, 3, 22), ends_at=hm("10:00")),
            ]
        }
    )
    assert hits(f, slot("09:30", "10:00"), SPRING) == [
        (Cause.SCHOOL_CLOSED, date(2027, 3, 8), date(2027, 3, 8), 1)
    ]
    assert hits(f, slot("09:45", "10:15"), SPRING) == [
        (Cause.SCHOOL_CLOSED, date(2027, 3, 8), date(2027, 3, 22), 2)
    ]
    # Shown apart ("closed Mar 8 – 12"), the closed day is not walked; the early release is.
    apart = find_conflicts([slot("09:45", "10:15")], [], f, *SPRING, closures_apart=True)
    assert [(c.cause, c.first, c.count) for c in apart] == [
        (Cause.SCHOOL_CLOSED, date(2027, 3, 22), 1)
    ]


def test_closures_in_lists_whole_day_closures_touching_the_range() -> None:
    winter = Closure(date(2026, 12, 21), date(2027, 1, 1))
    early = Closure(date(2026, 12, 18), date(2026, 12, 18), ends_at=hm("12:00"))
    later = Closure(date(2027, 3, 8), date(2027, 3, 12))
    assert closures_in([later, early, winter], date(2026, 12, 14), date(2027, 1, 10)) == [winter]


# --- dated sessions --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("starts_at", "expected"),
    [
        # 2027-03-08 09:00 MST = 16:00Z: on the closed day.
        (datetime(2027, 3, 8, 16, tzinfo=UTC), [Cause.SCHOOL_CLOSED]),
        # 2027-03-15 09:00 MST = 16:00Z: 09:00 PDT, inside the Pacific hours.
        (datetime(2027, 3, 15, 16, tzinfo=UTC), []),
        # 2027-03-15 07:00 MST = 14:00Z: 07:00 PDT, before the hours.
        (datetime(2027, 3, 15, 14, tzinfo=UTC), [Cause.OUTSIDE_AVAILABILITY]),
        # Outside the range: not looked at.
        (datetime(2027, 4, 5, 14, tzinfo=UTC), []),
    ],
)
def test_dated_sessions_are_checked_on_their_own_date(
    starts_at: datetime, expected: list[Cause]
) -> None:
    f = facts(closures={"SCH-AZ": [Closure(date(2027, 3, 8), date(2027, 3, 8))]})
    session = DatedSession(7, "P1", "S1", "slp", starts_at, 30)
    found = find_conflicts([], [session], f, *SPRING)
    assert [c.cause for c in found] == expected
    assert all(c.session_id == 7 for c in found)


def test_an_alaska_provider_across_the_fall_change() -> None:
    # Provider in Anchorage, Mon 08:00-12:00 AKT, serving a New York school at 12:30 ET:
    # 08:30 AKDT in summer (inside) and 08:30 AKST in winter (inside): both zones shift together.
    windows = (Window(MON, hm("08:00"), hm("12:00"), AK),)
    p = provider(tz=AK, windows=windows, licences={"NY": date(2030, 1, 1)})
    f = facts(
        p,
        students={"S1": StudentFacts("S1", "SCH-NY", "NY")},
        school_tz={"SCH-NY": NY},
    )
    assert hits(f, slot("12:30", "13:00"), FALL) == []
    # ... but an Arizona school at 09:00 is 08:00 AKDT in summer and 07:00 AKST in winter.
    g = facts(provider(tz=AK, windows=windows, licences={"AZ": date(2030, 1, 1)}))
    assert hits(g, slot("09:00", "09:30"), FALL) == [
        (Cause.OUTSIDE_AVAILABILITY, date(2026, 11, 2), date(2026, 11, 9), 2)
    ]


# --- the run-by-run walk agrees with checking every date --------------------------------------


def naive(
    f: Facts, s: Slot, start: date, end: date, closures_apart: bool = False
) -> list[tuple[Cause, date, date, int]]:
    rule = Rule(f)
    school = f.students[s.student_id].school_id
    tz = f.school_tz[school]
    found: dict[Cause, list[date]] = {}
    day = start
    while day <= end:
        closed = any(c.closed and c.start <= day <= c.end for c in f.closures.get(school, ()))
        if day.weekday() == s.day and not (closures_apart and closed):
            begin = _wall_utc(tz, day, s.start)
            cause = rule.cause(s.provider_id, s.student_id, s.service, day, s.start, begin,
                               s.end - s.start)  # fmt: skip
            if cause is not None:
                found.setdefault(cause, []).append(day)
        day = date.fromordinal(day.toordinal() + 1)
    return sorted((c, ds[0], ds[-1], len(ds)) for c, ds in found.items())


def _wall_utc(tz: str, day: date, minute: int) -> int:
    local = datetime(day.year, day.month, day.day, tzinfo=ZoneInfo(tz)) + timedelta(minutes=minute)
    return utc_minute(local.astimezone(UTC))


@pytest.mark.parametrize("seed", range(150))
def test_runs_agree_with_a_date_by_date_walk(seed: int) -> None:
    rnd = random.Random(seed)
    zones = [PT, AZ, AK, NY, "Pacific/Honolulu"]
    base = date(2026, 10, 1).toordinal()

    def some_day() -> date:
        return date.fromordinal(base + rnd.randrange(0, 200))

    def span() -> tuple[date, date]:
        a = some_day()
        return a, date.fromordinal(a.toordinal() + rnd.randrange(0, 12))

    windows = []
    for _ in range(rnd.randrange(1, 4)):
        a = rnd.randrange(6, 12) * 60
        frm = some_day() if rnd.random() < 0.3 else None
        to = some_day() if rnd.random() < 0.3 else None
        windows.append(
            Window(rnd.randrange(0, 5), a, a + rnd.randrange(60, 300), rnd.choice(zones), frm, to)
        )
    offs = []
    for _ in range(rnd.randrange(0, 3)):
        a, b = span()
        part = rnd.random() < 0.4
        offs.append(TimeOff(a, b, hm("08:00") if part else None, hm("10:00") if part else None))
    p = provider(
        tz=rnd.choice(zones),
        windows=tuple(windows),
        time_off=tuple(offs),
        licences={"AZ": some_day()} if rnd.random() < 0.7 else {},
        removed=rnd.random() < 0.05,
    )
    closures = [
        Closure(*span(), ends_at=rnd.choice([None, hm("10:00")]))
        for _ in range(rnd.randrange(0, 3))
    ]
    f = facts(
        p,
        students={"S1": StudentFacts("S1", "SCH", "AZ", exited=rnd.random() < 0.05)},
        school_tz={"SCH": rnd.choice(zones)},
        closures={"SCH": closures},
        service_ends={("S1", "slp"): some_day()} if rnd.random() < 0.3 else {},
    )
    a = rnd.randrange(6, 13) * 60 + rnd.choice([0, 15, 30, 45])
    s = Slot(1, "P1", "S1", "slp", rnd.randrange(0, 5), a, a + 30)
    start = date.fromordinal(base + rnd.randrange(0, 60))
    end = date.fromordinal(start.toordinal() + rnd.randrange(0, 150))
    assert hits(f, s, (start, end)) == naive(f, s, start, end)
    # Leaving the closed days out (for views that show closures apart) leaves out just them.
    apart = find_conflicts([s], [], f, start, end, closures_apart=True)
    assert sorted((c.cause, c.first, c.last, c.count) for c in apart) == naive(
        f, s, start, end, closures_apart=True
    )
