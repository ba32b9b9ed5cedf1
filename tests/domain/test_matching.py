"""Tests: the caseload matcher on hand-made edge cases (greedy, CP-SAT, explanations)."""

from __future__ import annotations

import time

import pytest

from bot.domain.labels import STATE_NAMES, provider_label
from bot.domain.matching import MatchInput, MatchResult, greedy, solve, validate
from bot.domain.matching.decompose import Component, components
from bot.domain.matching.greedy import greedy_sessions
from bot.domain.matching.model import Interval, Need, Provider, SchoolDay
from bot.domain.matching.prep import Prep

DAYS = ("mon", "tue", "wed", "thu", "fri")
AK, PT, MT, CT, ET = -9, -8, -7, -6, -5


def at(day: int, hhmm: str, offset: int) -> int:
    """Absolute minutes since Monday 00:00 UTC for local wall time `hhmm` on weekday `day`."""
    h, m = hhmm.split(":")
    return day * 1440 + int(h) * 60 + int(m) - offset * 60


def span(day: int, start: str, end: str, offset: int) -> Interval:
    return (at(day, start, offset), at(day, end, offset))


def school_week(
    start: str = "08:00",
    end: str = "15:00",
    offset: int = AK,
    days: tuple[int, ...] = (0, 1, 2, 3, 4),
) -> tuple[SchoolDay, ...]:
    return tuple(SchoolDay(DAYS[d], (span(d, start, end, offset),)) for d in days)


def need(
    student: str,
    *,
    service: str = "slp",
    school: str = "SCH1",
    district: str = "D1",
    state: str = "AK",
    spw: int = 1,
    minutes: int = 30,
    group_ok: bool = False,
    days: tuple[SchoolDay, ...] | None = None,
    preferred: str | None = None,
    hours_text: str = "Mon–Fri 08:00–15:00 AKT",
    busy: tuple[Interval, ...] = (),
) -> Need:
    return Need(
        student_id=student,
        service=service,
        school_id=school,
        district_id=district,
        state=state,
        sessions_per_week=spw,
        session_minutes=minutes,
        group_ok=group_ok,
        school_days=days if days is not None else school_week(),
        school_tz_label="AKT",
        school_hours_text=hours_text,
        preferred_provider_id=preferred,
        busy=busy,
    )


def provider(
    pid: str,
    *,
    discipline: str = "slp",
    home: str = "WA",
    licences: tuple[str, ...] = ("WA", "AK"),
    available: tuple[Interval, ...] | None = None,
    busy: tuple[Interval, ...] = (),
    capacity: int = 600,
    schools: tuple[str, ...] = (),
    districts: tuple[str, ...] = (),
) -> Provider:
    if available is None:
        available = tuple(span(d, "08:00", "15:00", AK) for d in range(5))
    return Provider(
        provider_id=pid,
        discipline=discipline,
        home_state=home,
        licensed_states=frozenset(licences),
        available=available,
        busy=busy,
        capacity_minutes=capacity,
        existing_school_ids=frozenset(schools),
        existing_district_ids=frozenset(districts),
    )


def instance(needs: list[Need], providers: list[Provider], **kw: int) -> MatchInput:
    return MatchInput(district_id="D1", needs=tuple(needs), providers=tuple(providers), **kw)


def both(inp: MatchInput) -> list[MatchResult]:
    """Greedy and CP-SAT results, each checked by the independent validator."""
    out = [greedy(inp), solve(inp, time_limit_s=2.0)]
    for r in out:
        assert validate(inp, r) == [], r.method
    return out


def served(r: MatchResult) -> set[tuple[str, str]]:
    return {(sid, s.service) for s in r.sessions for sid in s.student_ids}


def reasons(r: MatchResult) -> dict[str, tuple[str, str]]:
    return {u.student_id: (u.reason, u.detail) for u in r.unmatched}


# --- licences -----------------------------------------------------------------------------------


