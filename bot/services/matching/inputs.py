"""Services: the matcher's input for one district and the coming school week.

Read from the roster (schools, hours, open services, providers, licences, recurring availability,
time off for the proposal's note, existing slots and sessions), then converted to absolute
minutes since that Monday 00:00 UTC.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import matching as mt
from bot.domain.privacy import student_label
from bot.domain.schedule import DAY_LABELS, DAY_NAMES, WeeklyWindow, hhmm, to_instants
from bot.domain.sessions import GENERATED_PREFIXES
from bot.services.matching.common import short_name, zone_abbr
from bot.services.matching.filters import DistrictInfo, Filters
from storage import models as m
from storage.proposals import latest_proposal
from storage.queries import school_zones

# --- building the matcher's input ---------------------------------------------------------


SPARE_WITHIN = timedelta(weeks=8)
"""A provider whose licence for the district's state ends this soon is used only where nobody
else can serve (``bot.domain.matching.sparing``)."""


def target_monday(today: date) -> date:
    """The coming school week: the Monday after ``today``."""
    return today + timedelta(days=7 - today.weekday())


@dataclass(frozen=True)
class Week:
    monday: date

    @property
    def ref(self) -> datetime:
        return datetime(self.monday.year, self.monday.month, self.monday.day, tzinfo=UTC)

    def minutes(self, instant: datetime) -> int:
        return int((instant - self.ref).total_seconds() // 60)

    def window(self, w: WeeklyWindow) -> tuple[int, int]:
        start, end = to_instants(w, self.monday)
        return self.minutes(start), self.minutes(end)

    def local(self, minute: int, tz: str) -> datetime:
        return (self.ref + timedelta(minutes=minute)).astimezone(ZoneInfo(tz))

    def date_of(self, day: int) -> date:
        return self.monday + timedelta(days=day)


@dataclass
class Context:
    """What rendering needs beyond the matcher's own output."""

    district: DistrictInfo
    week: Week
    school_tz: dict[str, str]
    school_name: dict[str, str]
    student_label: dict[str, str]
    student_school: dict[str, str]
    provider_name: dict[str, str]
    provider_tz: dict[str, str]
    provider_slack: dict[str, str | None]
    provider_capacity: dict[str, int]
    provider_committed: dict[str, int]
    need_minutes: dict[tuple[str, str], int]
    total_needs: int
    provider_time_off: dict[str, list[tuple[date, date]]] = field(default_factory=dict)
    # Candidates whose licence for the district's state ends within `SPARE_WITHIN` of today,
    # and when; `spare`: used only where nobody else can serve (not with provider=, which names
    # the one provider to match).
    licence_ending: dict[str, date] = field(default_factory=dict)
    spare: bool = True
    focus: str = ""  # with provider=: their name ("Mo R."), whom alone the proposal matches


def _hours_text(by_day: dict[int, list[tuple[int, int]]], tz: str) -> str:
    spans = {d: (min(a for a, _ in ws), max(b for _, b in ws)) for d, ws in by_day.items()}
    if not spans:
        return f"no school hours set ({zone_abbr(tz)})"
    days = sorted(spans)
    distinct = set(spans.values())
    if len(distinct) == 1 and days == list(range(days[0], days[-1] + 1)):
        a, b = distinct.pop()
        first, last = DAY_LABELS[days[0]], DAY_LABELS[days[-1]]
        label = first if first == last else f"{first}–{last}"
        return f"{label} {hhmm(a)}–{hhmm(b)} {zone_abbr(tz)}"
    parts = [f"{DAY_LABELS[d]} {hhmm(a)}–{hhmm(b)}" for d, (a, b) in sorted(spans.items())]
    return ", ".join(parts) + f" {zone_abbr(tz)}"


def candidate(
    state: str, last_day: date, disciplines: Iterable[str], provider_slack_id: str | None = None
) -> ColumnElement[bool]:
    """Who the matcher considers (a condition on providers): not removed from the roster, of one
    of the needs' disciplines (the named provider only, with ``provider=``), holding a licence
    in the district's state that runs through the week's last school day. Anyone else could
    serve none of the district's needs (its schools are all in its state), so neither their data
    nor a change to it plays any part in the proposal."""
    cond = (
        m.Provider.removed_at.is_(None)
        & m.Provider.discipline.in_(sorted(set(disciplines)) or ["-"])
        & exists().where(
            m.License.provider_id == m.Provider.id,
            m.License.state == state,
            m.License.expires_on > last_day,  # a licence ends on its date
        )
    )
    if provider_slack_id:
        cond = cond & (m.Provider.slack_user_id == provider_slack_id)
    return cond


