"""Services: deadlines — IEP reviews, licences ending and overdue SOAP notes, for /deadlines, the
App Home and the weekly digest.

The query helpers take an open ``Session`` and never commit; ``deadlines_for`` opens one
read-only session and checks who is asking. Students appear as initials and id (names only when
``show_student_names`` is on).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.mrkdwn import code
from bot.domain.schedule import local_date
from bot.domain.sessions import NOTE_STATUSES, note_overdue, overdue_bound
from bot.services.caseload import student_label
from bot.services.districts import find_district
from bot.services.errors import InvalidInput
from bot.services.people import identify, require_known
from bot.services.scope import audited, check_district, districts_of, students_in
from storage import models as m

ANNUAL, TRIENNIAL, LICENCE = "annual_review", "triennial", "licence"
DEADLINE_DAYS = 30
MAX_DAYS = 365
DEADLINES_USAGE = (
    "Usage: `/deadlines` — optionally `district=anchorage` and `days=30` (1 to 365).\n"
    "Example: `/deadlines district=anchorage days=14`"
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
            | ((m.Student.triennial_due.is_not(None)) & (m.Student.triennial_due <= until)),
            m.Student.exited_at.is_(None),  # an exited student has no more deadlines
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
            raise InvalidInput(f"I don't understand {code(token)}.\n{DEADLINES_USAGE}")
        if key in values:
            raise InvalidInput(f"{code(key + '=')} appears twice.\n{DEADLINES_USAGE}")
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


def _scoped(
    s: Session,
    district_ids: frozenset[str],
    today: date,
    until: date,
    now: datetime,
    due_hours: int,
    names: bool,
) -> tuple[list[DeadlineItem], list[OverdueNote]]:
    """A scoped manager's deadlines: their districts' students, and the licences of those
    districts' states; their students' overdue notes."""
    items: list[DeadlineItem] = []
    for district_id in sorted(district_ids):
        items += student_deadlines(s, today, until, names, district_id=district_id)
    states = s.scalars(select(m.District.state).where(m.District.id.in_(sorted(district_ids))))
    for state in sorted(set(states)):
        items += licence_deadlines(s, today, until, state=state)
    students = students_in(s, district_ids)
    notes = [n for n in overdue_notes(s, now, due_hours, names) if n.student_id in students]
    return items, notes


@audited
def deadlines_for(deps: Deps, slack_user_id: str, args: DeadlineArgs) -> Deadlines:
    """Managers see their districts (or the one named, if theirs); providers see their own
    students."""
    now = deps.clock.now()
    names = deps.settings.show_student_names
    due_hours = deps.settings.soap_note_due_hours
    with deps.session_factory() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        require_known(person)
        today = local_date(now, person.timezone)
        until = today + timedelta(days=args.days)
        district = find_district(s, args.district, slack_user_id) if args.district else None
        district_id = district.id if district else None
        state = district.state if district else None
        if person.is_manager:
            mine = districts_of(s, slack_user_id)
            if district is not None:
                check_district(s, slack_user_id, district.id, "deadlines.view_denied")
            if district is not None or mine is None:
                items = student_deadlines(s, today, until, names, district_id=district_id)
                items += licence_deadlines(s, today, until, state=state)
                notes = _in_district(s, overdue_notes(s, now, due_hours, names), district_id)
                scope = district.name if district else "all districts"
            else:
                items, notes = _scoped(s, mine, today, until, now, due_hours, names)
                scope = "your districts"
            counts = overdue_by_provider(notes, provider_names(s))
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