def test_licence_missing_in_home_state_means_no_match() -> None:
    p = provider("P1", home="WA", licences=("AK",))
    inp = instance([need("S1")], [p])
    for r in both(inp):
        assert r.sessions == ()
        reason, detail = reasons(r)["S1"]
        assert reason == "no_licensed_provider"
        assert "Alaska" in detail and "own home state (Washington)" in detail


def test_home_state_licence_makes_the_difference() -> None:
    bad = provider("P1", home="WA", licences=("AK",))
    good = provider("P2", home="OR", licences=("OR", "AK"))
    for r in both(instance([need("S1")], [bad, good])):
        assert {s.provider_id for s in r.sessions} == {"P2"}


def test_no_provider_licensed_in_school_state() -> None:
    p = provider("P1", home="WA", licences=("WA", "OR"))
    for r in both(instance([need("S1")], [p])):
        assert reasons(r)["S1"] == ("no_licensed_provider", "no SLP holds an active Alaska licence")


def test_discipline_must_match_service() -> None:
    ot = provider("P1", discipline="ot")
    for r in both(instance([need("S1", service="slp")], [ot])):
        assert reasons(r)["S1"][0] == "no_licensed_provider"


# --- groups -------------------------------------------------------------------------------------


def test_group_of_four_and_a_fifth_student() -> None:
    hour = (span(0, "09:00", "10:00", AK),)
    p = provider("P1", available=hour, capacity=60)
    needs = [need(f"S{i}", group_ok=True) for i in range(5)]
    for r in both(instance(needs, [p])):
        assert len(served(r)) == 5
        assert all(len(s.student_ids) <= 4 for s in r.sessions)
        assert len(r.sessions) == 2  # one hour of capacity: two 30-minute sessions


def test_only_one_group_fits_so_the_fifth_waits() -> None:
    p = provider("P1", available=(span(0, "09:00", "10:00", AK),), capacity=30)
    needs = [need(f"S{i}", group_ok=True) for i in range(5)]
    for r in both(instance(needs, [p])):
        assert len(r.sessions) == 1 and len(r.sessions[0].student_ids) == 4
        (left,) = r.unmatched
        assert left.reason == "no_capacity"
        assert left.detail == "the licensed SLP with common time is full"


def test_group_needs_same_school_minutes_and_consent() -> None:
    p = provider("P1", available=(span(0, "09:00", "09:30", AK),), capacity=30)
    needs = [
        need("A", group_ok=True),
        need("B", group_ok=True, school="SCH2"),
        need("C", group_ok=False),
        need("D", group_ok=True, minutes=45),
    ]
    for r in both(instance(needs, [p])):
        assert len(r.sessions) == 1 and len(r.sessions[0].student_ids) == 1


def test_group_min_three_allows_solo_but_not_pairs() -> None:
    p = provider("P1", available=(span(0, "09:00", "10:00", AK),), capacity=30)
    needs = [need("A", group_ok=True), need("B", group_ok=True)]
    for r in both(instance(needs, [p], group_min=3)):
        assert [len(s.student_ids) for s in r.sessions] == [1]


def test_cp_sat_groups_to_save_minutes() -> None:
    # Capacity for all three solo, but grouping is the fourth objective: fewer provider minutes.
    p = provider("P1", capacity=300)
    needs = [need(f"S{i}", group_ok=True, spw=2) for i in range(3)]
    r = solve(instance(needs, [p]), time_limit_s=2.0)
    assert validate(instance(needs, [p]), r) == []
    assert r.objective["provider_minutes"] == 60


# --- capacity and busy time ---------------------------------------------------------------------


def test_provider_full_elsewhere_is_not_used() -> None:
    full = provider("P1", capacity=0, busy=(span(0, "08:00", "12:00", AK),))
    free = provider("P2")
    for r in both(instance([need("S1")], [full, free])):
        assert {s.provider_id for s in r.sessions} == {"P2"}


def test_provider_full_elsewhere_explained_as_no_capacity() -> None:
    full = provider("P1", capacity=0, busy=(span(0, "08:00", "12:00", AK),))
    for r in both(instance([need("S1")], [full])):
        assert reasons(r)["S1"] == ("no_capacity", "the licensed SLP with common time is full")


