"""Domain: the deadline rules behind the nudges, and the working-hours windows they wait for.

Pure functions of ``now``/``today`` and plain values: no clock, no database, no Slack.

Stage semantics: a rule has stages, e.g. (30, 14, 7, 1) days before the due date. The *current*
stage is the smallest stage ``s`` with ``days_left <= s``; only it is eligible. So a notice is sent
when "due <= threshold and not yet sent", never only on the day it equals the threshold, and after
downtime a missed stage is sent only while it is still the latest one due (on day 6 the 7-day notice
goes out, not the 30-day one).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.schedule import local_date
from bot.domain.vocabulary import Day

OVERDUE = "overdue"
DAILY = "daily"


class Rule(StrEnum):
    ANNUAL_REVIEW = "annual_review"
    TRIENNIAL = "triennial"
    SOAP_NOTE = "soap_note"
    LICENCE = "licence"
    ASSIGNMENT = "assignment"  # "you have new students": queued by matching, text in payload


class RecipientKind(StrEnum):
    PROVIDER = "provider"
    MANAGER = "manager"


# --- stages --------------------------------------------------------------------------------


def current_stage(days_left: int, stages: Sequence[int]) -> int | None:
    """The smallest stage ``s`` with ``days_left <= s``; None when too early or already past due."""
    if days_left < 0:
        return None
    eligible = [s for s in stages if days_left <= s]
    return min(eligible) if eligible else None


def annual_review_stage(due: date, today: date, stages: Sequence[int]) -> str | None:
    """The annual review's current stage: a day count, ``"overdue"`` once the date has passed."""
    days_left = (due - today).days
    if days_left < 0:
        return OVERDUE
    stage = current_stage(days_left, stages)
    return None if stage is None else str(stage)


def triennial_stage(due: date, today: date, stages: Sequence[int]) -> str | None:
    """Like the annual review's: a day count, ``"overdue"`` once the date has passed."""
    return annual_review_stage(due, today, stages)


def licence_stage(expires_on: date, today: date, stages: Sequence[int]) -> str | None:
    """Notices before a licence expires. On ``expires_on`` it no longer counts, so none after."""
    stage = current_stage((expires_on - today).days, stages)
    return None if stage is None else str(stage)


def licence_escalates(expires_on: date, today: date, manager_stage: int) -> bool:
    """Managers hear about a licence from ``manager_stage`` days before it expires."""
    return 0 <= (expires_on - today).days <= manager_stage


def stage_is_current(
    rule: str, stage: str, due: date | None, today: date, policy: NudgePolicy
) -> bool:
    """Whether a queued notice still says what is true today (a later stage supersedes it)."""
    if due is None:
        return True
    if rule == Rule.ANNUAL_REVIEW:
        return annual_review_stage(due, today, policy.annual_review_stages) == stage
    if rule == Rule.TRIENNIAL:
        return triennial_stage(due, today, policy.triennial_stages) == stage
    if rule == Rule.LICENCE:
        return licence_stage(due, today, policy.licence_stages) == stage
    return True


def next_annual_review_due(held_on: date) -> date:
    """One year after the review was held (29 February -> 28 February)."""
    try:
        return held_on.replace(year=held_on.year + 1)
    except ValueError:
        return held_on.replace(year=held_on.year + 1, day=28)


def nudge_key(
    rule: str, subject: str, due: date | None, stage: str, kind: str, recipient: str
) -> str:
    """The outbox's unique key: one (rule, subject, due date, stage, recipient) is sent once."""
    return f"{rule}:{subject}:{due.isoformat() if due else '-'}:{stage}:{kind}:{recipient}"


def snoozed_key(key: str, until: date) -> str:
    return f"{key.split(':snooze:')[0]}:snooze:{until.isoformat()}"


# --- SOAP notes ----------------------------------------------------------------------------


def note_due_at(starts_at: datetime, minutes: int, due_hours: int) -> datetime:
    return starts_at + timedelta(minutes=minutes) + timedelta(hours=due_hours)


def note_escalates(due_at: datetime, now: datetime, escalate_days: int) -> bool:
    """``escalate_days`` days after the note fell overdue, managers hear about it too."""
    return now >= due_at + timedelta(days=escalate_days)


