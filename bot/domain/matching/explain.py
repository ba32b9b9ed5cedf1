"""Domain: why a need was left unmatched, as a reason code and a plain sentence.

Codes: `no_licensed_provider` (nobody of the discipline may practise for this school),
`no_common_time` (licensed providers' availability misses the school's hours, or meets them on too
few distinct days), `no_capacity` (licensed providers with common time are full), and `not_placed`
(a provider could still take the need: the solver stopped before placing it; rare).

`explain_in_view` is for a match of some providers only (`provider=`): it names what kept them
from a need and looks at every other candidate of the district too, adding `other_providers`
(someone else has the licence, the time and the room), so that a filtered proposal never says
"no OT holds an active Arizona licence" when one does.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

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


Taken = tuple[set[tuple[str, str]], dict[str, int], dict[str, Calendar], dict[str, Calendar]]


def _taken(sessions: Sequence[Session]) -> Taken:
    """What ``sessions`` already hold: the needs served, each provider's minutes, and the
    providers' and students' calendars (empty for anyone not in them)."""
    served = {(sid, s.service) for s in sessions for sid in s.student_ids}
    load: dict[str, int] = defaultdict(int)
    prov_cal: dict[str, Calendar] = defaultdict(Calendar)
    stud_cal: dict[str, Calendar] = defaultdict(Calendar)
    for s in sessions:
        load[s.provider_id] += s.end - s.start
        prov_cal[s.provider_id].add(s.start, s.end)
        for sid in s.student_ids:
            stud_cal[sid].add(s.start, s.end)
    return served, load, prov_cal, stud_cal


def explain(
    inp: MatchInput, sessions: Sequence[Session], prep: Prep | None = None
) -> list[Unmatched]:
    """One `Unmatched` for every need that `sessions` do not serve, in input order."""
    prep = prep or Prep(inp)
    served, load, prov_cal, stud_cal = _taken(sessions)
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
        # Common time is also outside the student's sessions of other services (`Need.busy`).
        hours = need.school_hours_text
        if prep.busy[ni]:
            hours += " outside the student's other sessions"
        if best_days == 0:
            reason = "no_common_time"
            detail = f"{who} availability does not meet {hours}"
        elif not with_time:
            reason = "no_common_time"
            day_word = "day" if best_days == 1 else "distinct days"
            detail = (
                f"{who} availability meets {hours} on at most {best_days} "
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


def _a(word: str) -> str:
    """ "an Arizona", "a Texas", "an SLP", "a PT", "a school psychologist" (state names and
    labels starting with A, E, I or O are said with "an"; initialisms by their first letter's
    name)."""
    first = word.split()[0] if word else ""
    vowel = "AEFHILMNORSX" if first.isupper() and len(first) > 1 else "AEIOaeio"
    return f"{'an' if word[:1] in vowel else 'a'} {word}"


def _list(names: Sequence[str]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + " and " + names[-1]


def explain_in_view(
    inp: MatchInput,
    sessions: Sequence[Session],
    focus: Mapping[str, str],
    names: Mapping[str, str],
) -> list[Unmatched]:
    """Why each need is unserved when only the `focus` providers were matched (`provider=`),
    with every candidate of the district (`inp.providers`) in view: what kept the focus
    providers from it, and whether someone else could serve it. `names` labels providers.

    Codes: `other_providers` when another provider has the licence, common time and room (a
    match without the filter could place it); otherwise what holds district-wide:
    `no_licensed_provider`, `no_common_time` or `no_capacity` (and `not_placed` when a focus
    provider could still take it).
    """
    prep = Prep(inp)
    served, load, prov_cal, stud_cal = _taken(sessions)
    out: list[Unmatched] = []
    for ni, need in enumerate(inp.needs):
        if need.key in served:
            continue
        lic = prep.licensed_providers(ni)
        if not lic:  # nobody in the district may practise here: the plain sentence is true
            detail = _licence_detail(inp, need)
            out.append(Unmatched(need.student_id, need.service, "no_licensed_provider", detail))
            continue
        spw = need.sessions_per_week
        cost = spw * need.session_minutes
        state = state_name(need.state)

        def name(pi: int) -> str:
            pid = prep.providers[pi].provider_id
            return names.get(pid, pid)

        def room(pi: int, cost: int = cost) -> bool:
            p = prep.providers[pi]
            return p.capacity_minutes - load[p.provider_id] >= cost

        parts: list[str] = []
        fits = False
        for pid, discipline in sorted(focus.items()):
            pi = prep.provider_index.get(pid)
            label = names.get(pid, pid)
            days = prep.common_days(ni, pi) if pi is not None and pi in lic else -1
            if discipline != need.service:
                parts.append(
                    f"{label} is {_a(provider_label(discipline))}, not "
                    f"{_a(provider_label(need.service))}"
                )
            elif pi is None or days < 0:
                parts.append(f"{label} holds no active {state} licence (or none at home)")
            elif days == 0:
                parts.append(f"{label} holds {_a(state)} licence but has no time in common")
            elif days < spw:
                parts.append(
                    f"{label} has time in common on {days} "
                    f"{'day' if days == 1 else 'days'}, and {spw} sessions a week need {spw}"
                )
            elif not room(pi):
                parts.append(f"{label} is full")
            else:
                cal, stud = prov_cal[pid], stud_cal[need.student_id]
                free = {
                    d for d, a, b in prep.slots(ni, pi) if cal.is_free(a, b) and stud.is_free(a, b)
                }
                if len(free) >= spw:
                    fits = True
                    parts.append(f"{label} could still take it: run the match again")
                else:
                    parts.append(f"{label} has no free time left in common")
        others = sorted((pi for pi in lic if prep.providers[pi].provider_id not in focus), key=name)
        with_time = [pi for pi in others if prep.common_days(ni, pi) >= spw]
        free_ones = [pi for pi in with_time if room(pi)]
        if free_ones:
            parts.append(
                f"{_list([name(pi) for pi in free_ones])} could serve it: run /match without "
                "provider="
            )
        elif with_time:
            verb = "is" if len(with_time) == 1 else "are"
            parts.append(
                f"{_list([name(pi) for pi in with_time])}, with time in common, {verb} full"
            )
        elif others:
            verb = "holds" if len(others) == 1 else "hold"
            parts.append(
                f"{_list([name(pi) for pi in others])} {verb} {_a(state)} licence but no time "
                "in common"
            )
        else:
            parts.append(f"no other {provider_label(need.service)} holds {_a(state)} licence")
        if fits:
            reason = "not_placed"
        elif free_ones:
            reason = "other_providers"
        elif any(prep.common_days(ni, pi) >= spw for pi in lic):
            reason = "no_capacity"
        else:
            reason = "no_common_time"
        out.append(Unmatched(need.student_id, need.service, reason, "; ".join(parts)))
    return out
