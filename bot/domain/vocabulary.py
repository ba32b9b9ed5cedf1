"""Domain: the one vocabulary of the product: weekdays, services, session statuses
and why a session was cancelled.

Each is a ``StrEnum`` whose values are the strings stored in the database and written in the
roster CSVs, so a member compares equal to the stored text (``SessionStatus.HELD == "held"``).
Human labels for them live in ``bot.domain.labels``.
"""

from __future__ import annotations

from enum import StrEnum


class Day(StrEnum):
    """A weekday; declaration order is the ``date.weekday()`` index 0..6."""

    MON = "mon"
    TUE = "tue"
    WED = "wed"
    THU = "thu"
    FRI = "fri"
    SAT = "sat"
    SUN = "sun"

    @property
    def weekday(self) -> int:
        """0 for Monday .. 6 for Sunday, as ``date.weekday()``."""
        return _DAY_INDEX[self]

    @classmethod
    def of(cls, index: int) -> Day:
        """The day of a ``date.weekday()`` index."""
        return _DAYS[index]

    @classmethod
    def parse(cls, text: str) -> Day:
        """ "Mon", "monday", "TUE" -> the day; ValueError for anything else."""
        return cls(text.strip()[:3].lower())


_DAYS: tuple[Day, ...] = tuple(Day)
_DAY_INDEX: dict[Day, int] = {d: i for i, d in enumerate(_DAYS)}
# The days schools teach and providers work, Monday to Friday.
SCHOOL_DAYS: tuple[Day, ...] = _DAYS[:5]


class Service(StrEnum):
    """A related service on an IEP; each is delivered by providers of the same discipline."""

    SLP = "slp"
    OT = "ot"
    PT = "pt"
    PSYCH = "psych"
    MH = "mh"


class SessionStatus(StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class CancelReason(StrEnum):
    """Why a cancelled session did not happen, as stored in ``sessions.cancel_reason``.

    Who bears the loss follows from it: a provider's cancellation or time off is owed to the
    student as a make-up; a closed school or an exited student is not.
    """

    PROVIDER = "provider"  # the provider cancelled
    SCHOOL = "school"  # the school cancelled (an assembly, a test day)
    STUDENT_ABSENT = "student_absent"
    PROVIDER_OUT = "provider_out"  # inside the provider's time off
    STUDENT_EXITED = "student_exited"  # the student left the roster
    SCHOOL_CLOSED = "school_closed"  # the school calendar says closed
    LICENCE_ENDED = "licence_ended"  # the provider's licence for the student's state ended
    PROVIDER_REMOVED = "provider_removed"  # the provider left the roster
    SERVICE_ENDED = "service_ended"  # the roster no longer assigns this service (not owed)
    # A weekly slot's date that passed with nothing recorded (written by the minutes sweeper
    # once the grace to mark it is over): it never happened as far as anyone said, so it is owed.
    NOT_RECORDED = "not_recorded"
