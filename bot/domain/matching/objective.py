"""Domain: the matcher's lexicographic objective, measured on a list of sessions.

Both solvers are compared with this one function, so "never worse than greedy" means the same thing
everywhere: more needs served, then more preferred providers kept, then fewer new provider-school
and provider-district links, then fewer provider minutes (groups), then a lower peak utilisation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import NamedTuple

from .model import MatchInput, Session


class Score(NamedTuple):
    served: int
    preferred_kept: int
    neg_new_links: int
    neg_provider_minutes: int
    neg_max_util_pct: int


def utilisation_pct(minutes: int, capacity: int) -> int:
    """Whole percent, rounded up (the CP-SAT model's integer bound uses the same rounding)."""
    if minutes <= 0:
        return 0
    if capacity <= 0:
        return 10**6
    return -((-100 * minutes) // capacity)


def evaluate(inp: MatchInput, sessions: Iterable[Session]) -> tuple[Score, dict[str, float]]:
    sessions = list(sessions)
    providers = {p.provider_id: p for p in inp.providers}
    need_by_key = {n.key: n for n in inp.needs}
    served_by: dict[tuple[str, str], str] = {}
    minutes: dict[str, int] = defaultdict(int)
    schools: dict[str, set[str]] = defaultdict(set)
    districts: dict[str, set[str]] = defaultdict(set)
    group_sessions = 0
    for s in sessions:
        minutes[s.provider_id] += s.end - s.start
        if len(s.student_ids) > 1:
            group_sessions += 1
        for sid in s.student_ids:
            n = need_by_key.get((sid, s.service))
            if n is None:
                continue
            served_by[n.key] = s.provider_id
            schools[s.provider_id].add(n.school_id)
            districts[s.provider_id].add(n.district_id)
    served = len(served_by)
    preferred_total = sum(1 for n in inp.needs if n.preferred_provider_id)
    kept = sum(1 for k, pid in served_by.items() if need_by_key[k].preferred_provider_id == pid)
    new_schools = 0
    new_districts = 0
    for pid, sch in schools.items():
        p = providers.get(pid)
        new_schools += len(sch - (p.existing_school_ids if p else frozenset()))
        new_districts += len(districts[pid] - (p.existing_district_ids if p else frozenset()))
    total_minutes = sum(minutes.values())
    max_util = max(
        (utilisation_pct(m, providers[pid].capacity_minutes) for pid, m in minutes.items()),
        default=0,
    )
    used = len(schools)
    score = Score(served, kept, -(new_schools + new_districts), -total_minutes, -max_util)
    n_needs = len(inp.needs)
    details: dict[str, float] = {
        "needs": float(n_needs),
        "served": float(served),
        "coverage": served / n_needs if n_needs else 1.0,
        "preferred_kept": float(kept),
        "preferred_total": float(preferred_total),
        "new_school_links": float(new_schools),
        "new_district_links": float(new_districts),
        "provider_minutes": float(total_minutes),
        "sessions": float(len(sessions)),
        "group_sessions": float(group_sessions),
        "providers_used": float(used),
        "schools_per_provider": (sum(len(v) for v in schools.values()) / used) if used else 0.0,
        "max_utilisation_pct": float(max_util),
    }
    return score, details
