"""Tests: the relaxation bound is a true upper bound on the needs any valid proposal serves."""

from __future__ import annotations

import time

import pytest

from bot.domain.matching import MatchInput, solve, validate
from bot.domain.matching.bound import dive, relax, relax_all
from bot.domain.matching.cpsat import Work, build, phase_a
from bot.domain.matching.decompose import components
from bot.domain.matching.greedy import greedy_sessions
from bot.domain.matching.guided import guide_component, timetable
from bot.domain.matching.model import SchoolDay
from bot.domain.matching.prep import Prep
from demo.instances import hard_instance, synthetic_instance
from tests.domain.test_matching import AK, instance, need, provider, school_week, span


def served_count(sessions: object) -> int:
    return len({(sid, s.service) for s in sessions for sid in s.student_ids})  # type: ignore[attr-defined]


def optimum(inp: MatchInput) -> int:
    """Needs served by a proven-optimal monolithic CP-SAT (small instances only)."""
    prep = Prep(inp)
    needs = list(range(len(inp.needs)))
    provs = list(range(len(inp.providers)))
    built = build(prep, needs, provs, {}, greedy_sessions(prep))
    sol, proved = phase_a(built, built.hint, time.perf_counter() + 60.0, 0)
    assert proved, "the test instance is too large to prove"
    return sum(sol[yv.index] for yv in built.y.values())


def full_bound(inp: MatchInput) -> int:
    prep = Prep(inp)
    parts = components(prep)
    return sum(relax(prep, n, p, 30.0).bound for n, p in parts)


@pytest.mark.parametrize("seed", range(8))
def test_bound_is_at_least_the_optimum_on_small_hard_instances(seed: int) -> None:
    inp = hard_instance(14, 3, seed, capacity_ratio=0.9)
    opt = optimum(inp)
    assert opt <= full_bound(inp) <= len(inp.needs)


@pytest.mark.parametrize("seed", range(4))
def test_bound_is_at_least_the_optimum_on_small_synthetic_instances(seed: int) -> None:
    inp = synthetic_instance(16, 3, 100 + seed)
    assert optimum(inp) <= full_bound(inp)


def test_lp_bound_is_weaker_or_equal_and_still_valid() -> None:
    inp = hard_instance(40, 6, 3)
    prep = Prep(inp)
    for needs, provs in components(prep):
        mip = relax(prep, needs, provs, 30.0)
        lp = relax(prep, needs, provs, 30.0, integral=False)
        assert mip.bound <= lp.bound
        assert len(mip.assignment) <= mip.bound


@pytest.mark.parametrize("capacity", [30, 600])
def test_one_group_session_of_room_bounds_five_students_at_four(capacity: int) -> None:
    p = provider("P1", available=(span(0, "09:30", "10:00", AK),), capacity=capacity)
    inp = instance([need(f"S{i}", group_ok=True) for i in range(5)], [p])
    assert full_bound(inp) == 4
    r = solve(inp, time_limit_s=2.0)
    assert r.bound == 4 and len(r.sessions[0].student_ids) == 4


def test_time_for_one_session_a_day_bounds_by_days() -> None:
    # Two 45-minute needs, twice a week each, on a provider with one hour on Mon and Tue only.
    hours = (span(0, "09:00", "10:00", AK), span(1, "09:00", "10:00", AK))
    p = provider("P1", available=hours, capacity=600)
    inp = instance([need("A", spw=2, minutes=45), need("B", spw=2, minutes=45)], [p])
    assert full_bound(inp) == 1


def test_capacity_in_minutes_bounds() -> None:
    p = provider("P1", capacity=90)
    inp = instance([need(f"S{i}", minutes=60) for i in range(3)], [p])
    assert full_bound(inp) == 1


def test_needs_nobody_may_serve_are_outside_the_bound() -> None:
    inp = instance([need("A"), need("B", state="CA")], [provider("P1", licences=("WA", "AK"))])
    r = solve(inp, time_limit_s=2.0)
    assert r.bound == 1


