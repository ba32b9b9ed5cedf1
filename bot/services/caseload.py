"""Services: caseloads, deadlines, coverage and overdue notes — what /caseload, /deadlines, the
App Home and the weekly digest show.

The query helpers take an open ``Session`` and never commit; the use cases (``caseload_for``,
``deadlines_for``) open one read-only session each and check who is asking. Students appear as
initials and id (names only when ``show_student_names`` is on).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import privacy
from bot.domain.labels import day_label
from bot.domain.schedule import WeeklyWindow, convert, hhmm, local_date, week_monday
from bot.domain.sessions import NOTE_STATUSES, note_overdue, overdue_bound
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.matching import find_district
from bot.services.people import Person, acting_on, identify, require_known
from storage import models as m
from storage.proposals import latest_proposal

ANNUAL, TRIENNIAL, LICENCE = "annual_review", "triennial", "licence"
DEADLINE_DAYS = 30
MAX_DAYS = 365
DEADLINES_USAGE = (
    "Usage: `/deadlines` — optionally `district=anchorage` and `days=30` (1 to 365).\n"
    "Example: `/deadlines district=anchorage days=14`"
)
CASELOAD_USAGE = (
    "Usage: `/caseload` for your own; managers: `/caseload` for every district, "
    "`/caseload district=anchorage` or `/caseload @provider`."
)
NOT_MATCHED = "not matched yet"
PROPOSED = "proposed, waiting for approval"
REASONS = {
    "no_licensed_provider": "no licensed provider",
    "no_common_time": "no common time",
    "no_capacity": "no capacity",
}


def student_label(st: m.Student, show_names: bool) -> str:
    return privacy.student_label(st.id, st.first_name, st.last_name, show_names)


def coming_monday(today: date) -> date:
    """The school week shown: this one, or the next from Saturday on (as availability does)."""
    return week_monday(today + timedelta(days=2))


# --- caseload ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseloadEntry:
    student_id: str
    student: str
    service: str
    times: tuple[str, ...]  # "Tue 09:00–09:30", the provider's wall time for the coming week
    group: bool


@dataclass(frozen=True)
class SchoolCaseload:
    school_id: str
    school: str
    district: str
    entries: tuple[CaseloadEntry, ...]


@dataclass(frozen=True)
class Caseload:
    provider_id: str
    provider_name: str
    tz: str
    monday: date
    schools: tuple[SchoolCaseload, ...]
    weekly_minutes: int
    capacity_minutes: int
    on_behalf: bool

    @property
    def students(self) -> int:
        return len({e.student_id for sc in self.schools for e in sc.entries})

    @property
    def services(self) -> int:
        return sum(len(sc.entries) for sc in self.schools)


def provider_caseload(
    s: Session, provider: m.Provider, now: datetime, show_names: bool, on_behalf: bool = False
) -> Caseload:
    monday = coming_monday(local_date(now, provider.timezone))
    rows = s.execute(
        select(m.Assignment, m.Student, m.School, m.District.name)
        .join(m.Student, m.Student.id == m.Assignment.student_id)
        .join(m.School, m.School.id == m.Student.school_id)
        .join(m.District, m.District.id == m.School.district_id)
        .where(m.Assignment.provider_id == provider.id)
        .order_by(m.District.name, m.School.name, m.Student.id, m.Assignment.service)
    )
    rows_list = list(rows)
    ids = [a.id for a, _, _, _ in rows_list]
    slots: dict[int, list[m.AssignmentSlot]] = defaultdict(list)
    if ids:
        for slot in s.scalars(
            select(m.AssignmentSlot)
            .where(m.AssignmentSlot.assignment_id.in_(ids))
            .order_by(m.AssignmentSlot.day, m.AssignmentSlot.start_minute)
        ):
            slots[slot.assignment_id].append(slot)
    needs = {
        (sv.student_id, sv.service): sv.sessions_per_week * sv.session_minutes
        for sv in s.scalars(
            select(m.StudentService).where(
                m.StudentService.student_id.in_([st.id for _, st, _, _ in rows_list])
            )
        )
    }
    minutes = 0
    groups: set[tuple[str, int]] = set()
    by_school: dict[str, list[CaseloadEntry]] = defaultdict(list)
    schools: dict[str, tuple[str, str]] = {}
    for a, st, school, district_name in rows_list:
        times: list[str] = []
        group = False
        for slot in slots[a.id]:
            window = WeeklyWindow(slot.day, slot.start_minute, slot.end_minute, slot.timezone)
            for w in convert(window, provider.timezone, monday):
                times.append(f"{day_label(w.day)} {hhmm(w.start)}–{hhmm(w.end)}")
            if slot.group_key is None or (slot.group_key, slot.day) not in groups:
                minutes += slot.end_minute - slot.start_minute
            if slot.group_key is not None:
                group = True
                groups.add((slot.group_key, slot.day))
        if not slots[a.id]:
            minutes += needs.get((a.student_id, a.service), 0)
        schools[school.id] = (school.name, district_name)
        by_school[school.id].append(
            CaseloadEntry(st.id, student_label(st, show_names), a.service, tuple(times), group)
        )
    return Caseload(
        provider_id=provider.id,
        provider_name=provider.name,
        tz=provider.timezone,
        monday=monday,
        schools=tuple(
            SchoolCaseload(sid, schools[sid][0], schools[sid][1], tuple(entries))
            for sid, entries in by_school.items()
        ),
        weekly_minutes=minutes,
        capacity_minutes=int(Decimal(provider.weekly_hours) * 60),
        on_behalf=on_behalf,
    )


def _target_provider(s: Session, person: Person, target_slack_id: str | None) -> m.Provider:
    return acting_on(
        s,
        person,
        target_slack_id,
        not_a_provider=InvalidInput("You're in the roster as a manager. " + CASELOAD_USAGE),
        only_own="You can only see your own caseload.",
    )


@dataclass(frozen=True)
class ProviderLoad:
    provider: str
    slack_user_id: str | None
    students: int
    services: int


@dataclass(frozen=True)
class DistrictCaseload:
    """A manager's view: one district's providers, or (``district`` None) every district."""

    district: str | None
    coverage: tuple[DistrictCoverage, ...]
    providers: tuple[ProviderLoad, ...]


def is_manager(deps: Deps, slack_user_id: str) -> bool:
    with deps.session_factory() as s:
        return identify(s, slack_user_id, deps.settings.org_timezone).is_manager


def district_caseload(
    deps: Deps, slack_user_id: str, district_text: str | None = None
) -> DistrictCaseload:
    """Managers only: coverage of every district, or one district's providers and loads."""
    with deps.session_factory() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        require_known(person)
        if not person.is_manager:
            raise NotAllowed("Only provider-success managers can see a district's caseloads.")
        if district_text is None:
            return DistrictCaseload(None, tuple(coverage(s)), ())
        district = find_district(s, district_text)
        q = (
            select(m.Provider.name, m.Provider.slack_user_id, m.Assignment.student_id)
            .join(m.Assignment, m.Assignment.provider_id == m.Provider.id)
            .join(m.Student, m.Student.id == m.Assignment.student_id)
            .join(m.School, m.School.id == m.Student.school_id)
            .where(m.School.district_id == district.id)
        )
        students: dict[tuple[str, str | None], set[str]] = defaultdict(set)
        services: dict[tuple[str, str | None], int] = defaultdict(int)
        for name, slack_id, student_id in s.execute(q):
            students[(name, slack_id)].add(student_id)
            services[(name, slack_id)] += 1
        loads = sorted(
            (
                ProviderLoad(name, slack_id, len(ids), services[(name, slack_id)])
                for (name, slack_id), ids in students.items()
            ),
            key=lambda p: (-p.services, p.provider),
        )
        covered = tuple(c for c in coverage(s) if c.district_id == district.id)
        return DistrictCaseload(district.name, covered, tuple(loads))


