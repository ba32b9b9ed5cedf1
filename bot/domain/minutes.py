"""Domain: IEP service minutes — required, delivered and owed (make-ups) for a month.

Pure functions of plain values: no clock, no database, no Slack.

- **Required.** An IEP states its mandate per week (``sessions_per_week × session_minutes``, or
  ``minutes_per_week``) or per month (``minutes_per_month``). A weekly mandate is spread over the
  school's days of a normal week, so each open school day is worth ``weekly / school days``: a
  partial week, a closed day (holiday, break) or a day outside the service's dates earns
  nothing. A monthly mandate is spread over the month's open school days, so holidays do not
  lower it, but a service that starts or ends inside the month is prorated. This is the month's
  "required" column.
- **Due so far** (what "behind" is judged on) follows the sessions, not the calendar, so a
  student is never behind only because their session day has not come yet this week:

  - weekly mandate: a *whole* week of the month (every school day open, inside the month and
    the service's dates) whose last school day's grace to be marked is over is due in full, so
    a student with no sessions at all still falls behind; every other week (this week, a
    partial week at the month's edges, a week with a closure, the week a service starts or
    ends) is due only what its sessions already settled (held, owed, or not owed but not
    excused) would have delivered, capped at that week's share. A closed day's or an exited
    student's cancelled session is not due.
  - monthly mandate: what the sessions settled so far would have delivered, capped at the
    month's requirement, but at least the month's share of the open days of its whole weeks
    that are over (whole as the weekly rule says: every school day open, inside the month and
    the service's dates, the last one's grace over), so a student with no sessions at all
    falls behind week by week, never mid-week; once the month is over (and its grace), the
    whole requirement.

  A session that passed without being held (cancelled by the provider, ``provider_out``, never
  recorded) is due at once and so makes its student behind at once; a make-up held adds to the
  delivered minutes and so clears it at once.
- **Delivered.** Held sessions (and sessions still marked "scheduled" whose note is written),
  counted in the school-local month of the session. A group session counts its full length for
  each student in it (each student has their own row).
- **Owed.** A session cancelled by the provider (also ``provider_out``: time off, a licence that
  ended, a provider who left), one cancelled with no reason recorded, and one nobody marked when
  the grace to mark it has passed. So is a weekly slot's date that has no session on file at
  all, once that grace has passed (``unrecorded_minutes``; the sweeper then records it as a
  session cancelled ``not_recorded``): the school open, the service active, the slot already
  approved, the student not exited. Not owed: the school closed or cancelled, the student
  exited. A student's absence is owed only when the district says so (a setting, off by
  default). Held make-ups pay the debt back; a missed make-up leaves the original debt open.
"""

from __future__ import annotations

import calendar
import re
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from fractions import Fraction
from functools import cached_property, lru_cache
from typing import NamedTuple

from bot.domain.vocabulary import CancelReason, SessionStatus

HELD, SCHEDULED = SessionStatus.HELD, SessionStatus.SCHEDULED
CANCELLED, NO_SHOW = SessionStatus.CANCELLED, SessionStatus.NO_SHOW

# Why a session was cancelled (``sessions.cancel_reason``).
BY_PROVIDER = CancelReason.PROVIDER
BY_SCHOOL = CancelReason.SCHOOL
STUDENT_ABSENT = CancelReason.STUDENT_ABSENT
PROVIDER_OUT = CancelReason.PROVIDER_OUT
STUDENT_EXITED = CancelReason.STUDENT_EXITED
SCHOOL_CLOSED = CancelReason.SCHOOL_CLOSED
LICENCE_ENDED = CancelReason.LICENCE_ENDED
PROVIDER_REMOVED = CancelReason.PROVIDER_REMOVED
SERVICE_ENDED = CancelReason.SERVICE_ENDED
NOT_RECORDED = CancelReason.NOT_RECORDED

# Cancellations the district does not owe minutes for; every other reason (and none) is owed.
NOT_OWED_REASONS = frozenset({BY_SCHOOL, SCHOOL_CLOSED, STUDENT_EXITED, SERVICE_ENDED})
OWED_REASONS = frozenset({BY_PROVIDER, PROVIDER_OUT, LICENCE_ENDED, PROVIDER_REMOVED, NOT_RECORDED})
# Cancellations that do not make a session due either: the day was not a school day for the
# student (closed, exited, the service over). A school's own cancellation (an assembly) is still
# due, as it is in a whole week.
NOT_DUE_REASONS = frozenset({SCHOOL_CLOSED, STUDENT_EXITED, SERVICE_ENDED})

