"""Domain: the greedy caseload matcher (fast baseline and CP-SAT warm start).

Needs are taken scarcest first (fewest providers with licence, capacity and common time), ties going
to the fewest weekly minutes. Each goes to the first provider, in this order, with room for all its
sessions on distinct school days: the preferred provider; providers already serving the school (the
one that lets the student join most existing group sessions, then the least loaded); then the rest,
those already in the district first, least loaded first. Within a provider, days where the student
can join an open group session come first, then days with the most free slots; each new session
takes the earliest free slot.

`squeaky_wheel` reruns this greedy many times with the needs it failed moved up the order: the
construction `solve` starts CP-SAT from. `greedy` itself is the single, deterministic pass.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from .explain import explain
from .model import MatchInput, MatchResult, Session
from .objective import Score, evaluate
from .prep import Calendar, Prep, Slot

KEEP_EVERY = 3  # every third squeaky-wheel round belongs to the keep-preferred chain


@dataclass
class _Sess:
    provider: int
    school_id: str
    service: str
    day: str
    start: int
    end: int
    members: list[int] = field(default_factory=list)


@dataclass
class _Plan:
    provider: int
    joins: list[_Sess]
    new: list[Slot]


class GreedyState:
    def __init__(self, prep: Prep) -> None:
        self.prep = prep
        inp = prep.inp
        self.gmax = inp.group_max
        # Growing a solo session into a group passes through size 2; with a larger minimum the
        # greedy forms no groups at all (CP-SAT still can).
        self.grouping = inp.group_min <= 2 <= inp.group_max
        np_ = len(prep.providers)
        self.cal = [Calendar() for _ in range(np_)]
        self.load = [0] * np_
        self.cap = [p.capacity_minutes for p in prep.providers]
        self.schools: list[set[str]] = [set(p.existing_school_ids) for p in prep.providers]
        self.districts: list[set[str]] = [set(p.existing_district_ids) for p in prep.providers]
        self.student_cal: dict[str, Calendar] = defaultdict(Calendar)
        self.open_groups: dict[tuple[int, str, str, int], list[_Sess]] = defaultdict(list)
        self.sessions: list[_Sess] = []

    def util(self, pi: int, extra: int = 0) -> float:
        cap = self.cap[pi]
        return (self.load[pi] + extra) / cap if cap > 0 else float("inf")

    def plan(self, ni: int, pi: int) -> _Plan | None:
        prep = self.prep
        n = prep.needs[ni]
        m = n.session_minutes
        spw = n.sessions_per_week
        room = self.cap[pi] - self.load[pi]
        stud = self.student_cal[n.student_id]
        joins: dict[str, _Sess] = {}
        if n.group_ok and self.grouping:
            fits = prep.slot_set(ni, pi)
            for g in self.open_groups.get((pi, n.school_id, n.service, m), ()):
                if len(g.members) >= self.gmax or not stud.is_free(g.start, g.end):
                    continue
                if (g.day, g.start, g.end) not in fits:  # this student's own school hours
                    continue
                best = joins.get(g.day)
                if best is None or len(g.members) > len(best.members):
                    joins[g.day] = g
        if len(joins) >= spw:
            days = sorted(joins, key=lambda d: (-len(joins[d].members), joins[d].start))[:spw]
            return _Plan(pi, [joins[d] for d in days], [])
        k = spw - len(joins)
        if k * m > room:
            return None
        cal = self.cal[pi]
        first: dict[str, Slot] = {}
        count: dict[str, int] = defaultdict(int)
        for slot in prep.slots(ni, pi):
            day, s, e = slot
            if day in joins or not cal.is_free(s, e) or not stud.is_free(s, e):
                continue
            count[day] += 1
            if day not in first:
                first[day] = slot
        if len(first) < k:
            return None
        days = sorted(first, key=lambda d: (-count[d], first[d][1]))[:k]
        return _Plan(pi, list(joins.values()), [first[d] for d in days])

    def commit(self, ni: int, plan: _Plan) -> None:
        n = self.prep.needs[ni]
        pi = plan.provider
        stud = self.student_cal[n.student_id]
        for g in plan.joins:
            g.members.append(ni)
            stud.add(g.start, g.end)
        for day, s, e in plan.new:
            g = _Sess(pi, n.school_id, n.service, day, s, e, [ni])
            self.sessions.append(g)
            self.cal[pi].add(s, e)
            stud.add(s, e)
            self.load[pi] += e - s
            if n.group_ok and self.grouping:
                self.open_groups[(pi, n.school_id, n.service, n.session_minutes)].append(g)
        self.schools[pi].add(n.school_id)
        self.districts[pi].add(n.district_id)

    def place(self, ni: int) -> bool:
        prep = self.prep
        n = prep.needs[ni]
        cands = prep.eligible(ni)
        if not cands:
            return False
        pref = prep.provider_index.get(n.preferred_provider_id or "")
        if pref is not None and pref in cands:
            p = self.plan(ni, pref)
            if p is not None:
                self.commit(ni, p)
                return True
        at_school = [pi for pi in cands if n.school_id in self.schools[pi] and pi != pref]
        best: tuple[tuple[int, float, int], _Plan] | None = None
        for pi in at_school:
            p = self.plan(ni, pi)
            if p is None:
                continue
            key = (-len(p.joins), self.util(pi, len(p.new) * n.session_minutes), pi)
            if best is None or key < best[0]:
                best = (key, p)
        if best is not None:
            self.commit(ni, best[1])
            return True
        cost = n.sessions_per_week * n.session_minutes
        rest = [pi for pi in cands if pi != pref and n.school_id not in self.schools[pi]]
        rest.sort(key=lambda pi: (n.district_id not in self.districts[pi], self.util(pi, cost), pi))
        for pi in rest:
            p = self.plan(ni, pi)
            if p is not None:
                self.commit(ni, p)
                return True
        return False

    def to_sessions(self) -> list[Session]:
        needs = self.prep.needs
        out = []
        for g in self.sessions:
            out.append(
                Session(
                    provider_id=self.prep.providers[g.provider].provider_id,
                    student_ids=tuple(needs[i].student_id for i in g.members),
                    service=g.service,
                    school_id=g.school_id,
                    day=g.day,
                    start=g.start,
                    end=g.end,
                )
            )
        out.sort(key=lambda s: (s.provider_id, s.start, s.student_ids))
        return out


def scarcity_order(prep: Prep) -> list[int]:
    # Ties go to the cheapest need: the first objective counts needs, not minutes.
    def key(ni: int) -> tuple[int, int, int]:
        n = prep.needs[ni]
        return (len(prep.eligible(ni)), n.sessions_per_week * n.session_minutes, ni)

    return sorted(range(len(prep.needs)), key=key)


def greedy_around(inp: MatchInput, taken: Sequence[Session]) -> list[Session]:
    """The greedy on ``inp``, with the ``taken`` sessions of its needs' students as their busy
    time (sessions kept from another plan: a hire's check, the spared providers' fill)."""
    prep = Prep(inp)
    state = GreedyState(prep)
    students = {n.student_id for n in inp.needs}
    for s in taken:
        for sid in s.student_ids:
            if sid in students:
                state.student_cal[sid].add(s.start, s.end)
    for ni in scarcity_order(prep):
        state.place(ni)
    return state.to_sessions()


def greedy_sessions(prep: Prep, order: list[int] | None = None) -> list[Session]:
    state = GreedyState(prep)
    for ni in scarcity_order(prep) if order is None else order:
        state.place(ni)
    return state.to_sessions()


def squeaky_wheel(
    prep: Prep, deadline: float, seed: int, max_rounds: int
) -> tuple[list[Session], int]:
    """Iterated greedy ("squeaky wheel"): rerun the greedy with the needs it left unserved moved
    up the order, plus a little noise, and keep the best result by the full objective.

    Each round costs one greedy pass, so many rounds fit where one CP-SAT model would not; it is
    the construction heuristic `solve` starts CP-SAT from. Deterministic for a seed as long as
    `max_rounds` is reached before `deadline`. Returns the best sessions and rounds run.
    """
    base = scarcity_order(prep)
    n = len(base)
    if n == 0:
        return [], 0
    rng = random.Random(seed)
    # Two chains of rounds, alternating: one from the scarcity order, one with the needs that
    # have a preferred (existing) provider moved to the front, since keeping those is the
    # second objective. Unserved needs move up within their chain.
    keep = {
        ni
        for ni in base
        if prep.provider_index.get(prep.needs[ni].preferred_provider_id or "") in prep.eligible(ni)
    }
    chains = [
        {ni: float(i) for i, ni in enumerate(base)},
        {ni: float(i) - (n if ni in keep else 0) for i, ni in enumerate(base)},
    ]
    done = [False, not keep]
    bump, noise = 0.13 * n + 1, 0.1 * n + 1
    best: list[Session] = []
    best_score: Score | None = None
    rounds = 0
    while rounds < max_rounds and time.perf_counter() < deadline and not all(done):
        chain = 1 if rounds % KEEP_EVERY == KEEP_EVERY - 1 else 0
        rounds += 1
        if done[chain]:
            continue
        priority = chains[chain]
        order = sorted(base, key=lambda ni: priority[ni] + rng.uniform(0.0, noise))
        state = GreedyState(prep)
        left = [ni for ni in order if not state.place(ni)]
        sessions = state.to_sessions()
        score, _ = evaluate(prep.inp, sessions)
        if best_score is None or score > best_score:
            best, best_score = sessions, score
        if not left:
            done[chain] = True  # everything served: this chain cannot do better on coverage
        for ni in left:
            priority[ni] -= bump
    return best, rounds


def greedy(inp: MatchInput) -> MatchResult:
    """Fast baseline: milliseconds for a district, about a second for a state."""
    t0 = time.perf_counter()
    prep = Prep(inp)
    sessions = greedy_sessions(prep)
    elapsed = time.perf_counter() - t0
    _, details = evaluate(inp, sessions)
    return MatchResult(
        sessions=tuple(sessions),
        unmatched=tuple(explain(inp, sessions, prep)),
        method="greedy",
        objective=details,
        solve_seconds=elapsed,
    )