def caseload_for(deps: Deps, slack_user_id: str, target_slack_id: str | None = None) -> Caseload:
    """A provider's own caseload; managers may name any provider."""
    with deps.session_factory() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        provider = _target_provider(s, person, target_slack_id)
        return provider_caseload(
            s,
            provider,
            deps.clock.now(),
            deps.settings.show_student_names,
            on_behalf=provider.slack_user_id != slack_user_id,
        )


# --- deadlines -----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineItem:
    kind: str  # annual_review | triennial | licence
    due_on: date
    days_left: int  # < 0: overdue
    subject: str  # the student's label, or "AK licence AK-1"
    where: str  # the school, or the provider for a licence
    provider: str  # who serves the student ("" when nobody does yet)


def student_deadlines(
    s: Session,
    today: date,
    until: date,
    show_names: bool,
    *,
    provider_id: str | None = None,
    district_id: str | None = None,
    include_overdue: bool = True,
) -> list[DeadlineItem]:
    """Annual reviews and triennials due by ``until`` (and already overdue, if asked)."""
    q = (
        select(m.Student, m.School.name)
        .join(m.School, m.School.id == m.Student.school_id)
        .where(
            (m.Student.annual_review_due <= until)
            | ((m.Student.triennial_due.is_not(None)) & (m.Student.triennial_due <= until))
        )
    )
    if provider_id is not None:
        mine = select(m.Assignment.student_id).where(m.Assignment.provider_id == provider_id)
        q = q.where(m.Student.id.in_(mine))
    if district_id is not None:
        q = q.where(m.School.district_id == district_id)
    rows = list(s.execute(q))
    serving: dict[str, set[str]] = defaultdict(set)
    if rows:
        for sid, name in s.execute(
            select(m.Assignment.student_id, m.Provider.name)
            .join(m.Provider, m.Provider.id == m.Assignment.provider_id)
            .where(m.Assignment.student_id.in_([st.id for st, _ in rows]))
        ):
            serving[sid].add(name)
    items: list[DeadlineItem] = []
    for st, school in rows:
        label = student_label(st, show_names)
        who = ", ".join(sorted(serving[st.id]))
        for kind, due in ((ANNUAL, st.annual_review_due), (TRIENNIAL, st.triennial_due)):
            if due is None or due > until or (due < today and not include_overdue):
                continue
            items.append(DeadlineItem(kind, due, (due - today).days, label, school, who))
    return sorted(items, key=lambda i: (i.due_on, i.kind, i.subject))


