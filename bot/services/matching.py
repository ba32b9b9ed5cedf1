"""Services: caseload proposals (/match), their approval, and the `match` CLI.

The service turns one district's open IEP services and every eligible provider into the
matcher's input for the coming school week (absolute minutes since that Monday 00:00 UTC),
stores the proposal with a fingerprint of everything it was computed from, and approves it in
one transaction: a double click, a second manager or a stale proposal changes nothing.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import matching as mt
from bot.domain.privacy import student_label
from bot.domain.schedule import DAY_LABELS, DAY_NAMES, WeeklyWindow, hhmm, to_instants
from bot.domain.sessions import GENERATED_PREFIXES
from bot.services.errors import Conflict, InvalidInput, NotFound
from bot.services.people import identify, require_manager
from storage import models as m
from storage import outbox
from storage.queries import school_zones

KIND = "match"
APPROVAL_WORKER = "approve"  # the outbox lease holder while an approval sends its DMs
APPROVAL_LEASE = timedelta(minutes=2)
ZONE_ABBR = {
    "America/Los_Angeles": "PT",
    "America/Denver": "MT",
    "America/Boise": "MT",
    "America/Phoenix": "Arizona time",
    "America/Chicago": "CT",
    "America/New_York": "ET",
    "America/Detroit": "ET",
    "America/Anchorage": "AKT",
    "America/Juneau": "AKT",
    "Pacific/Honolulu": "HT",
}
SERVICES = ("slp", "ot", "pt", "psych", "mh")
SERVICE_LABEL = {
    "slp": "SLP",
    "ot": "OT",
    "pt": "PT",
    "psych": "School psych",
    "mh": "Mental health",
}


class Stale(Conflict):
    """The roster, an availability or an assignment changed since the proposal was computed."""


def hours(minutes: int) -> str:
    """90 -> '1.5', 230 -> '3.83' (hours, at most two decimals, no trailing zeros)."""
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def zone_abbr(tz: str) -> str:
    return ZONE_ABBR.get(tz, tz)


# --- filters ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    district: str
    service: str | None = None
    provider_slack_id: str | None = None


USAGE = (
    "Usage: `/match district=anchorage` — optionally add `service=slp` and `provider=@someone`.\n"
    "The district can be its id or a word of its name."
)


def parse_filters(text: str) -> Filters:
    values: dict[str, str] = {}
    for token in (text or "").split():
        key, sep, value = token.partition("=")
        key = key.lower()
        if not sep or not value or key not in ("district", "service", "provider"):
            raise InvalidInput(f"I don't understand `{token[:40]}`.\n{USAGE}")
        if key in values:
            raise InvalidInput(f"`{key}=` appears twice.\n{USAGE}")
        values[key] = value
    if "district" not in values:
        raise InvalidInput(USAGE)
    service = values.get("service")
    if service is not None and service.lower() not in SERVICES:
        raise InvalidInput(f"`service={service[:20]}` is not a service ({', '.join(SERVICES)}).")
    provider = values.get("provider")
    if provider is not None:
        provider = provider.strip("<>@").split("|")[0]
        if provider[:1] not in ("U", "W"):
            raise InvalidInput("Name the provider with an @-mention: `provider=@someone`.")
    return Filters(values["district"], service.lower() if service else None, provider)


def find_district(s: Session, text: str) -> m.District:
    districts = list(s.scalars(select(m.District)))
    needle = text.strip().lower()
    for d in districts:
        if d.id.lower() == needle or d.name.lower() == needle:
            return d
    hits = [d for d in districts if needle and needle in d.name.lower()]
    if len(hits) == 1:
        return hits[0]
    if len(hits) > 1:
        listed = ", ".join(f"{d.name} (`{d.id}`)" for d in hits[:5])
        raise InvalidInput(f"`{text}` matches several districts: {listed}. Use the id.")
    names = [d.name for d in districts]
    close = difflib.get_close_matches(text, names, n=3, cutoff=0.3)
    close += [
        d.name for d in districts if d.id.lower().startswith(needle[:2]) and d.name not in close
    ]
    hint = f" Did you mean {', '.join(close[:3])}?" if close else ""
    raise NotFound(f"I don't know a district called `{text}`.{hint}")


# --- building the matcher's input ---------------------------------------------------------


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

    district: m.District
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
    district: m.District,
    today: date,
    filters: Filters | None = None,
    exclude_proposal: str | None = None,
) -> tuple[mt.MatchInput, Context]:
    week = Week(target_monday(today))
    last_day = week.date_of(4)
    school_tz = school_zones(s, [district.id])
    schools = {
        sc.id: sc for sc in s.scalars(select(m.School).where(m.School.district_id == district.id))
    }

    # Open needs: services of the district's students with no assignment yet.
    assigned = select(m.Assignment.student_id, m.Assignment.service)
    if exclude_proposal is not None:
        assigned = assigned.where(
            (m.Assignment.proposal_id.is_(None)) | (m.Assignment.proposal_id != exclude_proposal)
        )
    taken = {(a, b) for a, b in s.execute(assigned)}
    q = (
        select(m.StudentService, m.Student)
        .join(m.Student, m.Student.id == m.StudentService.student_id)
        .where(m.Student.school_id.in_(list(schools)))
        .order_by(m.Student.id, m.StudentService.service)
    )
    if filters and filters.service:
        q = q.where(m.StudentService.service == filters.service)
    rows = [(svc, st) for svc, st in s.execute(q) if (st.id, svc.service) not in taken]

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
        )
        for svc, st in rows
    )
    services_needed = {n.service for n in needs}

    pq = select(m.Provider).where(m.Provider.discipline.in_(services_needed or {"-"}))
    if filters and filters.provider_slack_id:
        pq = pq.where(m.Provider.slack_user_id == filters.provider_slack_id)
    providers = list(s.scalars(pq.order_by(m.Provider.id)))
    pids = [p.id for p in providers]
    licences: dict[str, set[str]] = defaultdict(set)
    for lic in s.scalars(select(m.License).where(m.License.provider_id.in_(pids))):
        if lic.expires_on > last_day:  # a licence ends on its date
            licences[lic.provider_id].add(lic.state)
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
    if exclude_proposal is not None:
        aq = aq.where(
            (m.Assignment.proposal_id.is_(None)) | (m.Assignment.proposal_id != exclude_proposal)
        )
    for a, svc, school_id, district_id in s.execute(aq):
        existing_schools[a.provider_id].add(school_id)
        existing_districts[a.provider_id].add(district_id)
        if a.id not in slotted:  # an imported assignment with no times yet still takes hours
            committed[a.provider_id] += svc.sessions_per_week * svc.session_minutes
    dated_busy = _dated_sessions(s, pids, week)

    mproviders = []
    for p in providers:
        avail: list[tuple[int, int]] = []
        for day in range(7):
            d = week.date_of(day)
            if any(t.start_date <= d <= t.end_date for t in off[p.id]):
                continue
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
    )
    inp = mt.MatchInput(
        district_id=district.id,
        needs=needs,
        providers=tuple(mproviders),
        group_max=deps.settings.group_max,
    )
    return inp, ctx


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


def _previous_pairs(s: Session, district_id: str) -> dict[tuple[str, str], str]:
    """Pairs from the latest undecided proposal, so a re-run keeps what it can (objective 2)."""
    latest = s.scalars(
        select(m.PendingAction)
        .where(m.PendingAction.kind == KIND, m.PendingAction.subject_id == district_id)
        .order_by(m.PendingAction.created_at.desc())
        .limit(1)
    ).first()
    if latest is None:
        return {}
    pairs: dict[tuple[str, str], str] = {}
    for sess in latest.payload.get("sessions", []):
        for sid in sess["student_ids"]:
            pairs[(sid, sess["service"])] = sess["provider_id"]
    return pairs


def fingerprint(
    s: Session, district_id: str, provider_ids: Iterable[str], exclude_proposal: str | None
) -> str:
    """A digest of everything a proposal was computed from (roster, availability, assignments)."""
    h = hashlib.sha256()
    pids = sorted(provider_ids)
    schools = select(m.School.id).where(m.School.district_id == district_id)
    students = select(m.Student.id).where(m.Student.school_id.in_(schools))
    queries: list[Any] = [
        select(m.School.id, m.School.timezone).where(m.School.district_id == district_id),
        select(
            m.SchoolHours.school_id,
            m.SchoolHours.day,
            m.SchoolHours.start_minute,
            m.SchoolHours.end_minute,
        ).where(m.SchoolHours.school_id.in_(schools)),
        select(m.Student.id, m.Student.school_id).where(m.Student.id.in_(students)),
        select(
            m.StudentService.student_id,
            m.StudentService.service,
            m.StudentService.sessions_per_week,
            m.StudentService.session_minutes,
            m.StudentService.group_ok,
        ).where(m.StudentService.student_id.in_(students)),
        select(
            m.Provider.id, m.Provider.weekly_hours, m.Provider.discipline, m.Provider.home_state
        ).where(m.Provider.id.in_(pids)),
        select(m.License.provider_id, m.License.state, m.License.expires_on).where(
            m.License.provider_id.in_(pids)
        ),
        select(
            m.AvailabilityWindow.provider_id,
            m.AvailabilityWindow.day,
            m.AvailabilityWindow.start_minute,
            m.AvailabilityWindow.end_minute,
            m.AvailabilityWindow.timezone,
            m.AvailabilityWindow.effective_from,
            m.AvailabilityWindow.effective_to,
        ).where(m.AvailabilityWindow.provider_id.in_(pids)),
        select(m.TimeOff.provider_id, m.TimeOff.start_date, m.TimeOff.end_date).where(
            m.TimeOff.provider_id.in_(pids)
        ),
    ]
    mine = (m.Assignment.proposal_id.is_(None)) | (
        m.Assignment.proposal_id != (exclude_proposal or "")
    )
    queries.append(
        select(m.Assignment.student_id, m.Assignment.service, m.Assignment.provider_id).where(
            mine, (m.Assignment.provider_id.in_(pids)) | (m.Assignment.student_id.in_(students))
        )
    )
    for q in queries:
        rows = sorted(repr(tuple(r)) for r in s.execute(q))
        h.update("\n".join(rows).encode())
        h.update(b"\x00")
    return h.hexdigest()[:32]


# --- running ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionOut:
    student_ids: tuple[str, ...]
    student_labels: tuple[str, ...]
    service: str
    school_id: str
    school_name: str
    day: str  # school-local weekday
    start: str
    end: str
    timezone: str
    provider_day: str
    provider_start: str
    provider_end: str
    minutes: int


@dataclass(frozen=True)
class ProviderPlan:
    provider_id: str
    name: str
    slack_user_id: str | None
    timezone: str
    sessions: tuple[SessionOut, ...]
    new_minutes: int
    committed_minutes: int
    capacity_minutes: int


@dataclass(frozen=True)
class Proposal:
    proposal_id: str | None
    district_id: str
    district_name: str
    week_of: date
    plans: tuple[ProviderPlan, ...]
    unmatched: tuple[mt.Unmatched, ...]
    unmatched_labels: dict[str, str]
    students_total: int
    students_served: int
    method: str
    solve_seconds: float

    @property
    def hours_booked(self) -> float:
        return round(sum(p.new_minutes for p in self.plans) / 60, 2)

    def to_json(self) -> dict[str, Any]:
        return {
            "district_id": self.district_id,
            "proposals": [
                {
                    "provider_id": p.provider_id,
                    "sessions": [
                        {
                            "student_ids": list(x.student_ids),
                            "service": x.service,
                            "school_id": x.school_id,
                            "day": x.day,
                            "start": x.start,
                            "end": x.end,
                            "timezone": x.timezone,
                        }
                        for x in p.sessions
                    ],
                }
                for p in self.plans
            ],
            "unmatched": [
                {
                    "student_id": u.student_id,
                    "service": u.service,
                    "reason": u.reason,
                    "detail": u.detail,
                }
                for u in self.unmatched
            ],
        }

    def to_csv(self) -> str:
        buf = io.StringIO()
        w = csv.writer(buf)
        w.writerow(
            [
                "provider_id",
                "provider",
                "student_ids",
                "service",
                "school",
                "day",
                "start",
                "end",
                "school_timezone",
                "provider_day",
                "provider_start",
                "provider_end",
            ]
        )
        for p in self.plans:
            for x in p.sessions:
                w.writerow(
                    [
                        p.provider_id,
                        p.name,
                        " ".join(x.student_ids),
                        x.service,
                        x.school_name,
                        x.day,
                        x.start,
                        x.end,
                        x.timezone,
                        x.provider_day,
                        x.provider_start,
                        x.provider_end,
                    ]
                )
        for u in self.unmatched:
            w.writerow(
                [
                    "",
                    "UNSERVED",
                    u.student_id,
                    u.service,
                    "",
                    "",
                    "",
                    "",
                    "",
                    u.reason,
                    "",
                    u.detail,
                ]
            )
        return buf.getvalue()


def _render(result: mt.MatchResult, ctx: Context, proposal_id: str | None) -> Proposal:
    by_provider: dict[str, list[mt.Session]] = defaultdict(list)
    for sess in result.sessions:
        by_provider[sess.provider_id].append(sess)
    plans = []
    for pid in sorted(by_provider, key=lambda p: ctx.provider_name.get(p, p)):
        out = []
        minutes = 0
        for sess in sorted(by_provider[pid], key=lambda x: x.start):
            tz = ctx.school_tz[sess.school_id]
            ptz = ctx.provider_tz[pid]
            a, b = ctx.week.local(sess.start, tz), ctx.week.local(sess.end, tz)
            pa, pb = ctx.week.local(sess.start, ptz), ctx.week.local(sess.end, ptz)
            minutes += sess.end - sess.start
            out.append(
                SessionOut(
                    student_ids=sess.student_ids,
                    student_labels=tuple(ctx.student_label.get(x, x) for x in sess.student_ids),
                    service=sess.service,
                    school_id=sess.school_id,
                    school_name=ctx.school_name.get(sess.school_id, sess.school_id),
                    day=DAY_NAMES[a.weekday()],
                    start=f"{a:%H:%M}",
                    end=f"{b:%H:%M}",
                    timezone=tz,
                    provider_day=DAY_NAMES[pa.weekday()],
                    provider_start=f"{pa:%H:%M}",
                    provider_end=f"{pb:%H:%M}",
                    minutes=sess.end - sess.start,
                )
            )
        plans.append(
            ProviderPlan(
                pid,
                ctx.provider_name[pid],
                ctx.provider_slack[pid],
                ctx.provider_tz[pid],
                tuple(out),
                minutes,
                ctx.provider_committed[pid],
                ctx.provider_capacity[pid],
            )
        )
    served = {(sid, sess.service) for sess in result.sessions for sid in sess.student_ids}
    return Proposal(
        proposal_id=proposal_id,
        district_id=ctx.district.id,
        district_name=ctx.district.name,
        week_of=ctx.week.monday,
        plans=tuple(plans),
        unmatched=result.unmatched,
        unmatched_labels={
            u.student_id: ctx.student_label.get(u.student_id, u.student_id)
            for u in result.unmatched
        },
        students_total=ctx.total_needs,
        students_served=len(served),
        method=result.method,
        solve_seconds=result.solve_seconds,
    )


def compute(
    deps: Deps, district: m.District, today: date, filters: Filters | None = None
) -> tuple[mt.MatchInput, mt.MatchResult, Context, str]:
    with deps.session_factory() as s:
        inp, ctx = build_input(s, deps, district, today, filters)
        fp = fingerprint(s, district.id, [p.provider_id for p in inp.providers], None)
    result = mt.solve(inp, time_limit_s=deps.settings.match_time_limit_seconds)
    return inp, result, ctx, fp


def preview_only(deps: Deps, district: m.District, today: date) -> Proposal:
    """Compute a proposal without storing it (the CLI)."""
    _, result, ctx, _ = compute(deps, district, today)
    return _render(result, ctx, None)


def resolve_district(deps: Deps, text: str) -> m.District:
    with deps.session_factory() as s:
        return find_district(s, text)


def check_manager(deps: Deps, slack_user_id: str) -> None:
    with deps.session_factory() as s:
        require_manager(identify(s, slack_user_id, deps.settings.org_timezone), "run /match")


def propose(deps: Deps, slack_user_id: str, filters: Filters) -> Proposal:
    """Compute and store a proposal for a manager. Caller has checked the role."""
    district = resolve_district(deps, filters.district)
    today = deps.clock.now().astimezone(ZoneInfo(district.timezone)).date()
    inp, result, ctx, fp = compute(deps, district, today, filters)
    proposal_id = str(uuid.uuid4())
    payload = {
        "district_id": district.id,
        "week_of": ctx.week.monday.isoformat(),
        "provider_ids": sorted(p.provider_id for p in inp.providers),
        "filters": {"service": filters.service, "provider": filters.provider_slack_id},
        "sessions": [
            {
                "provider_id": x.provider_id,
                "student_ids": list(x.student_ids),
                "service": x.service,
                "school_id": x.school_id,
                "start": x.start,
                "end": x.end,
            }
            for x in result.sessions
        ],
        # Why each left-over service stayed unserved: the App Home and the digest show it.
        "unmatched": [
            {
                "student_id": u.student_id,
                "service": u.service,
                "reason": u.reason,
                "detail": u.detail,
            }
            for u in result.unmatched
        ],
    }
    with deps.session_factory.begin() as s:
        s.add(
            m.PendingAction(
                id=proposal_id,
                kind=KIND,
                actor_slack_id=slack_user_id,
                subject_id=district.id,
                payload=payload,
                fingerprint=fp,
                status="pending",
                created_at=deps.clock.now(),
            )
        )
    return _render(result, ctx, proposal_id)


def district_name_for(deps: Deps, text: str) -> str | None:
    try:
        return resolve_district(deps, text).name
    except (NotFound, InvalidInput):
        return None


# --- approval -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Approval:
    proposal_id: str
    already: bool
    approved_by: str | None
    created: int
    notified: tuple[str, ...]
    not_notified: tuple[str, ...]
    district_id: str


def approve(
    deps: Deps, slack_user_id: str, proposal_id: str, provider_id: str | None = None
) -> Approval:
    """Approve a whole proposal, or one provider's part, in one transaction."""
    now = deps.clock.now()
    with deps.session_factory.begin() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        require_manager(person, "approve proposals")
        assert person.manager is not None
        action = s.get(m.PendingAction, proposal_id)
        if action is None or action.kind != KIND:
            raise NotFound("That proposal no longer exists. Run `/match` again.")
        payload = action.payload
        if action.status == "discarded":
            raise Conflict("That proposal was discarded. Run `/match` again for a fresh one.")
        if action.status == "approved":
            return Approval(proposal_id, True, action.decided_by, 0, (), (), payload["district_id"])
        current = fingerprint(s, payload["district_id"], payload["provider_ids"], proposal_id)
        if current != action.fingerprint:
            raise Stale(
                "The roster, an availability or an assignment changed since this proposal was "
                "computed, so I didn't approve it. Run it again to get a fresh proposal."
            )
        sessions = [
            x for x in payload["sessions"] if provider_id is None or x["provider_id"] == provider_id
        ]
        if provider_id is None:
            claimed = s.execute(
                update(m.PendingAction)
                .where(m.PendingAction.id == proposal_id, m.PendingAction.status == "pending")
                .values(status="approved", decided_at=now, decided_by=slack_user_id)
            ).rowcount  # type: ignore[attr-defined]
            if claimed != 1:
                s.rollback()
                again = s.get(m.PendingAction, proposal_id)
                return Approval(
                    proposal_id,
                    True,
                    again.decided_by if again else None,
                    0,
                    (),
                    (),
                    payload["district_id"],
                )
        created, providers = _create_assignments(s, deps, action, sessions, person.manager.id, now)
        if provider_id is not None and created == 0:
            done_by = s.scalars(
                select(m.Assignment.approved_by).where(
                    m.Assignment.proposal_id == proposal_id, m.Assignment.provider_id == provider_id
                )
            ).first()
            return Approval(proposal_id, True, done_by, 0, (), (), payload["district_id"])
        if provider_id is not None:
            _mark_provider_approved(s, action, provider_id, slack_user_id)
        s.add(
            m.AuditLog(
                at=now,
                actor=person.actor,
                action="match.approve",
                subject_type="district",
                subject_id=payload["district_id"],
                before=None,
                after={
                    "proposal_id": proposal_id,
                    "provider_id": provider_id,
                    "assignments": created,
                },
            )
        )
        outbox = _queue_assignment_dms(s, deps, proposal_id, providers, now)
    notified, failed = deliver_assignment_dms(deps, outbox)
    return Approval(
        proposal_id, False, slack_user_id, created, notified, failed, payload["district_id"]
    )