def test_busy_time_is_avoided() -> None:
    day = span(0, "09:00", "10:00", AK)
    busy = (span(0, "09:00", "09:45", AK),)
    p = provider("P1", available=(day,), busy=busy)
    for r in both(instance([need("S1", minutes=15)], [p])):
        (s,) = r.sessions
        assert (s.start, s.end) == (at(0, "09:45", AK), at(0, "10:00", AK))


def test_busy_everywhere_is_no_common_time() -> None:
    day = span(0, "09:00", "10:00", AK)
    p = provider("P1", available=(day,), busy=(day,))
    for r in both(instance([need("S1")], [p])):
        assert reasons(r)["S1"][0] == "no_common_time"


def test_capacity_counts_every_session() -> None:
    p = provider("P1", capacity=90)
    needs = [need("A", spw=2), need("B", spw=2)]
    for r in both(instance(needs, [p])):
        assert len(served(r)) == 1
        assert sum(s.end - s.start for s in r.sessions) <= 90


# --- time zones, days, availability -------------------------------------------------------------


def test_school_in_another_zone_uses_absolute_windows() -> None:
    # An Eastern school (13:00-20:00 UTC) served by an Alaska provider free 08:00-10:00 AKT
    # (17:00-19:00 UTC): the session lands in both, 12:00-14:00 Eastern.
    et_days = school_week(offset=ET)
    p = provider("P1", home="AK", licences=("AK", "NY"), available=(span(0, "08:00", "10:00", AK),))
    n = need("S1", state="NY", days=et_days, hours_text="Mon–Fri 08:00–15:00 ET")
    for r in both(instance([n], [p])):
        (s,) = r.sessions
        assert s.day == "mon"
        assert at(0, "12:00", ET) <= s.start and s.end <= at(0, "14:00", ET)


def test_local_hours_that_look_alike_do_not_meet() -> None:
    # 08:00-12:00 Eastern is 04:00-08:00 Alaska time: before an Alaska school opens.
    east = provider(
        "P1", home="NY", licences=("NY", "AK"), available=(span(0, "08:00", "12:00", ET),)
    )
    for r in both(instance([need("S1")], [east])):
        reason, detail = reasons(r)["S1"]
        assert reason == "no_common_time"
        assert detail == "the licensed SLP's availability does not meet Mon–Fri 08:00–15:00 AKT"


def test_far_west_school_days_run_past_the_week_end() -> None:
    # Friday 15:00 Hawaii-Aleutian (UTC-10) is Saturday 01:00 UTC: beyond 7 * 1440 - 1440.
    days = school_week(offset=-10)
    late = span(4, "14:00", "15:00", -10)
    p = provider("P1", home="HI", licences=("HI",), available=(late,))
    n = need("S1", state="HI", days=days)
    for r in both(instance([n], [p])):
        (s,) = r.sessions
        assert s.day == "fri" and s.end > 5 * 1440


def test_sessions_fall_on_distinct_days() -> None:
    p = provider("P1")
    for r in both(instance([need("S1", spw=3)], [p])):
        assert len(r.sessions) == 3
        assert len({s.day for s in r.sessions}) == 3


def test_one_day_of_availability_cannot_serve_two_sessions() -> None:
    p = provider("P1", available=(span(0, "08:00", "15:00", AK),))
    for r in both(instance([need("S1", spw=2)], [p])):
        assert r.sessions == ()
        reason, detail = reasons(r)["S1"]
        assert reason == "no_common_time"
        assert "at most 1 day" in detail and "2 distinct days" in detail


def test_overlapping_and_back_to_back_availability_merge() -> None:
    a = at(0, "09:00", AK)
    p = provider("P1", available=((a, a + 30), (a + 30, a + 60), (a + 10, a + 40)))
    for r in both(instance([need("S1", minutes=60)], [p])):
        (s,) = r.sessions
        assert (s.start, s.end) == (a, a + 60)