def licence_deadlines(
    s: Session,
    today: date,
    until: date,
    *,
    provider_id: str | None = None,
    state: str | None = None,
) -> list[DeadlineItem]:
    """Licences that end from today through ``until`` (on that date they no longer count)."""
    q = (
        select(m.License, m.Provider.name)
        .join(m.Provider, m.Provider.id == m.License.provider_id)
        .where(m.License.expires_on >= today, m.License.expires_on <= until)
        .order_by(m.License.expires_on, m.Provider.name)
    )
    if provider_id is not None:
        q = q.where(m.License.provider_id == provider_id)
    if state is not None:
        q = q.where(m.License.state == state)
    return [
        DeadlineItem(
            LICENCE,
            lic.expires_on,
            (lic.expires_on - today).days,
            f"{lic.state} licence {lic.license_number}",
            name,
            name,
        )
        for lic, name in s.execute(q)
    ]


# --- overdue notes -------------------------------------------------------------------------


@dataclass(frozen=True)
class OverdueNote:
    session_id: int
    provider_id: str
    student_id: str
    student: str
    service: str
    school: str
    when: datetime  # the session's start, in the provider's zone
    tz: str  # the provider's zone
    due_at: datetime  # when the note fell due, in the provider's zone
    days_overdue: int
    overdue_for: timedelta  # how long ago it fell due


@dataclass(frozen=True)
class NoteCount:
    provider_id: str
    provider: str
    count: int
    oldest: date