def test_relax_all_sums_components_and_falls_back_to_the_lp_past_the_deadline() -> None:
    inp = hard_instance(60, 8, 4)
    prep = Prep(inp)
    parts = components(prep)
    exact = relax_all(prep, parts, [], time.perf_counter() + 60.0)
    rushed = relax_all(prep, parts, [], time.perf_counter())
    assert exact.bound <= rushed.bound <= len(inp.needs)


@pytest.mark.parametrize("seed", [0, 1])
def test_solve_never_serves_more_than_its_bound(seed: int) -> None:
    inp = hard_instance(120, 16, seed)
    r = solve(inp, time_limit_s=3.0, seed=seed)
    assert validate(inp, r) == []
    assert r.bound is not None and served_count(r.sessions) <= r.bound


@pytest.mark.parametrize("seed", [0, 7])
def test_coverage_at_the_bound_stops_early_and_reruns_give_the_same_proposal(seed: int) -> None:
    inp = hard_instance(60, 8, seed)
    # The wall clock only guards (60 s), so a loaded machine cannot cut a stage short; the CPU
    # spent, not the wall time, shows that it stopped early: a 10 s budget on two workers runs to
    # about 20 CPU-seconds when nothing stops it.
    cpu = time.process_time()
    first = solve(inp, time_limit_s=10.0, seed=seed, guard_s=60.0)
    cpu = time.process_time() - cpu
    assert validate(inp, first) == []
    assert served_count(first.sessions) == first.bound  # proved optimal on coverage...
    assert cpu < 8.0  # ...so it stops long before its budget is spent
    again = solve(inp, time_limit_s=10.0, seed=seed, guard_s=60.0)
    assert again.sessions == first.sessions and again.unmatched == first.unmatched