def _slot_rows(s: Session, provider_ids: list[str]) -> list[tuple[str, m.AssignmentSlot]]:
    q = (
        select(m.Assignment.provider_id, m.AssignmentSlot)
        .join(m.AssignmentSlot, m.AssignmentSlot.assignment_id == m.Assignment.id)
        .where(m.Assignment.provider_id.in_(provider_ids))
    )
    return [(pid, slot) for pid, slot in s.execute(q)]


def build_input(
    s: Session,
    deps: Deps,
    district: DistrictInfo,
    today: date,
    filters: Filters | None = None,
    moving: frozenset[tuple[str, str]] = frozenset(),
) -> tuple[mt.MatchInput, Context]:
    """The district's open services (or, with ``moving``, just those (student, service) pairs,
    assigned or not: a re-match), and every provider who could take them. Everyone else's
    assignments stay as they are and keep their providers' time; the assignments of ``moving``
    free theirs."""
    week = Week(target_monday(today))
    last_day = week.date_of(4)
    school_tz = school_zones(s, [district.id])
    schools = {
        sc.id: sc for sc in s.scalars(select(m.School).where(m.School.district_id == district.id))
    }

    # Open needs: services of the district's students with no assignment yet.
    assigned = select(m.Assignment.student_id, m.Assignment.service)
    taken = {(a, b) for a, b in s.execute(assigned)}
    q = (
        select(m.StudentService, m.Student)
        .join(m.Student, m.Student.id == m.StudentService.student_id)
        .where(m.Student.school_id.in_(list(schools)))
        .order_by(m.Student.id, m.StudentService.service)
    )
    if filters and filters.service:
        q = q.where(m.StudentService.service == filters.service)
    if moving:
        rows = [(svc, st) for svc, st in s.execute(q) if (st.id, svc.service) in moving]
    else:
        rows = [(svc, st) for svc, st in s.execute(q) if (st.id, svc.service) not in taken]
    freed = _assignment_ids(s, moving)

    hours: dict[str, dict[int, list[tuple[int, int]]]] = defaultdict(lambda: defaultdict(list))
    for h in s.scalars(select(m.SchoolHours).where(m.SchoolHours.school_id.in_(list(schools)))):
        hours[h.school_id][h.day].append((h.start_minute, h.end_minute))

    def school_days(school_id: str) -> tuple[mt.SchoolDay, ...]:
        tz = school_tz[school_id]
        out = []
        for day in range(5):
            wins = sorted(hours[school_id].get(day, []))
            if wins:
                out.append(
                    mt.SchoolDay(
                        DAY_NAMES[day],
                        tuple(week.window(WeeklyWindow(day, a, b, tz)) for a, b in wins),
                    )
                )
        return tuple(out)

    days_cache = {sid: school_days(sid) for sid in schools}
    keys = {(st.id, svc.service) for svc, st in rows}
    busy = student_busy(s, week, keys | moving)
    text_cache = {sid: _hours_text(hours[sid], school_tz[sid]) for sid in schools}
    preferred = _previous_pairs(s, district.id)
    needs = tuple(
        mt.Need(
            student_id=st.id,
            service=svc.service,
            school_id=st.school_id,
            district_id=district.id,
            state=district.state,
            sessions_per_week=svc.sessions_per_week,
            session_minutes=svc.session_minutes,
            group_ok=svc.group_ok,
            school_days=days_cache[st.school_id],
            school_tz_label=zone_abbr(school_tz[st.school_id]),
            school_hours_text=text_cache[st.school_id],
            preferred_provider_id=preferred.get((st.id, svc.service)),
            busy=tuple(sorted(busy[st.id])),
        )
        for svc, st in rows
    )
    services_needed = {n.service for n in needs}

    pq = select(m.Provider).where(
        candidate(
            district.state,
            last_day,
            services_needed,
            filters.provider_slack_id if filters else None,
        )
    )
    providers = list(s.scalars(pq.order_by(m.Provider.id)))
    pids = [p.id for p in providers]
    licences: dict[str, set[str]] = defaultdict(set)
    licence_ends: dict[str, date] = {}
    for lic in s.scalars(select(m.License).where(m.License.provider_id.in_(pids))):
        if lic.expires_on > last_day:  # a licence ends on its date
            licences[lic.provider_id].add(lic.state)
            if lic.state == district.state:
                was = licence_ends.get(lic.provider_id)
                licence_ends[lic.provider_id] = max(was or lic.expires_on, lic.expires_on)
    windows: dict[str, list[m.AvailabilityWindow]] = defaultdict(list)
    for w in s.scalars(
        select(m.AvailabilityWindow).where(m.AvailabilityWindow.provider_id.in_(pids))
    ):
        windows[w.provider_id].append(w)
    off: dict[str, list[m.TimeOff]] = defaultdict(list)
    for t in s.scalars(
        select(m.TimeOff).where(
            m.TimeOff.provider_id.in_(pids),
            m.TimeOff.end_date >= week.monday,
            m.TimeOff.start_date <= last_day,
        )
    ):
        off[t.provider_id].append(t)

    all_school_tz = school_zones(s)
    slot_busy: dict[str, list[tuple[int, int]]] = defaultdict(list)
    committed: dict[str, int] = defaultdict(int)
    groups_seen: set[tuple[str, str]] = set()
    slotted: set[int] = set()
    for pid, slot in _slot_rows(s, pids):
        if slot.assignment_id in freed:
            continue
        interval = week.window(
            WeeklyWindow(slot.day, slot.start_minute, slot.end_minute, slot.timezone)
        )
        slot_busy[pid].append(interval)
        slotted.add(slot.assignment_id)
        if slot.group_key is None or (pid, f"{slot.group_key}:{slot.day}") not in groups_seen:
            committed[pid] += slot.end_minute - slot.start_minute
            if slot.group_key is not None:
                groups_seen.add((pid, f"{slot.group_key}:{slot.day}"))
    existing_schools: dict[str, set[str]] = defaultdict(set)
    existing_districts: dict[str, set[str]] = defaultdict(set)
    aq = (
        select(m.Assignment, m.StudentService, m.Student.school_id, m.School.district_id)
        .join(
            m.StudentService,
            (m.StudentService.student_id == m.Assignment.student_id)
            & (m.StudentService.service == m.Assignment.service),
        )
        .join(m.Student, m.Student.id == m.Assignment.student_id)
        .join(m.School, m.School.id == m.Student.school_id)
        .where(m.Assignment.provider_id.in_(pids))
    )
    for a, svc, school_id, district_id in s.execute(aq):
        if a.id in freed:
            continue
        existing_schools[a.provider_id].add(school_id)
        existing_districts[a.provider_id].add(district_id)
        if a.id not in slotted:  # an imported assignment with no times yet still takes hours
            committed[a.provider_id] += svc.sessions_per_week * svc.session_minutes
    dated_busy = _dated_sessions(s, pids, week)

    mproviders = []
    for p in providers:
        avail: list[tuple[int, int]] = []
        # The plan is a recurring week: time off in this week does not take a provider out of
        # it (those sessions are cancelled instead, and the proposal says so).
        for day in range(7):
            d = week.date_of(day)
            for w in windows[p.id]:
                valid = (w.effective_from is None or w.effective_from <= d) and (
                    w.effective_to is None or w.effective_to >= d
                )
                if valid and w.day == day:
                    avail.append(
                        week.window(WeeklyWindow(w.day, w.start_minute, w.end_minute, w.timezone))
                    )
        capacity = int(Decimal(p.weekly_hours) * 60) - committed[p.id]
        mproviders.append(
            mt.Provider(
                provider_id=p.id,
                discipline=p.discipline,
                home_state=p.home_state,
                licensed_states=frozenset(licences[p.id]),
                available=tuple(sorted(avail)),
                busy=tuple(sorted(slot_busy[p.id] + dated_busy[p.id])),
                capacity_minutes=max(0, capacity),
                existing_school_ids=frozenset(existing_schools[p.id]),
                existing_district_ids=frozenset(existing_districts[p.id]),
            )
        )

    students = {st.id: st for _, st in rows}
    ctx = Context(
        district=district,
        week=week,
        school_tz=all_school_tz,
        school_name={sid: sc.name for sid, sc in schools.items()},
        student_label={
            sid: _student_label(st, deps.settings.show_student_names)
            for sid, st in students.items()
        },
        student_school={sid: st.school_id for sid, st in students.items()},
        provider_name={p.id: p.name for p in providers},
        provider_tz={p.id: p.timezone for p in providers},
        provider_slack={p.id: p.slack_user_id for p in providers},
        provider_capacity={p.id: int(Decimal(p.weekly_hours) * 60) for p in providers},
        provider_committed={p.id: committed[p.id] for p in providers},
        need_minutes={(n.student_id, n.service): n.session_minutes for n in needs},
        total_needs=len(needs),
        provider_time_off={
            pid: sorted((t.start_date, t.end_date) for t in items) for pid, items in off.items()
        },
        licence_ending={p: d for p, d in licence_ends.items() if d <= today + SPARE_WITHIN},
        spare=not (filters and filters.provider_slack_id),
        focus=_focus_name(s, filters),
    )
    inp = mt.MatchInput(
        district_id=district.id,
        needs=needs,
        providers=tuple(mproviders),
        group_max=deps.settings.group_max,
    )
    return inp, ctx


