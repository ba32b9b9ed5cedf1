"""Services: the dates behind service minutes — each school's open days in a month, when a
session's grace to be marked is over, a service's last day, and the weekly-slot dates that passed
with nothing on file (``unrecorded_dates``, which the minutes figures count as owed and the
make-ups job records as ``not_recorded`` sessions). Read-only helpers for ``bot.services.minutes``
and ``bot.services.unrecorded``; the rule itself is ``bot.domain.minutes``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from bot.domain.minutes import (
    NOT_DUE_REASONS,
    Month,
    OpenDays,
    SchoolDays,
    SlotDates,
    closed_dates,
    slot_days,
)
from bot.domain.schedule import local_date
from bot.domain.sessions import session_key
from bot.settings import Settings
from storage import minutes as q


def unmarked_cutoff(now: datetime, settings: Settings) -> datetime:
    """A session still "scheduled" that started before this was never marked in time: as far as
    anyone recorded, it did not happen (the same grace as the SOAP note)."""
    return now - timedelta(hours=settings.soap_note_due_hours)


@dataclass(frozen=True)
class Calendar:
    """Per school in scope: its open days in the month, its zone, today's date there and the
    first date whose grace to be marked is not over yet."""

    days: dict[str, OpenDays]
    zones: dict[str, str]
    today: dict[str, date]
    settled: dict[str, date]


def calendar_of(
    s: Session,
    scope: q.Scope,
    schools: set[str],
    month: Month,
    now: datetime,
    settings: Settings,
) -> Calendar:
    cutoff = unmarked_cutoff(now, settings)
    zones = q.school_zones(s, scope)
    weekdays = q.weekdays_by_school(s, schools)
    closed = q.closed_spans(s, schools, month.first, month.last)
    days: dict[str, OpenDays] = {}
    today: dict[str, date] = {}
    settled: dict[str, date] = {}
    for school_id in schools:
        school = SchoolDays(
            weekdays.get(school_id) or SchoolDays().weekdays,
            closed_dates(closed.get(school_id, [])),
        )
        days[school_id] = OpenDays.of(school, month)
        zone = zones.get(school_id, settings.org_timezone)
        zones[school_id] = zone
        today[school_id] = local_date(now, zone)
        settled[school_id] = local_date(cutoff, zone)
    return Calendar(days, zones, today, settled)


def service_ends(r: q.ServiceRow) -> date | None:
    """The service's last day: its end, or the student's exit if sooner."""
    if r.exited_at is None:
        return r.ends_on
    exited = r.exited_at.astimezone(UTC).date()
    return exited if r.ends_on is None else min(r.ends_on, exited)


def count_window(calendar: Calendar, month: Month) -> tuple[datetime, datetime] | None:
    """The span, in every school's zone, from the month's first day to its last day whose grace
    to be marked is over (None: no such day anywhere): a slot's sessions counted in it are
    sessions of the dates ``unrecorded_dates`` looks at."""
    spans = {
        q.month_bounds(month.first, min(settled - timedelta(days=1), month.last), zone)
        for zone, settled in {
            (calendar.zones[school], calendar.settled[school]) for school in calendar.days
        }
    }
    if not spans:
        return None
    lo, hi = max(a for a, _ in spans), min(b for _, b in spans)
    return (lo, hi) if lo < hi else None


def slot_counts(
    s: Session, scope: q.Scope, window: tuple[datetime, datetime] | None
) -> dict[tuple[str, str], int]:
    """Each slot's sessions in ``window`` (``count_window``) that may be one of its due dates:
    not those cancelled because the day was not due (closed, exited, the service over)."""
    if window is None:
        return {}
    return q.recorded_counts(s, scope, *window, not_due=NOT_DUE_REASONS)


def unrecorded_dates(
    s: Session,
    scope: q.Scope,
    slots: list[q.SlotRow],
    month: Month,
    calendar: Calendar,
    dates: dict[tuple[str, str], tuple[date | None, date | None]],
    cutoff: datetime,
    *,
    counted: dict[tuple[str, str], int] | None = None,
) -> list[tuple[q.SlotRow, date]]:
    """The month's weekly-slot dates with no session on file at all (the rule:
    ``unrecorded_minutes``): open, inside the slot's and service's dates, their grace over, and
    neither the slot's own session for the date nor any other session of the student and
    service (not a make-up) on that school-local date. ``counted``: ``slot_counts`` over
    ``count_window`` if already read."""
    # Each slot's dates to account for: open, inside its dates, their grace over. Slots of one
    # school, weekday and dates share them: each worked out once.
    due_dates: list[tuple[q.SlotRow, list[date]]] = []
    wanted_of: dict[tuple[object, ...], list[date]] = {}
    approved_on: dict[tuple[datetime, str], date] = {}  # slots approved together share it
    zones, settled, days = calendar.zones, calendar.settled, calendar.days
    # Rows unpacked rather than read by name: a hundred thousand slots and more.
    for r in slots:
        sid, svc, school_id, _, _, weekday, minutes, approved_at, _, _, _ = r
        span = dates.get((sid, svc))
        if span is None or approved_at is None:
            continue  # not in scope, or no telling since when the slot stood
        zone = zones[school_id]
        starts_on, ends = span
        first = approved_on.get((approved_at, zone))
        if first is None:
            first = approved_on[(approved_at, zone)] = local_date(approved_at, zone)
        first += timedelta(days=1)
        first = max(first, starts_on or first)
        key = (school_id, weekday, first, ends)
        wanted = wanted_of.get(key)
        if wanted is None:
            before = settled[school_id]
            slot = SlotDates(weekday, minutes, first, ends)
            wanted = wanted_of[key] = slot_days(slot, days[school_id], before)
        if wanted:
            due_dates.append((r, wanted))
    if not due_dates:
        return []
    # Most slots have a session on every such date: counting a slot's sessions in a span that
    # holds only its dates in every zone settles those; the others are looked at date by date.
    if counted is None:
        window = count_window(calendar, month)
        counted = slot_counts(s, scope, window)
    unsure = [
        (r, wanted)
        for r, wanted in due_dates
        if counted.get((r[0], _slot_prefix(r[3], r[4])), 0) < len(wanted)
    ]
    if not unsure:
        return []
    # A date is on file when its own session is (any status), or when another session of the
    # student and service that is not a make-up falls on it in the school's zone: imported from
    # sessions.csv under its own id, moved, rebooked. Two slots of a service on one day need two
    # sessions: each date's sessions stand first for the slots they were made for, the others one
    # slot each. One read over the month (a day either side for the zones), unsure students only.
    lo, hi = q.month_bounds(month.first, month.last, "UTC")
    school_of = {r.student_id: r.school_id for r, _ in unsure}
    own_day: dict[tuple[str, str], date] = {}  # (generated key, student): its school-local date
    on_day: dict[tuple[str, str, date], int] = defaultdict(int)  # sessions per date
    local: dict[tuple[datetime, str], date] = {}  # many sessions share a start
    for sid, svc, at, own in q.sessions_on_file(
        s, scope, lo - timedelta(days=1), hi + timedelta(days=1), school_of
    ):
        zone = calendar.zones[school_of[sid]]
        day = local.get((at, zone))
        if day is None:
            day = local[(at, zone)] = local_date(at, zone)
        if own is not None:
            own_day[(own, sid)] = day
        on_day[(sid, svc, day)] += 1
    unsure_ids = {id(r) for r, _ in unsure}
    taken: dict[tuple[str, str, date], int] = defaultdict(int)
    pending: list[tuple[q.SlotRow, date]] = []
    for r, wanted in due_dates:
        if r.student_id not in school_of:
            continue
        for d in wanted:
            found = own_day.get((session_key(r.slot_id, r.group_key, d), r.student_id))
            if found == d:
                taken[(r.student_id, r.service, d)] += 1
            elif found is None and id(r) in unsure_ids:
                pending.append((r, d))
            # (its own session moved to another day: on file all the same)
    out = []
    for r, d in pending:
        day_key = (r.student_id, r.service, d)
        if taken[day_key] < on_day.get(day_key, 0):
            taken[day_key] += 1
        else:
            out.append((r, d))
    return out


def _slot_prefix(slot_id: int, group_key: str | None) -> str:
    """A slot's session keys without their date (``slot:12`` or ``group:…``)."""
    if group_key is None:
        return f"slot:{slot_id}"  # (most slots: as session_key writes it)
    return session_key(slot_id, group_key, date(2000, 1, 1))[: -len(":2000-01-01")]