def test_back_to_back_sessions_are_allowed() -> None:
    p = provider("P1", available=(span(0, "09:00", "10:00", AK),))
    for r in both(instance([need("A"), need("B")], [p])):
        assert len(r.sessions) == 2
        first, second = sorted(r.sessions, key=lambda s: s.start)
        assert first.end == second.start


def test_student_with_two_services_is_never_double_booked() -> None:
    hour = (span(0, "09:00", "10:00", AK),)
    slp = provider("P1", available=hour)
    ot = provider("P2", discipline="ot", available=hour)
    needs = [need("S1", minutes=60), need("S1", service="ot", minutes=60)]
    for r in both(instance(needs, [slp, ot])):
        assert len(r.sessions) == 1


OT_TUE = (span(1, "09:00", "09:30", AK),)  # the student's OT session that stays


def test_student_busy_time_is_no_common_time() -> None:
    p = provider("P1", available=OT_TUE)
    for r in both(instance([need("S1", busy=OT_TUE)], [p])):
        assert r.sessions == ()
        assert reasons(r)["S1"] == (
            "no_common_time",
            "the licensed SLP's availability does not meet Mon–Fri 08:00–15:00 AKT outside the "
            "student's other sessions",
        )


def test_student_busy_time_is_avoided() -> None:
    p = provider("P1", available=(span(1, "09:00", "10:00", AK),))
    for r in both(instance([need("S1", busy=OT_TUE)], [p])):
        (s,) = r.sessions
        assert (s.day, s.start, s.end) == ("tue", at(1, "09:30", AK), at(1, "10:00", AK))


def test_student_busy_time_is_the_students_own() -> None:
    """A schoolmate without busy time keeps the slots; the busy student's group is elsewhere."""
    p = provider("P1", available=(span(1, "09:00", "10:00", AK),))
    needs = [need("S1", busy=OT_TUE, group_ok=True), need("S2", group_ok=True)]
    prep = Prep(instance(needs, [p]))
    assert {s[1] for s in prep.slots(1, 0)} == {at(1, t, AK) for t in ("09:00", "09:15", "09:30")}
    assert {s[1] for s in prep.slots(0, 0)} == {at(1, "09:30", AK)}
    for r in both(instance(needs, [p])):
        assert len(served(r)) == 2
        for s in r.sessions:
            if "S1" in s.student_ids:
                assert s.start >= at(1, "09:30", AK)


def test_off_grid_school_window_still_gets_a_slot() -> None:
    days = (SchoolDay("mon", ((at(0, "08:10", AK), at(0, "08:40", AK)),)),)
    p = provider("P1")
    for r in both(instance([need("S1", days=days)], [p])):
        (s,) = r.sessions
        assert s.start == at(0, "08:10", AK)


# --- objectives ---------------------------------------------------------------------------------


def test_preferred_provider_is_kept() -> None:
    p1 = provider("P1")
    p2 = provider("P2", capacity=300)
    needs = [need("S1", preferred="P2")]
    for r in both(instance(needs, [p1, p2])):
        assert {s.provider_id for s in r.sessions} == {"P2"}


def test_existing_school_is_preferred() -> None:
    p1 = provider("P1")
    p2 = provider("P2", schools=("SCH1",), districts=("D1",))
    for r in both(instance([need("S1")], [p1, p2])):
        assert {s.provider_id for s in r.sessions} == {"P2"}


def test_cp_sat_beats_greedy_where_greedy_is_myopic() -> None:
    # Both need the same provider; the greedy gives A the early slot by first-fit, leaving no
    # room for B, whose school is only open 09:00-09:30. CP-SAT moves A to 09:30.
    p = provider("P1", available=(span(0, "09:00", "10:00", AK),))
    b_days = (SchoolDay("mon", (span(0, "09:00", "09:30", AK),)),)
    needs = [need("A"), need("B", school="SCH2", days=b_days)]
    inp = instance(needs, [p])
    g, c = both(inp)
    assert len(served(g)) < len(served(c)) == 2
    assert c.objective["coverage"] == 1.0
    # The CP-SAT layer on its own, warm-started from the greedy's sessions, finds it too.
    prep = Prep(inp)
    start = greedy_sessions(prep)
    ((needs_i, provs),) = components(prep)
    comp = Component(prep, needs_i, provs, start, seed=0)
    comp.polish(2.0, time.perf_counter() + 8.0, {}, cover=True)
    assert comp.method == "cp-sat"
    assert {sid for s in comp.sessions() for sid in s.student_ids} == {"A", "B"}


