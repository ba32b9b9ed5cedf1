"""Domain: providers used only where nobody else can serve (a licence that ends within weeks).

Lexicographic: first serve as many needs as possible, then use the spared providers as little as
possible. In passes around any solver (`solve_fn`, the matcher's entry point):

1. No spared provider among the candidates: one solve, as always.
2. Solve without the spared providers, then give what that leaves unserved to the spared ones,
   keeping every session of that solve as it is (the greedy, with each student's sessions as taken
   time).
3. If what is still unserved has no eligible provider at all (licence, common time, room), no plan
   serves more: done, with one solve. Likewise, by a cheap check, when no spared provider with
   room left could take over a need someone else serves to free them for one still unserved
   (`_could_free`; longer chains of take-overs are not looked for). Otherwise solve with
   everyone too, and keep that plan only if it serves more: coverage comes first, and the
   spared providers it uses are then needed.

The same inputs give the same plan (the answer never depends on whether an unconstrained solve
happened to pick a spared provider).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace

from .explain import explain
from .greedy import greedy_around
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
    return greedy_around(sub, base)


def _could_free(prep: Prep, spared: frozenset[str], sessions: list[Session]) -> bool:
    """Whether a spared provider with room left could take over a need someone else serves,
    while some need still unserved has an eligible provider who is not spared: the direct way
    a plan with everyone could serve more than the solve without them plus the fill (longer
    chains of take-overs are not looked for; then this plan stands, with a valid bound)."""
    load: dict[str, int] = {}
    taken: dict[tuple[str, str], str] = {}
    for s in sessions:
        load[s.provider_id] = load.get(s.provider_id, 0) + s.end - s.start
        for sid in s.student_ids:
            taken[(sid, s.service)] = s.provider_id
    spared_idx = {prep.provider_index[p] for p in spared if p in prep.provider_index}
    if not any(
        set(prep.eligible(ni)) - spared_idx for ni, n in enumerate(prep.needs) if n.key not in taken
    ):
        return False
    for ni, n in enumerate(prep.needs):
        holder = taken.get(n.key)
        if holder is None or holder in spared:
            continue
        cost = n.sessions_per_week * n.session_minutes
        for pi in spared_idx & set(prep.eligible(ni)):
            p = prep.providers[pi]
            if p.capacity_minutes - load.get(p.provider_id, 0) >= cost:
                return True
    return False


def solve_sparing(inp: MatchInput, spared: frozenset[str], solve_fn: SolveFn) -> MatchResult:
    """The best plan by `solve_fn` that uses the `spared` providers only where nobody else can
    serve (the module docstring says how)."""
    t0 = time.perf_counter()
    if not spared & {p.provider_id for p in inp.providers}:
        return solve_fn(inp)
    others = replace(inp, providers=tuple(p for p in inp.providers if p.provider_id not in spared))
    base = solve_fn(others)
    sessions = sorted(
        [*base.sessions, *_fill(inp, spared, base.sessions)],
        key=lambda s: (s.provider_id, s.start, s.student_ids),
    )
    prep = Prep(inp)
    served = {(sid, s.service) for s in sessions for sid in s.student_ids}
    if all(not prep.eligible(ni) for ni, n in enumerate(inp.needs) if n.key not in served):
        # Nobody at all could take what is left: no plan serves more, and this one is it.
        bound = len(served)
    elif not _could_free(prep, spared, sessions):
        # A valid bound all the same: without them at most base.bound, and they add at most
        # the needs they are eligible for; and nobody serves a need no one is eligible for.
        spared_idx = {prep.provider_index[p] for p in spared if p in prep.provider_index}
        theirs = sum(1 for ni in range(len(inp.needs)) if spared_idx & set(prep.eligible(ni)))
        anyone = sum(1 for ni in range(len(inp.needs)) if prep.eligible(ni))
        without = base.bound if base.bound is not None else len(inp.needs)
        bound = min(without + theirs, anyone)
    else:
        full = solve_fn(inp)
        if _served(full.sessions) > len(served):
            return full
        bound = full.bound if full.bound is not None else len(served)
    _, details = evaluate(inp, sessions)
    result = MatchResult(
        sessions=tuple(sessions),
        unmatched=tuple(explain(inp, sessions, prep)),
        method=f"{base.method}, sparing",
        objective=details,
        solve_seconds=time.perf_counter() - t0,
        bound=max(bound, len(served)),
        hires=tuple(hires(inp, sessions)),
    )
    if validate(inp, result):  # a bug in the fill: never a plan that breaks a rule
        return solve_fn(inp)
    return result
