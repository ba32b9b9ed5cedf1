"""Domain: the solver tells an optional callback how far it has got."""

from __future__ import annotations

from bot.domain.matching import Progress, solve
from tests.domain.test_matching import instance, need, provider


def test_progress_reports_served_so_far_and_the_bound_in_order() -> None:
    # Three students; one has no provider licensed in their state, so at most 2 can be served.
    inp = instance(
        [need("S1"), need("S2"), need("S3", state="HI")],
        [provider("P1")],
    )
    heard: list[Progress] = []
    result = solve(inp, time_limit_s=2.0, progress=heard.append)

    assert [p.phase for p in heard][:2] == ["greedy", "bound"]
    assert all(a.elapsed_s <= b.elapsed_s for a, b in zip(heard, heard[1:], strict=False))
    bound_report = heard[1]
    assert bound_report.bound == 2 == result.bound
    assert all(p.bound is None or p.served <= p.bound for p in heard)
    served = {(sid, s.service) for s in result.sessions for sid in s.student_ids}
    assert heard[-1].served <= len(served) == 2


def test_no_callback_is_the_default() -> None:
    result = solve(instance([need("S1")], [provider("P1")]), time_limit_s=1.0)
    assert len(result.sessions) == 1
