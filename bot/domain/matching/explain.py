"""Domain: why a need was left unmatched, as a reason code and a plain sentence.

Codes: `no_licensed_provider` (nobody of the discipline may practise for this school),
`no_common_time` (licensed providers' availability misses the school's hours, or meets them on too
few distinct days), `no_capacity` (licensed providers with common time are full), and `not_placed`
(a provider could still take the need: the solver stopped before placing it; rare).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from bot.domain.labels import provider_label, state_name

from .model import MatchInput, Need, Session, Unmatched
from .prep import Calendar, Prep


def _names(codes: Sequence[str]) -> str:
    names = [state_name(c) for c in sorted(set(codes))]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def _count(n: int, service: str) -> str:
    return f"{n} {provider_label(service, n)}"


def _licence_detail(inp: MatchInput, need: Need) -> str:
    label = provider_label(need.service)
    state = state_name(need.state)
    same = [p for p in inp.providers if p.discipline == need.service]
    with_state = [p for p in same if need.state in p.licensed_states]
    if not with_state:
        return f"no {label} holds an active {state} licence"
    homes = [p.home_state for p in with_state]
    verb = "holds" if len(with_state) == 1 else "hold"
    return (
        f"{_count(len(with_state), need.service)} {verb} an active {state} licence but not one in "
        f"their own home state ({_names(homes)})"
    )


def explain(
    inp: MatchInput, sessions: Sequence[Session], prep: Prep | None = None
) -> list[Unmatched]:
    """One `Unmatched` for every need that `sessions` do not serve, in input order."""
    prep = prep or Prep(inp)
    served = {(sid, s.service) for s in sessions for sid in s.student_ids}
    load: dict[str, int] = defaultdict(int)
    prov_cal: dict[str, Calendar] = defaultdict(Calendar)
    stud_cal: dict[str, Calendar] = defaultdict(Calendar)
    for s in sessions:
        load[s.provider_id] += s.end - s.start
        prov_cal[s.provider_id].add(s.start, s.end)
        for sid in s.student_ids:
            stud_cal[sid].add(s.start, s.end)
    out: list[Unmatched] = []
    for ni, need in enumerate(inp.needs):
        if need.key in served:
            continue
        label = provider_label(need.service)
        plural = provider_label(need.service, 2)
        lic = prep.licensed_providers(ni)
        if not lic:
            reason, detail = "no_licensed_provider", _licence_detail(inp, need)
            out.append(Unmatched(need.student_id, need.service, reason, detail))
            continue
        spw = need.sessions_per_week
        days_by_provider = {pi: prep.common_days(ni, pi) for pi in lic}
        best_days = max(days_by_provider.values())
        with_time = [pi for pi, d in days_by_provider.items() if d >= spw]
        who = f"the licensed {label}'s" if len(lic) == 1 else f"the {len(lic)} licensed {plural}'"
        if best_days == 0:
            reason = "no_common_time"
            detail = f"{who} availability does not meet {need.school_hours_text}"
        elif not with_time:
            reason = "no_common_time"
            day_word = "day" if best_days == 1 else "distinct days"
            detail = (
                f"{who} availability meets {need.school_hours_text} on at most {best_days} "
                f"{day_word}, but {spw} sessions a week need {spw} distinct days"
            )
        else:
            cost = spw * need.session_minutes
            fits = False
            for pi in with_time:
                p = prep.providers[pi]
                if p.capacity_minutes - load[p.provider_id] < cost:
                    continue
                cal = prov_cal[p.provider_id]
                stud = stud_cal[need.student_id]
                days = {
                    d for d, a, b in prep.slots(ni, pi) if cal.is_free(a, b) and stud.is_free(a, b)
                }
                if len(days) >= spw:
                    fits = True
                    break
            k = len(with_time)
            if fits:
                reason = "not_placed"
                detail = (
                    f"a licensed {label} still has room, but the matcher stopped before placing "
                    "this service; run the match again"
                )
            else:
                reason = "no_capacity"
                the = (
                    f"the licensed {label} with common time is"
                    if k == 1
                    else (f"the {k} licensed {plural} with common time are")
                )
                detail = f"{the} full"
        out.append(Unmatched(need.student_id, need.service, reason, detail))
    return out
