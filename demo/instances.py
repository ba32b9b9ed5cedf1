"""Demo data: seeded synthetic matching instances (the matcher's input) for tests and benchmarks.

Schools keep Mon-Fri hours of about 08:00-15:00 local in one of five US zones (UTC-9 Alaska to UTC-5
Eastern); providers live in those zones too and offer 3-5 days of 4-6 local hours. Most providers
hold licences for the districts' states but not all, a few lack their own home-state licence, some
already hold sessions elsewhere. The mix is tuned so that a district-sized instance is hard but
feasible: providers' hours overlap the schools' hours only partly (Alaska against the East Coast),
so the order and placement of sessions matter and the greedy leaves some students unserved.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from bot.domain.matching.model import Interval, MatchInput, Need, Provider, SchoolDay
from bot.domain.schedule import hhmm
from bot.domain.vocabulary import SCHOOL_DAYS

ZONES: dict[int, tuple[str, tuple[str, ...]]] = {
    -9: ("AKT", ("AK",)),
    -8: ("PT", ("WA", "OR", "CA", "NV")),
    -7: ("MT", ("AZ", "UT", "CO", "NM", "ID", "MT")),
    -6: ("CT", ("TX", "IL", "MN", "WI", "MO", "OK", "KS", "IA")),
    -5: ("ET", ("NY", "FL", "GA", "OH", "PA", "MI", "NC", "VA", "MA", "NJ")),
}
STATE_OFFSET = {s: off for off, (_, states) in ZONES.items() for s in states}
ALL_STATES = tuple(STATE_OFFSET)
DAYS = SCHOOL_DAYS
BELLS = ((435, 825), (480, 870), (525, 915))  # 07:15-13:45, 08:00-14:30, 08:45-15:15

# service: (share of needs, sessions/week weights for 1..3, minutes, minutes weights, P(group_ok))
SERVICE_MIX: dict[
    str, tuple[float, tuple[float, ...], tuple[int, ...], tuple[float, ...], float]
] = {
    "slp": (0.45, (0.35, 0.5, 0.15), (30, 45, 60), (0.7, 0.2, 0.1), 0.6),
    "ot": (0.20, (0.6, 0.4), (30, 45, 60), (0.6, 0.3, 0.1), 0.4),
    "pt": (0.08, (0.6, 0.4), (30, 45, 60), (0.6, 0.3, 0.1), 0.1),
    "psych": (0.12, (1.0,), (45, 60), (0.6, 0.4), 0.0),
    "mh": (0.15, (0.7, 0.3), (30, 45, 60), (0.5, 0.3, 0.2), 0.3),
}


@dataclass
class _Group:
    """A planted group session that more students may join."""

    provider: int
    day: str
    iv: Interval
    size: int


def _abs(day: int, local_minute: int, offset_h: int) -> int:
    """Absolute minutes since Monday 00:00 UTC for a local wall time in a fixed-offset zone."""
    return day * 1440 + local_minute - offset_h * 60


def _demand(needs: list[Need], services: list[str]) -> dict[str, int]:
    """Minutes a week each service asks for."""
    demand = {s: 0 for s in services}
    for n in needs:
        demand[n.service] += n.sessions_per_week * n.session_minutes
    return demand


def _disciplines(rng: random.Random, demand: dict[str, int], n_providers: int) -> list[str]:
    """One discipline per provider, in proportion to the minutes each service demands."""
    total = sum(demand.values()) or 1
    disciplines: list[str] = []
    for s in demand:
        disciplines += [s] * max(1, round(n_providers * demand[s] / total))
    while len(disciplines) > n_providers:
        disciplines.remove(max(set(disciplines), key=disciplines.count))
    while len(disciplines) < n_providers:
        disciplines.append("slp")
    rng.shuffle(disciplines)
    return disciplines


def synthetic_instance(
    n_needs: int,
    n_providers: int,
    seed: int,
    *,
    district_state: str | None = None,
    load_share: tuple[float, float] = (0.5, 0.9),
    slack_share: tuple[float, float] = (0.0, 0.05),
    avail_ratio: tuple[float, float] = (1.0, 1.15),
    extra_licence: float = 0.1,
) -> MatchInput:
    rng = random.Random(seed)
    n_districts = max(1, round(n_needs / 300))
    states = []
    for i in range(n_districts):
        if i == 0:
            states.append(district_state or ("AK" if seed % 2 == 0 else rng.choice(ALL_STATES)))
        else:
            states.append(rng.choice(ALL_STATES))
    districts = [(f"D{i + 1}", st) for i, st in enumerate(states)]

    # Schools: ~15 needs each, hours ~08:00-15:00 local, some with a lunch gap or early release.
    schools: list[tuple[str, str, str, int, tuple[SchoolDay, ...], str]] = []
    per_district = max(2, n_needs // (15 * n_districts))
    for did, st in districts:
        off = STATE_OFFSET[st]
        label = ZONES[off][0]
        for k in range(per_district):
            # Bell schedules differ by level: high schools start early, elementary late.
            start, end = rng.choice(BELLS)
            start += rng.choice((-15, 0, 15))
            end += rng.choice((-15, 0, 15))
            gap = rng.random() < 0.3
            early_wed = rng.random() < 0.2
            days = []
            for di, d in enumerate(DAYS):
                e = 780 if (early_wed and d == "wed") else end
                windows = ((start, 690), (735, e)) if gap else ((start, e),)
                days.append(
                    SchoolDay(d, tuple((_abs(di, a, off), _abs(di, b, off)) for a, b in windows))
                )
            text = f"Mon–Fri {hhmm(start)}–{hhmm(end)} {label}"
            schools.append((f"{did}-S{k + 1}", did, st, off, tuple(days), text))

    services = list(SERVICE_MIX)
    weights = [SERVICE_MIX[s][0] for s in services]
    needs: list[Need] = []
    sid = 0
    while len(needs) < n_needs:
        sid += 1
        school_id, did, st, off, days_, text = rng.choice(schools)
        k = rng.choices((1, 2, 3), (0.8, 0.17, 0.03))[0]
        chosen: list[str] = []
        while len(chosen) < min(k, n_needs - len(needs)):
            s = rng.choices(services, weights)[0]
            if s not in chosen:
                chosen.append(s)
        for s in chosen:
            _, spw_w, mins, mins_w, group_p = SERVICE_MIX[s]
            needs.append(
                Need(
                    student_id=f"ST{sid:05d}",
                    service=s,
                    school_id=school_id,
                    district_id=did,
                    state=st,
                    sessions_per_week=rng.choices(range(1, len(spw_w) + 1), spw_w)[0],
                    session_minutes=rng.choices(mins, mins_w)[0],
                    group_ok=rng.random() < group_p,
                    school_days=days_,
                    school_tz_label=ZONES[off][0],
                    school_hours_text=text,
                )
            )

    # Providers per discipline in proportion to demanded minutes.
    disciplines = _disciplines(rng, _demand(needs, services), n_providers)

    district_states = sorted(set(states))
    homes = [
        rng.choice(district_states) if rng.random() < 0.35 else rng.choice(ALL_STATES)
        for _ in disciplines
    ]
    avail: list[list[Interval]] = []
    weekly: list[int] = []
    for home in homes:
        off = STATE_OFFSET[home]
        blocks = []
        for di in sorted(rng.sample(range(5), rng.randint(3, 5))):
            start = rng.choice(range(420, 751, 30))
            length = rng.choice(range(240, 361, 30))
            blocks.append((_abs(di, start, off), _abs(di, start + length, off)))
        avail.append(blocks)
        # Weekly hours fill most of the availability: free time is scarce, not just capacity.
        offered = sum(b - a for a, b in blocks)
        weekly.append(
            min(rng.randint(10, 30) * 60, int(offered / rng.uniform(*avail_ratio)) // 60 * 60)
        )
    full_elsewhere = [rng.random() < 0.03 for _ in disciplines]
    no_home_licence = [rng.random() < 0.04 for _ in disciplines]

    # Plant a hidden solution: most needs get a provider and distinct-day slots that fit every
    # rule, and licences and capacities are made to match it. Capacity then exceeds the planted
    # load only by a little slack, so the instance is feasible but tight.
    share = [rng.uniform(*load_share) for _ in disciplines]
    planted_load = [0] * len(disciplines)
    taken: list[list[Interval]] = [[] for _ in disciplines]
    student_taken: dict[str, list[Interval]] = {}
    planted: dict[int, int] = {}
    planted_states: list[set[str]] = [set() for _ in disciplines]
    by_discipline: dict[str, list[int]] = {}
    for j, d in enumerate(disciplines):
        if not full_elsewhere[j] and not no_home_licence[j]:
            by_discipline.setdefault(d, []).append(j)

    def free(iv: Interval, used: list[Interval]) -> bool:
        return all(iv[1] <= a or b <= iv[0] for a, b in used)

    groups: dict[tuple[str, str, int], list[_Group]] = {}

    def plant(i: int, j: int) -> bool:
        n = needs[i]
        m = n.session_minutes
        stud = student_taken.setdefault(n.student_id, [])
        key = (n.school_id, n.service, m)
        joins: list[_Group] = []
        used_days: set[str] = set()
        if n.group_ok:
            for g in groups.get(key, []):
                if (
                    g.provider == j
                    and g.day not in used_days
                    and g.size < 4
                    and free(g.iv, stud)
                    and len(joins) < n.sessions_per_week
                ):
                    joins.append(g)
                    used_days.add(g.day)
        k = n.sessions_per_week - len(joins)
        if planted_load[j] + k * m > weekly[j] * share[j]:
            return False
        days = [sd for sd in n.school_days if sd.day not in used_days]
        rng.shuffle(days)
        chosen: list[tuple[str, Interval]] = []
        for sd in days:
            if len(chosen) == k:
                break
            options = []
            for wa, wb in sd.windows:
                for aa, ab in avail[j]:
                    a, b = max(wa, aa), min(wb, ab)
                    for s0 in range(-((-a) // 15) * 15, b - m + 1, 15):
                        iv = (s0, s0 + m)
                        if free(iv, taken[j]) and free(iv, stud):
                            options.append(iv)
            if options:
                chosen.append((sd.day, rng.choice(options)))
        if len(chosen) < k:
            return False
        for g in joins:
            g.size += 1
            stud.append(g.iv)
        for day, iv in chosen:
            taken[j].append(iv)
            stud.append(iv)
            if n.group_ok:
                groups.setdefault(key, []).append(_Group(j, day, iv, 1))
        planted_load[j] += k * m
        planted[i] = j
        planted_states[j].add(n.state)
        return True

    for i in rng.sample(range(len(needs)), len(needs)):
        n = needs[i]
        cands = list(by_discipline.get(n.service, []))
        rng.shuffle(cands)
        # Group-capable students join a planted group where one exists, as a planner would.
        key = (n.school_id, n.service, n.session_minutes)
        holders = {g.provider for g in groups.get(key, [])} if n.group_ok else set()
        cands.sort(key=lambda j: j not in holders)
        for j in cands:
            if plant(i, j):
                break

    providers: list[Provider] = []
    for j, disc in enumerate(disciplines):
        home = homes[j]
        lic = set(planted_states[j])
        if not no_home_licence[j]:
            lic.add(home)
        for st in district_states:
            if rng.random() < extra_licence:
                lic.add(st)
        lic.update(rng.sample(ALL_STATES, rng.randint(0, 3)))
        if no_home_licence[j]:
            lic.discard(home)
        slack = int(planted_load[j] * rng.uniform(*slack_share)) // 15 * 15
        capacity = 0 if full_elsewhere[j] else min(weekly[j], planted_load[j] + slack)
        if planted_load[j] == 0 and not full_elsewhere[j]:
            capacity = min(weekly[j], rng.choice((60, 120, 180, 240)))
        # Their caseload elsewhere: the rest of their weekly hours, held as busy sessions that
        # fragment the free time (outside the planted sessions, so the plant stays feasible).
        busy: list[Interval] = []
        committed = 0
        target = weekly[j] - capacity
        for _ in range(600):
            if committed >= target:
                break
            a, b = rng.choice(avail[j])
            length = rng.choice((30, 45, 60))
            if b - a < length:
                continue
            s0 = a + rng.randrange(0, b - a - length + 1, 15)
            iv = (s0, s0 + length)
            if free(iv, busy) and free(iv, taken[j]):
                busy.append(iv)
                committed += length
        providers.append(
            Provider(
                provider_id=f"P{j + 1:04d}",
                discipline=disc,
                home_state=home,
                licensed_states=frozenset(lic),
                available=tuple(avail[j]),
                busy=tuple(sorted(busy)),
                capacity_minutes=capacity,
            )
        )

    # A tenth of the needs already have a provider of the right discipline and licence.
    by_key: dict[tuple[str, str], list[int]] = {}
    existing_schools: dict[int, set[str]] = {}
    existing_districts: dict[int, set[str]] = {}
    out_needs: list[Need] = []
    for i, n in enumerate(needs):
        if rng.random() < 0.1:
            lic_key = (n.service, n.state)
            if lic_key not in by_key:
                by_key[lic_key] = [
                    j
                    for j, p in enumerate(providers)
                    if p.discipline == n.service
                    and n.state in p.licensed_states
                    and p.home_state in p.licensed_states
                ]
            if i in planted and rng.random() < 0.7:
                j = planted[i]
            elif by_key[lic_key]:
                j = rng.choice(by_key[lic_key])
            else:
                j = -1
            if j >= 0:
                existing_schools.setdefault(j, set()).add(n.school_id)
                existing_districts.setdefault(j, set()).add(n.district_id)
                n = Need(**{**n.__dict__, "preferred_provider_id": providers[j].provider_id})
        out_needs.append(n)
    providers = [
        Provider(
            **{
                **p.__dict__,
                "existing_school_ids": frozenset(existing_schools.get(j, ())),
                "existing_district_ids": frozenset(existing_districts.get(j, ())),
            }
        )
        for j, p in enumerate(providers)
    ]
    return MatchInput(
        district_id=districts[0][0] if n_districts == 1 else "ALL",
        needs=tuple(out_needs),
        providers=tuple(providers),
    )


# ----------------------------------------------------------------------------------------------
# Harder instances, built like real districts


HARD_MIX: dict[str, float] = {"slp": 0.5, "ot": 0.25, "mh": 0.25}
AVAIL_DAYS = (2, 5)
AVAIL_LEN = (150, 330)
HARD_TUNED_SEEDS: tuple[int, ...] = (0, 1, 2)
HARD_HELD_OUT_SEEDS: tuple[int, ...] = (1001, 1002, 1003)
"""Seeds the matcher was never tuned on: benchmarks report them apart from the tuned ones."""


def hard_instance(
    n_needs: int,
    n_providers: int,
    seed: int,
    *,
    capacity_ratio: float = 1.3,
    district_share: float = 0.4,
    second_licence: float = 0.45,
) -> MatchInput:
    """A district (or a region of several districts) where licensure and time are tight.

    Most providers hold a licence in one or two states: their home state, and sometimes one
    more. They live in all five zones and offer 3-5 local days of 3-6 hours, so a provider on
    the East Coast meets an Alaska school for a couple of hours a day at most. Sessions last 30,
    45 or 60 minutes, 1-3 times a week, and some SLP and OT students may be seen in groups. Weekly
    hours are drawn so that, per discipline, the capacity of the providers licensed in the
    districts' states is about `capacity_ratio` times the demanded minutes. Nothing is planted:
    the optimum is unknown, and the relaxation bound says how far any answer is from it.
    """
    rng = random.Random(seed * 7919 + 17)
    n_districts = max(1, round(n_needs / 350))
    pool = [s for s in ALL_STATES if s != "AK"]
    states = ["AK" if seed % 3 == 0 else rng.choice(pool)]
    while len(states) < n_districts:
        st = rng.choice(ALL_STATES)
        if st not in states:
            states.append(st)
    districts = [(f"D{i + 1}", st) for i, st in enumerate(states)]

    schools: list[tuple[str, str, str, int, tuple[SchoolDay, ...], str]] = []
    per_district = max(2, n_needs // (20 * n_districts))
    for did, st in districts:
        off = STATE_OFFSET[st]
        label = ZONES[off][0]
        for k in range(per_district):
            start, end = rng.choice(BELLS)
            start += rng.choice((-15, 0, 15, 30))
            end += rng.choice((-30, -15, 0, 15))
            gap = rng.random() < 0.4
            early_wed = rng.random() < 0.25
            days = []
            for di, d in enumerate(DAYS):
                e = 780 if (early_wed and d == "wed") else end
                windows = ((start, 690), (740, e)) if gap else ((start, e),)
                days.append(
                    SchoolDay(d, tuple((_abs(di, a, off), _abs(di, b, off)) for a, b in windows))
                )
            text = f"Mon–Fri {hhmm(start)}–{hhmm(end)} {label}"
            schools.append((f"{did}-S{k + 1}", did, st, off, tuple(days), text))

    services = list(HARD_MIX)
    weights = list(HARD_MIX.values())
    needs: list[Need] = []
    i = 0
    while len(needs) < n_needs:
        i += 1
        school_id, did, st, off, days_, text = rng.choice(schools)
        chosen = [rng.choices(services, weights)[0]]
        if rng.random() < 0.15 and len(needs) + 1 < n_needs:
            other = rng.choices(services, weights)[0]
            if other not in chosen:
                chosen.append(other)
        for s in chosen:
            needs.append(
                Need(
                    student_id=f"ST{i:05d}",
                    service=s,
                    school_id=school_id,
                    district_id=did,
                    state=st,
                    sessions_per_week=rng.choices((1, 2, 3), (0.4, 0.45, 0.15))[0],
                    session_minutes=rng.choices((30, 45, 60), (0.55, 0.3, 0.15))[0],
                    group_ok=s != "mh" and rng.random() < 0.45,
                    school_days=days_,
                    school_tz_label=ZONES[off][0],
                    school_hours_text=text,
                )
            )

    demand = _demand(needs, services)
    disciplines = _disciplines(rng, demand, n_providers)

    district_states = sorted(set(states))
    raw: list[tuple[str, str, frozenset[str], tuple[Interval, ...]]] = []
    for disc in disciplines:
        home = rng.choice(district_states) if rng.random() < district_share else rng.choice(pool)
        lic = {home}
        if rng.random() < second_licence:
            lic.add(rng.choice(district_states) if rng.random() < 0.75 else rng.choice(pool))
        off = STATE_OFFSET[home]
        blocks = []
        for di in sorted(rng.sample(range(5), rng.randint(AVAIL_DAYS[0], AVAIL_DAYS[1]))):
            start = rng.choice(range(420, 781, 30))
            length = rng.choice(range(AVAIL_LEN[0], AVAIL_LEN[1] + 1, 30))
            blocks.append((_abs(di, start, off), _abs(di, start + length, off)))
        raw.append((disc, home, frozenset(lic), tuple(blocks)))

    # Weekly hours: per discipline, the providers who can practise in a district share the
    # demanded minutes times capacity_ratio, in random proportions, never above what they offer.
    useful: dict[str, list[int]] = {s: [] for s in services}
    for j, (disc, home, held, _) in enumerate(raw):
        if home in held and held & set(district_states):
            useful[disc].append(j)
    weekly = [0] * len(raw)
    for s, js in useful.items():
        if not js:
            continue
        shares = [rng.uniform(0.5, 1.5) for _ in js]
        scale = capacity_ratio * demand[s] / sum(shares)
        for j, sh in zip(js, shares, strict=True):
            offered = sum(b - a for a, b in raw[j][3])
            weekly[j] = min(offered, int(sh * scale) // 30 * 30)
    for j in range(len(raw)):
        if weekly[j] == 0:
            weekly[j] = rng.choice((300, 600, 900))

    providers = tuple(
        Provider(
            provider_id=f"P{j + 1:04d}",
            discipline=disc,
            home_state=home,
            licensed_states=lic,
            available=blocks,
            busy=(),
            capacity_minutes=weekly[j],
        )
        for j, (disc, home, lic, blocks) in enumerate(raw)
    )
    return MatchInput(
        district_id=districts[0][0] if n_districts == 1 else "ALL",
        needs=tuple(needs),
        providers=providers,
    )
