"""Domain: the CP-SAT caseload matcher (exact time-indexed model, decomposition and LNS).

Model, for a set of needs N and providers P (one per connected component, or one LNS neighbourhood):

* `y[n,p]`: provider p serves need n; at most one p per n.
* `z[n,p,s]`: n has a session with p in candidate slot s (a start on the `slot_step` grid inside the
  school window and p's free time). `sum_s z = sessions_per_week * y` and at most one slot per
  school day gives the distinct-day rule and "all or nothing".
* Groups, exactly: for each class G = (school, service, minutes) of group_ok needs, provider p and
  slot s that at least two members could use, `occ[G,p,s]` means "p holds a G-session at s"; each
  member's `z` implies it, at most group_max members join, and it is the unit that occupies p's
  calendar and costs p the minutes once. A one-member "group" is an ordinary solo session.
* A provider's units covering any candidate start time are at most one (a clique per start time,
  exact for intervals); likewise a student's sessions across services never overlap.
* Capacity: the minutes of p's units <= capacity_minutes.
* Objective, lexicographic by weights: served needs, preferred providers kept, new provider-school
  and provider-district links (u, v), provider minutes (in units of the minutes' gcd), peak
  utilisation %.

The objective is solved lexicographically in two CP-SAT runs on the same model: phase A maximises
served needs then preferred providers kept; phase B keeps phase A's value as a floor and optimises
the rest (`phase_a`, `phase_b`). Every run gets a complete hint (every variable).

`Component` drives one component in two rounds. `cover` (only where needs are unserved) tries a
top-down start, `assign_then_schedule`: an aggregate "who serves whom" CP-SAT model (pieces of
common free time, shared free stretches, capacity, groups as ceil(members / group_max) sessions),
then the exact model with each need held to its chosen provider; it replaces the incumbent when it
serves more. `polish` builds the exact model from the incumbent and runs phase A then phase B.
Components with more than `MAX_BOOLS` slot booleans never get one big model: large neighbourhood
search (`lns`) frees a few providers, all needs they serve and the unserved needs they could serve,
re-solves that neighbourhood exactly with everything else fixed, keeps the result when it is not
worse, and repeats until the component's share of the time limit is spent.

Simplifications: starts are on the absolute `slot_step` grid (plus a free stretch's own start when
no grid start fits in it); group sessions form only among needs of one school, service and length
at the same candidate slot (which the rules require anyway), so the group model is exact.
"""

from __future__ import annotations

import bisect
import math
import random
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import reduce

from ortools.sat.python import cp_model
from ortools.sat.python.cp_model import LinearExpr

from .model import Interval, Session
from .prep import Calendar, Prep, Slot, merge, subtract

MAX_BOOLS = 300_000
LNS_BOOLS = 40_000
LNS_SECONDS = 0.5
STAGE1_SHARE = 0.5
BUILD_RATE = 30_000  # slot booleans built per second, conservatively

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


