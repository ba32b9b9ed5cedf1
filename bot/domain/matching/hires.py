"""Domain: whom to hire for the needs a proposal leaves unserved.

A greedy set cover over hire profiles: for each (discipline, school state) of the unserved needs, a
hypothetical provider licensed there (their home state), free during every school hour of those
needs and capped at `HIRE_MAX_MINUTES` a week, is matched against them with the greedy matcher,
which keeps each student's sessions in the proposal as taken time. The profile serving the most
is kept, trimmed to the days and hours its sessions use and to the minutes they take, and checked
by running the matcher again with the trimmed profile: `would_serve` is what that re-run serves.
Repeat until nothing more is served or `MAX_HIRES` profiles are found.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from .greedy import greedy_around
from .model import Hire, Interval, MatchInput, Need, Provider, Session
from .prep import merge

HIRE_MAX_MINUTES = 25 * 60
MAX_HIRES = 10
HIRE_ID = "HIRE"


def hypothetical(service: str, state: str, available: Sequence[Interval], minutes: int) -> Provider:
    return Provider(
        provider_id=HIRE_ID,
        discipline=service,
        home_state=state,
        licensed_states=frozenset({state}),
        available=merge(available),
        busy=(),
        capacity_minutes=minutes,
    )


def _match(
    inp: MatchInput, needs: Sequence[Need], hire: Provider, taken: Sequence[Session]
) -> list[Session]:
    """The greedy on these needs and this one provider, with the proposal's sessions of the
    needs' students as taken time."""
    sub = MatchInput(inp.district_id, tuple(needs), (hire,), inp.group_max, inp.group_min)
    return greedy_around(sub, taken)


def _trim(sessions: Sequence[Session]) -> tuple[tuple[str, int, int], ...]:
    """Per school day, from the first session's start to the last one's end."""
    span: dict[str, list[int]] = {}
    for s in sessions:
        got = span.setdefault(s.day, [s.start, s.end])
        got[0], got[1] = min(got[0], s.start), max(got[1], s.end)
    return tuple(sorted(((d, a, b) for d, (a, b) in span.items()), key=lambda w: w[1]))


def _ids(sessions: Sequence[Session]) -> tuple[str, ...]:
    return tuple(sorted({sid for s in sessions for sid in s.student_ids}))


def hires(inp: MatchInput, sessions: Sequence[Session]) -> list[Hire]:
    served = {(sid, s.service) for s in sessions for sid in s.student_ids}
    left = [n for n in inp.needs if n.key not in served]
    taken = list(sessions)
    out: list[Hire] = []
    while left and len(out) < MAX_HIRES:
        groups: dict[tuple[str, str], list[Need]] = defaultdict(list)
        for n in left:
            groups[(n.service, n.state)].append(n)
        best: tuple[int, tuple[str, str], list[Session]] | None = None
        for key in sorted(groups):
            members = groups[key]
            hours = [w for n in members for d in n.school_days for w in d.windows]
            demand = sum(n.sessions_per_week * n.session_minutes for n in members)
            got = _match(
                inp, members, hypothetical(*key, hours, min(demand, HIRE_MAX_MINUTES)), taken
            )
            count = len({sid for s in got for sid in s.student_ids})
            if count and (best is None or count > best[0]):
                best = (count, key, got)
        if best is None:
            break
        _, (service, state), got = best
        # The check: the profile trimmed to what it uses, matched again with just the needs it
        # served, until that run serves them all and uses all of it (each round only shrinks).
        members = groups[(service, state)]
        check = got
        for _ in range(6):
            windows, minutes = _trim(check), sum(s.end - s.start for s in check)
            profile = hypothetical(service, state, [(a, b) for _, a, b in windows], minutes)
            ids = {sid for s in check for sid in s.student_ids}
            members = [n for n in members if n.student_id in ids]
            check = _match(inp, members, profile, taken)
            if _trim(check) == windows and len(check_ids := _ids(check)) == len(members):
                break
        else:
            break  # never settled: suggest nothing rather than something unchecked
        if not check_ids:
            break
        out.append(Hire(service, state, minutes, windows, check_ids, members[0].school_tz_label))
        ids = set(check_ids)
        taken += check
        done = {(sid, service) for sid in ids}
        left = [n for n in left if n.key not in done]
    return out
