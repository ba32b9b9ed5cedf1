"""Tests: the proposal's header says how near it is to the best possible (the bound)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from bot.services.matching import Proposal
from bot.services.matching.proposals import HireOut
from handlers.match_blocks import bound_line, hire_text, proposal_blocks


def proposal(served: int, total: int, bound: int | None) -> Proposal:
    return Proposal(
        proposal_id=None,
        district_id="anc",
        district_name="Anchorage",
        week_of=date(2026, 12, 7),
        plans=(),
        unmatched=(),
        unmatched_labels={},
        students_total=total,
        students_served=served,
        method="relaxation",
        solve_seconds=1.0,
        bound=bound,
    )


def test_the_header_states_the_gap_and_who_cannot_be_served() -> None:
    p = proposal(268, 300, 274)
    assert bound_line(p) == (
        "Served *268* of 300 student services; at most *274* can be served "
        "(the other 26 have no licensed provider or no common time)"
    )
    text = str([b.to_dict() for b in proposal_blocks(p)])
    assert "at most *274* can be served" in text


def test_one_left_over_is_singular_and_none_left_says_nothing_more() -> None:
    assert bound_line(proposal(2, 3, 2)).endswith(
        "(the other 1 has no licensed provider or no common time)"
    )
    assert (
        bound_line(proposal(3, 3, 3))
        == "Served *3* of 3 student services; at most *3* can be served"
    )
    assert (
        bound_line(proposal(1, 1, None))
        == "Served *1* of 1 student service; at most *1* can be served"
    )


def test_the_proposal_ends_with_whom_to_hire() -> None:
    hire = HireOut(
        "ot", "AK", 3.0, (("mon", "08:00", "11:00"),), "America/Anchorage", ("S1", "S2", "S3")
    )
    p = replace(proposal(0, 3, 0), hires=(hire,))
    line = "1 OT licensed in AK, about 3 h a week, Mon 08:00–11:00 AKT, would serve 3 students"
    assert hire_text(hire) == line
    text = str([b.to_dict() for b in proposal_blocks(p)])
    assert "To serve the rest, hire" in text and line in text
