"""Tests: the ejection moves serve more without breaking a rule, and stop at their budget."""

from __future__ import annotations

from bot.domain.matching import MatchResult, Session, validate
from bot.domain.matching.guided import eject_component
from bot.domain.matching.prep import Prep
from tests.domain.test_matching import AK, at, instance, need, provider


def test_a_need_only_one_provider_may_serve_takes_the_place_of_one_another_could_serve() -> None:
    # Only P1 holds a California licence; P1 has room for one 30-minute session, held by B,
    # whom P2 may serve too: B moves to P2 and A gets P1.
    a = need("A", state="CA")
    b = need("B")
    p1 = provider("P1", licences=("WA", "AK", "CA"), capacity=30)
    p2 = provider("P2")
    inp = instance([a, b], [p1, p2])
    prep = Prep(inp)
    held = Session("P1", ("B",), "slp", "SCH1", "mon", at(0, "09:00", AK), at(0, "09:30", AK))
    tries = [100]
    got = eject_component(prep, [0, 1], [0, 1], [held], {}, tries)
    by_student = {sid: s.provider_id for s in got for sid in s.student_ids}
    assert by_student == {"A": "P1", "B": "P2"}
    assert validate(inp, MatchResult(tuple(got), (), "test", {}, 0.0)) == []
    assert 0 < tries[0] < 100


def test_without_tries_left_nothing_moves() -> None:
    inp = instance(
        [need("A", state="CA"), need("B")],
        [
            provider("P1", licences=("WA", "AK", "CA"), capacity=30),
            provider("P2"),
        ],
    )
    held = Session("P1", ("B",), "slp", "SCH1", "mon", at(0, "09:00", AK), at(0, "09:30", AK))
    assert eject_component(Prep(inp), [0, 1], [0, 1], [held], {}, [0]) == [held]