def days_overdue(due_at: datetime, now: datetime) -> int:
    return max(0, (now - due_at) // timedelta(days=1))


# --- zones and working hours -------------------------------------------------------------


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def usable_zone(name: str | None, fallback: str) -> str:
    """``name`` if it is an IANA zone, else ``fallback``."""
    if name:
        try:
            _zone(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return fallback


@dataclass(frozen=True)
class WorkingHours:
    """When a person may be messaged: these weekdays (0 = Monday), start..end local wall time."""

    days: frozenset[int]
    start: time
    end: time

    @classmethod
    def of(cls, days: Iterable[str], start: time, end: time) -> WorkingHours:
        wanted = frozenset(Day.parse(d).weekday for d in days)
        if not wanted or start >= end:
            raise ValueError("working hours need at least one day and start < end")
        return cls(wanted, start, end)


def working_window(now: datetime, zone: str, hours: WorkingHours) -> tuple[datetime, datetime]:
    """The window (UTC start, end) that contains ``now``, or else the next one to open.

    Computed per actual date in the person's zone, so daylight saving moves it correctly.
    """
    tz = _zone(zone)
    today = now.astimezone(tz).date()
    for offset in range(8):
        day = today + timedelta(days=offset)
        if day.weekday() not in hours.days:
            continue
        start = datetime.combine(day, hours.start, tz).astimezone(UTC)
        end = datetime.combine(day, hours.end, tz).astimezone(UTC)
        if now < end:
            return start, end
    raise AssertionError("unreachable: a week always holds a working day")  # pragma: no cover


def in_working_hours(now: datetime, zone: str, hours: WorkingHours) -> bool:
    start, end = working_window(now, zone, hours)
    return start <= now < end


def send_after(now: datetime, zone: str, hours: WorkingHours) -> datetime:
    """``now`` inside working hours, else when the recipient's next window opens."""
    start, _ = working_window(now, zone, hours)
    return max(now, start)


def window_date(now: datetime, zone: str, hours: WorkingHours) -> date:
    """The local date of the window a message sent now would be delivered in."""
    return local_date(send_after(now, zone, hours), zone)


def next_day_window_start(now: datetime, zone: str, hours: WorkingHours) -> datetime:
    """When the first window on a later local date opens ("snooze until tomorrow")."""
    tz = _zone(zone)
    tomorrow = now.astimezone(tz).date() + timedelta(days=1)
    midnight = datetime.combine(tomorrow, time(0), tz).astimezone(UTC)
    return working_window(midnight, zone, hours)[0]


def back_from_time_off(
    today: date, spans: Sequence[tuple[date, date]], zone: str, hours: WorkingHours
) -> datetime | None:
    """When someone on time off today is back: the first working window after the last day
    of the time off (spans that follow on from it count too); None when not off today."""
    end: date | None = None
    for start, last in sorted(spans):
        if end is None:
            if start <= today <= last:
                end = last
        elif start <= end + timedelta(days=1):
            end = max(end, last)
    if end is None:
        return None
    noon = datetime.combine(end, time(12), _zone(zone)).astimezone(UTC)
    return next_day_window_start(noon, zone, hours)


HoursOff = tuple[date, date, int, int, str]  # partial-day time off: these minutes, in this zone


def back_from_hours_off(now: datetime, spans: Sequence[HoursOff]) -> datetime | None:
    """When someone inside partial-day time off right now ("out Dec 4 1-4 ET") is back: the
    end of those hours; None when ``now`` is outside all of them. The rest of the day is not
    held: reminders wait out the hours, not the whole day."""
    for start, last, first_minute, end_minute, tz in spans:
        local = now.astimezone(_zone(tz))
        minute = local.hour * 60 + local.minute
        if start <= local.date() <= last and first_minute <= minute < end_minute:
            midnight = datetime.combine(local.date(), time(0), _zone(tz))
            return (midnight + timedelta(minutes=end_minute)).astimezone(UTC)
    return None


# --- the policy, from settings -------------------------------------------------------------


@dataclass(frozen=True)
class NudgePolicy:
    annual_review_stages: tuple[int, ...] = (30, 14, 7, 1)
    triennial_stages: tuple[int, ...] = (60, 30, 14)
    licence_stages: tuple[int, ...] = (60, 30, 7)
    licence_manager_stage: int = 7
    soap_note_due_hours: int = 48
    soap_escalate_days: int = 5
    hours: WorkingHours = WorkingHours(frozenset(range(5)), time(8), time(18))
    org_timezone: str = "America/Los_Angeles"
    show_student_names: bool = False