def _mark_provider_approved(s: Session, action: m.PendingAction, provider_id: str, by: str) -> None:
    approved = dict(action.payload.get("approved_providers", {}))
    approved[provider_id] = by
    action.payload = {**action.payload, "approved_providers": approved}
    if set(approved) >= {x["provider_id"] for x in action.payload["sessions"]}:
        action.status = "approved"
        action.decided_by = by


def _create_assignments(
    s: Session,
    deps: Deps,
    action: m.PendingAction,
    sessions: list[dict[str, Any]],
    manager_id: str,
    now: datetime,
) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    week = Week(date.fromisoformat(action.payload["week_of"]))
    school_tz = school_zones(s)
    by_pair: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for x in sessions:
        for sid in x["student_ids"]:
            by_pair[(sid, x["service"])].append(x)
    existing = {
        (a, b)
        for a, b in s.execute(
            select(m.Assignment.student_id, m.Assignment.service).where(
                m.Assignment.student_id.in_([p[0] for p in by_pair])
            )
        )
    }
    created = 0
    providers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (sid, service), lst in sorted(by_pair.items()):
        if (sid, service) in existing:
            continue  # approved already (by this proposal's other button, or elsewhere)
        a = m.Assignment(
            student_id=sid,
            service=service,
            provider_id=lst[0]["provider_id"],
            approved_at=now,
            approved_by=manager_id,
            proposal_id=action.id,
        )
        s.add(a)
        s.flush()
        created += 1
        for x in lst:
            tz = school_tz[x["school_id"]]
            la, lb = week.local(x["start"], tz), week.local(x["end"], tz)
            group = f"{action.id[:8]}:{x['start']}" if len(x["student_ids"]) > 1 else None
            s.add(
                m.AssignmentSlot(
                    assignment_id=a.id,
                    day=la.weekday(),
                    start_minute=la.hour * 60 + la.minute,
                    end_minute=(lb.hour * 60 + lb.minute) or 1440,
                    timezone=tz,
                    group_key=group,
                )
            )
            providers[x["provider_id"]].append({**x, "student_id": sid})
    s.flush()
    return created, providers


