"""Domain: the day-aggregated relaxation of the matcher, which bounds how many needs can be served.

For one connected component of the provider-need graph (disciplines never share a provider, and
licences split them further) a mixed-integer model, solved with HiGHS through OR-Tools:

* `x[n,p]`: provider p serves need n, at most one provider per need;
* `w[n,p,d]`: one of n's sessions is on school day d; `sum_d w = sessions_per_week * x`, and only
  days where a session of n's length fits p's free time inside the school's hours;
* `g[G,p,d]`: sessions p holds on day d for the group class G (a school, a length, group-ok needs),
  with `group_max * g >= sum of its members' w` and `g >= w` for each member (the same for
  integers; for the LP, a lone member costs a whole session): a group session costs its minutes
  once;
* capacity: the minutes of p's sessions (solo `w` and group `g`) within `capacity_minutes`;
* room, per provider, school and day, and per provider and day across schools: for each session
  length t, the sessions of at least t minutes fit, by count and by minutes, in the stretches of
  free time (meeting the school's hours) at least t minutes long;
* in the model that picks "who serves whom" (CP-SAT), the same room per provider, day and window
  of the day: the schools whose hours on that day lie inside the window share the time there
  (`_window_rows`). A school that opens late crowds the others' sessions into its own late
  stretch; without these rows the assignment often promised a provider one session more than
  their day holds. They leave the bound as it was on every instance measured, and HiGHS, which
  proves the bound, takes up to five times as long with them: its model goes without.

Every rule here is implied by the exact rules (a session lies inside one stretch of the provider's
free time that meets its school's hours, a provider's sessions never overlap), and the rest are
dropped (exact start times, a student's sessions across services, the group minimum), so the
model's optimum, and its solver's proven bound when the time limit stops it first, is an upper
bound on the needs any valid proposal serves. Its `x` is a "who serves whom" that usually fits.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from ortools.linear_solver.python import model_builder as mb

from .decompose import sessions_by_part
from .model import Interval, Session
from .prep import Prep, merge

log = logging.getLogger(__name__)

Var = mb.Variable
Item = tuple[int, Var]  # a session's minutes, and the variable counting such sessions
SAT_SHARE = 0.7
DIVE_SHARE = 0.5  # of the largest component's CP-SAT budget, for the LP's dive (`dive`)
HIGHS_FLOOR = 1.0  # seconds: where HiGHS proves the bound, it mostly does so well within this


@dataclass
class Relaxation:
    bound: int
    assignment: dict[int, int] = field(default_factory=dict)  # need index -> provider index
    proved: bool = False
    parts: list[int] = field(default_factory=list)  # relax_all: the bound of each component
    steer: list[int] = field(default_factory=list)
    """relax_all: each component's bound from the deterministic solvers alone (the LP and
    CP-SAT): what the solve may act on, so that its proposal does not depend on HiGHS's time."""
    served: list[int] = field(default_factory=list)  # relax_all: what `start` serves, by part
    pending: list[tuple[int, Future[Relaxation]]] = field(default_factory=list)
    _highs: ThreadPoolExecutor | None = None

    def settle(self) -> Relaxation:
        """`relax_all(..., background=True)`: wait for HiGHS's tighter bounds, and take them."""
        for c, future in self.pending:
            self.parts[c] = min(self.parts[c], future.result().bound)
        self.pending = []
        if self._highs is not None:
            self._highs.shutdown(wait=True)
            self._highs = None
        self.bound = sum(self.parts)
        self.proved = all(b <= s for b, s in zip(self.parts, self.served, strict=True))
        return self


