"""Tests: hire profiles for the needs a proposal leaves unserved, checked by matching again."""

from __future__ import annotations

from dataclasses import replace

from bot.domain.matching import Hire, MatchInput, MatchResult, Provider, solve, validate
from bot.domain.matching.explain import explain
from bot.domain.matching.hires import _match
from demo.instances import hard_instance
from tests.domain.test_matching import AK, instance, need, provider, span


def served(r: MatchResult) -> set[tuple[str, str]]:
    return {(sid, s.service) for s in r.sessions for sid in s.student_ids}


def with_hires(inp: MatchInput, hires: tuple[Hire, ...]) -> MatchInput:
    added = tuple(
        Provider(
            provider_id=f"H{i}",
            discipline=h.service,
            home_state=h.state,
            licensed_states=frozenset({h.state}),
            available=tuple((a, b) for _, a, b in h.windows),
            busy=(),
            capacity_minutes=h.weekly_minutes,
        )
        for i, h in enumerate(hires)
    )
    return replace(inp, providers=inp.providers + added)


def test_a_student_nobody_may_serve_gets_a_hire_profile_in_school_hours() -> None:
    # Nobody holds a California licence; the Alaska student is served.
    inp = instance([need("A"), need("B", state="CA", spw=2)], [provider("P1")])
    r = solve(inp, time_limit_s=2.0)
    assert served(r) == {("A", "slp")}
    (h,) = r.hires
    assert (h.service, h.state, h.would_serve) == ("slp", "CA", ("B",))
    assert h.weekly_minutes == 60 and len({d for d, _, _ in h.windows}) == 2
    school = {d.day: d.windows for d in need("B").school_days}
    for day, a, b in h.windows:
        assert any(x <= a and b <= y for x, y in school[day])


def test_the_profile_avoids_the_students_other_sessions() -> None:
    # B's SLP session is Monday 8-8:30, the first school slot; the OT hire must not take it.
    slot = (span(0, "08:00", "08:30", AK),)
    slp = provider("P1", available=slot)
    days = tuple(d for d in need("B").school_days if d.day == "mon")
    inp = instance([need("B", days=days), need("B", service="ot", days=days)], [slp])
    r = solve(inp, time_limit_s=2.0)
    (h,) = r.hires
    assert h.service == "ot" and h.would_serve == ("B",)
    ((_, a, b),) = h.windows
    assert b <= slot[0][0] or a >= slot[0][1]


def test_hires_once_added_serve_the_students_they_name() -> None:
    inp = hard_instance(120, 16, 1)
    # A generous wall-clock guard: the same proposal however loaded the machine is.
    r = solve(inp, time_limit_s=3.0, seed=1, guard_s=60.0)
    assert r.hires
    named = {(sid, h.service) for h in r.hires for sid in h.would_serve}
    assert named and not named & served(r)
    bigger = with_hires(inp, r.hires)
    # The proposal stays; each hire takes the students it names, checked by the validator.
    sessions = list(r.sessions)
    by_key = {n.key: n for n in inp.needs}
    for i, h in enumerate(r.hires):
        hire = next(p for p in bigger.providers if p.provider_id == f"H{i}")
        needs = [by_key[(sid, h.service)] for sid in h.would_serve]
        sessions += _match(bigger, needs, hire, sessions)
    result = MatchResult(tuple(sessions), tuple(explain(bigger, sessions)), "check", {}, 0.0)
    assert validate(bigger, result) == []
    assert served(result) == served(r) | named
    # And the matcher, run again with them, serves more than before.
    again = solve(bigger, time_limit_s=3.0, seed=1, guard_s=60.0)
    assert validate(bigger, again) == []
    assert len(served(again)) > len(served(r))


def test_nothing_unserved_means_no_hires() -> None:
    inp = instance([need("A")], [provider("P1")])
    assert solve(inp, time_limit_s=2.0).hires == ()
