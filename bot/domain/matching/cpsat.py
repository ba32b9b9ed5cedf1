"""Domain: the exact CP-SAT model of the matcher, built one constraint family at a time.

Model, for a set of needs N and providers P (a component, one provider, or an LNS neighbourhood):

* `candidate_pairs`: eligible (need, provider) pairs and their candidate slots (a start on the
  `slot_step` grid inside the school window and the provider's free time).
* `group_units`: for each class G = (school, service, minutes) of group_ok needs, provider p and
  slot s that at least two members could use, `occ[G,p,s]` means "p holds a G-session at s"; it is
  the unit that occupies p's calendar and costs p the minutes once.
* `sessions_and_days`: `y[n,p]` (p serves n, at most one p per n) and `z[n,p,s]`;
  `sum_s z = sessions_per_week * y` and at most one slot per school day.
* `group_sizes`: a unit is used only with members, at most group_max, at least group_min.
* `no_overlap`: a provider's units covering any candidate start time are at most one (a clique
  per start time, exact for intervals); likewise a student's sessions across services.
* `capacity`: the minutes of p's units <= capacity_minutes; the peak utilisation; a redundant
  knapsack on y for the LP.
* `links`: new provider-school and provider-district links (u, v).
* `objective`, lexicographic by weights: served needs, preferred providers kept (phase A); new
  links, provider minutes (in units of the minutes' gcd), peak utilisation % (phase B).

`phase_a` and `phase_b` solve the two levels in turn on the same model, each from a complete hint
(every variable).
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import reduce

from ortools.sat.python import cp_model
from ortools.sat.python.cp_model import LinearExpr

from .model import Session
from .prep import Calendar, Prep, Slot

log = logging.getLogger(__name__)

GroupKey = tuple[str, str, int]  # (school_id, service, minutes)


@dataclass
class Built:
    model: cp_model.CpModel
    y: dict[tuple[int, int], cp_model.IntVar]
    z: dict[tuple[int, int, Slot], cp_model.IntVar]
    unit_of: dict[tuple[int, int, Slot], tuple[GroupKey, int, Slot] | None]
    occ: dict[tuple[GroupKey, int, Slot], cp_model.IntVar]
    primary: list[tuple[int, cp_model.IntVar]]
    secondary: list[tuple[int, cp_model.IntVar]]
    hint: list[int] = field(default_factory=list)  # value of every variable, by proto index
    n_bools: int = 0
    spent: float = 0.0  # deterministic solver time used on this model so far

    def value(self, sol: Sequence[int]) -> tuple[int, int]:
        """(phase A, phase B) objective of a full assignment; compare as a tuple."""
        a = sum(c * sol[var.index] for c, var in self.primary)
        b = sum(c * sol[var.index] for c, var in self.secondary)
        return a, b


def _overlaps(cal: Calendar | None, slot: Slot) -> bool:
    return cal is not None and not cal.is_free(slot[1], slot[2])


def _cliques(units: Sequence[tuple[int, int, cp_model.IntVar, int]]) -> list[list[cp_model.IntVar]]:
    """For intervals on a grid: at each distinct start, the units covering it (overlap is exact:
    two intervals overlap iff the later start lies inside both). Units carry a tag; cliques whose
    members all share one tag are dropped (the caller guarantees those never clash)."""
    if len(units) < 2:
        return []
    order = sorted(range(len(units)), key=lambda i: units[i][0])
    starts = sorted({u[0] for u in units})
    out: list[list[cp_model.IntVar]] = []
    active: list[int] = []
    k = 0
    for t in starts:
        while k < len(order) and units[order[k]][0] <= t:
            active.append(order[k])
            k += 1
        active = [i for i in active if units[i][1] > t]
        if len(active) >= 2 and len({units[i][3] for i in active}) >= 2:
            out.append([units[i][2] for i in active])
    return out


class _Builder:
    """Builds the time-indexed model one constraint family at a time (see the module text)."""

    def __init__(
        self,
        prep: Prep,
        needs: Sequence[int],
        providers: Sequence[int],
        student_block: dict[str, Calendar],
        only: dict[int, int] | None,
    ) -> None:
        self.prep = prep
        self.needs = needs
        self.pset = set(providers)
        self.block = student_block
        self.only = only
        self.model = cp_model.CpModel()
        inp = prep.inp
        self.gmax, self.gmin = inp.group_max, inp.group_min
        self.grouping = self.gmax >= 2 and self.gmin <= self.gmax
        self.pairs: dict[tuple[int, int], list[Slot]] = {}
        self.members: dict[tuple[GroupKey, int, Slot], list[int]] = defaultdict(list)
        self.y: dict[tuple[int, int], cp_model.IntVar] = {}
        self.z: dict[tuple[int, int, Slot], cp_model.IntVar] = {}
        self.unit_of: dict[tuple[int, int, Slot], tuple[GroupKey, int, Slot] | None] = {}
        self.occ: dict[tuple[GroupKey, int, Slot], cp_model.IntVar] = {}
        self.prov_units: dict[int, list[tuple[int, int, cp_model.IntVar, int]]] = defaultdict(list)
        self.stud_units: dict[str, list[tuple[int, int, cp_model.IntVar, int]]] = defaultdict(list)
        self.util = self.model.new_int_var(0, 100, "util")
        self.minute_terms: list[tuple[int, cp_model.IntVar]] = []
        self.total_units = 0
        self.link_terms: list[cp_model.IntVar] = []
        self.u: dict[tuple[int, str], cp_model.IntVar] = {}
        self.v: dict[tuple[int, str], cp_model.IntVar] = {}

    def candidate_pairs(self) -> None:
        """Eligible (need, provider) pairs with their candidate slots, clear of the student's
        sessions elsewhere, on enough distinct days."""
        prep = self.prep
        for ni in self.needs:
            n = prep.needs[ni]
            blk = self.block.get(n.student_id)
            for pi in prep.eligible(ni):
                if pi not in self.pset or (self.only is not None and self.only.get(ni) != pi):
                    continue
                slots = [s for s in prep.slots(ni, pi) if not _overlaps(blk, s)]
                if len({s[0] for s in slots}) >= n.sessions_per_week:
                    self.pairs[(ni, pi)] = slots

    def group_units(self) -> None:
        """occ[G, p, s] for every group class, provider and slot that two members could use."""
        if not self.grouping:
            return
        for (ni, pi), slots in self.pairs.items():
            n = self.prep.needs[ni]
            if n.group_ok:
                g = (n.school_id, n.service, n.session_minutes)
                for s in slots:
                    self.members[(g, pi, s)].append(ni)
        for key, mem in self.members.items():
            if len(mem) >= 2:
                self.occ[key] = self.model.new_bool_var("")
        for (_, pi, s), var in self.occ.items():
            self.prov_units[pi].append((s[1], s[2], var, -1 - len(self.prov_units[pi])))

    def sessions_and_days(self) -> None:
        """y and z; sessions_per_week sessions on distinct days; at most one provider per need."""
        model = self.model
        by_need: dict[int, list[cp_model.IntVar]] = defaultdict(list)
        for (ni, pi), slots in self.pairs.items():
            n = self.prep.needs[ni]
            yv = model.new_bool_var("")
            self.y[(ni, pi)] = yv
            by_need[ni].append(yv)
            per_day: dict[str, list[cp_model.IntVar]] = defaultdict(list)
            zs = []
            g = (n.school_id, n.service, n.session_minutes)
            for s in slots:
                zv = model.new_bool_var("")
                self.z[(ni, pi, s)] = zv
                zs.append(zv)
                per_day[s[0]].append(zv)
                ukey = (g, pi, s) if n.group_ok and (g, pi, s) in self.occ else None
                self.unit_of[(ni, pi, s)] = ukey
                if ukey is None:
                    self.prov_units[pi].append((s[1], s[2], zv, ni))
                else:
                    model.add_implication(zv, self.occ[ukey])
                self.stud_units[n.student_id].append((s[1], s[2], zv, ni))
            model.add(LinearExpr.sum(zs) == n.sessions_per_week * yv)
            for day_vars in per_day.values():
                if len(day_vars) >= 2:
                    model.add_at_most_one(day_vars)
        for yl in by_need.values():
            if len(yl) >= 2:
                model.add_at_most_one(yl)

    def group_sizes(self) -> None:
        """A group unit is used only with members, holds at most group_max, at least group_min."""
        model = self.model
        for key, ov in self.occ.items():
            _, pi, s = key
            zsum = LinearExpr.sum([self.z[(ni, pi, s)] for ni in self.members[key]])
            model.add(ov <= zsum)
            if len(self.members[key]) > self.gmax:
                model.add(zsum <= self.gmax)
            if self.gmin > 2:
                big = model.new_bool_var("")
                model.add(zsum >= self.gmin).only_enforce_if(big)
                model.add(zsum <= 1).only_enforce_if(~big)

    def no_overlap(self) -> None:
        """A provider's units, and a student's sessions, never overlap (cliques per start)."""
        for units in self.prov_units.values():
            for clique in _cliques(units):
                self.model.add_at_most_one(clique)
        for units in self.stud_units.values():
            for clique in _cliques(units):
                self.model.add_at_most_one(clique)

    def capacity(self) -> None:
        """Weekly minutes within capacity, the peak utilisation, and a redundant knapsack on y
        (a group-capable need counts for its share of a full group): it gives the LP the
        capacity bound directly, which is what proves coverage optimal."""
        model, prep = self.model, self.prep
        minutes_all = [prep.needs[i].session_minutes for i in self.needs] or [1]
        unit_g = reduce(math.gcd, minutes_all)
        for pi, units in self.prov_units.items():
            cap = prep.providers[pi].capacity_minutes
            uvars = [v for _, _, v, _ in units]
            mins = [e - s for s, e, _, _ in units]
            if sum(mins) > cap:
                model.add(LinearExpr.weighted_sum(uvars, mins) <= cap)
            if cap > 0:
                model.add(
                    LinearExpr.weighted_sum(uvars + [self.util], [100 * m for m in mins] + [-cap])
                    <= 0
                )
            for m, var in zip(mins, uvars, strict=True):
                self.minute_terms.append((m // unit_g, var))
                self.total_units += m // unit_g
        by_provider: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
        for (ni, pi), yv in self.y.items():
            n = prep.needs[ni]
            cost = n.sessions_per_week * n.session_minutes
            if n.group_ok and self.grouping:
                cost = -(-cost // self.gmax)
            by_provider[pi].append((cost, yv))
        for pi, items in by_provider.items():
            cap = prep.providers[pi].capacity_minutes
            if sum(c for c, _ in items) > cap:
                model.add(
                    LinearExpr.weighted_sum([v for _, v in items], [c for c, _ in items]) <= cap
                )

    def links(self) -> None:
        """u/v: a provider newly serving a school or a district."""
        prep, model = self.prep, self.model
        for ni, pi in self.pairs:
            n = prep.needs[ni]
            p = prep.providers[pi]
            if n.school_id not in p.existing_school_ids:
                uv = self.u.get((pi, n.school_id))
                if uv is None:
                    uv = self.u[(pi, n.school_id)] = model.new_bool_var("")
                    self.link_terms.append(uv)
                model.add_implication(self.y[(ni, pi)], uv)
            if n.district_id not in p.existing_district_ids:
                vv = self.v.get((pi, n.district_id))
                if vv is None:
                    vv = self.v[(pi, n.district_id)] = model.new_bool_var("")
                    self.link_terms.append(vv)
                model.add_implication(self.y[(ni, pi)], vv)

    def objective(self, hint_sessions: Iterable[Session]) -> Built:
        """Levels 1-2 (phase A) and 3-5 (phase B), each a weighted sum whose weights keep the
        order; then a complete hint."""
        prep = self.prep
        preferred = [
            self.y[(ni, pi)]
            for ni, pi in self.pairs
            if prep.needs[ni].preferred_provider_id == prep.providers[pi].provider_id
        ]
        w1 = len(preferred) + 1
        primary = [(w1, yv) for yv in self.y.values()] + [(1, pv) for pv in preferred]
        w4 = 101
        w3 = w4 * (self.total_units + 1)
        secondary = [(-w3, lv) for lv in self.link_terms]
        secondary += [(-w4 * m, uv) for m, uv in self.minute_terms]
        secondary.append((-1, self.util))
        assert w3 * (len(self.link_terms) + 1) < 2**62, "objective weights overflow"
        built = Built(self.model, self.y, self.z, self.unit_of, self.occ, primary, secondary)
        built.n_bools = len(self.z)
        _hint(built, prep, hint_sessions, self.pset, self.u, self.v, self.prov_units, self.util)
        return built


def build(
    prep: Prep,
    needs: Sequence[int],
    providers: Sequence[int],
    student_block: dict[str, Calendar],
    hint_sessions: Iterable[Session],
    only: dict[int, int] | None = None,
) -> Built:
    """The time-indexed model; `only` restricts each listed need to one provider."""
    b = _Builder(prep, needs, providers, student_block, only)
    b.candidate_pairs()
    b.group_units()
    b.sessions_and_days()
    b.group_sizes()
    b.no_overlap()
    b.capacity()
    b.links()
    return b.objective(hint_sessions)


def _hint(
    built: Built,
    prep: Prep,
    sessions: Iterable[Session],
    pset: set[int],
    u: dict[tuple[int, str], cp_model.IntVar],
    v: dict[tuple[int, str], cp_model.IntVar],
    prov_units: dict[int, list[tuple[int, int, cp_model.IntVar, int]]],
    util: cp_model.IntVar,
) -> None:
    """A complete hint: every variable gets a value (partial hints fail on large models)."""
    val: dict[int, int] = {}
    for s in sessions:
        pi = prep.provider_index.get(s.provider_id)
        if pi is None or pi not in pset:
            continue
        slot = (s.day, s.start, s.end)
        for sid in s.student_ids:
            ni = prep.need_index.get((sid, s.service))
            if ni is None:
                continue
            zv = built.z.get((ni, pi, slot))
            if zv is None:  # not a candidate any more (e.g. newly taken time): hint it off
                continue
            val[zv.index] = 1
            val[built.y[(ni, pi)].index] = 1
            ukey = built.unit_of[(ni, pi, slot)]
            if ukey is not None:
                val[built.occ[ukey].index] = 1
            n = prep.needs[ni]
            if (pi, n.school_id) in u:
                val[u[(pi, n.school_id)].index] = 1
            if (pi, n.district_id) in v:
                val[v[(pi, n.district_id)].index] = 1
    peak = 0
    for pi, units in prov_units.items():
        cap = prep.providers[pi].capacity_minutes
        used = sum(e - s for s, e, var, _ in units if val.get(var.index, 0))
        if used and cap > 0:
            peak = max(peak, -((-100 * used) // cap))
    val[util.index] = min(100, peak)
    built.hint = [val.get(i, 0) for i in range(len(built.model.proto.variables))]


def _params(
    solver: cp_model.CpSolver, budget: float, seed: int, workers: int, guard: float | None = None
) -> None:
    """Deterministic search: `budget` seconds of CP-SAT's deterministic clock, so that the
    answer does not depend on how loaded the machine is. Two workers interleave their search
    in fixed batches (deterministic too). The wall clock is only a guard (`guard`, a
    perf_counter deadline; without one, four times the budget), and `note_guard` logs its use."""
    p = solver.parameters
    budget = max(0.05, budget)
    p.max_deterministic_time = budget
    wall = 4 * budget if guard is None else guard - time.perf_counter()
    p.max_time_in_seconds = max(0.05, wall)
    p.num_workers = workers
    if workers > 1:
        p.interleave_search = True
    p.random_seed = seed
    p.symmetry_level = 0
    p.cp_model_probing_level = 0
    p.max_presolve_iterations = 1


@dataclass
class Work:
    """A budget of deterministic solver time shared by many small solves, and the wall-clock
    guard behind it. Stopping on `spent` is deterministic; stopping on the guard is logged."""

    budget: float
    guard: float  # perf_counter deadline
    spent: float = 0.0
    guarded: bool = False

    def left(self) -> float:
        return self.budget - self.spent

    def over(self, stage: str) -> bool:
        if self.spent >= self.budget:
            return True
        if time.perf_counter() >= self.guard:
            if not self.guarded:
                log.info("match.wall_guard", extra={"stage": stage})
            self.guarded = True
            return True
        return False


def note_guard(solver: cp_model.CpSolver, stage: str) -> float:
    """The deterministic time a finished solve used; logs when the wall-clock guard, not the
    deterministic budget, stopped it (then a re-run may give another answer)."""
    r = solver.response_proto
    p = solver.parameters
    if (
        r.status not in (cp_model.OPTIMAL, cp_model.INFEASIBLE)
        and r.deterministic_time < 0.99 * p.max_deterministic_time
        and r.wall_time >= 0.99 * p.max_time_in_seconds
    ):
        log.info("match.wall_guard", extra={"stage": stage})
    return float(r.deterministic_time)


def _set_hint(model: cp_model.CpModel, values: Sequence[int]) -> None:
    model.proto.clear_solution_hint()
    hint = model.proto.solution_hint
    hint.vars.extend(range(len(values)))
    hint.values.extend(values)


def _maximize(model: cp_model.CpModel, terms: list[tuple[int, cp_model.IntVar]]) -> None:
    model.maximize(LinearExpr.weighted_sum([v for _, v in terms], [c for c, _ in terms]))


def _run(
    built: Built, deadline: float, seed: int, workers: int, budget: float | None = None
) -> tuple[list[int] | None, bool]:
    """``budget``: deterministic solver time (by default the time to ``deadline``, which makes
    the answer depend on the machine's load); ``deadline`` is the wall-clock guard."""
    solver = cp_model.CpSolver()
    if budget is None:
        budget = deadline - time.perf_counter()
    _params(solver, budget, seed, workers, deadline)
    status = solver.solve(built.model)
    built.spent += note_guard(solver, "exact")
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False
    n_vars = len(built.hint)
    return list(solver.response_proto.solution)[:n_vars], status == cp_model.OPTIMAL


def phase_a(
    built: Built,
    start: Sequence[int],
    deadline: float,
    seed: int,
    workers: int = 2,
    budget: float | None = None,
) -> tuple[list[int], bool]:
    """Maximise needs served, then preferred providers kept, from the complete assignment
    `start`. Returns the better of `start` and the solver's answer, and whether it is proved
    optimal for these two levels."""
    _maximize(built.model, built.primary)
    _set_hint(built.model, start)
    sol, proved = _run(built, deadline, seed, workers, budget)
    if sol is not None and built.value(sol) > built.value(start):
        return sol, proved
    return list(start), proved


def phase_b(
    built: Built,
    start: Sequence[int],
    deadline: float,
    seed: int,
    workers: int = 2,
    budget: float | None = None,
) -> list[int]:
    """Keep `start`'s phase-A value as a floor; optimise links, minutes and peak load."""
    floor = built.value(start)[0]
    terms = built.primary
    built.model.add(LinearExpr.weighted_sum([v for _, v in terms], [c for c, _ in terms]) >= floor)
    _maximize(built.model, built.secondary)
    _set_hint(built.model, start)
    sol, _ = _run(built, deadline, seed, workers, budget)
    if sol is not None and built.value(sol) > built.value(start):
        return sol
    return list(start)


def forbid_taken(built: Built, prep: Prep, block: dict[str, Calendar]) -> None:
    """Fix to 0 the slots that now clash with a student's sessions elsewhere."""
    for (ni, _, slot), zv in built.z.items():
        cal = block.get(prep.needs[ni].student_id)
        if cal is not None and not cal.is_free(slot[1], slot[2]):
            built.model.add(zv == 0)


def extract(built: Built, sol: Sequence[int], prep: Prep) -> list[Session]:
    groups: dict[tuple[GroupKey, int, Slot], list[int]] = defaultdict(list)
    solo: list[tuple[int, int, Slot]] = []
    for key, zv in built.z.items():
        if sol[zv.index]:
            ukey = built.unit_of[key]
            if ukey is None:
                solo.append(key)
            else:
                groups[ukey].append(key[0])
    out: list[Session] = []
    for ni, pi, (day, s, e) in solo:
        n = prep.needs[ni]
        out.append(
            Session(
                prep.providers[pi].provider_id, (n.student_id,), n.service, n.school_id, day, s, e
            )
        )
    for ((school, service, _), pi, (day, s, e)), mem in groups.items():
        sids = tuple(sorted(prep.needs[i].student_id for i in mem))
        out.append(Session(prep.providers[pi].provider_id, sids, service, school, day, s, e))
    return out
