"""Domain: the caseload matcher's input and output model (pure, frozen dataclasses).

The service layer converts one concrete school week into absolute integer minutes since the week's
reference instant (Monday 00:00 UTC), so nothing here knows about time zones, dates or storage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

Interval = tuple[int, int]
"""[start, end) in absolute minutes since Monday 00:00 UTC of the target week."""


@dataclass(frozen=True)
class SchoolDay:
    """School hours on one school-local weekday, as absolute minutes."""

    day: str
    windows: tuple[Interval, ...]


@dataclass(frozen=True)
class Need:
    """One student's one IEP service that still needs a provider.

    `busy` holds the student's sessions that stay where they are (other services, whichever
    provider): no session of this need may overlap them.
    """

    student_id: str
    service: str
    school_id: str
    district_id: str
    state: str
    sessions_per_week: int
    session_minutes: int
    group_ok: bool
    school_days: tuple[SchoolDay, ...]
    school_tz_label: str
    school_hours_text: str
    preferred_provider_id: str | None = None
    busy: tuple[Interval, ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.student_id, self.service)


@dataclass(frozen=True)
class Provider:
    """A provider as the matcher sees them for the target week.

    `licensed_states` is already filtered to licences unexpired on the session dates; `available`
    has time off removed; `busy` holds sessions they already hold elsewhere; `capacity_minutes` is
    what is left of their weekly hours.
    """

    provider_id: str
    discipline: str
    home_state: str
    licensed_states: frozenset[str]
    available: tuple[Interval, ...]
    busy: tuple[Interval, ...]
    capacity_minutes: int
    existing_school_ids: frozenset[str] = field(default_factory=frozenset)
    existing_district_ids: frozenset[str] = field(default_factory=frozenset)


@dataclass(frozen=True)
class MatchInput:
    district_id: str
    needs: tuple[Need, ...]
    providers: tuple[Provider, ...]
    group_max: int = 4
    group_min: int = 2
    slot_step: int = 15


@dataclass(frozen=True)
class Session:
    """One weekly session: a provider with one student, or with a group of 2..group_max students."""

    provider_id: str
    student_ids: tuple[str, ...]
    service: str
    school_id: str
    day: str
    start: int
    end: int


@dataclass(frozen=True)
class Unmatched:
    student_id: str
    service: str
    reason: str
    detail: str


@dataclass(frozen=True)
class Hire:
    """A provider profile to hire: discipline, licence state, weekly minutes and the school-day
    windows (absolute minutes, on school-local days) when they would see `would_serve`."""

    service: str
    state: str
    weekly_minutes: int
    windows: tuple[tuple[str, int, int], ...]
    would_serve: tuple[str, ...]  # student ids
    school_tz_label: str


@dataclass(frozen=True)
class MatchResult:
    sessions: tuple[Session, ...]
    unmatched: tuple[Unmatched, ...]
    method: str
    objective: dict[str, float]
    solve_seconds: float
    bound: int | None = None
    """At most this many needs can be served (a relaxation solved exactly); None if not run."""
    hires: tuple[Hire, ...] = ()
    """Profiles to hire that would serve needs left unserved."""
