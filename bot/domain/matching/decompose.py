"""Domain: decomposition of the matcher's problem and large neighbourhood search.

`components` splits the provider-need graph into connected components (one per discipline, and
finer where licences split it). `Component` drives one component in two rounds: `cover` (only
where needs are unserved) tries a top-down start, `assign_then_schedule`: an aggregate "who serves
whom" CP-SAT model (pieces of common free time, shared free stretches, capacity, groups as
ceil(members / group_max) sessions), then the exact model with each need held to its chosen
provider; it replaces the incumbent when it serves more. `polish` builds the exact model
(`cpsat.build`) from the incumbent and runs phase A then phase B. Components with more than
`MAX_BOOLS` slot booleans never get one big model: large neighbourhood search (`lns`) frees a few
providers, all needs they serve and the unserved needs they could serve, re-solves that
neighbourhood exactly with everything else fixed, keeps the result when it is not worse, and
repeats until the component's share of the time limit is spent.
"""

from __future__ import annotations

import bisect
import random
import time
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import replace

from ortools.sat.python import cp_model
from ortools.sat.python.cp_model import LinearExpr

from .cpsat import (
    Built,
    _params,
    _set_hint,
    build,
    extract,
    forbid_taken,
    log,
    note_guard,
    phase_a,
    phase_b,
)
from .model import Interval, Session
from .prep import Calendar, Prep, merge, subtract

MAX_BOOLS = 300_000
LNS_BOOLS = 40_000
LNS_SECONDS = 0.5
STAGE1_SHARE = 0.5
BUILD_RATE = 30_000  # slot booleans built per second, conservatively


