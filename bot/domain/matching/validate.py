"""Domain: an independent checker of a match result against every hard matching rule.

It shares no code with the solvers on purpose: it recomputes each rule from the raw input, so a bug
in the solvers' candidate slots or bookkeeping shows up here as a sentence rather than being
reproduced. An empty list means the result is valid.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from .model import Interval, MatchInput, MatchResult, Need, Session


def _merged(intervals: tuple[Interval, ...]) -> list[Interval]:
    # Back-to-back availability rows ("8-9", "9-10") are one stretch of free time.
    out: list[Interval] = []
    for a, b in sorted(intervals):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _inside(start: int, end: int, intervals: list[Interval] | tuple[Interval, ...]) -> bool:
    return any(a <= start and end <= b for a, b in intervals)


def _name(s: Session) -> str:
    who = ",".join(s.student_ids)
    return f"session {s.provider_id}/{s.service}/{who} {s.day} [{s.start},{s.end})"


def _overlaps(items: list[tuple[int, int, str]]) -> list[tuple[str, str]]:
    clashes = []
    items = sorted(items)
    last_end, last_name = None, ""
    for s, e, name in items:
        if last_end is not None and s < last_end:
            clashes.append((last_name, name))
        if last_end is None or e > last_end:
            last_end, last_name = e, name
    return clashes


def validate(inp: MatchInput, result: MatchResult) -> list[str]:
    errors: list[str] = []
    providers = {p.provider_id: p for p in inp.providers}
    needs: dict[tuple[str, str], Need] = {}
    for n in inp.needs:
        if (n.student_id, n.service) in needs:
            errors.append(f"input lists student {n.student_id} for {n.service} twice")
        needs[(n.student_id, n.service)] = n
    available = {pid: _merged(p.available) for pid, p in providers.items()}

    by_need: dict[tuple[str, str], list[Session]] = defaultdict(list)
    by_provider: dict[str, list[Session]] = defaultdict(list)
    by_student: dict[str, list[Session]] = defaultdict(list)
    for s in result.sessions:
        name = _name(s)
        minutes = s.end - s.start
        if minutes <= 0:
            errors.append(f"{name} has no length")
        p = providers.get(s.provider_id)
        if p is None:
            errors.append(f"{name} names an unknown provider")
        else:
            by_provider[s.provider_id].append(s)
            if p.discipline != s.service:
                errors.append(f"{name}: provider's discipline is {p.discipline}")
            if not _inside(s.start, s.end, available[s.provider_id]):
                errors.append(f"{name} is outside the provider's availability")
            if any(a < s.end and s.start < b for a, b in p.busy):
                errors.append(f"{name} overlaps the provider's busy time")
        size = len(s.student_ids)
        if size == 0:
            errors.append(f"{name} has no students")
        if len(set(s.student_ids)) != size:
            errors.append(f"{name} lists a student twice")
        if size > inp.group_max:
            errors.append(f"{name} has {size} students, more than {inp.group_max}")
        if 1 < size < inp.group_min:
            errors.append(f"{name} has {size} students, fewer than {inp.group_min}")
        for sid in dict.fromkeys(s.student_ids):
            nd = needs.get((sid, s.service))
            if nd is None:
                errors.append(f"{name}: student {sid} has no {s.service} need")
                continue
            by_need[nd.key].append(s)
            by_student[sid].append(s)
            if nd.school_id != s.school_id:
                errors.append(f"{name}: student {sid} attends school {nd.school_id}")
            if nd.session_minutes != minutes:
                errors.append(f"{name}: student {sid} needs {nd.session_minutes}-minute sessions")
            if size > 1 and not nd.group_ok:
                errors.append(f"{name}: student {sid} may not be seen in a group")
            if any(a < s.end and s.start < b for a, b in nd.busy):
                errors.append(f"{name} overlaps student {sid}'s sessions of other services")
            windows = [w for d in nd.school_days if d.day == s.day for w in d.windows]
            if not _inside(s.start, s.end, windows):
                errors.append(f"{name} is outside school hours for student {sid} on {s.day}")
            if p is not None and not (
                p.discipline == nd.service
                and nd.state in p.licensed_states
                and p.home_state in p.licensed_states
            ):
                errors.append(
                    f"{name}: provider is not licensed in both {nd.state} (school) and "
                    f"{p.home_state} (home)"
                )

    for pid, items in by_provider.items():
        for a, b in _overlaps([(s.start, s.end, _name(s)) for s in items]):
            errors.append(f"provider {pid} double-booked: {a} overlaps {b}")
        used = sum(s.end - s.start for s in items)
        if used > providers[pid].capacity_minutes:
            errors.append(
                f"provider {pid} has {used} minutes of sessions, over the capacity of "
                f"{providers[pid].capacity_minutes}"
            )

    for sid, items in by_student.items():
        for a, b in _overlaps([(s.start, s.end, _name(s)) for s in items]):
            errors.append(f"student {sid} in two sessions at once: {a} and {b}")

    unmatched = Counter((u.student_id, u.service) for u in result.unmatched)
    for key, count in unmatched.items():
        if key not in needs:
            errors.append(f"unmatched lists student {key[0]} for {key[1]}, which is not a need")
        elif count > 1:
            errors.append(f"unmatched lists student {key[0]} for {key[1]} {count} times")
    for key, n in needs.items():
        got = by_need.get(key, [])
        label = f"student {key[0]} for {key[1]}"
        if not got:
            if key not in unmatched:
                errors.append(f"{label} is neither served nor listed unmatched")
            continue
        if key in unmatched:
            errors.append(f"{label} is served but also listed unmatched")
        if len(got) != n.sessions_per_week:
            errors.append(f"{label} has {len(got)} sessions, needs {n.sessions_per_week}")
        days = [s.day for s in got]
        if len(set(days)) != len(days):
            errors.append(f"{label} has two sessions on one school day")
        if len({s.provider_id for s in got}) > 1:
            errors.append(f"{label} is split between providers")
    return errors
