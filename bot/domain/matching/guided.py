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

from collections import defaultdict
from collections.abc import Sequence

from .cpsat import Work, build, extract, phase_a
from .decompose import calendars, sessions_by_part, taken_elsewhere
from .model import Session
from .prep import Calendar, Prep

PROVIDER_SECONDS = 0.5  # deterministic-time cap for one provider's timetable
INSERT_SECONDS = 0.15  # ...and for one insertion trial
INSERT_TRIALS = 3  # re-timetabling trials per unserved need (the least loaded providers)
EJECT_TRIES = 20_000  # slot checks (`_fits`) per solve for the ejection moves, at most


def _key_needs(prep: Prep, sessions: Sequence[Session]) -> set[int]:
    return {prep.need_index[(sid, s.service)] for s in sessions for sid in s.student_ids}


def timetable(
    prep: Prep,
    pi: int,
    needs: Sequence[int],
    block: dict[str, Calendar],
    hint: Sequence[Session],
    work: Work,
    cap: float = PROVIDER_SECONDS,
) -> list[Session]:
    """Provider pi's best timetable for `needs` (as many as fit), from the valid `hint`, in at
    most `cap` deterministic seconds, charged to `work`."""
    if not needs:
        return []
    built = build(prep, sorted(needs), [pi], block, hint, only={ni: pi for ni in needs})
    limit = min(cap, work.left())
    if limit <= 0.01 or work.over("guided"):
        return list(hint)
    sol, _ = phase_a(built, built.hint, work.guard, 0, workers=1, budget=limit)
    work.spent += built.spent
    return extract(built, sol, prep)


def _fits(
    prep: Prep, ni: int, pi: int, current: Sequence[Session], block: dict[str, Calendar]
) -> list[Session] | None:
    """Solo sessions for need ni in provider pi's free slots on distinct days, if there are
    enough (the cheap test before re-timetabling the provider)."""
    n = prep.needs[ni]
    cal = Calendar()
    for s in current:
        cal.add(s.start, s.end)
    stud = block.get(n.student_id)
    first: dict[str, Session] = {}
    for day, a, b in prep.slots(ni, pi):
        if day in first or not cal.is_free(a, b) or (stud is not None and not stud.is_free(a, b)):
            continue
        first[day] = Session(
            prep.providers[pi].provider_id, (n.student_id,), n.service, n.school_id, day, a, b
        )
        if len(first) == n.sessions_per_week:
            return list(first.values())
    return None


def _scarcity(prep: Prep, ni: int) -> tuple[int, int, int]:
    n = prep.needs[ni]
    return (len(prep.eligible(ni)), n.sessions_per_week * n.session_minutes, ni)


