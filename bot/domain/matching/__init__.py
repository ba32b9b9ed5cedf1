"""Domain: the caseload matcher, which proposes who serves each IEP service need and when.

Pure code: the service layer hands in one school week as absolute minutes (`MatchInput`) and gets a
`MatchResult` back. `greedy` is the fast baseline. `solve` runs it, then an iterated greedy
(squeaky wheel), the relaxation that bounds what can be served (`bound`) and its assignment
timetabled exactly (`guided`), then CP-SAT per component of the provider-need graph within the
time limit; it stops early when coverage meets the bound, never returns anything worse than the
greedy, and suggests whom to hire (`hires`). `validate` checks a result against every hard rule
independently of all of them.
"""

from __future__ import annotations

import time
from dataclasses import replace

from .bound import Relaxation, lp_bounds, relax_all
from .cpsat import Work
from .decompose import Component, components, sessions_by_part, taken_elsewhere
from .explain import explain
from .greedy import greedy, greedy_sessions, squeaky_wheel
from .guided import best_by_part, ejections, guided
from .hires import hires
from .model import (
    Hire,
    Interval,
    MatchInput,
    MatchResult,
    Need,
    Provider,
    SchoolDay,
    Session,
    Unmatched,
)
from .objective import Score, evaluate
from .prep import Prep
from .progress import Progress, ProgressFn
from .validate import validate

ROUND1_SHARE = 0.8
SQUEAKY_ROUNDS = 400
SQUEAKY_WORK = 120_000  # rounds x needs, at most
SQUEAKY_RATE = 2_000  # rounds x needs per second of the time limit (under a tenth of it)
# Every search runs on CP-SAT's deterministic clock, so that unchanged inputs give the same
# proposal however loaded the machine is: the time limit buys DET_RATE deterministic seconds
# per second (measured on the 2-core machine; a loaded one stops on the wall-clock guard, and
# logs it). Shares of them:
DET_RATE = 0.7
BOUND_SHARE = 0.75  # the relaxation 75% (its "who serves whom" is most of the answer),
GUIDED_SHARE = 0.95  # its timetabling up to 95%; CP-SAT per component has the rest
SECONDARY_SECONDS = 0.5
MIN_SHARE = 0.3  # deterministic seconds: every CP-SAT run has a fixed start-up cost

__all__ = [
    "Hire",
    "Interval",
    "MatchInput",
    "MatchResult",
    "Need",
    "Progress",
    "ProgressFn",
    "Provider",
    "SchoolDay",
    "Score",
    "Session",
    "Unmatched",
    "evaluate",
    "greedy",
    "solve",
    "validate",
]


def _taken_elsewhere(comps: list[Component], me: Component) -> dict[str, list[Interval]]:
    return taken_elsewhere(c.sessions() for c in comps if c is not me)


def _share(pool: float, spent: float, weights: list[int], i: int) -> float:
    """Deterministic seconds for item i: what is left of `pool` split in proportion to
    weights[i:] (time an item does not use flows on to the next), with a floor per item."""
    left = pool - spent
    rest = sum(weights[i:])
    share = left * weights[i] / rest if rest else 0.0
    return max(share, min(MIN_SHARE, left))