def _queue_assignment_dms(
    s: Session,
    deps: Deps,
    proposal_id: str,
    providers: dict[str, list[dict[str, Any]]],
    now: datetime,
) -> list[str]:
    """Put one 'your new students' DM per provider in the outbox, keyed so it is sent once."""
    keys = []
    rows: list[dict[str, Any]] = []
    for pid, items in providers.items():
        provider = s.get(m.Provider, pid)
        if provider is None:
            continue
        students = {
            st.id: st
            for st in s.scalars(
                select(m.Student).where(m.Student.id.in_([i["student_id"] for i in items]))
            )
        }
        school_names = dict(s.execute(select(m.School.id, m.School.name)).all())
        week = Week(date.fromisoformat(s.get(m.PendingAction, proposal_id).payload["week_of"]))  # type: ignore[union-attr]
        lines = []
        for i in sorted(items, key=lambda i: (i["student_id"], i["start"])):
            st = students[i["student_id"]]
            a, b = (
                week.local(i["start"], provider.timezone),
                week.local(i["end"], provider.timezone),
            )
            lines.append(
                f"• {_student_label(st, deps.settings.show_student_names)} — "
                f"{SERVICE_LABEL.get(i['service'], i['service'])}, "
                f"{school_names.get(i['school_id'], i['school_id'])}: "
                f"{DAY_LABELS[a.weekday()]} {a:%H:%M}–{b:%H:%M}"
            )
        from bot.domain.availability_text import zone_label

        text = (
            f"You have new students, starting the week of {week.monday:%b %-d} "
            f"(times in {zone_label(provider.timezone)} time):\n" + "\n".join(lines)
        )
        key = f"assignment:{proposal_id}:{pid}"
        keys.append(key)
        rows.append(
            {
                "key": key,
                "rule": "assignment",
                "recipient_kind": "provider",
                "recipient_id": pid,
                "subject_id": proposal_id,
                "due_on": None,
                "stage": "new",
                "payload": {"text": text},
                "created_at": now,
                "send_after": now,
                "attempts": 0,
            }
        )
    outbox.enqueue(s, rows)
    return keys