def test_a_time_limited_solve_gives_the_same_proposal_on_a_rerun(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The deterministic bounds (the LP, CP-SAT's) stay above the coverage here, so every stage
    # runs until its budget is spent: the relaxation, its timetabling, the assignment start and
    # the exact model on two workers (which is what changed the answer: "cp-sat").
    inp = hard_instance(80, 10, 31)
    caplog.set_level("INFO", logger="bot.domain.matching")
    runs = [solve(inp, time_limit_s=1.0, seed=2, guard_s=60.0) for _ in range(2)]
    for r in runs:
        assert validate(inp, r) == []
        assert r.bound is not None and served_count(r.sessions) <= r.bound
    assert runs[0].method == "cp-sat"
    # The budgets are deterministic: the wall clock (60 s) never had to stop a search...
    assert "match.wall_guard" not in caplog.text
    # ...so the re-run is the same proposal, session for session.
    assert runs[1].sessions == runs[0].sessions
    assert runs[1].unmatched == runs[0].unmatched
    # The bound reported is the same too, unless HiGHS (no deterministic clock) ran out of time
    # in one run and not the other: then only that number differs, never what the solve did.
    assert runs[1].bound == runs[0].bound or "match.bound_time_limit" in caplog.text


def test_a_group_session_costs_its_minutes_whenever_one_member_is_there() -> None:
    # Three group-ok needs of one school, once a week, each free on two days (A Mon/Tue, B
    # Tue/Wed, C Wed/Mon), and 30 minutes of capacity: one session, so two served at most.
    # Charging a member a quarter session, the LP would serve all three; with a session held
    # whenever one member is there, it says 2.
    def away(*days: int) -> tuple[tuple[int, int], ...]:
        return tuple(span(d, "07:00", "16:00", AK) for d in days)

    needs = [
        need("A", group_ok=True, busy=away(2, 3, 4)),
        need("B", group_ok=True, busy=away(0, 3, 4)),
        need("C", group_ok=True, busy=away(1, 3, 4)),
    ]
    inp = instance(needs, [provider("P1", capacity=30)])
    prep = Prep(inp)
    assert relax(prep, [0, 1, 2], [0], 30.0, integral=False).bound == 2
    assert full_bound(inp) == optimum(inp) == 2


def test_the_assignment_keeps_a_late_opening_schools_sessions_inside_its_hours() -> None:
    # A provider free Mondays 12:00-14:30 with 150 minutes a week, and four schools that open at
    # 12:00, 12:15, 12:30 and 13:45 (all closing at 14:30). A needs an hour at the first school;
    # B and E half an hour at the second, C and D 45 minutes at the third and fourth. Only B, C,
    # D and E fit the 150 minutes, but they all need the 135 minutes after 12:15: three can be
    # served. Room per school and for the whole day lets the relaxation promise all four; the
    # room of the window after 12:15 (the three late schools' time together) does not.
    def opening(at: str) -> tuple[SchoolDay, ...]:
        return school_week(at, "14:30", days=(0,))

    needs = [
        need("A", school="S1", minutes=60, days=opening("12:00")),
        need("B", school="S2", days=opening("12:15")),
        need("E", school="S2", days=opening("12:15")),
        need("C", school="S3", minutes=45, days=opening("12:30")),
        need("D", school="S4", minutes=45, days=opening("13:45")),
    ]
    inp = instance(
        needs, [provider("P1", capacity=150, available=(span(0, "12:00", "14:30", AK),))]
    )
    prep = Prep(inp)
    every = list(range(len(needs)))
    loose = relax(prep, every, [0], 30.0, backend="sat", windows=False)
    assert len(loose.assignment) == 4  # B, C, D and E: more than the provider's Monday holds
    tight = relax(prep, every, [0], 30.0, backend="sat")
    assert len(tight.assignment) == optimum(inp) == 3
    chosen = sorted(tight.assignment)
    got = timetable(prep, 0, chosen, {}, [], Work(5.0, time.perf_counter() + 60.0))
    assert served_count(got) == 3  # the assignment chosen is timetabled whole
    assert optimum(inp) <= full_bound(inp)  # (the bound's own model goes without the windows)


def test_the_guided_timetable_keeps_what_the_assignment_leaves_unchanged() -> None:
    # With no solver time at all, a provider whose needs the assignment leaves as they were
    # keeps its sessions as they are; one that gains a need keeps those it had, as the start of
    # its timetable (before, both lost every session when the time ran out).
    inp = hard_instance(60, 8, 3)
    prep = Prep(inp)
    current = greedy_sessions(prep)
    needs, provs = max(components(prep), key=lambda part: len(part[0]))
    mine = [s for s in current if prep.provider_index[s.provider_id] in set(provs)]
    assignment = {
        prep.need_index[(sid, s.service)]: prep.provider_index[s.provider_id]
        for s in mine
        for sid in s.student_ids
    }
    spent = Work(0.0, time.perf_counter() + 60.0)
    kept = guide_component(prep, needs, provs, assignment, {}, spent, mine)
    assert sorted(kept, key=repr) == sorted(mine, key=repr)
    assert spent.spent == 0.0
    unserved = next(ni for ni in needs if ni not in assignment and prep.eligible(ni))
    moved = {**assignment, unserved: prep.eligible(unserved)[0]}
    got = guide_component(
        prep, needs, provs, moved, {}, Work(0.0, time.perf_counter() + 60.0), mine
    )
    assert set(map(repr, mine)) <= set(map(repr, got))  # nothing it had is lost


def test_the_lps_dive_keeps_what_the_lp_gives_whole_and_bounds_nothing() -> None:
    inp = hard_instance(120, 16, 0)
    prep = Prep(inp)
    needs, provs = max(components(prep), key=lambda part: len(part[0]))
    lp = relax(prep, needs, provs, 30.0, integral=False, windows=True)
    assert lp.assignment  # the needs the LP's optimum gives whole to one provider
    dived = dive(prep, needs, provs, 2.0, time.perf_counter() + 60.0)
    assert lp.assignment.items() <= dived.assignment.items()  # each held where the LP put it
    assert len(lp.assignment) <= len(dived.assignment) <= relax(prep, needs, provs, 30.0).bound
    assert dived.bound == len(needs) and not dived.proved  # (its own bound would mislead)