def _focus_name(s: Session, filters: Filters | None) -> str:
    if filters is None or not filters.provider_slack_id:
        return ""
    name = s.scalar(
        select(m.Provider.name).where(m.Provider.slack_user_id == filters.provider_slack_id)
    )
    return short_name(name) if name else "that provider"


def _assignment_ids(s: Session, pairs: frozenset[tuple[str, str]]) -> set[int]:
    if not pairs:
        return set()
    q = select(m.Assignment.id, m.Assignment.student_id, m.Assignment.service).where(
        m.Assignment.student_id.in_(sorted({sid for sid, _ in pairs}))
    )
    return {aid for aid, sid, service in s.execute(q) if (sid, service) in pairs}


def _student_label(st: m.Student, names: bool) -> str:
    return student_label(st.id, st.first_name, st.last_name, names)


def _dated_sessions(s: Session, pids: list[str], week: Week) -> dict[str, list[tuple[int, int]]]:
    """Dated sessions already on calendars that week and not from a weekly slot."""
    start = week.ref
    end = start + timedelta(days=7)
    out: dict[str, list[tuple[int, int]]] = defaultdict(list)
    q = select(
        m.TherapySession.provider_id, m.TherapySession.starts_at, m.TherapySession.minutes
    ).where(
        m.TherapySession.provider_id.in_(pids),
        m.TherapySession.starts_at >= start,
        m.TherapySession.starts_at < end,
        m.TherapySession.status == "scheduled",
        # Sessions generated from weekly slots are already busy time through the slots.
        *(~m.TherapySession.session_key.startswith(p) for p in GENERATED_PREFIXES),
    )
    for pid, starts_at, minutes in s.execute(q):
        a = week.minutes(starts_at)
        out[pid].append((a, a + minutes))
    return out