def guide_component(
    prep: Prep,
    needs: Sequence[int],
    providers: Sequence[int],
    assignment: dict[int, int],
    block: dict[str, Calendar],
    work: Work,
    current: Sequence[Session] = (),
) -> list[Session]:
    """The component's sessions: the assignment timetabled, then insertions. A provider's
    ``current`` sessions whose students all stay with them are kept as they are where the
    provider's needs do not change, and are the timetable's starting point where they do."""
    pset = set(providers)
    mine: dict[int, list[int]] = defaultdict(list)
    for ni in needs:
        pi = assignment.get(ni)
        if pi is not None and pi in pset:
            mine[pi].append(ni)
    staying: dict[int, list[Session]] = defaultdict(list)
    for s in current:
        pi = prep.provider_index[s.provider_id]
        if all(assignment.get(prep.need_index[(sid, s.service)]) == pi for sid in s.student_ids):
            staying[pi].append(s)
    plan: dict[int, list[Session]] = {}
    for pi in sorted(mine):
        kept = staying.get(pi, [])
        if _key_needs(prep, kept) == set(mine[pi]):
            plan[pi] = kept
            continue
        if work.over("guided"):
            plan[pi] = kept
            continue
        plan[pi] = timetable(prep, pi, mine[pi], block, kept, work)
    served = {ni for lst in plan.values() for ni in _key_needs(prep, lst)}
    load = {pi: sum(s.end - s.start for s in lst) for pi, lst in plan.items()}
    for ni in sorted((ni for ni in needs if ni not in served), key=lambda i: _scarcity(prep, i)):
        n = prep.needs[ni]
        cost = n.sessions_per_week * n.session_minutes
        cands = [pi for pi in prep.eligible(ni) if pi in pset]
        cands.sort(
            key=lambda pi: (load.get(pi, 0) / max(1, prep.providers[pi].capacity_minutes), pi)
        )
        trials = 0
        for pi in cands:
            if trials >= INSERT_TRIALS or work.over("guided"):
                break
            room = prep.providers[pi].capacity_minutes - load.get(pi, 0)
            if room < (n.session_minutes if n.group_ok else cost):
                continue
            current = plan.get(pi, [])
            quick = _fits(prep, ni, pi, current, block) if room >= cost else None
            if quick is not None:
                plan[pi] = current + quick
                load[pi] = load.get(pi, 0) + cost
                served.add(ni)
                break
            have = _key_needs(prep, current)
            trials += 1
            trial = timetable(prep, pi, [*have, ni], block, current, work, INSERT_SECONDS)
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
    work: Work,
) -> list[Session]:
    """`base` improved component by component with the relaxation's assignment, within the
    deterministic budget `work`."""
    current = sessions_by_part(prep, parts, base)
    have = [len(_key_needs(prep, current[c])) for c in range(len(parts))]
    gain = [
        sum(1 for ni in needs if ni in assignment) - have[c] for c, (needs, _) in enumerate(parts)
    ]
    # Where the relaxation's answer serves the most more first; nowhere it serves no more.
    for c in sorted((c for c in range(len(parts)) if gain[c] > 0), key=lambda c: (-gain[c], c)):
        needs, provs = parts[c]
        if work.over("guided"):
            break
        students = {prep.needs[ni].student_id for ni in needs}
        taken = taken_elsewhere((lst for d, lst in enumerate(current) if d != c), students)
        got = guide_component(
            prep, needs, provs, assignment, calendars(taken, students), work, current[c]
        )
        if len(_key_needs(prep, got)) > have[c]:
            current[c] = got
    return [s for lst in current for s in lst]


def best_by_part(
    prep: Prep,
    parts: Sequence[tuple[Sequence[int], Sequence[int]]],
    first: Sequence[Session],
    second: Sequence[Session],
) -> list[Session]:
    """`first`, with each component taken from `second` instead where that serves more and its
    students' sessions there clash with none of theirs in the other components."""
    chosen = sessions_by_part(prep, parts, first)
    other = sessions_by_part(prep, parts, second)
    for c in range(len(parts)):
        if len(_key_needs(prep, other[c])) <= len(_key_needs(prep, chosen[c])):
            continue
        students = {sid for s in other[c] for sid in s.student_ids}
        taken = taken_elsewhere((lst for d, lst in enumerate(chosen) if d != c), students)
        cal = calendars(taken, students)
        if all(
            sid not in cal or cal[sid].is_free(s.start, s.end)
            for s in other[c]
            for sid in s.student_ids
        ):
            chosen[c] = other[c]
    return [s for lst in chosen for s in lst]


def _solo_needs(prep: Prep, sessions: Sequence[Session]) -> dict[int, list[Session]]:
    """The needs served only in solo sessions here, with those sessions."""
    out: dict[int, list[Session]] = defaultdict(list)
    grouped: set[int] = set()
    for s in sessions:
        for sid in s.student_ids:
            ni = prep.need_index[(sid, s.service)]
            if len(s.student_ids) > 1:
                grouped.add(ni)
            else:
                out[ni].append(s)
    return {ni: lst for ni, lst in sorted(out.items()) if ni not in grouped}