def _room_rows(
    model: mb.Model,
    items: Sequence[Item],
    stretches: Sequence[int],
) -> None:
    """Sessions (minutes, count variable) that must fit, disjoint, in stretches of these lengths:
    for each length t, those of >= t minutes fit in the stretches of >= t, by count and minutes."""
    for t in sorted({m for m, _ in items}):
        mine = [(m, v) for m, v in items if m >= t]
        usable = [s for s in stretches if s >= t]
        slots = sum(s // t for s in usable)
        room = sum(usable)
        model.add(mb.LinearExpr.sum([v for _, v in mine]) <= slots)
        model.add(_weighted(mine) <= room)


def _window_rows(model: mb.Model, schools: Sequence[tuple[list[Interval], list[Item]]]) -> None:
    """One provider's day, as each school's pieces of that provider's free time with the
    sessions held there: for each window from a school's first piece's start to a school's last
    piece's end, the sessions of the schools whose pieces all lie inside it fit in those schools'
    pieces together (`_room_rows`). One school alone, and all of them, have rows of their own."""
    if len(schools) < 3:
        return
    hulls = [(pieces[0][0], pieces[-1][1]) if pieces else None for pieces, _ in schools]
    seen: set[frozenset[int]] = set()
    for lo in sorted({h[0] for h in hulls if h is not None}):
        for hi in sorted({h[1] for h in hulls if h is not None}):
            inside = frozenset(
                i for i, h in enumerate(hulls) if h is not None and lo <= h[0] and h[1] <= hi
            )
            if len(inside) < 2 or len(inside) == len(schools) or inside in seen:
                continue
            seen.add(inside)
            items = [item for i in sorted(inside) for item in schools[i][1]]
            pieces = merge(piece for i in sorted(inside) for piece in schools[i][0])
            _room_rows(model, items, [b - a for a, b in pieces])


def _weighted(items: Sequence[Item]) -> mb.LinearExprT:
    return mb.LinearExpr.weighted_sum([v for _, v in items], [m for m, _ in items])


def relax(
    prep: Prep,
    needs: Sequence[int],
    providers: Sequence[int],
    time_limit_s: float,
    *,
    integral: bool = True,
    backend: str = "highs",
    start: Iterable[Session] = (),
    deadline: float | None = None,
    windows: bool | None = None,
    fixed: Mapping[int, int] | None = None,
) -> Relaxation:
    """The relaxation of one component: the MIP with HiGHS (the tightest bound), or with CP-SAT
    from `start` as a complete hint (`backend="sat"`: a good "who serves whom" fast, on one
    deterministic worker), or with `integral=False` its LP, with HiGHS too (a weaker bound, in a
    fraction of the time). HiGHS gets no hint: OR-Tools' HiGHS interface crashes on one.
    ``windows``: whether the room of each window of a provider's day is kept too (by default, in
    the CP-SAT model only: see the module's doc)."""
    if windows is None:
        windows = integral and backend == "sat"
    on_day: set[tuple[int, int, str]] = set()
    for sess in start:
        spi = prep.provider_index[sess.provider_id]
        for sid in sess.student_ids:
            on_day.add((prep.need_index[(sid, sess.service)], spi, sess.day))
    hint: dict[int, int] = {}
    pset = set(providers)
    inp = prep.inp
    gmax = inp.group_max
    grouping = gmax >= 2 and inp.group_min <= gmax
    model = mb.Model()  # type: ignore[no-untyped-call]

    def var(top: int = 1) -> Var:
        return model.new_var(0, top, integral, None)

    x: dict[tuple[int, int], Var] = {}
    by_need: dict[int, list[Var]] = defaultdict(list)
    # (provider, days id, day) -> sessions as (minutes, count variable); group members apart
    units: dict[tuple[int, int, str], list[tuple[int, Var]]] = defaultdict(list)
    members: dict[tuple[int, int, str, str, int], list[Var]] = defaultdict(list)
    for ni in needs:
        n = prep.needs[ni]
        for pi in prep.eligible(ni):
            if pi not in pset:
                continue
            days = sorted({s[0] for s in prep.slots(ni, pi)})
            if len(days) < n.sessions_per_week:
                continue
            xv = var()
            x[(ni, pi)] = xv
            if any((ni, pi, d) in on_day for d in days):
                hint[xv.index] = 1
            by_need[ni].append(xv)
            ws = []
            did = prep.days_id[ni]
            for d in days:
                wv = var()
                ws.append(wv)
                if (ni, pi, d) in on_day:
                    hint[wv.index] = 1
                model.add(wv <= xv)
                if grouping and n.group_ok:
                    members[(pi, did, d, n.school_id, n.session_minutes)].append(wv)
                else:
                    units[(pi, did, d)].append((n.session_minutes, wv))
            model.add(mb.LinearExpr.sum(ws) == n.sessions_per_week * xv)
    if not x:
        return Relaxation(0, proved=True)
    for xs in by_need.values():
        if len(xs) > 1:
            model.add(mb.LinearExpr.sum(xs) <= 1)
    for (pi, did, d, _, m), ws in members.items():
        if len(ws) == 1:
            units[(pi, did, d)].append((m, ws[0]))
            continue
        gv = var(math.ceil(len(ws) / gmax))
        hint[gv.index] = math.ceil(sum(hint.get(w.index, 0) for w in ws) / gmax)
        model.add(gmax * gv >= mb.LinearExpr.sum(ws))
        if backend != "sat" or not integral:
            # A session is held whenever one member is there: g >= each w (implied for
            # integers, and what keeps the LP from charging a lone member a quarter session).
            # CP-SAT, which only needs an assignment fast, does without the extra rows.
            for wv in ws:
                model.add(gv >= wv)
        units[(pi, did, d)].append((m, gv))
    by_provider: dict[int, list[Item]] = defaultdict(list)
    # (provider, day) -> each school's pieces of free time that day, with its sessions
    by_school: dict[tuple[int, str], list[tuple[list[Interval], list[Item]]]] = defaultdict(list)
    for (pi, did, d), items in units.items():
        by_provider[pi].extend(items)
        merged = merge((a, b) for day, a, b in prep.pieces(did, pi) if day == d)
        by_school[(pi, d)].append((list(merged), items))
        _room_rows(model, items, [b - a for a, b in merged])
    for schools in by_school.values():  # the whole day, across schools
        day = [item for _, items in schools for item in items]
        _room_rows(model, day, [b - a for a, b in merge(p for pcs, _ in schools for p in pcs)])
    if windows:
        for schools in by_school.values():
            _window_rows(model, schools)
    for pi, items in by_provider.items():
        model.add(_weighted(items) <= prep.providers[pi].capacity_minutes)
    for ni, pi in (fixed or {}).items():
        if (ni, pi) in x:
            model.add(x[(ni, pi)] >= 1)
    model.maximize(mb.LinearExpr.sum(list(x.values())))
    limit = max(0.05, time_limit_s)
    # Building the model takes time too: the wall-clock deadline counts from now.
    left = math.inf if deadline is None else deadline - time.perf_counter()
    if left < 0.05:
        log.info("match.wall_guard", extra={"stage": "bound"})
        return Relaxation(len(by_need))
    # The LP with HiGHS too: GLOP takes several times as long on its degenerate group rows.
    solver = mb.Solver(backend if integral else "highs")
    solver.enable_output(False)
    if integral and backend == "sat":
        for v in model.get_variables():
            model.add_hint(v, hint.get(v.index, 0))
        # The LP at every node (linearization level 2): an assignment near the optimum in a
        # fraction of the time the default level takes on these assignment-like models.
        solver.set_solver_specific_parameters(
            f"num_workers:1,linearization_level:2,max_deterministic_time:{limit}"
        )
        # The wall clock is only a guard (a loaded machine takes longer per deterministic
        # second), up to the caller's deadline.
        limit = min(4 * limit, left)
    else:
        limit = min(limit, left)
    if not integral or backend == "highs":  # HiGHS prints a banner unless told not to
        solver.set_solver_specific_parameters("output_flag=false")
    solver.set_time_limit_in_seconds(limit)
    status = solver.solve(model)
    top = len(by_need)
    # An LP stopped early has only a primal value, which bounds nothing: only its optimum counts.
    done = (
        (mb.SolveStatus.OPTIMAL, mb.SolveStatus.FEASIBLE) if integral else (mb.SolveStatus.OPTIMAL,)
    )
    if status not in done:
        if integral and backend == "highs":
            # HiGHS has no deterministic clock: where its time limit, not its proof, ends the
            # run, the bound stays the LP's, and a re-run on a faster machine may do better.
            log.info("match.bound_time_limit", extra={"needs": len(by_need)})
        return Relaxation(top)
    # The proven bound, not the incumbent: HiGHS stops at a small relative gap, and an integer
    # objective may be rounded down.
    best = solver.best_objective_bound if integral else solver.objective_value
    if not math.isfinite(best):
        return Relaxation(top)
    bound = top if fixed else min(top, math.floor(best + 1e-6))
    whole = 0.5 if integral else 1 - 1e-6
    assignment = {ni: pi for (ni, pi), xv in x.items() if solver.value(xv) > whole}
    proved = (
        integral and not fixed and status == mb.SolveStatus.OPTIMAL and len(assignment) == bound
    )
    return Relaxation(bound, assignment, proved)


def dive(
    prep: Prep, needs: Sequence[int], providers: Sequence[int], limit: float, deadline: float
) -> Relaxation:
    """A "who serves whom" from the LP: the needs its optimum (window rows included) gives whole
    to one provider are held there, and CP-SAT chooses for the rest, in ``limit`` deterministic
    seconds. Its bound bounds nothing."""
    lp = relax(prep, needs, providers, 30.0, integral=False, windows=True, deadline=deadline)
    if not lp.assignment:
        return Relaxation(len(needs))
    return relax(
        prep, needs, providers, limit, backend="sat", deadline=deadline, fixed=lp.assignment
    )


def _in_time(
    by: float,
    share: float,
    solve: Callable[..., Relaxation],
    prep: Prep,
    needs: Sequence[int],
    /,
    *args: Any,
    **kw: Any,
) -> Relaxation:
    """``solve(prep, needs, ...)`` where the wall time left to ``by`` still holds its ``share``
    (building the model included) when it gets its turn; otherwise no answer (its bound is the
    needs' count, so the LP's stands)."""
    if by - time.perf_counter() < share:
        log.info("match.wall_guard", extra={"stage": "bound"})
        return Relaxation(len(needs))
    return solve(prep, needs, *args, **kw)


def lp_bounds(prep: Prep, parts: Sequence[tuple[Sequence[int], Sequence[int]]]) -> list[int]:
    """Each component's LP bound (HiGHS, a second or two for a district)."""
    return [relax(prep, needs, provs, 30.0, integral=False).bound for needs, provs in parts]


def relax_all(
    prep: Prep,
    parts: Sequence[tuple[Sequence[int], Sequence[int]]],
    start: Sequence[Session],
    deadline: float,
    lps: list[int] | None = None,
    budget: float | None = None,
    after: Callable[[dict[int, int], float], None] | None = None,
    *,
    background: bool = False,
) -> Relaxation:
    """The relaxation of every component. First its LP (fast). Then, where the LP leaves a gap
    to what `start` serves, `budget` seconds (by default the time to `deadline`) shared by size:
    CP-SAT from `start` for the "who serves whom" and a bound (`SAT_SHARE` of the share, on its
    deterministic clock), two components at a time; for the largest, the LP's `dive` beside it
    too, whose answer is taken where it serves more. Where CP-SAT does not prove its answer
    optimal, HiGHS then works for a tighter bound (reported only: see `steer`). The shares are
    fixed in advance, not taken from the time left, so that a loaded machine does not change
    them; `deadline` is the wall-clock guard (a solve it leaves no time for keeps the LP bound
    and gives no assignment). `after` gets each component's "who serves whom" in turn,
    smallest component first, as soon as it is known, with the part of what is left of any
    budget it shares that this component may take: its LP gap (what more it may serve) over
    the gaps of the components still to come, so that a small component that can gain much is
    not starved by one before it that can gain little.

    With `background`, HiGHS runs in a thread of its own beside what comes next (it releases
    Python's lock while it solves, so it takes the other core, not this one's time); its bounds
    count once the caller calls `settle()` on the result, which it must."""
    total = Relaxation(0, proved=True)
    starts = sessions_by_part(prep, parts, start)
    served = [len({(sid, x.service) for x in st for sid in x.student_ids}) for st in starts]
    if lps is None:
        lps = lp_bounds(prep, parts)
    todo = sorted(
        (c for c in range(len(parts)) if lps[c] > served[c]), key=lambda c: (len(parts[c][0]), c)
    )
    bounds = list(lps)
    steer = list(lps)
    weights = [len(parts[c][0]) for c in todo]
    gaps = [lps[c] - served[c] for c in todo]
    if budget is None:
        budget = deadline - time.perf_counter()
    shares = [max(0.3, budget * weights[i] / sum(weights)) for i in range(len(todo))]
    # CP-SAT from `start`, each component on its own deterministic clock and one worker, two
    # components at a time (the components are independent here, and each solve releases
    # Python's lock): the "who serves whom", and a bound. Each answer is used in turn as soon
    # as it is in, in the order of `todo`.
    solving = ThreadPoolExecutor(2, thread_name_prefix="relax")
    fast_of = [
        solving.submit(
            _in_time, deadline, shares[i], relax, prep, parts[c][0], parts[c][1],
            SAT_SHARE * shares[i], backend="sat", start=starts[c], deadline=deadline,
        )
        for i, c in enumerate(todo)
    ]  # fmt: skip
    # The largest component, where CP-SAT alone needs several times its share to get near the
    # optimum, also gets the LP's dive, beside the other solves, on a share of its own budget.
    biggest = max(range(len(todo)), key=lambda i: (weights[i], -i), default=None)
    dove = None
    if biggest is not None:
        needs, provs = parts[todo[biggest]]
        limit = DIVE_SHARE * SAT_SHARE * shares[biggest]
        dove = solving.submit(
            _in_time, deadline, shares[biggest], dive, prep, needs, provs, limit, deadline
        )
    highs: list[tuple[int, float]] = []
    try:
        for i, c in enumerate(todo):
            fast = fast_of[i].result()
            steer[c] = bounds[c] = min(bounds[c], fast.bound)
            if i == biggest and dove is not None and not fast.proved:
                dived = dove.result().assignment
                if len(dived) > len(fast.assignment):  # (on a tie, CP-SAT's own)
                    fast = Relaxation(fast.bound, dived)
            if not fast.proved:
                # HiGHS for a tighter bound, once the CP-SAT solves are done. It has no
                # deterministic clock, so its answer only tightens the bound reported, never
                # what the solve does next; its time limit is four times its share (as
                # CP-SAT's wall-clock guard is), and at least `HIGHS_FLOOR`, so that a loaded
                # machine rarely changes even that.
                highs.append((c, max(HIGHS_FLOOR, 4 * (1 - SAT_SHARE) * shares[i])))
            total.assignment.update(fast.assignment)
            if after is not None and fast.assignment:
                after(fast.assignment, gaps[i] / sum(gaps[i:]))
    finally:
        solving.shutdown(wait=True, cancel_futures=True)
    for c, limit in highs:
        if total._highs is None:
            total._highs = ThreadPoolExecutor(1, thread_name_prefix="highs")
        needs, provs = parts[c]
        total.pending.append(
            (c, total._highs.submit(relax, prep, needs, provs, limit, deadline=deadline))
        )
    total.parts, total.steer, total.served = bounds, steer, served
    total.bound = sum(bounds)
    return total if background else total.settle()
