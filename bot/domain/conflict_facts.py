"""Domain: the conflict rule's plain values: the facts it reads (providers, students, school
calendars, slots and dated sessions as they are now) and the conflicts it finds, with their cause.

The storage layer fills the facts; ``bot.domain.conflicts`` holds the rule itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Cause(StrEnum):
    PROVIDER_REMOVED = "provider_removed"
    STUDENT_EXITED = "student_exited"
    SERVICE_ENDED = "service_ended"
    SCHOOL_CLOSED = "school_closed"
    LICENCE = "licence"  # no licence for the student's state on that date
    TIME_OFF = "time_off"
    OUTSIDE_AVAILABILITY = "outside_availability"


# --- facts (plain values the storage layer reads) --------------------------------------------


@dataclass(frozen=True)
class Window:
    """A recurring availability window in its own zone, valid over optional dates (inclusive)."""

    day: int  # 0 = Monday
    start: int  # minutes from local midnight
    end: int
    tz: str
    effective_from: date | None = None
    effective_to: date | None = None

    def valid_on(self, day: date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day <= self.effective_to
        )


@dataclass(frozen=True)
class TimeOff:
    """Whole days ``start..end`` in the provider's dates; with minutes, only those hours of each
    day, in ``tz`` (the provider's zone when None)."""

    start: date
    end: date
    from_minute: int | None = None
    to_minute: int | None = None
    tz: str | None = None


@dataclass(frozen=True)
class ProviderFacts:
    provider_id: str
    tz: str
    windows: tuple[Window, ...] = ()
    time_off: tuple[TimeOff, ...] = ()
    licences: Mapping[str, date] = field(default_factory=dict)  # state -> latest expires_on
    removed: bool = False


@dataclass(frozen=True)
class StudentFacts:
    student_id: str
    school_id: str
    state: str
    exited: bool = False


@dataclass(frozen=True)
class Closure:
    """A school calendar span: closed all day, or an early release ending at ``ends_at``."""

    start: date
    end: date
    ends_at: int | None = None  # minutes, school-local; None = closed all day

    @property
    def closed(self) -> bool:
        return self.ends_at is None


@dataclass(frozen=True)
class Facts:
    providers: Mapping[str, ProviderFacts]
    students: Mapping[str, StudentFacts]
    school_tz: Mapping[str, str]
    closures: Mapping[str, Sequence[Closure]] = field(default_factory=dict)  # school -> spans
    # (student_id, service) -> the service's last day, when the IEP service has an end
    service_ends: Mapping[tuple[str, str], date] = field(default_factory=dict)


@dataclass(frozen=True)
class Slot:
    """An assigned weekly slot, in the school's wall time."""

    slot_id: int
    provider_id: str
    student_id: str
    service: str
    day: int
    start: int
    end: int


@dataclass(frozen=True)
class DatedSession:
    session_id: int
    provider_id: str
    student_id: str
    service: str
    starts_at: datetime  # aware UTC
    minutes: int


@dataclass(frozen=True)
class Conflict:
    """One slot or session, one cause: the dates in the range it hits (school-local)."""

    cause: Cause
    provider_id: str
    student_id: str
    service: str
    school_id: str
    first: date
    last: date
    count: int
    first_starts_at: datetime  # UTC instant of the first hit
    slot_id: int | None = None
    session_id: int | None = None
    day: int | None = None  # the slot's weekday and school-local start, for "Thu 14:30"
    start: int | None = None
    licence_expires: date | None = None  # for LICENCE: the expiry that caused it (None: none)
    state: str | None = None  # for LICENCE: the student's state