def eject_component(
    prep: Prep,
    needs: Sequence[int],
    providers: Sequence[int],
    sessions: Sequence[Session],
    block: dict[str, Calendar],
    tries: list[int],
) -> list[Session]:
    """`sessions` with more needs served where cheap moves allow: each unserved need, scarcest
    first, goes to a provider who could take it, into free slots on distinct days, directly or
    after one need that provider serves alone moves to another provider with free slots and
    room for it (an ejection chain of one link). Slot and capacity checks only, no solver, at
    most `tries[0]` of them (counted down in place), so the same sessions always give the same
    answer, in a time that does not grow past that with the input."""
    pset = set(providers)
    plan: dict[int, list[Session]] = defaultdict(list)
    for s in sessions:
        plan[prep.provider_index[s.provider_id]].append(s)
    load = {pi: sum(s.end - s.start for s in lst) for pi, lst in plan.items()}
    served = _key_needs(prep, sessions)

    def cap(pi: int) -> int:
        return prep.providers[pi].capacity_minutes

    def cost(ni: int) -> int:
        n = prep.needs[ni]
        return n.sessions_per_week * n.session_minutes

    for ni in sorted((ni for ni in needs if ni not in served), key=lambda i: _scarcity(prep, i)):
        cands = sorted(
            (pi for pi in prep.eligible(ni) if pi in pset),
            key=lambda pi: (load.get(pi, 0) / max(1, cap(pi)), pi),
        )
        for pi in cands:
            if tries[0] <= 0:
                break
            if load.get(pi, 0) + cost(ni) <= cap(pi):
                tries[0] -= 1
                quick = _fits(prep, ni, pi, plan[pi], block)
                if quick is not None:
                    plan[pi] = plan[pi] + quick
                    load[pi] = load.get(pi, 0) + cost(ni)
                    served.add(ni)
                    break
            moved = _eject_one(prep, ni, pi, plan, load, block, pset, tries)
            if moved:
                served.add(ni)
                break
    return [s for pi in sorted(plan) for s in plan[pi]]


def _eject_one(
    prep: Prep,
    ni: int,
    pi: int,
    plan: dict[int, list[Session]],
    load: dict[int, int],
    block: dict[str, Calendar],
    pset: set[int],
    tries: list[int],
) -> bool:
    """Need ni into provider pi's timetable, moving one of pi's solo needs to another provider
    (`plan` and `load` updated in place); False, and nothing changed, when no such move fits."""
    n = prep.needs[ni]
    need_cost = n.sessions_per_week * n.session_minutes
    cap_p = prep.providers[pi].capacity_minutes
    for mi, msess in _solo_needs(prep, plan[pi]).items():
        mcost = sum(s.end - s.start for s in msess)
        if load.get(pi, 0) - mcost + need_cost > cap_p:
            continue
        if tries[0] <= 0:
            return False
        tries[0] -= 1
        rest = [s for s in plan[pi] if s not in msess]
        quick = _fits(prep, ni, pi, rest, block)
        if quick is None:
            continue
        for qi in prep.eligible(mi):
            if qi == pi or qi not in pset:
                continue
            if load.get(qi, 0) + mcost > prep.providers[qi].capacity_minutes:
                continue
            if tries[0] <= 0:
                return False
            tries[0] -= 1
            there = _fits(prep, mi, qi, plan[qi], block)
            if there is None:
                continue
            plan[pi] = rest + quick
            plan[qi] = plan[qi] + there
            load[pi] = load.get(pi, 0) - mcost + need_cost
            load[qi] = load.get(qi, 0) + mcost
            return True
    return False


def ejections(
    prep: Prep, parts: Sequence[tuple[Sequence[int], Sequence[int]]], base: Sequence[Session]
) -> list[Session]:
    """`base` with `eject_component` run on every component with unserved needs, each seeing the
    other components' sessions of its students as taken time, `EJECT_TRIES` slot checks in
    all (smallest component first)."""
    current = sessions_by_part(prep, parts, base)
    tries = [EJECT_TRIES]
    for c in sorted(range(len(parts)), key=lambda c: (len(parts[c][0]), c)):
        needs, provs = parts[c]
        if len(_key_needs(prep, current[c])) >= len(needs):
            continue
        students = {prep.needs[ni].student_id for ni in needs}
        taken = taken_elsewhere((lst for d, lst in enumerate(current) if d != c), students)
        block = calendars(taken, students)
        current[c] = eject_component(prep, needs, provs, current[c], block, tries)
    return [s for lst in current for s in lst]