def build(
    prep: Prep,
    needs: Sequence[int],
    providers: Sequence[int],
    student_block: dict[str, Calendar],
    hint_sessions: Iterable[Session],
    only: dict[int, int] | None = None,
) -> Built:
    """The time-indexed model; `only` restricts each listed need to one provider."""
    inp = prep.inp
    model = cp_model.CpModel()
    pset = set(providers)
    gmax, gmin = inp.group_max, inp.group_min
    grouping = gmax >= 2 and gmin <= gmax

    pairs: dict[tuple[int, int], list[Slot]] = {}
    for ni in needs:
        n = prep.needs[ni]
        blk = student_block.get(n.student_id)
        for pi in prep.eligible(ni):
            if pi not in pset or (only is not None and only.get(ni) != pi):
                continue
            slots = [s for s in prep.slots(ni, pi) if not _overlaps(blk, s)]
            if len({s[0] for s in slots}) >= n.sessions_per_week:
                pairs[(ni, pi)] = slots

    # Group classes: which members could use each (class, provider, slot).
    members: dict[tuple[GroupKey, int, Slot], list[int]] = defaultdict(list)
    if grouping:
        for (ni, pi), slots in pairs.items():
            n = prep.needs[ni]
            if n.group_ok:
                g = (n.school_id, n.service, n.session_minutes)
                for s in slots:
                    members[(g, pi, s)].append(ni)

    y: dict[tuple[int, int], cp_model.IntVar] = {}
    z: dict[tuple[int, int, Slot], cp_model.IntVar] = {}
    unit_of: dict[tuple[int, int, Slot], tuple[GroupKey, int, Slot] | None] = {}
    occ: dict[tuple[GroupKey, int, Slot], cp_model.IntVar] = {}
    for key, mem in members.items():
        if len(mem) >= 2:
            occ[key] = model.new_bool_var("")

    by_need: dict[int, list[cp_model.IntVar]] = defaultdict(list)
    prov_units: dict[int, list[tuple[int, int, cp_model.IntVar, int]]] = defaultdict(list)
    stud_units: dict[str, list[tuple[int, int, cp_model.IntVar, int]]] = defaultdict(list)
    for (_, pi, s), var in occ.items():
        prov_units[pi].append((s[1], s[2], var, -1 - len(prov_units[pi])))
    for (ni, pi), slots in pairs.items():
        n = prep.needs[ni]
        yv = model.new_bool_var("")
        y[(ni, pi)] = yv
        by_need[ni].append(yv)
        per_day: dict[str, list[cp_model.IntVar]] = defaultdict(list)
        zs = []
        g = (n.school_id, n.service, n.session_minutes)
        for s in slots:
            zv = model.new_bool_var("")
            z[(ni, pi, s)] = zv
            zs.append(zv)
            per_day[s[0]].append(zv)
            ukey = (g, pi, s) if n.group_ok and (g, pi, s) in occ else None
            unit_of[(ni, pi, s)] = ukey
            if ukey is None:
                prov_units[pi].append((s[1], s[2], zv, ni))
            else:
                model.add_implication(zv, occ[ukey])
            stud_units[n.student_id].append((s[1], s[2], zv, ni))
        model.add(LinearExpr.sum(zs) == n.sessions_per_week * yv)
        for day_vars in per_day.values():
            if len(day_vars) >= 2:
                model.add_at_most_one(day_vars)
    for yl in by_need.values():
        if len(yl) >= 2:
            model.add_at_most_one(yl)

    for key, ov in occ.items():
        g, pi, s = key
        zsum = LinearExpr.sum([z[(ni, pi, s)] for ni in members[key]])
        model.add(ov <= zsum)
        if len(members[key]) > gmax:
            model.add(zsum <= gmax)
        if gmin > 2:
            big = model.new_bool_var("")
            model.add(zsum >= gmin).only_enforce_if(big)
            model.add(zsum <= 1).only_enforce_if(~big)

    for units in prov_units.values():
        for clique in _cliques(units):
            model.add_at_most_one(clique)
    for units in stud_units.values():
        for clique in _cliques(units):
            model.add_at_most_one(clique)

    # Capacity and utilisation.
    minutes_all = [n.session_minutes for n in (prep.needs[i] for i in needs)] or [1]
    unit_g = reduce(math.gcd, minutes_all)
    util = model.new_int_var(0, 100, "util")
    total_units = 0
    minute_terms: list[tuple[int, cp_model.IntVar]] = []
    for pi, units in prov_units.items():
        cap = prep.providers[pi].capacity_minutes
        uvars = [v for _, _, v, _ in units]
        mins = [e - s for s, e, _, _ in units]
        if sum(mins) > cap:
            model.add(LinearExpr.weighted_sum(uvars, mins) <= cap)
        if cap > 0:
            model.add(
                LinearExpr.weighted_sum(uvars + [util], [100 * m for m in mins] + [-cap]) <= 0
            )
        for m, var in zip(mins, uvars, strict=True):
            minute_terms.append((m // unit_g, var))
            total_units += m // unit_g
    # Redundant knapsack on y (a group-capable need counts for its share of a full group): it
    # gives the LP the capacity bound directly, which is what proves coverage optimal.
    by_provider: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    for (ni, pi), yv in y.items():
        n = prep.needs[ni]
        cost = n.sessions_per_week * n.session_minutes
        if n.group_ok and grouping:
            cost = -(-cost // gmax)
        by_provider[pi].append((cost, yv))
    for pi, items in by_provider.items():
        cap = prep.providers[pi].capacity_minutes
        if sum(c for c, _ in items) > cap:
            model.add(LinearExpr.weighted_sum([v for _, v in items], [c for c, _ in items]) <= cap)

    # New provider-school / provider-district links.
    link_terms: list[cp_model.IntVar] = []
    u: dict[tuple[int, str], cp_model.IntVar] = {}
    v: dict[tuple[int, str], cp_model.IntVar] = {}
    link_of_pair: dict[tuple[int, int], list[cp_model.IntVar]] = {}
    for ni, pi in pairs:
        n = prep.needs[ni]
        p = prep.providers[pi]
        links = []
        if n.school_id not in p.existing_school_ids:
            uv = u.get((pi, n.school_id))
            if uv is None:
                uv = u[(pi, n.school_id)] = model.new_bool_var("")
                link_terms.append(uv)
            model.add_implication(y[(ni, pi)], uv)
            links.append(uv)
        if n.district_id not in p.existing_district_ids:
            vv = v.get((pi, n.district_id))
            if vv is None:
                vv = v[(pi, n.district_id)] = model.new_bool_var("")
                link_terms.append(vv)
            model.add_implication(y[(ni, pi)], vv)
            links.append(vv)
        link_of_pair[(ni, pi)] = links

    preferred = [
        y[(ni, pi)]
        for ni, pi in pairs
        if prep.needs[ni].preferred_provider_id == prep.providers[pi].provider_id
    ]
    # Levels 1-2 (phase A) and 3-5 (phase B), each a weighted sum whose weights keep the order.
    w1 = len(preferred) + 1
    primary = [(w1, yv) for yv in y.values()] + [(1, pv) for pv in preferred]
    w4 = 101
    w3 = w4 * (total_units + 1)
    secondary = [(-w3, lv) for lv in link_terms]
    secondary += [(-w4 * m, uv) for m, uv in minute_terms]
    secondary.append((-1, util))
    assert w3 * (len(link_terms) + 1) < 2**62, "objective weights overflow"

    built = Built(model, y, z, unit_of, occ, primary, secondary)
    built.n_bools = len(z)
    _hint(built, prep, hint_sessions, pset, u, v, prov_units, util)
    return built


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


def _params(solver: cp_model.CpSolver, time_limit: float, seed: int, workers: int) -> None:
    p = solver.parameters
    p.max_time_in_seconds = max(0.05, time_limit)
    p.num_workers = workers
    p.random_seed = seed
    p.symmetry_level = 0
    p.cp_model_probing_level = 0
    p.max_presolve_iterations = 1


def _set_hint(model: cp_model.CpModel, values: Sequence[int]) -> None:
    model.proto.clear_solution_hint()
    hint = model.proto.solution_hint
    hint.vars.extend(range(len(values)))
    hint.values.extend(values)


def _maximize(model: cp_model.CpModel, terms: list[tuple[int, cp_model.IntVar]]) -> None:
    model.maximize(LinearExpr.weighted_sum([v for _, v in terms], [c for c, _ in terms]))


def _run(built: Built, deadline: float, seed: int, workers: int) -> tuple[list[int] | None, bool]:
    solver = cp_model.CpSolver()
    _params(solver, deadline - time.perf_counter(), seed, workers)
    status = solver.solve(built.model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return None, False
    n_vars = len(built.hint)
    return list(solver.response_proto.solution)[:n_vars], status == cp_model.OPTIMAL


def phase_a(
    built: Built, start: Sequence[int], deadline: float, seed: int, workers: int = 2
) -> tuple[list[int], bool]:
    """Maximise needs served, then preferred providers kept, from the complete assignment
    `start`. Returns the better of `start` and the solver's answer, and whether it is proved
    optimal for these two levels."""
    _maximize(built.model, built.primary)
    _set_hint(built.model, start)
    sol, proved = _run(built, deadline, seed, workers)
    if sol is not None and built.value(sol) > built.value(start):
        return sol, proved
    return list(start), proved


def phase_b(
    built: Built, start: Sequence[int], deadline: float, seed: int, workers: int = 2
) -> list[int]:
    """Keep `start`'s phase-A value as a floor; optimise links, minutes and peak load."""
    floor = built.value(start)[0]
    terms = built.primary
    built.model.add(LinearExpr.weighted_sum([v for _, v in terms], [c for c, _ in terms]) >= floor)
    _maximize(built.model, built.secondary)
    _set_hint(built.model, start)
    sol, _ = _run(built, deadline, seed, workers)
    if sol is not None and built.value(sol) > built.value(start):
        return sol
    return list(start)


def assign_then_schedule(
    prep: Prep,
    needs: Sequence[int],
    providers: Sequence[int],
    block: dict[str, Calendar],
    deadline: float,
    seed: int,
    start: Iterable[Session] = (),
) -> list[Session]:
    """A second starting point, built top-down: who serves whom, then when.

    Stage 1 chooses providers with CP-SAT on an aggregate model (per provider and school day,
    session minutes within the free minutes that meet the school's hours; weekly capacity;
    distinct days), which is small and solves well. Stage 2 schedules exactly, each need held to
    its stage-1 provider, dropping what does not fit. The greedy decides need by need and cannot
    see the trade-offs stage 1 sees.
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
        did = prep.days_id[ni]
        for pi in prep.eligible(ni):
            if pi not in pset:
                continue
            usable: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
            for d, a, b in prep.pieces(did, pi):
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
        return []
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
    _params(solver, STAGE1_SHARE * (deadline - time.perf_counter()), seed, 2)
    status = solver.solve(model)
    if status not in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return []
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
    built = build(prep, sorted(only), providers, block, kept, only=only)
    if time.perf_counter() >= deadline - 0.05:
        return []
    sol, _ = phase_a(built, built.hint, deadline, seed)
    return extract(built, sol, prep)


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
) -> None:
    """Improve `inc` in place by re-optimising neighbourhoods of a few providers at a time."""
    could: dict[int, list[int]] = defaultdict(list)
    for ni in inc.needs:
        for pi in prep.eligible(ni):
            could[pi].append(ni)
    n_prov = max(2, min(len(providers), int(stats.get("n_prov", 8))))
    while True:
        remaining = deadline - time.perf_counter()
        if remaining < 0.3:
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
            continue
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
        # Short runs: improvements are found fast when they exist; proofs are what take long.
        budget = min(remaining - 0.1, LNS_SECONDS + built.n_bools / 50_000)
        stop = time.perf_counter() + budget
        sol, proved = phase_a(
            built, built.hint, time.perf_counter() + 0.7 * budget, rng.randrange(1 << 30)
        )
        a_gain = built.value(sol)[0] > built.value(built.hint)[0]
        if time.perf_counter() < stop - 0.05:
            sol = phase_b(built, sol, stop, rng.randrange(1 << 30))
        stats["iterations"] = stats.get("iterations", 0.0) + 1
        # Grow the neighbourhood while its coverage level is solved or improved, else shrink it.
        grow = proved or a_gain
        n_prov = min(n_prov + 1, len(providers)) if grow else max(2, n_prov - 1)
        old, new = built.value(built.hint), built.value(sol)
        if new >= old and sol != built.hint:
            stats["improved"] = stats.get("improved", 0.0) + float(new > old)
            inc.replace(chosen, extract(built, sol, prep))
    stats["n_prov"] = float(n_prov)


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

    def cover(self, deadline: float, outside: dict[str, list[Interval]]) -> None:
        """Round 1: raise coverage. The top-down assignment start competes with the incumbent;
        the full model's turn comes in `polish`, where it starts from the better of the two."""
        if self.use_lns:
            lns(self.prep, self.inc, self.providers, deadline, self.rng, outside, self.stats)
            self.method = "cp-sat-lns"
            return
        other = assign_then_schedule(
            self.prep,
            self.needs,
            self.providers,
            self._block(outside),
            deadline,
            self.seed,
            self.inc.sessions(),
        )
        if _coverage(other) > _coverage(self.inc.sessions()):
            self.inc = Incumbent(self.prep, self.needs, other)
            self.method = "cp-sat"

    def polish(self, deadline: float, outside: dict[str, list[Interval]], cover: bool) -> None:
        if self.use_lns:
            lns(self.prep, self.inc, self.providers, deadline, self.rng, outside, self.stats)
            self.method = "cp-sat-lns"
            return
        if self.built is None and deadline - time.perf_counter() < self.size / BUILD_RATE:
            return  # not even time to build the model: keep the incumbent
        built = self._ensure_built(outside)
        assert self.sol is not None
        sol = self.sol
        if cover:
            share = time.perf_counter() + 0.3 * (deadline - time.perf_counter())
            sol, _ = phase_a(built, sol, share, self.seed)
        if deadline - time.perf_counter() > 0.1:
            sol = phase_b(built, sol, deadline, self.seed + 1)
        self._adopt(built, sol)

    def release(self) -> None:
        self.built = None
        self.sol = None


def _coverage(sessions: Iterable[Session]) -> int:
    return len({(sid, s.service) for s in sessions for sid in s.student_ids})


def calendars(taken: dict[str, list[Interval]], students: Iterable[str]) -> dict[str, Calendar]:
    out: dict[str, Calendar] = {}
    for sid in students:
        for a, b in taken.get(sid, ()):
            out.setdefault(sid, Calendar()).add(a, b)
    return out
