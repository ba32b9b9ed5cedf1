"""Domain: providers whose licence ends soon are used only where nobody else can serve."""

from __future__ import annotations

from bot.domain.matching import MatchInput, MatchResult, solve, validate
from bot.domain.matching.sparing import solve_sparing
from tests.domain.test_matching import instance, need, provider, served


def counted(calls: list[MatchInput]):  # type: ignore[no-untyped-def]
    def solve_fn(inp: MatchInput) -> MatchResult:
        calls.append(inp)
        return solve(inp, time_limit_s=2.0)

    return solve_fn


def by_provider(r: MatchResult) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for s in r.sessions:
        out.setdefault(s.provider_id, set()).update(s.student_ids)
    return out


def test_the_spared_provider_is_left_out_when_others_can_serve_everyone() -> None:
    # E already serves the school: without the rule, fewer new links would make E take both.
    inp = instance(
        [need("A"), need("B")], [provider("N"), provider("E", schools=("SCH1",), districts=("D1",))]
    )
    assert "E" in by_provider(solve(inp, time_limit_s=2.0))
    r = solve_sparing(inp, frozenset({"E"}), solve)
    assert served(r) == {("A", "slp"), ("B", "slp")} and set(by_provider(r)) == {"N"}
    assert validate(inp, r) == [] and r.method.endswith("sparing")


def test_coverage_comes_first_the_spared_provider_serves_whom_others_cannot() -> None:
    # N has room for one session, and only N may serve B (California); E may serve A only.
    inp = instance(
        [need("A"), need("B", state="CA")],
        [provider("N", licences=("WA", "AK", "CA"), capacity=30), provider("E")],
    )
    r = solve_sparing(inp, frozenset({"E"}), solve)
    assert by_provider(r) == {"N": {"B"}, "E": {"A"}}
    assert validate(inp, r) == []


def test_one_solve_when_the_spared_provider_is_not_used_or_there_is_none() -> None:
    inp = instance([need("A")], [provider("N", schools=("SCH1",)), provider("E")])
    calls: list[MatchInput] = []
    r = solve_sparing(inp, frozenset({"E"}), counted(calls))
    assert len(calls) == 1 and set(by_provider(r)) == {"N"}
    calls.clear()
    solve_sparing(inp, frozenset(), counted(calls))
    assert len(calls) == 1
