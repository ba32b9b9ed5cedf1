"""Domain: providers used only where nobody else can serve (a licence that ends within weeks).

Lexicographic: first serve as many needs as possible, then use the spared providers as little as
possible. In passes around any solver (`solve_fn`, the matcher's entry point):

1. Solve with everyone. If no spared provider is used, that is the answer (one solve, the common
   case; a district with no spared candidate never gets here).
2. Solve without the spared providers, then give what that leaves unserved to the spared ones,
   keeping every session of that solve as it is (the greedy, with each student's sessions as taken
   time).
3. Keep the second plan when it serves at least as many as the first (and passes the validator);
   otherwise coverage comes first and the first plan stands: the spared providers it uses are then
   needed for those students, or fewer would be served.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from .explain import explain
from .greedy import GreedyState, scarcity_order
from .hires import hires
from .model import MatchInput, MatchResult, Session
from .objective import evaluate
from .prep import Prep
from .validate import validate

SolveFn = Callable[[MatchInput], MatchResult]


def _served(sessions: tuple[Session, ...] | list[Session]) -> int:
    return len({(sid, s.service) for s in sessions for sid in s.student_ids})


def _fill(inp: MatchInput, spared: frozenset[str], base: tuple[Session, ...]) -> list[Session]:
    """The spared providers on the needs `base` leaves unserved, with `base`'s sessions of each
    student as taken time."""
    served = {(sid, s.service) for s in base for sid in s.student_ids}
    sub = replace(
        inp,
        needs=tuple(n for n in inp.needs if n.key not in served),
        providers=tuple(p for p in inp.providers if p.provider_id in spared),
    )
    prep = Prep(sub)
    state = GreedyState(prep)
    students = {n.student_id for n in sub.needs}
    for s in base:
        for sid in s.student_ids:
            if sid in students:
                state.student_cal[sid].add(s.start, s.end)
    for ni in scarcity_order(prep):
        state.place(ni)
    return state.to_sessions()


def solve_sparing(inp: MatchInput, spared: frozenset[str], solve_fn: SolveFn) -> MatchResult:
    """The best plan by `solve_fn` that uses the `spared` providers only where nobody else can
    serve (the module docstring says how)."""
    t0 = time.perf_counter()
    full = solve_fn(inp)
    if not spared & {s.provider_id for s in full.sessions}:
        return full
    others = replace(inp, providers=tuple(p for p in inp.providers if p.provider_id not in spared))
    base = solve_fn(others)
    sessions = sorted(
        [*base.sessions, *_fill(inp, spared, base.sessions)],
        key=lambda s: (s.provider_id, s.start, s.student_ids),
    )
    if _served(sessions) < _served(full.sessions):
        return full
    _, details = evaluate(inp, sessions)
    result = MatchResult(
        sessions=tuple(sessions),
        unmatched=tuple(explain(inp, sessions)),
        method=f"{base.method}, sparing",
        objective=details,
        solve_seconds=time.perf_counter() - t0,
        bound=full.bound,
        hires=tuple(hires(inp, sessions)),
    )
    return full if validate(inp, result) else result
