"""Tests: the independent match validator catches each kind of broken result."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest

from bot.domain.matching import MatchInput, MatchResult, Session, Unmatched, greedy, validate
from tests.domain.test_matching import AK, at, instance, need, provider, span

Corrupt = Callable[[MatchInput, MatchResult], tuple[MatchInput, MatchResult]]


def base() -> tuple[MatchInput, MatchResult]:
    """Two group-capable students of one school (2 sessions each), one with OT too, a solo
    student, and one student nobody can serve."""
    needs = [
        need("A", spw=2, group_ok=True),
        need("B", spw=2, group_ok=True),
        need("A", service="ot"),
        need("C", minutes=45, school="SCH2"),
        need("Z", state="TX"),
    ]
    providers = [provider("P1"), provider("P2"), provider("OT1", discipline="ot")]
    inp = instance(needs, providers)
    result = greedy(inp)
    assert validate(inp, result) == []
    assert any(len(s.student_ids) == 2 for s in result.sessions)
    return inp, result


def with_sessions(r: MatchResult, sessions: list[Session]) -> MatchResult:
    return dataclasses.replace(r, sessions=tuple(sessions))


def first(r: MatchResult, pred: Callable[[Session], bool]) -> int:
    return next(i for i, s in enumerate(r.sessions) if pred(s))


def edit(r: MatchResult, pred: Callable[[Session], bool], **changes: object) -> MatchResult:
    sessions = list(r.sessions)
    i = first(r, pred)
    sessions[i] = dataclasses.replace(sessions[i], **changes)  # type: ignore[arg-type]
    return with_sessions(r, sessions)


def solo_c(s: Session) -> bool:
    return s.student_ids == ("C",)


def group(s: Session) -> bool:
    return len(s.student_ids) == 2


def shift(r: MatchResult, pred: Callable[[Session], bool], start: int) -> MatchResult:
    s = r.sessions[first(r, pred)]
    return edit(r, pred, start=start, end=start + (s.end - s.start))


CASES: dict[str, tuple[Corrupt, str]] = {
    "outside school hours": (
        lambda i, r: (i, shift(r, solo_c, at(0, "07:00", AK))),
        "outside school hours",
    ),
    "outside availability": (
        lambda i, r: (
            dataclasses.replace(
                i,
                providers=tuple(
                    dataclasses.replace(p, available=(span(4, "08:00", "09:00", AK),))
                    if p.provider_id == r.sessions[first(r, solo_c)].provider_id
                    else p
                    for p in i.providers
                ),
            ),
            r,
        ),
        "outside the provider's availability",
    ),
    "overlaps busy": (
        lambda i, r: (
            dataclasses.replace(
                i,
                providers=tuple(
                    dataclasses.replace(p, busy=((r.sessions[first(r, solo_c)].start, 10**6),))
                    if p.provider_id == r.sessions[first(r, solo_c)].provider_id
                    else p
                    for p in i.providers
                ),
            ),
            r,
        ),
        "overlaps the provider's busy time",
    ),
    "overlaps the student's busy time": (
        lambda i, r: (
            dataclasses.replace(
                i,
                needs=tuple(
                    dataclasses.replace(n, busy=((r.sessions[first(r, solo_c)].end - 1, 10**6),))
                    if n.student_id == "C"
                    else n
                    for n in i.needs
                ),
            ),
            r,
        ),
        "overlaps student C's sessions of other services",
    ),
    "double-booked provider": (
        lambda i, r: (
            i,
            with_sessions(
                r,
                [
                    *r.sessions,
                    dataclasses.replace(r.sessions[first(r, solo_c)], student_ids=("C",)),
                ],
            ),
        ),
        "double-booked",
    ),
    "over capacity": (
        lambda i, r: (
            dataclasses.replace(
                i, providers=tuple(dataclasses.replace(p, capacity_minutes=10) for p in i.providers)
            ),
            r,
        ),
        "over the capacity",
    ),
    "licence missing": (
        lambda i, r: (
            dataclasses.replace(
                i,
                providers=tuple(
                    dataclasses.replace(p, licensed_states=frozenset({"WA"})) for p in i.providers
                ),
            ),
            r,
        ),
        "not licensed in both AK (school) and WA (home)",
    ),
    "wrong discipline": (
        lambda i, r: (i, edit(r, solo_c, provider_id="OT1")),
        "provider's discipline is ot",
    ),
    "unknown provider": (
        lambda i, r: (i, edit(r, solo_c, provider_id="NOBODY")),
        "unknown provider",
    ),
    "group too big": (
        lambda i, r: (dataclasses.replace(i, group_max=1), r),
        "more than 1",
    ),
    "group too small": (
        lambda i, r: (dataclasses.replace(i, group_min=3), r),
        "fewer than 3",
    ),
    "group without consent": (
        lambda i, r: (
            dataclasses.replace(
                i,
                needs=tuple(
                    dataclasses.replace(n, group_ok=False) if n.student_id == "B" else n
                    for n in i.needs
                ),
            ),
            r,
        ),
        "may not be seen in a group",
    ),
    "group across schools": (
        lambda i, r: (
            dataclasses.replace(
                i,
                needs=tuple(
                    dataclasses.replace(n, school_id="SCH9")
                    if (n.student_id, n.service) == ("B", "slp")
                    else n
                    for n in i.needs
                ),
            ),
            r,
        ),
        "attends school SCH9",
    ),
    "wrong length": (
        lambda i, r: (i, edit(r, solo_c, end=r.sessions[first(r, solo_c)].start + 30)),
        "needs 45-minute sessions",
    ),
    "too few sessions": (
        lambda i, r: (
            i,
            with_sessions(r, [s for k, s in enumerate(r.sessions) if k != first(r, group)]),
        ),
        "has 1 sessions, needs 2",
    ),
    "same day twice": (
        lambda i, r: (
            i,
            with_sessions(
                r,
                [
                    dataclasses.replace(s, day="mon", start=s.start % 1440, end=s.end % 1440)
                    if group(s)
                    else s
                    for s in r.sessions
                ],
            ),
        ),
        "two sessions on one school day",
    ),
    "split between providers": (
        lambda i, r: (
            i,
            edit(
                r,
                group,
                provider_id="P2" if r.sessions[first(r, group)].provider_id == "P1" else "P1",
            ),
        ),
        "split between providers",
    ),
    "neither served nor unmatched": (
        lambda i, r: (i, dataclasses.replace(r, unmatched=())),
        "neither served nor listed unmatched",
    ),
    "served and unmatched": (
        lambda i, r: (
            i,
            dataclasses.replace(r, unmatched=(*r.unmatched, Unmatched("C", "slp", "x", "y"))),
        ),
        "served but also listed unmatched",
    ),
    "unmatched twice": (
        lambda i, r: (i, dataclasses.replace(r, unmatched=r.unmatched + r.unmatched)),
        "2 times",
    ),
    "unmatched unknown": (
        lambda i, r: (
            i,
            dataclasses.replace(r, unmatched=(*r.unmatched, Unmatched("Q", "pt", "x", "y"))),
        ),
        "which is not a need",
    ),
    "student in two places": (
        lambda i, r: (
            i,
            edit(
                r,
                lambda s: s.service == "ot",
                start=next(
                    s.start for s in r.sessions if "A" in s.student_ids and s.service == "slp"
                ),
                end=next(s.start for s in r.sessions if "A" in s.student_ids and s.service == "slp")
                + 30,
                day=next(s.day for s in r.sessions if "A" in s.student_ids and s.service == "slp"),
            ),
        ),
        "student A in two sessions at once",
    ),
    "student without that need": (
        lambda i, r: (i, edit(r, solo_c, student_ids=("C", "Y"))),
        "student Y has no slp need",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_validator_catches(case: str) -> None:
    corrupt, expected = CASES[case]
    inp, result = base()
    bad_inp, bad = corrupt(inp, result)
    errors = validate(bad_inp, bad)
    assert any(expected in e for e in errors), errors


def test_back_to_back_is_not_an_overlap() -> None:
    p = provider("P1", available=(span(0, "09:00", "10:00", AK),))
    inp = instance([need("A"), need("B")], [p])
    r = greedy(inp)
    assert sorted((s.start, s.end) for s in r.sessions) == [
        (at(0, "09:00", AK), at(0, "09:30", AK)),
        (at(0, "09:30", AK), at(0, "10:00", AK)),
    ]
    assert validate(inp, r) == []
