"""Services: caseloads — a provider's students and weekly times (/caseload, the App Home), and a
manager's view of every district or one district's providers.

The query helpers take an open ``Session`` and never commit; the use cases (``caseload_for``,
``district_caseload``) open one read-only session each and check who is asking. Students appear
as initials and id (names only when ``show_student_names`` is on).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import privacy
from bot.domain.labels import day_label
from bot.domain.schedule import WeeklyWindow, convert, hhmm, local_date, week_monday
from bot.services.conflicts import DistrictConflicts, district_conflicts
from bot.services.coverage import DistrictCoverage, coverage
from bot.services.districts import find_district
from bot.services.errors import InvalidInput, NotAllowed, NotFound
from bot.services.people import Person, acting_on, identify, require_known
from bot.services.scope import (
    Refused,
    audited,
    check_district,
    districts_of,
    provider_districts,
)
from storage import models as m

CASELOAD_USAGE = (
    "Usage: `/caseload` for your own; managers: `/caseload` for every district, "
    "`/caseload district=anchorage` or `/caseload @provider`."
)


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
    s: Session,
    provider: m.Provider,
    now: datetime,
    show_names: bool,
    on_behalf: bool = False,
    district_ids: frozenset[str] | None = None,
) -> Caseload:
    """The provider's students and weekly times; only ``district_ids``' when given (a scoped
    manager looking), and then the weekly minutes count only those."""
    monday = coming_monday(local_date(now, provider.timezone))
    q = (
        select(m.Assignment, m.Student, m.School, m.District.name)
        .join(m.Student, m.Student.id == m.Assignment.student_id)
        .join(m.School, m.School.id == m.Student.school_id)
        .join(m.District, m.District.id == m.School.district_id)
        .where(m.Assignment.provider_id == provider.id)
        .order_by(m.District.name, m.School.name, m.Student.id, m.Assignment.service)
    )
    if district_ids is not None:
        q = q.where(m.School.district_id.in_(sorted(district_ids)))
    rows_list = list(s.execute(q))
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


PROVIDER_REFUSED = "You can only see the caseloads of providers who serve your districts."


def _target_provider(
    s: Session, person: Person, target_slack_id: str | None
) -> tuple[m.Provider, frozenset[str] | None]:
    """The provider to show, and the districts the asker may see of it (None: all)."""
    try:
        provider = acting_on(
            s,
            person,
            target_slack_id,
            not_a_provider=InvalidInput("You're in the roster as a manager. " + CASELOAD_USAGE),
            only_own="You can only see your own caseload.",
        )
    except NotAllowed as exc:
        if not person.known:
            raise
        raise Refused(
            exc.message, action="caseload.view_denied", subject_type="provider",
            subject_id=target_slack_id or "", reason="not_own",
        ) from None  # fmt: skip
    except NotFound:
        if districts_of(s, person.slack_user_id) is None:
            raise
        # A scoped manager hears the same whether the person is no provider or not theirs.
        raise Refused(
            PROVIDER_REFUSED, action="caseload.view_denied", subject_type="provider",
            subject_id=target_slack_id or "", reason="not_found",
        ) from None  # fmt: skip
    if provider.slack_user_id == person.slack_user_id:
        return provider, None
    scope = districts_of(s, person.slack_user_id)
    if scope is not None and not provider_districts(s, provider.id) & scope:
        raise Refused(
            PROVIDER_REFUSED, action="caseload.view_denied", subject_type="provider",
            subject_id=provider.id,
        )  # fmt: skip
    return provider, scope


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
    conflicts: DistrictConflicts | None = None  # one district's, over the next 60 days


def is_manager(deps: Deps, slack_user_id: str) -> bool:
    with deps.session_factory() as s:
        return identify(s, slack_user_id, deps.settings.org_timezone).is_manager


@audited
def district_caseload(
    deps: Deps, slack_user_id: str, district_text: str | None = None
) -> DistrictCaseload:
    """Managers only: coverage of their districts, or one district's providers and loads."""
    with deps.session_factory() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        require_known(person)
        if not person.is_manager:
            raise NotAllowed("Only provider-success managers can see a district's caseloads.")
        if district_text is None:
            scope = districts_of(s, slack_user_id)
            shown = [c for c in coverage(s) if scope is None or c.district_id in scope]
            return DistrictCaseload(None, tuple(shown), ())
        district = find_district(s, district_text, slack_user_id)
        check_district(s, slack_user_id, district.id, "caseload.view_denied")
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
        found = district_conflicts(
            s,
            deps.clock.now(),
            deps.settings.org_timezone,
            deps.settings.show_student_names,
            [district.id],
        )
        return DistrictCaseload(district.name, covered, tuple(loads), found[0] if found else None)


@audited
def caseload_for(deps: Deps, slack_user_id: str, target_slack_id: str | None = None) -> Caseload:
    """A provider's own caseload; managers may name a provider who serves their districts, and
    see only those districts' students."""
    with deps.session_factory() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        provider, scope = _target_provider(s, person, target_slack_id)
        return provider_caseload(
            s,
            provider,
            deps.clock.now(),
            deps.settings.show_student_names,
            on_behalf=provider.slack_user_id != slack_user_id,
            district_ids=scope,
        )