def overdue_notes(
    s: Session,
    now: datetime,
    due_hours: int,
    show_names: bool,
    *,
    provider_id: str | None = None,
) -> list[OverdueNote]:
    """Notes owed for longer than ``due_hours`` after the session, oldest first."""
    ts = m.TherapySession
    q = (
        select(ts, m.Student, m.School.name, m.Provider.timezone)
        .join(m.Student, m.Student.id == ts.student_id)
        .join(m.School, m.School.id == m.Student.school_id)
        .join(m.Provider, m.Provider.id == ts.provider_id)
        .where(
            ts.note_done_at.is_(None),
            ts.status.in_(NOTE_STATUSES),
            ts.starts_at <= overdue_bound(now, due_hours),
        )
        .order_by(ts.starts_at, ts.id)
    )
    if provider_id is not None:
        q = q.where(ts.provider_id == provider_id)
    out: list[OverdueNote] = []
    for sess, st, school, tz in s.execute(q):
        if not note_overdue(sess.status, sess.starts_at, sess.minutes, now, due_hours):
            continue
        due_at = sess.starts_at + timedelta(minutes=sess.minutes, hours=due_hours)
        out.append(
            OverdueNote(
                sess.id,
                sess.provider_id,
                st.id,
                student_label(st, show_names),
                sess.service,
                school,
                sess.starts_at.astimezone(ZoneInfo(tz)),
                tz,
                due_at.astimezone(ZoneInfo(tz)),
                (now - due_at).days,
                now - due_at,
            )
        )
    return out


def overdue_by_provider(notes: list[OverdueNote], names: dict[str, str]) -> list[NoteCount]:
    grouped: dict[str, list[OverdueNote]] = defaultdict(list)
    for n in notes:
        grouped[n.provider_id].append(n)
    counts = [
        NoteCount(pid, names.get(pid, pid), len(ns), min(n.when.date() for n in ns))
        for pid, ns in grouped.items()
    ]
    return sorted(counts, key=lambda c: (-c.count, c.provider))


def provider_names(s: Session) -> dict[str, str]:
    return dict(s.execute(select(m.Provider.id, m.Provider.name)).all())


# --- coverage ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DistrictCoverage:
    district_id: str
    name: str
    total: int  # student services
    served: int  # with an approved provider

    @property
    def unserved(self) -> int:
        return self.total - self.served


@dataclass(frozen=True)
class Unserved:
    student_id: str
    student: str
    service: str
    district_id: str
    district: str
    reason: str
    detail: str


def _services_by_district(s: Session) -> list[tuple[m.District, m.Student, str, bool]]:
    assigned = select(m.Assignment.id).where(
        m.Assignment.student_id == m.StudentService.student_id,
        m.Assignment.service == m.StudentService.service,
    )
    q = (
        select(m.District, m.Student, m.StudentService.service, assigned.exists())
        .join(m.School, m.School.district_id == m.District.id)
        .join(m.Student, m.Student.school_id == m.School.id)
        .join(m.StudentService, m.StudentService.student_id == m.Student.id)
        .order_by(m.District.name, m.Student.id, m.StudentService.service)
    )
    return [(d, st, svc, bool(served)) for d, st, svc, served in s.execute(q)]


def coverage(s: Session) -> list[DistrictCoverage]:
    totals: dict[str, list[int]] = {}
    names: dict[str, str] = {}
    for d in s.scalars(select(m.District).order_by(m.District.name)):
        totals[d.id], names[d.id] = [0, 0], d.name
    for d, _, _, served in _services_by_district(s):
        totals[d.id][0] += 1
        totals[d.id][1] += int(served)
    return [DistrictCoverage(did, names[did], t, sv) for did, (t, sv) in totals.items()]


def _latest_reasons(s: Session, district_id: str) -> dict[tuple[str, str], tuple[str, str]]:
    latest = latest_proposal(s, district_id)
    if latest is None:
        return {}
    reasons: dict[tuple[str, str], tuple[str, str]] = {}
    if latest.status == "pending":
        for sess in latest.payload.get("sessions", []):
            for sid in sess.get("student_ids", []):
                reasons[(str(sid), str(sess.get("service")))] = (PROPOSED, "")
    for u in latest.payload.get("unmatched", []):
        reason = str(u.get("reason", ""))
        reasons[(str(u.get("student_id")), str(u.get("service")))] = (
            REASONS.get(reason, reason.replace("_", " ")),
            str(u.get("detail", "")),
        )
    return reasons


