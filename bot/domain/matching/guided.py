"""Domain: the relaxation-guided construction of a proposal.

The relaxation (`bound.relax`) answers "who serves whom"; here each provider's needs are then
timetabled exactly, one provider at a time (a small CP-SAT model, `cpsat.build` with every need
held to that provider), and every need still unserved is tried with each provider who could take
it, by re-timetabling that provider with the need added. Components are taken in turn, each
seeing the other components' sessions of its students as taken time, and a component keeps its
old sessions unless the new ones serve more. Every CP-SAT run here uses one worker on the
deterministic clock, so unchanged inputs give the same sessions.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence

from .cpsat import build, extract, phase_a
from .decompose import calendars
from .model import Interval, Session
from .prep import Calendar, Prep

PROVIDER_SECONDS = 0.5  # deterministic-time cap for one provider's timetable


def _key_needs(prep: Prep, sessions: Sequence[Session]) -> set[int]:
    return {prep.need_index[(sid, s.service)] for s in sessions for sid in s.student_ids}


def timetable(
    prep: Prep,
    pi: int,
    needs: Sequence[int],
    block: dict[str, Calendar],
    hint: Sequence[Session],
    deadline: float,
) -> list[Session]:
    """Provider pi's best timetable for `needs` (as many as fit), from the valid `hint`."""
    if not needs:
        return []
    built = build(prep, sorted(needs), [pi], block, hint, only={ni: pi for ni in needs})
    limit = min(PROVIDER_SECONDS, deadline - time.perf_counter())
    if limit <= 0.01:
        return list(hint)
    sol, _ = phase_a(built, built.hint, time.perf_counter() + limit, 0, workers=1)
    return extract(built, sol, prep)


def _scarcity(prep: Prep, ni: int) -> tuple[int, int, int]:
    n = prep.needs[ni]
    return (len(prep.eligible(ni)), n.sessions_per_week * n.session_minutes, ni)


def guide_component(
    prep: Prep,
    needs: Sequence[int],
    providers: Sequence[int],
    assignment: dict[int, int],
    block: dict[str, Calendar],
    deadline: float,
) -> list[Session]:
    """The component's sessions: the assignment timetabled, then insertions."""
    pset = set(providers)
    mine: dict[int, list[int]] = defaultdict(list)
    for ni in needs:
        pi = assignment.get(ni)
        if pi is not None and pi in pset:
            mine[pi].append(ni)
    plan: dict[int, list[Session]] = {}
    for pi in sorted(mine):
        if time.perf_counter() >= deadline:
            break
        plan[pi] = timetable(prep, pi, mine[pi], block, [], deadline)
    served = {ni for lst in plan.values() for ni in _key_needs(prep, lst)}
    load = {pi: sum(s.end - s.start for s in lst) for pi, lst in plan.items()}
    for ni in sorted((ni for ni in needs if ni not in served), key=lambda i: _scarcity(prep, i)):
        n = prep.needs[ni]
        cost = n.sessions_per_week * n.session_minutes
        cands = [pi for pi in prep.eligible(ni) if pi in pset]
        cands.sort(
            key=lambda pi: (load.get(pi, 0) / max(1, prep.providers[pi].capacity_minutes), pi)
        )
        for pi in cands:
            if time.perf_counter() >= deadline:
                break
            room = prep.providers[pi].capacity_minutes - load.get(pi, 0)
            if room < (n.session_minutes if n.group_ok else cost):
                continue
            current = plan.get(pi, [])
            have = _key_needs(prep, current)
            trial = timetable(prep, pi, [*have, ni], block, current, deadline)
            if ni in _key_needs(prep, trial) and have <= _key_needs(prep, trial):
                plan[pi] = trial
                load[pi] = sum(s.end - s.start for s in trial)
                served.add(ni)
                break
    return [s for pi in sorted(plan) for s in plan[pi]]


def guided(
    prep: Prep,
    parts: Sequence[tuple[Sequence[int], Sequence[int]]],
    assignment: dict[int, int],
    base: Sequence[Session],
    deadline: float,
) -> list[Session]:
    """`base` improved component by component with the relaxation's assignment."""
    part_of_provider = {pi: c for c, (_, provs) in enumerate(parts) for pi in provs}
    current: dict[int, list[Session]] = defaultdict(list)
    for s in base:
        current[part_of_provider[prep.provider_index[s.provider_id]]].append(s)
    for c, (needs, provs) in enumerate(parts):
        have = len(_key_needs(prep, current[c]))
        if sum(1 for ni in needs if ni in assignment) <= have:
            continue  # the relaxation's answer cannot serve more than the incumbent
        if time.perf_counter() >= deadline:
            break
        students = {prep.needs[ni].student_id for ni in needs}
        taken: dict[str, list[Interval]] = defaultdict(list)
        for d, lst in current.items():
            if d != c:
                for s in lst:
                    for sid in s.student_ids:
                        if sid in students:
                            taken[sid].append((s.start, s.end))
        got = guide_component(prep, needs, provs, assignment, calendars(taken, students), deadline)
        if len(_key_needs(prep, got)) > have:
            current[c] = got
    return [s for c in sorted(current) for s in current[c]]