def student_busy(
    s: Session,
    week: Week,
    matching: set[tuple[str, str]] | frozenset[tuple[str, str]],
    exclude_proposal: str | None = None,
) -> dict[str, list[tuple[int, int]]]:
    """The time that stays taken for the students of ``matching`` (the (student, service) pairs
    being matched), as provider busy time is built: the weekly slots of their other assignments
    (any discipline, whichever provider; not those ``exclude_proposal`` made), and the dated
    sessions on their calendar that week not from a weekly slot. A student cannot be in two
    sessions at once."""
    out: dict[str, list[tuple[int, int]]] = defaultdict(list)
    student_ids = sorted({sid for sid, _ in matching})
    if not student_ids:
        return out
    q = (
        select(m.Assignment.student_id, m.Assignment.service, m.AssignmentSlot)
        .join(m.AssignmentSlot, m.AssignmentSlot.assignment_id == m.Assignment.id)
        .where(m.Assignment.student_id.in_(student_ids))
    )
    if exclude_proposal is not None:
        q = q.where(
            (m.Assignment.proposal_id.is_(None)) | (m.Assignment.proposal_id != exclude_proposal)
        )
    for sid, service, slot in s.execute(q):
        if (sid, service) not in matching:
            out[sid].append(
                week.window(
                    WeeklyWindow(slot.day, slot.start_minute, slot.end_minute, slot.timezone)
                )
            )
    ts = m.TherapySession
    dated = select(ts.student_id, ts.starts_at, ts.minutes).where(
        ts.student_id.in_(student_ids),
        ts.starts_at >= week.ref,
        ts.starts_at < week.ref + timedelta(days=7),
        ts.status == "scheduled",
        *(~ts.session_key.startswith(p) for p in GENERATED_PREFIXES),
    )
    for sid, starts_at, minutes in s.execute(dated):
        a = week.minutes(starts_at)
        out[sid].append((a, a + minutes))
    return out


def _previous_pairs(s: Session, district_id: str) -> dict[tuple[str, str], str]:
    """Pairs from the latest undecided proposal, so a re-run keeps what it can (objective 2)."""
    latest = latest_proposal(s, district_id)
    if latest is None:
        return {}
    pairs: dict[tuple[str, str], str] = {}
    for sess in latest.payload.get("sessions", []):
        for sid in sess["student_ids"]:
            pairs[(sid, sess["service"])] = sess["provider_id"]
    return pairs
