"""Services: what the App Home tab shows a person.

A provider sees their availability and time off, caseload by school, deadlines in the next 30
days, overdue notes and recent sessions. A manager sees coverage per district, unserved student
services with the latest proposal's reasons, overdue notes per provider and licences ending in
the next 60 days. Someone who is both sees both. Lists are whole here; the edge shows the top
of each and counts the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.minutes import Month
from bot.domain.schedule import local_date
from bot.services.availability import ScheduleView, view_for_provider
from bot.services.caseload import Caseload, provider_caseload, student_label
from bot.services.conflicts import DistrictConflicts, for_manager
from bot.services.coverage import DistrictCoverage, Unserved, coverage, unserved
from bot.services.deadlines import (
    DeadlineItem,
    NoteCount,
    OverdueNote,
    licence_deadlines,
    overdue_by_provider,
    overdue_notes,
    provider_names,
    student_deadlines,
)
from bot.services.minutes import (
    DistrictLine,
    ProviderMinutes,
    cached_district_lines,
    provider_minutes,
)
from bot.services.people import NOT_IN_ROSTER, identify
from bot.services.scope import districts_of, students_in
from storage import models as m
from storage.proposals import latest_proposal

__all__ = [
    "NOT_IN_ROSTER",
    "HiringNeed",
    "Home",
    "ManagerHome",
    "ProviderHome",
    "RecentSession",
    "home_for",
]

PROVIDER_DAYS = 30
MANAGER_LICENCE_DAYS = 60
RECENT_DAYS = 7
RECENT_MAX = 20


@dataclass(frozen=True)
class RecentSession:
    session_id: int
    student: str
    service: str
    when: datetime  # in the provider's zone
    tz: str
    status: str
    note_done: bool
    cancel_reason: str | None = None


@dataclass(frozen=True)
class ProviderHome:
    caseload: Caseload
    deadlines: tuple[DeadlineItem, ...]
    overdue: tuple[OverdueNote, ...]
    recent: tuple[RecentSession, ...]
    due_hours: int
    minutes: ProviderMinutes | None = None


@dataclass(frozen=True)
class ManagerHome:
    coverage: tuple[DistrictCoverage, ...]
    unserved: tuple[Unserved, ...]
    notes: tuple[NoteCount, ...]
    licences: tuple[DeadlineItem, ...]
    minutes: tuple[DistrictLine, ...] = ()
    conflicts: tuple[DistrictConflicts, ...] = ()  # per district, in the manager's districts
    hiring: tuple[HiringNeed, ...] = ()  # the latest whole-district proposal's hires


@dataclass(frozen=True)
class HiringNeed:
    """One hire profile from a district's latest proposal (times in the school's zone)."""

    district_id: str
    district: str
    proposed_on: date  # in the manager's zone
    service: str
    state: str
    weekly_hours: float
    windows: tuple[tuple[str, str, str], ...]  # (day, start, end)
    timezone: str
    would_serve: int


@dataclass(frozen=True)
class Home:
    known: bool
    name: str
    is_manager: bool
    schedule: ScheduleView | None
    provider: ProviderHome | None = None
    manager: ManagerHome | None = None


def home_for(deps: Deps, slack_user_id: str) -> Home:
    now = deps.clock.now()
    names = deps.settings.show_student_names
    due_hours = deps.settings.soap_note_due_hours
    provider_home: ProviderHome | None = None
    manager_home: ManagerHome | None = None
    with deps.session_factory() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        provider_id = person.provider.id if person.provider else None
        name, known, is_manager = person.name, person.known, person.is_manager
        if person.provider is not None:
            p = person.provider
            today = local_date(now, p.timezone)
            until = today + timedelta(days=PROVIDER_DAYS)
            deadlines = student_deadlines(s, today, until, names, provider_id=p.id)
            deadlines += licence_deadlines(s, today, until, provider_id=p.id)
            provider_home = ProviderHome(
                caseload=provider_caseload(s, p, now, names),
                deadlines=tuple(sorted(deadlines, key=lambda i: (i.due_on, i.kind, i.subject))),
                overdue=tuple(overdue_notes(s, now, due_hours, names, provider_id=p.id)),
                recent=tuple(_recent(s, p, now, names)),
                due_hours=due_hours,
                minutes=provider_minutes(s, p, Month.of(today), now, deps.settings),
            )
        if person.manager is not None:
            today = local_date(now, person.timezone)
            scope = districts_of(s, slack_user_id)
            manager_home = ManagerHome(
                coverage=tuple(c for c in coverage(s) if _mine(scope, c.district_id)),
                unserved=tuple(u for u in unserved(s, names) if _mine(scope, u.district_id)),
                notes=tuple(_overdue_counts(s, scope, now, due_hours, names)),
                licences=tuple(_licences(s, scope, today)),
                minutes=tuple(cached_district_lines(deps, s, scope, now)),
                conflicts=for_manager(s, now, person.timezone, names, slack_user_id),
                hiring=tuple(_hiring(s, scope, person.timezone)),
            )
    schedule = view_for_provider(deps, provider_id) if provider_id else None
    return Home(
        known=known,
        name=name,
        is_manager=is_manager,
        schedule=schedule,
        provider=provider_home,
        manager=manager_home,
    )


def _mine(scope: frozenset[str] | None, district_id: str) -> bool:
    return scope is None or district_id in scope


def _hiring(s: Session, scope: frozenset[str] | None, tz: str) -> list[HiringNeed]:
    """Per district the manager serves, the hire profiles of its latest proposal made for the
    whole district (a `service=` or `provider=` proposal sees only part of it)."""
    q = select(m.District.id, m.District.name).order_by(m.District.name, m.District.id)
    out: list[HiringNeed] = []
    for district_id, name in s.execute(q).all():
        if not _mine(scope, district_id):
            continue
        latest = latest_proposal(s, district_id, without=("service", "provider"))
        if latest is None:
            continue
        on = local_date(latest.created_at, tz)
        for h in latest.payload.get("hires") or ():
            windows = tuple((w["day"], w["start"], w["end"]) for w in h.get("windows") or ())
            zone = next((w["timezone"] for w in h.get("windows") or ()), tz)
            out.append(
                HiringNeed(
                    district_id,
                    name,
                    on,
                    str(h["service"]),
                    str(h["state"]),
                    float(h["weekly_hours"]),
                    windows,
                    zone,
                    len(h.get("would_serve") or ()),
                )
            )
    return out


def _overdue_counts(
    s: Session, scope: frozenset[str] | None, now: datetime, due_hours: int, names: bool
) -> list[NoteCount]:
    """Overdue notes per provider, of the manager's districts' students."""
    notes = overdue_notes(s, now, due_hours, names)
    if scope is not None:
        students = students_in(s, scope)
        notes = [n for n in notes if n.student_id in students]
    return overdue_by_provider(notes, provider_names(s))


def _licences(s: Session, scope: frozenset[str] | None, today: date) -> list[DeadlineItem]:
    """Licences ending soon: every one, or (a scoped manager) those of their districts' states."""
    until = today + timedelta(days=MANAGER_LICENCE_DAYS)
    if scope is None:
        return licence_deadlines(s, today, until)
    states = s.scalars(select(m.District.state).where(m.District.id.in_(sorted(scope))))
    out: list[DeadlineItem] = []
    for state in sorted(set(states)):
        out += licence_deadlines(s, today, until, state=state)
    return sorted(out, key=lambda i: (i.due_on, i.where))


def _recent(s: Session, provider: m.Provider, now: datetime, names: bool) -> list[RecentSession]:
    ts = m.TherapySession
    q = (
        select(ts, m.Student)
        .join(m.Student, m.Student.id == ts.student_id)
        .where(
            ts.provider_id == provider.id,
            ts.starts_at <= now,
            ts.starts_at >= now - timedelta(days=RECENT_DAYS),
        )
        .order_by(ts.starts_at.desc(), ts.id)
        .limit(RECENT_MAX)
    )
    zone = ZoneInfo(provider.timezone)
    return [
        RecentSession(
            sess.id,
            student_label(st, names),
            sess.service,
            sess.starts_at.astimezone(zone),
            provider.timezone,
            sess.status,
            sess.note_done_at is not None,
            sess.cancel_reason,
        )
        for sess, st in s.execute(q)
    ]