BEHIND_SHARE = Fraction(9, 10)  # below 90% of the prorated required minutes is "behind"
DEFAULT_SCHOOL_DAYS = frozenset(range(5))  # Mon-Fri, for a school with no hours on file
WEEKS = 6  # a month touches at most six Monday-to-Sunday weeks


class Outcome(StrEnum):
    DELIVERED = "delivered"
    OWED = "owed"
    NOT_OWED = "not_owed"
    PENDING = "pending"  # still to come, or over but within the grace to be marked


@dataclass(frozen=True)
class SessionFacts:
    status: str
    cancel_reason: str | None = None
    makeup: bool = False
    note_written: bool = False
    # Still "scheduled", no note, and the time to mark it has passed: it never happened, as far
    # as anyone recorded.
    unmarked_overdue: bool = False


def outcome(f: SessionFacts, *, no_show_owed: bool = False) -> Outcome:
    """What one student's place in a session means for their minutes."""
    if f.status == HELD or (f.status == SCHEDULED and f.note_written):
        return Outcome.DELIVERED
    if f.status == SCHEDULED:
        if not f.unmarked_overdue:
            return Outcome.PENDING
        return Outcome.NOT_OWED if f.makeup else Outcome.OWED
    if f.makeup:
        # A make-up that did not happen pays nothing back; the debt it was for stays open.
        return Outcome.NOT_OWED
    if f.status == NO_SHOW or f.cancel_reason == STUDENT_ABSENT:
        return Outcome.OWED if no_show_owed else Outcome.NOT_OWED
    if f.status == CANCELLED:
        return Outcome.NOT_OWED if f.cancel_reason in NOT_OWED_REASONS else Outcome.OWED
    return Outcome.NOT_OWED


def counts_as_due(f: SessionFacts, *, no_show_owed: bool = False) -> bool:
    """Whether the session's minutes are due (in a week judged by its sessions): a regular
    session whose outcome is settled, unless the day was excused (closed, exited, ended)."""
    if f.makeup or f.cancel_reason in NOT_DUE_REASONS:
        return False
    return outcome(f, no_show_owed=no_show_owed) is not Outcome.PENDING


# --- months ---------------------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """``2026-12`` -> Month(2026, 12); anything else is a ValueError with a sentence."""
        found = _MONTH.match(text.strip())
        if found is None or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1900:
            raise ValueError(f"month must be YYYY-MM, like 2026-12 (got {text.strip()[:20]!r})")
        return cls(int(found[1]), int(found[2]))

    @classmethod
    def of(cls, day: date) -> Month:
        return cls(day.year, day.month)

    @cached_property
    def first(self) -> date:
        return date(self.year, self.month, 1)

    @cached_property
    def last(self) -> date:
        return date(self.year, self.month, calendar.monthrange(self.year, self.month)[1])

    def days(self) -> Iterator[date]:
        d = self.first
        while d <= self.last:
            yield d
            d += timedelta(days=1)

    def label(self) -> str:
        return f"{calendar.month_name[self.month]} {self.year}"

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


# --- required -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mandate:
    """One student service's IEP mandate and its dates (inclusive; None = open)."""

    sessions_per_week: int
    session_minutes: int
    minutes_per_week: int | None = None
    minutes_per_month: int | None = None
    starts_on: date | None = None
    ends_on: date | None = None

    @property
    def weekly(self) -> int:
        if self.minutes_per_week is not None:
            return self.minutes_per_week
        return self.sessions_per_week * self.session_minutes

    def active(self, day: date) -> bool:
        return (self.starts_on is None or self.starts_on <= day) and (
            self.ends_on is None or day <= self.ends_on
        )


