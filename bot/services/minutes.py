"""Services: IEP service minutes — what /minutes, the App Home and the digest show.

``month_minutes`` works out, for every student service in a scope, the month's required
minutes (prorated), the minutes delivered and the make-up minutes still owed; the rule itself is
``bot.domain.minutes``, the dates behind it ``bot.services.minutes_calendar``. ``owed_makeups``
lists the missed sessions still waiting for a make-up. The use cases open one read-only session
each and check who is asking: a provider sees their own students, a manager a district (within
their district scope).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import NamedTuple
from weakref import WeakKeyDictionary
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import privacy
from bot.domain.minutes import (
    NOT_OWED_REASONS,
    STUDENT_ABSENT,
    WEEKS,
    Due,
    Mandate,
    MinutesLine,
    Month,
    Outcome,
    SessionFacts,
    due_rule,
    line_from,
    outcome,
)
from bot.domain.schedule import local_date
from bot.services.districts import find_district
from bot.services.errors import InvalidInput, NotAllowed
from bot.services.minutes_calendar import (
    calendar_of,
    count_window,
    service_ends,
    slot_counts,
    unmarked_cutoff,
    unrecorded_dates,
)
from bot.services.minutes_tallies import DUE, WEEK0, month_tallies
from bot.services.people import Person, identify, require_known
from bot.services.scope import audited, check_district
from bot.settings import Settings
from storage import minutes as q
from storage import models as m
from storage.collector import collector_paused
from storage.db import Beside
from storage.queries import manager_district_scope

USAGE = (
    "Usage: `/minutes` for your students this month, or (managers) `/minutes district=anc`. "
    "Add `month=2026-11` for another month."
)
ARG = re.compile(r"^(district|month)=(\S+)$", re.IGNORECASE)


class StudentMinutes(NamedTuple):
    student_id: str
    service: str
    school_id: str
    district_id: str
    provider_id: str | None
    line: MinutesLine


class OwedMakeup(NamedTuple):
    session_id: int
    student_id: str
    service: str
    provider_id: str  # who owes it: the approved provider now, else who missed it
    starts_at: datetime
    minutes: int
    status: str
    cancel_reason: str | None


NO_DATES: tuple[date | None, date | None] = (None, None)  # (most services: shared)

# A school and a mandate: (school, sessions a week, minutes each, minutes a week, a month,
# starts, ends).
MandateKey = tuple[str, int, int, int | None, int | None, date | None, date | None]


def month_minutes(
    s: Session, scope: q.Scope, month: Month, now: datetime, settings: Settings
) -> list[StudentMinutes]:
    """Each student service in scope: required, delivered and owed for ``month`` as of ``now``."""
    return month_figures(s, scope, month, now, settings, with_owed=False)[0]


def month_figures(
    s: Session,
    scope: q.Scope,
    month: Month,
    now: datetime,
    settings: Settings,
    *,
    with_owed: bool = True,
) -> tuple[list[StudentMinutes], list[OwedMakeup]]:
    """``month_minutes`` and (``with_owed``) ``owed_makeups`` for the scope. For a district or
    more, the large reads (the month's sums, the weekly slots and their sessions counted, the
    make-ups owed) run beside this thread's work on the services and their rules, sharing one
    snapshot (``storage.db.Beside``): an organisation's month is a million sessions. The
    objects it builds live until it ends: the cyclic collector waits meanwhile."""
    with collector_paused(), Beside(s, wanted=scope.student_ids is None) as side:
        owed = side.read(lambda t: owed_makeups(t, scope, now, settings)) if with_owed else None
        items = _month_minutes(s, scope, month, now, settings, side)
        return items, ([] if owed is None else owed.get())


def _month_minutes(
    s: Session, scope: q.Scope, month: Month, now: datetime, settings: Settings, side: Beside
) -> list[StudentMinutes]:
    cutoff = unmarked_cutoff(now, settings)
    no_show_owed = settings.makeup_for_no_shows
    tallied = side.read(lambda t: month_tallies(t, scope, month, cutoff, no_show_owed))
    slotted = side.read(lambda t: q.slot_rows(t, scope, holders=False))
    services = q.service_rows(s, scope)
    if not services:
        return []
    calendar = calendar_of(s, scope, {r[2] for r in services}, month, now, settings)
    window = count_window(calendar, month)
    counted = side.read(lambda t: slot_counts(t, scope, window))
    # What each mandate makes due (students of one school mostly share a handful of mandates:
    # each worked out once). Rows are unpacked rather than read by name: a hundred thousand
    # rows and more.
    rules: dict[MandateKey, Due] = {}
    rule_of: list[Due] = []
    dates: dict[tuple[str, str], tuple[date | None, date | None]] = {}
    first, last = month.first, month.last
    for r in services:
        sid, svc, school_id, _, spw, length, per_week, per_month, starts, ends, gone, _ = r
        if gone is not None:
            ends = service_ends(r)
        dates[(sid, svc)] = NO_DATES if starts is None and ends is None else (starts, ends)
        # Dates outside the month change nothing in it: most services share a key.
        if starts is not None and starts <= first:
            starts = None
        if ends is not None and ends >= last:
            ends = None
        key = (school_id, spw, length, per_week, per_month, starts, ends)
        rule = rules.get(key)
        if rule is None:
            rule = rules[key] = due_rule(
                Mandate(spw, length, per_week, per_month, starts, ends),
                calendar.days[school_id],
                calendar.today[school_id],
                calendar.settled[school_id],
            )
        rule_of.append(rule)
    tallies = tallied.get()
    slots = slotted.get()
    if slots:
        unrecorded = unrecorded_dates(
            s, scope, slots, month, calendar, dates, cutoff, counted=counted.get()
        )
        for slot, day in unrecorded:
            total = tallies.get((slot.student_id, slot.service))
            if total is None:
                total = tallies[(slot.student_id, slot.service)] = [0] * (WEEK0 + WEEKS)
            total[1] += slot.minutes
            total[DUE] += slot.minutes
            total[WEEK0 + calendar.days[slot.school_id].week_of(day)] += slot.minutes
    out = []
    none = [0] * (WEEK0 + WEEKS)
    # A service with nothing on file gets its rule's line for no minutes: once per rule.
    idle: dict[int, MinutesLine] = {}
    for r, rule in zip(services, rule_of, strict=True):
        sid, svc, school_id, district, _, _, _, _, _, _, _, who = r
        total = tallies.get((sid, svc))
        if total is None:
            line = idle.get(id(rule))
            if line is None:
                line = idle[id(rule)] = line_from(
                    (rule.whole, rule.so_far(none[WEEK0:], 0)), 0, 0, 0
                )
        else:
            line = line_from((rule.whole, rule.so_far(total[WEEK0:], total[DUE])), *total[:DUE])
        out.append(StudentMinutes(sid, svc, school_id, district, who, line))
    return out


def owed_makeups(
    s: Session, scope: q.Scope, now: datetime, settings: Settings, since: datetime | None = None
) -> list[OwedMakeup]:
    """Missed sessions that owe minutes and have no make-up scheduled or held yet. A session
    cancelled ahead of time owes its make-up at once."""
    cutoff = unmarked_cutoff(now, settings)
    covered = q.all_active_makeup_targets(s, scope)
    out = []
    not_owed = set(NOT_OWED_REASONS) | (set() if settings.makeup_for_no_shows else {STUDENT_ABSENT})
    owes: dict[tuple[str, str | None, bool, bool], bool] = {}  # the rule, once per shape
    for c in q.owed_candidates(
        s,
        scope,
        since,
        not_owed_reasons=not_owed,
        overdue_before=cutoff,
        with_no_shows=settings.makeup_for_no_shows,
    ):
        if c.session_id in covered:
            continue
        shape = (c.status, c.cancel_reason, c.note_written, c.starts_at < cutoff)
        owing = owes.get(shape)
        if owing is None:
            facts = SessionFacts(shape[0], shape[1], False, shape[2], shape[3])
            what = outcome(facts, no_show_owed=settings.makeup_for_no_shows)
            owing = owes[shape] = what is Outcome.OWED
        if owing:
            out.append(OwedMakeup._make(c[:8]))  # (the candidate's fields, in the same order)
    return out


# --- what people see ------------------------------------------------------------------------


@dataclass(frozen=True)
class MinutesRow:
    student_id: str
    student: str  # initials and id (the name only when allowed)
    service: str
    provider_id: str | None
    required: int
    required_to_date: int
    delivered: int
    owed: int
    status: str  # on track | behind


@dataclass(frozen=True)
class ProviderOwed:
    provider_id: str
    provider: str
    count: int
    minutes: int


@dataclass(frozen=True)
class MakeupDue:
    """A missed session still waiting for its make-up (the provider may schedule it now)."""

    session_id: int
    student: str
    service: str
    missed_at: datetime  # in the provider's zone
    minutes: int


@dataclass(frozen=True)
class ProviderMinutes:
    provider_id: str
    provider: str
    month: Month
    rows: tuple[MinutesRow, ...]
    makeups_owed: int
    makeups: tuple[MakeupDue, ...] = ()  # oldest first


@dataclass(frozen=True)
class DistrictMinutes:
    district_id: str
    district: str
    month: Month
    services: int  # student services counted
    behind: tuple[MinutesRow, ...]  # worst first
    makeups: tuple[ProviderOwed, ...]  # most owed first

    @property
    def students_behind(self) -> int:
        return len({r.student_id for r in self.behind})

    @property
    def makeups_owed(self) -> int:
        return sum(p.count for p in self.makeups)


@dataclass(frozen=True)
class DistrictLine:
    district_id: str
    district: str
    students_behind: int
    makeups_owed: int

    def text(self) -> str:
        students = "student" if self.students_behind == 1 else "students"
        makeups = "make-up" if self.makeups_owed == 1 else "make-ups"
        return f"{self.students_behind} {students} behind, {self.makeups_owed} {makeups} owed"


@dataclass(frozen=True)
class OrgMinutes:
    month: Month
    districts: tuple[DistrictLine, ...]


@dataclass(frozen=True)
class MinutesArgs:
    district: str | None = None
    month: Month | None = None


def parse_args(text: str) -> MinutesArgs:
    district: str | None = None
    month: Month | None = None
    for token in text.split():
        found = ARG.match(token)
        if found is None:
            raise InvalidInput(f"I don't understand `{token[:40]}`.\n{USAGE}")
        if found[1].lower() == "district":
            district = found[2]
        else:
            try:
                month = Month.parse(found[2])
            except ValueError as exc:
                raise InvalidInput(f"The {exc}.") from None
    return MinutesArgs(district, month)


def student_labels(s: Session, student_ids: Iterable[str], show_names: bool) -> dict[str, str]:
    wanted = sorted(set(student_ids))
    out: dict[str, str] = {}
    for i in range(0, len(wanted), 5000):
        q_ = select(m.Student.id, m.Student.first_name, m.Student.last_name).where(
            m.Student.id.in_(wanted[i : i + 5000])
        )
        for sid, first, last in s.execute(q_):
            out[sid] = privacy.student_label(sid, first, last, show_names)
    return out


def _rows(s: Session, items: list[StudentMinutes], show_names: bool) -> list[MinutesRow]:
    labels = student_labels(s, (i.student_id for i in items), show_names)
    return [
        MinutesRow(
            i.student_id,
            labels.get(i.student_id, i.student_id),
            i.service,
            i.provider_id,
            i.line.required,
            i.line.required_to_date,
            i.line.delivered,
            i.line.owed,
            i.line.status,
        )
        for i in items
    ]


def provider_minutes(
    s: Session, provider: m.Provider, month: Month, now: datetime, settings: Settings
) -> ProviderMinutes:
    """The provider's approved students' minutes this month, behind first."""
    students = frozenset(
        s.scalars(select(m.Assignment.student_id).where(m.Assignment.provider_id == provider.id))
    )
    every, owing = month_figures(s, q.Scope(student_ids=students), month, now, settings)
    items = [i for i in every if i.provider_id == provider.id]
    items.sort(key=lambda i: (not i.line.behind, i.line.percent, i.student_id, i.service))
    owed = [o for o in owing if o.provider_id == provider.id]
    labels = student_labels(s, {o.student_id for o in owed}, settings.show_student_names)
    return ProviderMinutes(
        provider.id,
        provider.name,
        month,
        tuple(_rows(s, items, settings.show_student_names)),
        len(owed),
        tuple(
            MakeupDue(
                o.session_id,
                labels.get(o.student_id, o.student_id),
                o.service,
                o.starts_at.astimezone(ZoneInfo(provider.timezone)),
                o.minutes,
            )
            for o in sorted(owed, key=lambda o: (o.starts_at, o.session_id))
        ),
    )


def district_minutes(
    s: Session, district: m.District, month: Month, now: datetime, settings: Settings
) -> DistrictMinutes:
    """Students below 90% of their prorated minutes, and make-ups owed per provider."""
    scope = q.Scope(district_ids=frozenset({district.id}))
    items, owing = month_figures(s, scope, month, now, settings)
    behind = [i for i in items if i.line.behind]
    behind.sort(key=lambda i: (i.line.percent, i.student_id, i.service))
    per: dict[str, list[OwedMakeup]] = defaultdict(list)
    for o in owing:
        per[o.provider_id].append(o)
    names = dict(
        s.execute(
            select(m.Provider.id, m.Provider.name).where(m.Provider.id.in_(sorted(per)))
        ).all()
    )
    makeups = sorted(
        (
            ProviderOwed(pid, names.get(pid, pid), len(os), sum(o.minutes for o in os))
            for pid, os in per.items()
        ),
        key=lambda p: (-p.count, p.provider),
    )
    return DistrictMinutes(
        district.id,
        district.name,
        month,
        len(items),
        tuple(_rows(s, behind, settings.show_student_names)),
        tuple(makeups),
    )


def district_lines(
    s: Session, district_ids: frozenset[str] | None, now: datetime, settings: Settings
) -> list[DistrictLine]:
    """Per district: students behind this month and make-ups owed (digest and Home)."""
    month = Month.of(local_date(now, settings.org_timezone))
    districts = s.execute(select(m.District.id, m.District.name).order_by(m.District.name)).all()
    wanted = [(d, n) for d, n in districts if district_ids is None or d in district_ids]
    if not wanted:
        return []
    scope = q.Scope(district_ids=frozenset(d for d, _ in wanted))
    behind: dict[str, set[str]] = defaultdict(set)
    items, owing = month_figures(s, scope, month, now, settings)
    for i in items:
        if i.line.behind:
            behind[i.district_id].add(i.student_id)
    owed: dict[str, int] = defaultdict(int)
    district_of = dict(
        s.execute(
            select(m.Student.id, m.School.district_id)
            .join(m.School, m.School.id == m.Student.school_id)
            .where(m.School.district_id.in_(sorted(scope.district_ids or ())))
        ).all()
    )
    for o in owing:
        owed[district_of.get(o.student_id, "")] += 1
    return [DistrictLine(d, n, len(behind[d]), owed[d]) for d, n in wanted]


# The manager Home's minutes lines, per deps (one process's database), reused while nothing is
# recorded (``change_stamp``) for at most LINES_TTL: an organisation-wide month is seconds of work.
LINES_TTL = timedelta(minutes=5)
LINES_KEPT = 64
_LineKey = tuple[frozenset[str] | None, Month, tuple[int | None, ...]]
_lines_cache: WeakKeyDictionary[object, dict[_LineKey, tuple[datetime, list[DistrictLine]]]] = (
    WeakKeyDictionary()
)


def cached_district_lines(
    deps: Deps, s: Session, district_ids: frozenset[str] | None, now: datetime
) -> list[DistrictLine]:
    """``district_lines``, reused from an earlier call made less than LINES_TTL ago if nothing
    has been recorded since (a new or marked session, a note, a booking, a roster import)."""
    cache = _lines_cache.setdefault(deps.session_factory, {})
    key = (district_ids, Month.of(local_date(now, deps.settings.org_timezone)), q.change_stamp(s))
    hit = cache.get(key)
    if hit is not None and hit[0] <= now < hit[0] + LINES_TTL:
        return hit[1]
    lines = district_lines(s, district_ids, now, deps.settings)
    if len(cache) >= LINES_KEPT:
        cache.clear()
    cache[key] = (now, lines)
    return lines


class DistrictLinesOnce:
    """Every district's line worked out at most once (a digest run: each manager sees some of
    the same districts)."""

    def __init__(self, now: datetime, settings: Settings) -> None:
        self.now, self.settings = now, settings
        self._lines: dict[str, DistrictLine] = {}

    def lines(self, s: Session, district_ids: frozenset[str] | None) -> list[DistrictLine]:
        names = s.execute(select(m.District.id).order_by(m.District.name)).scalars().all()
        wanted = [d for d in names if district_ids is None or d in district_ids]
        missing = frozenset(d for d in wanted if d not in self._lines)
        if missing:
            for line in district_lines(s, missing, self.now, self.settings):
                self._lines[line.district_id] = line
        return [self._lines[d] for d in wanted if d in self._lines]


def _scope_of(s: Session, person: Person) -> frozenset[str] | None:
    if person.manager is None:
        return frozenset()
    return manager_district_scope(s, person.slack_user_id)


@audited
def minutes_for(
    deps: Deps, slack_user_id: str, args: MinutesArgs
) -> ProviderMinutes | DistrictMinutes | OrgMinutes:
    """``/minutes``: a provider's own students, or (managers) a district or every district."""
    now = deps.clock.now()
    settings = deps.settings
    with deps.session_factory() as s:
        person = identify(s, slack_user_id, settings.org_timezone)
        require_known(person)
        month = args.month or Month.of(local_date(now, person.timezone))
        if args.district is not None or person.provider is None:
            if person.manager is None:
                raise NotAllowed(
                    "Only provider-success managers can see a district's minutes. "
                    "`/minutes` alone shows your own students."
                )
            allowed = _scope_of(s, person)
            if args.district is None:
                month_now = Month.of(local_date(now, settings.org_timezone))
                if month != month_now:
                    raise InvalidInput(
                        "For another month, name a district: `/minutes district=anc month=…`."
                    )
                return OrgMinutes(month, tuple(district_lines(s, allowed, now, settings)))
            district = find_district(s, args.district, slack_user_id)
            check_district(s, slack_user_id, district.id, "minutes.view_denied")
            return district_minutes(s, district, month, now, settings)
        return provider_minutes(s, person.provider, month, now, settings)