def unserved(s: Session, show_names: bool) -> list[Unserved]:
    """Student services with no provider, with the latest proposal's reason when it gave one."""
    out: list[Unserved] = []
    reasons: dict[str, dict[tuple[str, str], tuple[str, str]]] = {}
    for d, st, service, served in _services_by_district(s):
        if served:
            continue
        if d.id not in reasons:
            reasons[d.id] = _latest_reasons(s, d.id)
        reason, detail = reasons[d.id].get((st.id, service), (NOT_MATCHED, ""))
        out.append(
            Unserved(st.id, student_label(st, show_names), service, d.id, d.name, reason, detail)
        )
    return out


# --- /deadlines ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineArgs:
    district: str | None = None
    days: int = DEADLINE_DAYS


def parse_deadline_args(text: str) -> DeadlineArgs:
    values: dict[str, str] = {}
    for token in (text or "").split():
        key, sep, value = token.partition("=")
        key = key.lower()
        if token.lower() in ("help", "?"):
            raise InvalidInput(DEADLINES_USAGE)
        if not sep or not value or key not in ("district", "days"):
            raise InvalidInput(f"I don't understand `{token[:40]}`.\n{DEADLINES_USAGE}")
        if key in values:
            raise InvalidInput(f"`{key}=` appears twice.\n{DEADLINES_USAGE}")
        values[key] = value
    days = DEADLINE_DAYS
    if "days" in values:
        if not re.fullmatch(r"\d{1,3}", values["days"]) or not 1 <= int(values["days"]) <= MAX_DAYS:
            raise InvalidInput(f"`days=` takes a whole number from 1 to {MAX_DAYS}.")
        days = int(values["days"])
    return DeadlineArgs(values.get("district"), days)


@dataclass(frozen=True)
class Deadlines:
    scope: str  # "your students", a district's name, "all districts"
    days: int
    today: date
    items: tuple[DeadlineItem, ...]
    notes: tuple[NoteCount, ...]
    for_manager: bool


def _in_district(
    s: Session, notes: list[OverdueNote], district_id: str | None
) -> list[OverdueNote]:
    """The notes of students in ``district_id`` (all of them when it is None)."""
    if district_id is None:
        return notes
    students = set(
        s.scalars(
            select(m.Student.id)
            .join(m.School, m.School.id == m.Student.school_id)
            .where(m.School.district_id == district_id)
        )
    )
    return [n for n in notes if n.student_id in students]


def deadlines_for(deps: Deps, slack_user_id: str, args: DeadlineArgs) -> Deadlines:
    """Managers see every district (or the one named); providers see their own students."""
    now = deps.clock.now()
    names = deps.settings.show_student_names
    due_hours = deps.settings.soap_note_due_hours
    with deps.session_factory() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        require_known(person)
        today = local_date(now, person.timezone)
        until = today + timedelta(days=args.days)
        district = find_district(s, args.district) if args.district else None
        district_id = district.id if district else None
        state = district.state if district else None
        if person.is_manager:
            items = student_deadlines(s, today, until, names, district_id=district_id)
            items += licence_deadlines(s, today, until, state=state)
            notes = _in_district(s, overdue_notes(s, now, due_hours, names), district_id)
            counts = overdue_by_provider(notes, provider_names(s))
            scope = district.name if district else "all districts"
        else:
            assert person.provider is not None
            pid = person.provider.id
            items = student_deadlines(
                s, today, until, names, provider_id=pid, district_id=district_id
            )
            items += licence_deadlines(s, today, until, provider_id=pid, state=state)
            own = overdue_notes(s, now, due_hours, names, provider_id=pid)
            own = _in_district(s, own, district_id)
            counts = overdue_by_provider(own, {pid: person.provider.name})
            scope = f"your students in {district.name}" if district else "your students"
    ordered = sorted(items, key=lambda i: (i.due_on, i.kind, i.subject))
    return Deadlines(scope, args.days, today, tuple(ordered), tuple(counts), person.is_manager)