def assign_then_schedule(
    prep: Prep,
    needs: Sequence[int],
    providers: Sequence[int],
    block: dict[str, Calendar],
    deadline: float,
    seed: int,
    start: Iterable[Session] = (),
    budget: float = 1.0,
) -> tuple[list[Session], float]:
    """A second starting point, built top-down: who serves whom, then when.

    Stage 1 chooses providers with CP-SAT on an aggregate model (per provider and school day,
    session minutes within the free minutes that meet the school's hours; weekly capacity;
    distinct days), which is small and solves well. Stage 2 schedules exactly, each need held to
    its stage-1 provider, dropping what does not fit. The greedy decides need by need and cannot
    see the trade-offs stage 1 sees. Both stages run on CP-SAT's deterministic clock,
    `budget` seconds in all (`deadline` is the wall-clock guard); returns the sessions and the
    deterministic time used.
    """
    model = cp_model.CpModel()
    pset = set(providers)
    y: dict[tuple[int, int], cp_model.IntVar] = {}
    by_need: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    # A session lies inside one piece (school window ∩ provider free time); pieces of different
    # schools can share a provider's free stretch, which bounds them together.
    piece_load: dict[tuple[int, str, int, int], list[tuple[int, cp_model.IntVar]]] = defaultdict(
        list
    )
    stretch_load: dict[tuple[int, int], list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    stretch_pieces: dict[tuple[int, int], set[Interval]] = defaultdict(set)
    cap_load: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    # Group-capable needs of one school and length meeting one provider in one piece share
    # sessions: ceil(members / group_max) of them.
    group_members: dict[tuple[str, int, int, str, int, int, int], list[cp_model.IntVar]]
    group_members = defaultdict(list)
    x_of: dict[tuple[int, int], list[tuple[int, int, cp_model.IntVar]]] = defaultdict(list)
    gmax = prep.inp.group_max
    grouping = gmax >= 2 and prep.inp.group_min <= 2
    preferred: list[cp_model.IntVar] = []
    for ni in needs:
        n = prep.needs[ni]
        m = n.session_minutes
        blk = block.get(n.student_id)
        for pi in prep.eligible(ni):
            if pi not in pset:
                continue
            usable: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
            for d, a, b in prep.need_pieces(ni, pi):
                if blk is not None:
                    parts = subtract([(a, b)], merge(zip(blk.starts, blk.ends, strict=True)))
                else:
                    parts = ((a, b),)
                for pa, pb in parts:
                    if pb - pa >= m:
                        usable[d].append((d, pa, pb))
            if len(usable) < n.sessions_per_week:
                continue
            yv = model.new_bool_var("")
            y[(ni, pi)] = yv
            by_need[ni].append(yv)
            xs = []
            ends = prep.free_ends(pi)
            for day_pieces in usable.values():
                per_day = []
                for d, a, b in day_pieces:
                    xv = model.new_bool_var("")
                    per_day.append(xv)
                    x_of[(ni, pi)].append((a, b, xv))
                    f = bisect.bisect_right(ends, a)
                    stretch_pieces[(pi, f)].add((a, b))
                    if n.group_ok and grouping:
                        group_members[(n.school_id, m, pi, d, a, b, f)].append(xv)
                    else:
                        piece_load[(pi, d, a, b)].append((m, xv))
                        stretch_load[(pi, f)].append((m, xv))
                        cap_load[pi].append((m, xv))
                xs.extend(per_day)
                if len(per_day) > 1:
                    model.add_at_most_one(per_day)
            model.add(LinearExpr.sum(xs) == n.sessions_per_week * yv)
            if n.preferred_provider_id == prep.providers[pi].provider_id:
                preferred.append(yv)
    if not y:
        return [], 0.0
    # Complete hint from the incumbent: its pairs, the pieces its sessions lie in, group counts.
    hint: dict[int, int] = {}
    sessions_in: dict[int, set[int]] = defaultdict(set)
    for sess in start:
        pi = prep.provider_index[sess.provider_id]
        for sid in sess.student_ids:
            ni = prep.need_index[(sid, sess.service)]
            if (ni, pi) not in y:
                continue
            hint[y[(ni, pi)].index] = 1
            for a, b, xv in x_of[(ni, pi)]:
                if a <= sess.start and sess.end <= b:
                    hint[xv.index] = 1
                    sessions_in[xv.index].add(sess.start)
    for (_, m, pi, d, a, b, f), xs in group_members.items():
        gv = model.new_int_var(0, len(xs), "")
        model.add(LinearExpr.sum(xs) <= gmax * gv)
        hint[gv.index] = len(set().union(*(sessions_in.get(x.index, set()) for x in xs)))
        piece_load[(pi, d, a, b)].append((m, gv))
        stretch_load[(pi, f)].append((m, gv))
        cap_load[pi].append((m, gv))
    for yl in by_need.values():
        if len(yl) > 1:
            model.add_at_most_one(yl)
    for (_, _, a, b), items in piece_load.items():
        if sum(c for c, _ in items) > b - a:
            model.add(
                LinearExpr.weighted_sum([v for _, v in items], [c for c, _ in items]) <= b - a
            )
    for key, items in stretch_load.items():
        room = sum(b - a for a, b in merge(stretch_pieces[key]))
        if sum(c for c, _ in items) > room:
            model.add(LinearExpr.weighted_sum([v for _, v in items], [c for c, _ in items]) <= room)
    for pi, items in cap_load.items():
        cap = prep.providers[pi].capacity_minutes
        model.add(LinearExpr.weighted_sum([v for _, v in items], [c for c, _ in items]) <= cap)
    w = len(preferred) + 1
    terms = [(w, v) for v in y.values()] + [(1, v) for v in preferred]
    model.maximize(LinearExpr.weighted_sum([v for _, v in terms], [c for c, _ in terms]))
    _set_hint(model, [hint.get(i, 0) for i in range(len(model.proto.variables))])
    solver = cp_model.CpSolver()
    _params(solver, STAGE1_SHARE * budget, seed, 2, deadline)
    status = solver.solve(model)
    spent = note_guard(solver, "assign")
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return [], spent
    values = list(solver.response_proto.solution)
    only = {ni: pi for (ni, pi), v in y.items() if values[v.index]}
    # Stage 2 starts from the incumbent's sessions of needs that kept their provider.
    kept: list[Session] = []
    for sess in start:
        pi = prep.provider_index[sess.provider_id]
        sids = tuple(
            sid for sid in sess.student_ids if only.get(prep.need_index[(sid, sess.service)]) == pi
        )
        if sids:
            kept.append(replace(sess, student_ids=sids))
    size = sum(len(prep.slots(ni, pi)) for ni, pi in only.items())
    if time.perf_counter() + size / BUILD_RATE >= deadline:
        log.info("match.wall_guard", extra={"stage": "assign"})
        return [], spent
    built = build(prep, sorted(only), providers, block, kept, only=only)
    spent += built.n_bools / BUILD_RATE
    if time.perf_counter() >= deadline - 0.05:
        log.info("match.wall_guard", extra={"stage": "assign"})
        return [], spent
    sol, _ = phase_a(built, built.hint, deadline, seed, budget=max(0.05, budget - spent))
    return extract(built, sol, prep), spent + built.spent


# ----------------------------------------------------------------------------------------------
# Decomposition


def components(prep: Prep) -> list[tuple[list[int], list[int]]]:
    """Needs linked by a shared eligible provider, with their providers.

    Needs of one student for different services usually fall in different components (one per
    discipline); their no-overlap rule is kept by solving components in turn, each with the other
    components' current sessions of its students blocked out.
    """
    parent = list(range(len(prep.needs)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    def union(a: int, b: int) -> None:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)

    first_of_provider: dict[int, int] = {}
    for ni in range(len(prep.needs)):
        el = prep.eligible(ni)
        if not el:
            continue
        for pi in el:
            if pi in first_of_provider:
                union(ni, first_of_provider[pi])
            else:
                first_of_provider[pi] = ni
    comp_needs: dict[int, list[int]] = defaultdict(list)
    for ni in range(len(prep.needs)):
        if prep.eligible(ni):
            comp_needs[find(ni)].append(ni)
    comp_prov: dict[int, list[int]] = defaultdict(list)
    for pi, ni in first_of_provider.items():
        comp_prov[find(ni)].append(pi)
    return [(comp_needs[r], sorted(comp_prov[r])) for r in sorted(comp_needs)]


def size_of(prep: Prep, needs: Iterable[int], providers: Iterable[int]) -> int:
    pset = set(providers)
    return sum(len(prep.slots(ni, pi)) for ni in needs for pi in prep.eligible(ni) if pi in pset)


# ----------------------------------------------------------------------------------------------
# Large neighbourhood search


class Incumbent:
    """A component's current solution, indexed for neighbourhood moves."""

    def __init__(self, prep: Prep, needs: Sequence[int], sessions: Iterable[Session]) -> None:
        self.prep = prep
        self.needs = list(needs)
        self.by_provider: dict[int, list[Session]] = defaultdict(list)
        self.assigned: dict[int, int] = {}
        for s in sessions:
            self.add(s)

    def add(self, s: Session) -> None:
        pi = self.prep.provider_index[s.provider_id]
        self.by_provider[pi].append(s)
        for sid in s.student_ids:
            self.assigned[self.prep.need_index[(sid, s.service)]] = pi

    def replace(self, providers: Iterable[int], sessions: Iterable[Session]) -> None:
        for pi in providers:
            for s in self.by_provider.pop(pi, []):
                for sid in s.student_ids:
                    self.assigned.pop(self.prep.need_index[(sid, s.service)], None)
        for s in sessions:
            self.add(s)

    def sessions(self) -> list[Session]:
        return [s for lst in self.by_provider.values() for s in lst]

    def needs_of(self, pi: int) -> set[int]:
        out = set()
        for s in self.by_provider.get(pi, ()):
            for sid in s.student_ids:
                out.add(self.prep.need_index[(sid, s.service)])
        return out

    def unserved(self) -> list[int]:
        return [ni for ni in self.needs if ni not in self.assigned]


def lns(
    prep: Prep,
    inc: Incumbent,
    providers: Sequence[int],
    deadline: float,
    rng: random.Random,
    outside: dict[str, list[Interval]],
    stats: dict[str, float],
    target_bools: int = LNS_BOOLS,
    budget: float = 1.0,
) -> float:
    """Improve `inc` in place by re-optimising neighbourhoods of a few providers at a time,
    until `budget` seconds of deterministic time are used (each neighbourhood's model building
    counted by its size, its solves by CP-SAT's deterministic clock), so that the moves, and
    the answer, do not depend on the machine's load; `deadline` is the wall-clock guard.
    Returns the deterministic time used."""
    could: dict[int, list[int]] = defaultdict(list)
    for ni in inc.needs:
        for pi in prep.eligible(ni):
            could[pi].append(ni)
    n_prov = max(2, min(len(providers), int(stats.get("n_prov", 8))))
    spent = 0.0
    while True:
        remaining = budget - spent
        if remaining < 0.3:
            break
        if time.perf_counter() >= deadline - 0.1:
            log.info("match.wall_guard", extra={"stage": "lns"})
            break
        unserved = inc.unserved()
        if unserved and rng.random() < 0.85:
            pool = list(prep.eligible(rng.choice(unserved)))
        else:
            p0 = rng.choice(list(providers))
            pool = sorted({pi for ni in could[p0] for pi in prep.eligible(ni)})
        rng.shuffle(pool)
        chosen: list[int] = []
        nb: set[int] = set()
        for pi in pool:
            if len(chosen) >= n_prov:
                break
            cand = nb | inc.needs_of(pi) | {ni for ni in could[pi] if ni not in inc.assigned}
            trial = [*chosen, pi]
            if chosen and size_of(prep, cand, trial) > target_bools:
                continue
            chosen.append(pi)
            nb = cand
        if not chosen:
            spent += 0.01
            continue
        if time.perf_counter() + size_of(prep, nb, chosen) / BUILD_RATE >= deadline:
            log.info("match.wall_guard", extra={"stage": "lns"})
            break
        students = {prep.needs[ni].student_id for ni in nb}
        block = calendars(outside, students)
        chosen_set = set(chosen)
        for pi, lst in inc.by_provider.items():
            if pi not in chosen_set:
                for s in lst:
                    for sid in s.student_ids:
                        if sid in students:
                            block.setdefault(sid, Calendar()).add(s.start, s.end)
        hint = [s for pi in chosen for s in inc.by_provider.get(pi, [])]
        built = build(prep, sorted(nb), chosen, block, hint)
        spent += built.n_bools / BUILD_RATE
        # Short runs: improvements are found fast when they exist; proofs are what take long.
        step = min(remaining - 0.1, LNS_SECONDS + built.n_bools / 50_000)
        sol, proved = phase_a(built, built.hint, deadline, rng.randrange(1 << 30), 1, 0.7 * step)
        a_gain = built.value(sol)[0] > built.value(built.hint)[0]
        sol = phase_b(built, sol, deadline, rng.randrange(1 << 30), 1, 0.3 * step)
        spent += built.spent
        stats["iterations"] = stats.get("iterations", 0.0) + 1
        # Grow the neighbourhood while its coverage level is solved or improved, else shrink it.
        grow = proved or a_gain
        n_prov = min(n_prov + 1, len(providers)) if grow else max(2, n_prov - 1)
        old, new = built.value(built.hint), built.value(sol)
        if new >= old and sol != built.hint:
            stats["improved"] = stats.get("improved", 0.0) + float(new > old)
            inc.replace(chosen, extract(built, sol, prep))
    stats["n_prov"] = float(n_prov)
    return spent


class Component:
    """One connected component of the provider-need graph and its current best sessions.

    Worked on in two rounds so that time goes first where needs are unserved: `cover` (the
    top-down assignment start, or LNS) and `polish` (the exact model, phase A then phase B).
    Components larger than `max_bools` run LNS in both rounds instead.
    """

    def __init__(
        self,
        prep: Prep,
        needs: Sequence[int],
        providers: Sequence[int],
        start: Sequence[Session],
        seed: int,
        max_bools: int = MAX_BOOLS,
    ) -> None:
        self.prep = prep
        self.needs = list(needs)
        self.providers = list(providers)
        self.start = list(start)
        self.inc = Incumbent(prep, needs, start)
        self.size = size_of(prep, needs, providers)
        self.use_lns = self.size > max_bools
        self.rng = random.Random(seed)
        self.seed = seed
        self.built: Built | None = None
        self.sol: list[int] | None = None
        self.stats: dict[str, float] = {}
        self.method = "greedy"

    @property
    def gap(self) -> bool:
        return bool(self.inc.unserved())

    def sessions(self) -> list[Session]:
        return self.inc.sessions()

    def _block(self, outside: dict[str, list[Interval]]) -> dict[str, Calendar]:
        return calendars(outside, {self.prep.needs[ni].student_id for ni in self.needs})

    def _ensure_built(self, outside: dict[str, list[Interval]]) -> Built:
        if self.built is None:
            self.built = build(
                self.prep, self.needs, self.providers, self._block(outside), self.inc.sessions()
            )
            self.sol = list(self.built.hint)
        else:
            forbid_taken(self.built, self.prep, self._block(outside))
        return self.built

    def _adopt(self, built: Built, sol: list[int]) -> None:
        if sol != self.sol:
            self.sol = sol
            self.inc = Incumbent(self.prep, self.needs, extract(built, sol, self.prep))
            self.method = "cp-sat"

    def cover(self, budget: float, deadline: float, outside: dict[str, list[Interval]]) -> float:
        """Round 1: raise coverage, in `budget` seconds of deterministic time (`deadline` is the
        wall-clock guard). The top-down assignment start competes with the incumbent; the full
        model's turn comes in `polish`, where it starts from the better of the two. Returns the
        deterministic time used."""
        if time.perf_counter() >= deadline - 0.1:
            log.info("match.wall_guard", extra={"stage": "cover"})
            return 0.0
        if self.use_lns:
            return self._lns(budget, deadline, outside)
        other, spent = assign_then_schedule(
            self.prep,
            self.needs,
            self.providers,
            self._block(outside),
            deadline,
            self.seed,
            self.inc.sessions(),
            budget,
        )
        if _coverage(other) > _coverage(self.inc.sessions()):
            self.inc = Incumbent(self.prep, self.needs, other)
            self.method = "cp-sat"
        return spent

    def _lns(self, budget: float, deadline: float, outside: dict[str, list[Interval]]) -> float:
        """A component too large for one model: LNS over the incumbent, within `budget`."""
        self.method = "cp-sat-lns"
        return lns(
            self.prep,
            self.inc,
            self.providers,
            deadline,
            self.rng,
            outside,
            self.stats,
            budget=budget,
        )

    def polish(
        self,
        budget: float,
        deadline: float,
        outside: dict[str, list[Interval]],
        cover: bool,
        workers: int = 2,
        short: bool = False,
    ) -> float:
        """Improve the incumbent with `budget` seconds of deterministic time, so that re-runs
        give the same answer (`deadline` is the wall-clock guard); building the model counts
        against it. Components too large for one model run LNS instead. With `short` (the brief
        polish of the secondary objectives) the budget is solver time alone, and a component
        too large for one model keeps its incumbent. Returns the deterministic time used."""
        if time.perf_counter() >= deadline - 0.1:
            log.info("match.wall_guard", extra={"stage": "polish"})
            return 0.0
        if self.use_lns:
            if short:
                return 0.0
            return self._lns(budget, deadline, outside)
        build_cost = 0.0 if self.built is not None or short else self.size / BUILD_RATE
        if build_cost >= budget:
            return 0.0  # not even time to build the model: keep the incumbent
        if self.built is None and time.perf_counter() + self.size / BUILD_RATE >= deadline:
            log.info("match.wall_guard", extra={"stage": "polish"})
            return 0.0
        built = self._ensure_built(outside)
        assert self.sol is not None
        before = built.spent
        sol = self.sol
        left = budget - build_cost
        if cover:
            sol, _ = phase_a(built, sol, deadline, self.seed, workers, 0.3 * left)
        sol = phase_b(built, sol, deadline, self.seed + 1, workers, left - (built.spent - before))
        self._adopt(built, sol)
        return build_cost + built.spent - before

    def release(self) -> None:
        self.built = None
        self.sol = None


def _coverage(sessions: Iterable[Session]) -> int:
    return len({(sid, s.service) for s in sessions for sid in s.student_ids})


def sessions_by_part(
    prep: Prep, parts: Sequence[tuple[Sequence[int], Sequence[int]]], sessions: Iterable[Session]
) -> list[list[Session]]:
    """``sessions`` split by the component of their provider, indexed as ``parts``."""
    part_of = {pi: c for c, (_, provs) in enumerate(parts) for pi in provs}
    out: list[list[Session]] = [[] for _ in parts]
    for s in sessions:
        out[part_of[prep.provider_index[s.provider_id]]].append(s)
    return out


def taken_elsewhere(
    others: Iterable[Iterable[Session]], students: Collection[str] | None = None
) -> dict[str, list[Interval]]:
    """The times the other components' sessions (``others``) hold their students (only
    ``students``, when given): a student may have services of several disciplines."""
    taken: dict[str, list[Interval]] = defaultdict(list)
    for sessions in others:
        for s in sessions:
            for sid in s.student_ids:
                if students is None or sid in students:
                    taken[sid].append((s.start, s.end))
    return taken


def calendars(taken: dict[str, list[Interval]], students: Iterable[str]) -> dict[str, Calendar]:
    out: dict[str, Calendar] = {}
    for sid in students:
        for a, b in taken.get(sid, ()):
            out.setdefault(sid, Calendar()).add(a, b)
    return out