def test_cp_sat_forms_groups_the_greedy_does_not() -> None:
    # One hour, capacity for two sessions. The greedy seats A at 9:00 (first fit), which takes
    # B's only slot, and C cannot join A (C's school day starts 9:30). Best: B at 9:00 and A
    # with C as a group at 9:30.
    p = provider("P1", available=(span(0, "09:00", "10:00", AK),), capacity=60)
    late = (SchoolDay("mon", (span(0, "09:30", "10:00", AK),)),)
    early = (SchoolDay("mon", (span(0, "09:00", "09:30", AK),)),)
    needs = [
        need("A", group_ok=True),
        need("B", school="SCH2", days=early),
        need("C", group_ok=True, days=late),
    ]
    inp = instance(needs, [p])
    g, c = both(inp)
    assert len(served(g)) == 2 and len(served(c)) == 3
    assert sorted(s.student_ids for s in c.sessions) == [("A", "C"), ("B",)]
    prep = Prep(inp)
    ((needs_i, provs),) = components(prep)
    comp = Component(prep, needs_i, provs, greedy_sessions(prep), seed=0)
    comp.polish(2.0, time.perf_counter() + 8.0, {}, cover=True)
    assert sorted(s.student_ids for s in comp.sessions()) == [("A", "C"), ("B",)]


def test_solve_is_never_worse_than_greedy_and_reports_objective() -> None:
    p = provider("P1", capacity=60)
    needs = [need("A", minutes=60), need("B"), need("C")]
    g, c = both(instance(needs, [p]))
    assert c.objective["served"] >= g.objective["served"]
    assert c.objective["served"] == 2
    assert set(c.objective) >= {"coverage", "served", "provider_minutes", "schools_per_provider"}


def test_empty_input() -> None:
    for r in both(instance([], [provider("P1")])):
        assert r.sessions == () and r.unmatched == ()
        assert r.objective["coverage"] == 1.0


# --- explanations -------------------------------------------------------------------------------


def test_no_capacity_counts_the_providers() -> None:
    ps = [provider(f"P{i}", capacity=30) for i in range(3)]
    needs = [need(f"S{i}") for i in range(4)]
    for r in both(instance(needs, ps)):
        (left,) = r.unmatched
        assert left.reason == "no_capacity"
        assert left.detail == "the 3 licensed SLPs with common time are full"


def test_no_common_time_counts_the_providers() -> None:
    early = tuple(span(d, "05:00", "07:00", AK) for d in range(5))
    ps = [provider(f"P{i}", available=early) for i in range(2)]
    for r in both(instance([need("S1")], ps)):
        assert reasons(r)["S1"] == (
            "no_common_time",
            "the 2 licensed SLPs' availability does not meet Mon–Fri 08:00–15:00 AKT",
        )


@pytest.mark.parametrize(
    ("service", "label"),
    [
        ("slp", "SLP"),
        ("ot", "OT"),
        ("pt", "PT"),
        ("psych", "school psychologist"),
        ("mh", "mental-health specialist"),
    ],
)
def test_service_labels_in_explanations(service: str, label: str) -> None:
    r = greedy(instance([need("S1", service=service, state="TX")], []))
    assert reasons(r)["S1"] == ("no_licensed_provider", f"no {label} holds an active Texas licence")
    assert provider_label(service, 2).startswith(label)


def test_every_state_has_a_name() -> None:
    assert len(STATE_NAMES) == 51
    assert STATE_NAMES["DC"] == "the District of Columbia"