def solve(
    inp: MatchInput,
    *,
    time_limit_s: float = 10.0,
    seed: int = 0,
    guard_s: float | None = None,
    progress: ProgressFn | None = None,
) -> MatchResult:
    """Best proposal found within `time_limit_s` seconds of wall time (model building included).

    Deterministic: unchanged inputs give the same proposal. Every search is measured on
    CP-SAT's deterministic clock (`DET_RATE` deterministic seconds per second of the limit,
    shared by the stages in fixed proportions) and the iterated greedy by rounds; the wall clock
    (`guard_s`, by default the time limit) is only a guard, and when it, not the deterministic
    budget, stops a stage, the log says `match.wall_guard` (a loaded machine). HiGHS, which has
    no deterministic clock, only tightens the bound where it finishes within its share
    (`match.bound_time_limit` otherwise).

    1. The greedy (the baseline the result is never worse than), and each component's LP
       bound; where the greedy meets it, a short polish and done.
    2. The iterated greedy; the relaxation (`bound`) per component, CP-SAT from that start for
       a "who serves whom" (two components at a time, the largest also by the LP's dive) and
       HiGHS for the bound; that assignment timetabled exactly per
       provider with insertions (`guided`), kept per component where it serves more. When
       coverage meets the bound, only a short deterministic polish follows.
    3. Otherwise, per component of the provider-need graph, in two
       rounds: coverage where needs are still unserved (the top-down assignment start, or LNS
       on large components), then the exact CP-SAT model everywhere (phase A: served and
       preferred; phase B: links, minutes, peak).
       Components are solved in turn, each seeing the others' current sessions as taken time
       for its students.
    4. Unserved needs go into free slots where one move makes room (`ejections`: a need a
       provider serves alone moves to another provider), no solver.
    5. The result is checked with `validate` and compared with the greedy's by the objective.

    ``progress``, when given, hears how far the solve has got at each phase boundary.
    """
    t0 = time.perf_counter()
    wall = time_limit_s if guard_s is None else guard_s

    def report(phase: str, served: int, bound: int | None = None) -> None:
        if progress is not None:
            progress(Progress(phase, time.perf_counter() - t0, served, bound))

    # Keep time for the final explanation, hiring profiles, evaluation and validation: they
    # grow with the input (about 3 s for a state of 3,000 on a loaded machine), and so do the
    # ejection moves after the last search (under a second there).
    reserve = max(min(1.5, 0.06 * wall + 0.1), min(0.1 * wall, len(inp.needs) / 800))
    reserve += len(inp.needs) / 4000
    deadline = t0 + wall - reserve
    prep = Prep(inp)
    baseline = greedy_sessions(prep)
    g_score, _ = evaluate(inp, baseline)
    parts = components(prep)
    # The LP bound first: where the greedy already meets it, nothing more is needed.
    lps = lp_bounds(prep, parts)
    report("greedy", _served(baseline), sum(lps))
    start, start_method = baseline, "greedy"
    if _served(baseline) < sum(lps):
        # Construction: the iterated greedy, with a fixed round budget (deterministic: its
        # work is bounded by rounds x needs), the whole deadline only as a guard, so that a
        # loaded machine does not cut it short and change the answer.
        tries = min(SQUEAKY_WORK, int(SQUEAKY_RATE * time_limit_s))
        rounds = max(5, min(SQUEAKY_ROUNDS, tries // max(1, len(inp.needs))))
        squeaky, _ = squeaky_wheel(prep, deadline, seed, rounds)
        if evaluate(inp, squeaky)[0] > g_score:
            start, start_method = squeaky, "iterated-greedy"
    # The bound, and the relaxation's "who serves whom" timetabled exactly.
    det = DET_RATE * time_limit_s
    work = Work((GUIDED_SHARE - BOUND_SHARE) * det, deadline)

    def timetabled(assignment: dict[int, int], part: float) -> None:
        """A component's "who serves whom", timetabled as soon as it is known (so a loaded
        machine still gets the fast wins), kept per component where it serves more. It may
        take ``part`` of the timetabling budget left."""
        nonlocal start, start_method
        mine = Work(part * work.left(), work.guard)
        other = guided(prep, parts, assignment, start, mine)
        work.spent += mine.spent
        other = best_by_part(prep, parts, start, other)
        if evaluate(inp, other)[0] > evaluate(inp, start)[0]:
            start, start_method = other, "relaxation"
            report("bound", _served(start), sum(lps))  # the LP's bound holds meanwhile

    relaxed = relax_all(
        prep, parts, start, deadline, lps, BOUND_SHARE * det, timetabled, background=True
    )
    report("bound", _served(start), relaxed.bound)
    # What the solve does next rests on the deterministic bounds only (`steer`); HiGHS's
    # tighter one, which depends on its time, is only reported.
    if _served(start) >= sum(relaxed.steer):
        # Nothing can serve more: give the secondary objectives a short, deterministic budget.
        return _finish(
            inp,
            prep,
            parts,
            start,
            start_method,
            baseline,
            g_score,
            relaxed,
            t0,
            seed,
            deadline,
        )

    comps = _components(prep, parts, start, seed)

    # Round 1: coverage where needs are unserved, smallest first so that time a small
    # component does not need flows on to the larger ones.
    # A component whose coverage meets its bound needs no coverage work.
    short = {id(c) for c, b in zip(comps, relaxed.steer, strict=True) if _served(c.sessions()) < b}
    gaps = sorted((c for c in comps if id(c) in short), key=lambda c: c.size)
    rest = (1 - GUIDED_SHARE) * det
    pool, spent = ROUND1_SHARE * rest, 0.0
    guard = time.perf_counter() + ROUND1_SHARE * (deadline - time.perf_counter())
    weights = [c.size for c in gaps]
    for i, c in enumerate(gaps):
        spent += c.cover(_share(pool, spent, weights, i), guard, _taken_elsewhere(comps, c))
        if _served(c.sessions()) >= relaxed.steer[comps.index(c)]:
            short.discard(id(c))  # at its bound now: round 2 polishes it only
        if progress is not None:  # counting costs a pass over every component's sessions
            report("cover", sum(_served(x.sessions()) for x in comps), relaxed.bound)

    # Round 2: the exact model everywhere, from the best start so far.
    order = sorted(comps, key=lambda c: c.size)
    weights = [c.size for c in order]
    for i, c in enumerate(order):
        share = _share(rest, spent, weights, i)
        if share > 0.02:
            spent += c.polish(share, deadline, _taken_elsewhere(comps, c), cover=id(c) in short)
        c.release()
        if progress is not None:
            report("polish", sum(_served(x.sessions()) for x in comps), relaxed.bound)

    sessions = [s for c in comps for s in c.sessions()]
    # Cheap moves last: unserved needs into free slots, making room by moving one need.
    moved = ejections(prep, parts, sessions)
    if evaluate(inp, moved)[0] > evaluate(inp, sessions)[0]:
        sessions = moved
    methods = {c.method for c in comps}
    if "cp-sat-lns" in methods:
        method = "cp-sat+lns"
    elif "cp-sat" in methods:
        method = "cp-sat"
    else:
        method = start_method
    return _result(inp, prep, sessions, method, baseline, g_score, relaxed.settle().bound, t0)


def _result(
    inp: MatchInput,
    prep: Prep,
    sessions: list[Session],
    method: str,
    baseline: list[Session],
    g_score: Score,
    bound: int,
    t0: float,
) -> MatchResult:
    """The result, checked: never worse than the greedy, and never invalid (a solver bug would
    show up here)."""
    sessions = sorted(sessions, key=lambda s: (s.provider_id, s.start, s.student_ids))
    score, details = evaluate(inp, sessions)
    result = MatchResult(
        sessions=tuple(sessions),
        unmatched=tuple(explain(inp, sessions, prep)),
        method=method,
        objective=details,
        solve_seconds=0.0,
    )
    if score < g_score or validate(inp, result):
        _, details = evaluate(inp, baseline)
        result = MatchResult(
            tuple(baseline), tuple(explain(inp, baseline, prep)), "greedy", details, 0.0
        )
    return replace(
        result,
        solve_seconds=time.perf_counter() - t0,
        bound=bound,
        hires=tuple(hires(inp, result.sessions)),
    )


def _finish(
    inp: MatchInput,
    prep: Prep,
    parts: list[tuple[list[int], list[int]]],
    start: list[Session],
    method: str,
    baseline: list[Session],
    g_score: Score,
    relaxed: Relaxation,
    t0: float,
    seed: int,
    deadline: float,
) -> MatchResult:
    """Coverage meets the bound: the secondary objectives (preferred providers, links, minutes,
    peak load) get `SECONDARY_SECONDS` of one deterministic worker per component, then stop.
    HiGHS's tighter bounds, still running, are waited for only at the end."""
    # Fixed budgets of deterministic solver time, whatever the wall clock says (a loaded
    # machine must not change the answer); the wall clock is only a guard: the solve's deadline,
    # or eight times the budget where that comes later.
    guard = max(deadline, time.perf_counter() + 8 * SECONDARY_SECONDS)
    comps = _components(prep, parts, start, seed)
    order = sorted(comps, key=lambda c: c.size)
    total = sum(c.size for c in order) or 1
    for c in order:
        budget = max(0.02, SECONDARY_SECONDS * c.size / total)
        c.polish(budget, guard, _taken_elsewhere(comps, c), cover=True, workers=1, short=True)
        c.release()
    sessions = [s for c in comps for s in c.sessions()]
    return _result(inp, prep, sessions, method, baseline, g_score, relaxed.settle().bound, t0)


def _components(
    prep: Prep, parts: list[tuple[list[int], list[int]]], start: list[Session], seed: int
) -> list[Component]:
    starts = sessions_by_part(prep, parts, start)
    return [
        Component(prep, needs, provs, starts[c], seed + c) for c, (needs, provs) in enumerate(parts)
    ]


def _served(sessions: list[Session]) -> int:
    return len({(sid, s.service) for s in sessions for sid in s.student_ids})