def deliver_assignment_dms(deps: Deps, keys: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Claim, send, mark sent. A failure leaves the row for the clock process to retry."""
    from bot.slack_gateway import SlackUnavailable

    notified, failed = [], []
    for key in keys:
        now = deps.clock.now()
        with deps.session_factory.begin() as s:
            claimed = outbox.claim_key(s, key, APPROVAL_WORKER, now, APPROVAL_LEASE)
            row = s.scalars(select(m.Nudge).where(m.Nudge.key == key)).one()
            provider = s.get(m.Provider, row.recipient_id)
            name = provider.name if provider else row.recipient_id
            slack_id = provider.slack_user_id if provider else None
            text = str(row.payload.get("text", ""))
            row_id = row.id
        if not claimed:
            continue
        if not slack_id:
            failed.append(f"{name} (no Slack account)")
            continue
        try:
            deps.gateway.post_dm(slack_id, text)
        except SlackUnavailable:
            failed.append(name)
            with deps.session_factory.begin() as s:
                outbox.release(s, [row_id], APPROVAL_WORKER, "slack unavailable")
            continue
        with deps.session_factory.begin() as s:
            outbox.mark_sent(s, [row_id], APPROVAL_WORKER, deps.clock.now())
        notified.append(name)
    return tuple(notified), tuple(failed)


def discard(deps: Deps, slack_user_id: str, proposal_id: str) -> bool:
    with deps.session_factory.begin() as s:
        require_manager(identify(s, slack_user_id, deps.settings.org_timezone), "discard proposals")
        res = s.execute(
            update(m.PendingAction)
            .where(
                m.PendingAction.id == proposal_id,
                m.PendingAction.kind == KIND,
                m.PendingAction.status == "pending",
            )
            .values(status="discarded", decided_at=deps.clock.now(), decided_by=slack_user_id)
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]


def proposal_filters(deps: Deps, proposal_id: str) -> Filters | None:
    with deps.session_factory() as s:
        action = s.get(m.PendingAction, proposal_id)
        if action is None or action.kind != KIND:
            return None
        f = action.payload.get("filters", {})
        return Filters(action.payload["district_id"], f.get("service"), f.get("provider"))


# --- CLI ------------------------------------------------------------------------------------


def text_summary(p: Proposal) -> str:
    from bot.domain.availability_text import zone_label

    lines = [
        f"{p.district_name} — proposal for the week of {p.week_of:%b %-d, %Y}",
        f"Students served: {p.students_served}/{p.students_total} · providers: {len(p.plans)} · "
        f"hours booked: {p.hours_booked:g} · {p.method}, {p.solve_seconds:.1f} s",
    ]
    for plan in p.plans:
        lines.append(
            f"\n{plan.name} ({plan.provider_id}) — "
            f"{hours(plan.committed_minutes + plan.new_minutes)} of "
            f"{hours(plan.capacity_minutes)} h/week"
        )
        for x in plan.sessions:
            lines.append(
                f"  {x.day.title()} {x.start}–{x.end} {zone_abbr(x.timezone)} "
                f"({x.provider_day.title()} {x.provider_start} {zone_label(plan.timezone)})  "
                f"{', '.join(x.student_labels)}  {x.service.upper()} @ {x.school_name}"
            )
    if p.unmatched:
        lines.append("\nNot served:")
        for u in p.unmatched:
            lines.append(
                f"  {p.unmatched_labels.get(u.student_id, u.student_id)} {u.service.upper()}: "
                f"{u.reason} — {u.detail}"
            )
    return "\n".join(lines)