@dataclass(frozen=True)
class SchoolDays:
    """The weekdays a school meets (from its hours) and its closed dates."""

    weekdays: frozenset[int] = DEFAULT_SCHOOL_DAYS
    closed: frozenset[date] = frozenset()

    def is_open(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.closed

    @property
    def per_week(self) -> int:
        return len(self.weekdays) or len(DEFAULT_SCHOOL_DAYS)


def closed_dates(spans: Iterable[tuple[date, date]]) -> frozenset[date]:
    """Every date inside the closed spans (inclusive)."""
    out: set[date] = set()
    for first, last in spans:
        d = first
        while d <= last:
            out.add(d)
            d += timedelta(days=1)
    return frozenset(out)


@dataclass(frozen=True)
class OpenDays:
    """A school's open days in one month, sorted: the unit every mandate is spread over."""

    month: Month
    days: tuple[date, ...]
    per_week: int  # school days in a normal week

    @classmethod
    def of(cls, school: SchoolDays, month: Month) -> OpenDays:
        return cls(month, tuple(d for d in month.days() if school.is_open(d)), school.per_week)

    def count(self, first: date | None, last: date | None) -> int:
        """Open days from ``first`` to ``last`` (inclusive; None = unbounded)."""
        lo = 0 if first is None else bisect_left(self.days, first)
        hi = len(self.days) if last is None else bisect_right(self.days, last)
        return max(0, hi - lo)

    @cached_property
    def mondays(self) -> tuple[date, ...]:
        """The Mondays of the weeks (Monday to Sunday) that touch the month; week ``i`` of the
        month is the one starting ``mondays[i]``."""
        first = self.month.first - timedelta(days=self.month.first.weekday())
        return tuple(
            first + timedelta(weeks=i) for i in range((self.month.last - first).days // 7 + 1)
        )

    def week_of(self, day: date) -> int:
        """The index of ``day``'s week in ``mondays`` (the day inside the month)."""
        return (day - self.mondays[0]).days // 7


def _share(mandate: Mandate, days: OpenDays, through: date | None) -> tuple[int, int]:
    """``required_in`` as (numerator, denominator), the denominator positive."""
    last = mandate.ends_on
    if through is not None:
        last = through if last is None else min(last, through)
    counted = days.count(mandate.starts_on, last)
    if mandate.minutes_per_month is not None:
        if not days.days:
            return 0, 1
        return mandate.minutes_per_month * counted, len(days.days)
    return mandate.weekly * counted, days.per_week


def _rounded(share: tuple[int, int]) -> int:
    """``round(Fraction(*share))`` (half to even) without making a Fraction."""
    whole, rest = divmod(share[0], share[1])
    twice = 2 * rest
    if twice > share[1] or (twice == share[1] and whole % 2):
        return whole + 1
    return whole


def required_in(mandate: Mandate, days: OpenDays, through: date | None = None) -> Fraction:
    """The minutes the mandate requires in the month of ``days``, up to ``through`` (inclusive;
    None = the whole month)."""
    return Fraction(*_share(mandate, days, through))


def required_minutes(
    mandate: Mandate, school: SchoolDays, month: Month, through: date | None = None
) -> Fraction:
    """The minutes the mandate requires in ``month``, counting only days up to ``through``.

    ``through=None`` is the whole month; a date gives the share due so far ("to date").
    """
    return required_in(mandate, OpenDays.of(school, month), through)


# --- one student service's month ------------------------------------------------------------


@dataclass(frozen=True)
class Tally:
    """Minutes by outcome: ``delivered`` inside the month; ``owed`` and ``made_up`` (held
    make-ups) from the start up to the month's end, so a make-up pays back an older debt."""

    delivered: int = 0
    owed: int = 0
    made_up: int = 0
    weeks: tuple[int, ...] = (0,) * WEEKS  # minutes due (``counts_as_due``) per week of month

    def add(
        self,
        f: SessionFacts,
        minutes: int,
        in_month: bool,
        *,
        no_show_owed: bool,
        week: int | None = None,
    ) -> Tally:
        """``week``: the session's week of the month (``OpenDays.week_of``), when in it."""
        what = outcome(f, no_show_owed=no_show_owed)
        delivered = self.delivered + (minutes if in_month and what is Outcome.DELIVERED else 0)
        owed = self.owed + (minutes if what is Outcome.OWED else 0)
        made_up = self.made_up + (minutes if f.makeup and what is Outcome.DELIVERED else 0)
        weeks = self.weeks
        if in_month and week is not None and counts_as_due(f, no_show_owed=no_show_owed):
            weeks = weeks[:week] + (weeks[week] + minutes,) + weeks[week + 1 :]
        return Tally(delivered, owed, made_up, weeks)


class MinutesLine(NamedTuple):
    """One student service in one month (a plain tuple: an organisation's month is a hundred
    thousand and more of them)."""

    required: int  # the whole month's, prorated for the service's dates and the calendar
    required_to_date: int  # due so far (``Due.so_far``): what "behind" is judged on
    delivered: int
    owed: int  # make-up minutes still owed (owed minus make-ups held, never below zero)

    @property
    def behind(self) -> bool:
        # delivered < 90% of due, in whole numbers: 10 * delivered < 9 * due
        share = BEHIND_SHARE
        return (
            self.required_to_date > 0
            and self.delivered * share.denominator < share.numerator * self.required_to_date
        )

    @property
    def status(self) -> str:
        return "behind" if self.behind else "on track"

    @property
    def percent(self) -> int:
        if self.required_to_date <= 0:
            return 100
        return int(100 * self.delivered / self.required_to_date)


@dataclass(frozen=True)
class Due:
    """What a mandate makes due in a month as of a day, before looking at any session: the
    month's whole requirement, the weeks due in full, and the weeks judged by their sessions.
    Shares are numerators over ``den`` (exact: rounded once, at the end)."""

    whole: int  # the month's required minutes, rounded
    den: int
    fixed: int  # the numerator due whatever the sessions say (whole weeks, or a month over)
    judged: tuple[tuple[int, int], ...]  # (week index, share numerator): due up to its sessions
    # A monthly mandate: the numerator the sessions' sum is capped at (``fixed`` is then the
    # floor the whole weeks over make due, whatever the sessions).
    cap: int | None

    @cached_property
    def fixed_minutes(self) -> int:
        return _rounded((self.fixed, self.den))

    def so_far(self, settled: Sequence[int] = (), in_month: int | None = None) -> int:
        """The minutes due so far, given ``settled[i]``: the minutes of week ``i``'s sessions
        that count as due (``counts_as_due``); ``in_month``: their sum over the month, if known
        (a monthly mandate looks only at that)."""
        if not self.judged and self.cap is None:
            return self.fixed_minutes
        den, total = self.den, self.fixed
        if self.cap is not None:  # a monthly mandate: ``fixed`` is a floor, not a part
            got = min(self.cap, den * (sum(settled) if in_month is None else in_month))
            total = got if got > total else total
        else:
            for week, share in self.judged:
                got = den * settled[week] if week < len(settled) else 0
                total += share if share < got else got
        return _rounded((total, den))


def due_rule(mandate: Mandate, days: OpenDays, today: date, settled: date | None = None) -> Due:
    """The mandate's ``Due`` in the month of ``days`` as of ``today`` (school-local); dates
    before ``settled`` (default ``today``) are past their grace to be marked."""
    settled = today if settled is None else settled
    whole_share = _share(mandate, days, None)
    within = days.month.first < (mandate.starts_on or days.month.first) or (
        mandate.ends_on is not None and mandate.ends_on < days.month.last
    )
    whole = _rounded(whole_share)
    # The school's weeks as they are (most services: worked out per school), or as the
    # service's dates cut them.
    weeks = _service_weeks(mandate, days, today) if within else _weeks(days, today)
    if mandate.minutes_per_month is not None:
        if settled > days.month.last or whole_share[0] == 0:
            return Due(whole, whole_share[1], whole_share[0], (), None)
        # At least the whole weeks that are over (the weekly rule's notion), at the month's
        # share of their open days: a student with no sessions falls behind week by week.
        over = sum(count for _, count, last in weeks if count == days.per_week and last < settled)
        return Due(whole, whole_share[1], mandate.minutes_per_month * over, (), whole_share[0])
    fixed = 0
    judged: list[tuple[int, int]] = []
    for index, count, last in weeks:
        if count == days.per_week and last < settled:
            fixed += mandate.weekly * count  # a whole week, its last day's grace over: in full
        else:
            judged.append((index, mandate.weekly * count))
    return Due(whole, days.per_week, fixed, tuple(judged), None)


def _service_weeks(
    mandate: Mandate, days: OpenDays, today: date
) -> tuple[tuple[int, int, date], ...]:
    """``_weeks`` for a service that starts or ends inside the month: each week's open days
    inside the service's dates."""
    out: list[tuple[int, int, date]] = []
    for index, monday in enumerate(days.mondays):
        if monday > today:
            break  # nothing of a week still to come is due
        sunday = monday + timedelta(days=6)
        first = monday if mandate.starts_on is None else max(monday, mandate.starts_on)
        last = sunday if mandate.ends_on is None else min(sunday, mandate.ends_on)
        count = days.count(first, last) if first <= last else 0
        if count:
            out.append((index, count, days.days[bisect_right(days.days, sunday) - 1]))
    return tuple(out)


@lru_cache(maxsize=4096)
def _weeks(days: OpenDays, today: date) -> tuple[tuple[int, int, date], ...]:
    """Each week of the month begun by ``today`` that has open days: (index, open days, its
    last open day). A week is whole when it has ``days.per_week`` of them, and due in full once
    its last day's grace to be marked is over."""
    out: list[tuple[int, int, date]] = []
    for index, monday in enumerate(days.mondays):
        if monday > today:
            break
        sunday = monday + timedelta(days=6)
        count = days.count(monday, sunday)
        if count:
            out.append((index, count, days.days[bisect_right(days.days, sunday) - 1]))
    return tuple(out)


def due(
    mandate: Mandate,
    days: OpenDays,
    today: date,
    settled_minutes: Sequence[int] = (),
    settled: date | None = None,
) -> tuple[int, int]:
    """(the month's required minutes, those due so far), rounded to whole minutes."""
    rule = due_rule(mandate, days, today, settled)
    return rule.whole, rule.so_far(settled_minutes)


def line_of(required: tuple[int, int], tally: Tally) -> MinutesLine:
    return line_from(required, tally.delivered, tally.owed, tally.made_up)


def line_from(required: tuple[int, int], delivered: int, owed: int, made_up: int) -> MinutesLine:
    """A tally's line from its sums (what a month of a whole organisation is made of)."""
    return MinutesLine(required[0], required[1], delivered, owed - made_up if owed > made_up else 0)


def minutes_line(
    mandate: Mandate, days: OpenDays, today: date, tally: Tally, settled: date | None = None
) -> MinutesLine:
    """The month's figures for a student service, as of ``today`` (school-local)."""
    return line_of(due(mandate, days, today, tally.weeks, settled), tally)


# --- weekly slots with nothing on file --------------------------------------------------------


@dataclass(frozen=True)
class SlotDates:
    """A weekly slot of a student service, and the dates it applies to (inclusive; None =
    open): from the day after it was approved and the service's start, to the service's end or
    the student's exit."""

    weekday: int  # Monday = 0
    minutes: int
    first: date | None = None
    last: date | None = None


def slot_days(slot: SlotDates, days: OpenDays, before: date) -> list[date]:
    """The slot's dates in the month of ``days`` that the school was open, inside the slot's
    dates and before ``before`` (the grace to mark a session has passed for them)."""
    lo = days.month.first if slot.first is None else max(slot.first, days.month.first)
    hi = before - timedelta(days=1)
    if slot.last is not None:
        hi = min(hi, slot.last)
    return [d for d in days.days if lo <= d <= hi and d.weekday() == slot.weekday]


def unrecorded_minutes(
    slot: SlotDates, days: OpenDays, before: date, recorded: Iterable[date]
) -> int:
    """Owed minutes for the slot's dates that have no session on file at all (``recorded``:
    the dates that have one of the student and service, whatever its status or key, make-ups
    aside): they never happened and nobody said why."""
    have = set(recorded)
    return slot.minutes * sum(d not in have for d in slot_days(slot, days, before))


# --- make-up times --------------------------------------------------------------------------


def intersect(a: Iterable[tuple[int, int]], b: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    """The overlap of two sets of half-open intervals (any comparable ends)."""
    xs, ys = sorted(a), sorted(b)
    out: list[tuple[int, int]] = []
    i = j = 0
    while i < len(xs) and j < len(ys):
        lo, hi = max(xs[i][0], ys[j][0]), min(xs[i][1], ys[j][1])
        if lo < hi:
            out.append((lo, hi))
        if xs[i][1] < ys[j][1]:
            i += 1
        else:
            j += 1
    return out


def free_starts(
    windows: Iterable[tuple[int, int]],
    busy: Iterable[tuple[int, int]],
    length: int,
    step: int,
) -> list[int]:
    """Start points (multiples of ``step``) of ``length``-long spans inside ``windows`` that
    overlap no ``busy`` interval. Units are the caller's (minutes since an epoch, say)."""
    taken = sorted(busy)
    out: list[int] = []
    for lo, hi in sorted(windows):
        t = -(-lo // step) * step
        while t + length <= hi:
            if not any(b_lo < t + length and t < b_hi for b_lo, b_hi in taken):
                out.append(t)
            t += step
    return out
