"""Services: deadline nudges — what one DM says, as plain values; ``bot.views`` lays it out."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from bot.services.hours_notice import HoursChanged
from bot.services.schedule_effects import ScheduleChanged


@dataclass(frozen=True)
class DeadlineLine:
    nudge_id: int
    rule: str  # annual_review | triennial
    student: str  # initials and id (or name, when allowed)
    school: str
    due_on: date
    days_left: int  # < 0: overdue


@dataclass(frozen=True)
class NoteLine:
    session_id: int
    student: str
    school: str
    service: str
    held_on: date  # in the provider's zone
    days_overdue: int
    overdue_for: timedelta  # how long ago the note fell due


@dataclass(frozen=True)
class LicenceLine:
    nudge_id: int
    state: str
    number: str
    expires_on: date
    days_left: int


@dataclass(frozen=True)
class NudgeMessage:
    """Everything one DM says to one person; the edge renders it."""

    batch_id: str
    recipient_kind: str
    recipient_name: str
    today: date
    deadlines: tuple[DeadlineLine, ...] = ()
    notes: tuple[NoteLine, ...] = ()
    notes_total: int = 0
    licences: tuple[LicenceLine, ...] = ()
    # Queued by other features: new students (or, from rows queued before they were typed,
    # their text as written)
    notices: tuple[Notice, ...] = ()

    @property
    def item_count(self) -> int:
        return len(self.deadlines) + self.notes_total + len(self.licences) + len(self.notices)


@dataclass(frozen=True)
class NewStudentLine:
    student: str  # initials and id (or name, when allowed)
    service: str  # its label: "SLP", "school psychology"
    school: str
    day: int  # 0 = Monday, in the provider's zone
    start: str  # HH:MM, provider's zone
    end: str


@dataclass(frozen=True)
class NewStudents:
    """A provider's "you have new students" DM, after a manager approved a proposal."""

    week_of: date
    zone: str  # the provider's IANA zone; the times are in it
    lines: tuple[NewStudentLine, ...]

    def to_payload(self) -> dict[str, Any]:
        return {
            "new_students": {
                "week_of": self.week_of.isoformat(),
                "zone": self.zone,
                "lines": [asdict(line) for line in self.lines],
            }
        }

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> NewStudents | None:
        data = payload.get("new_students")
        if not isinstance(data, dict):
            return None
        return cls(
            date.fromisoformat(data["week_of"]),
            str(data["zone"]),
            tuple(NewStudentLine(**line) for line in data["lines"]),
        )


Notice = NewStudents | ScheduleChanged | HoursChanged | str  # what a notice row carries


def notice_of(payload: dict[str, Any]) -> Notice | None:
    """What an assignment row says: typed, or (rows queued before) its text; None if empty."""
    typed: Notice | None = (
        NewStudents.from_payload(payload)
        or ScheduleChanged.from_payload(payload)
        or HoursChanged.from_payload(payload)
    )
    if typed is not None:
        return typed
    text = str(payload.get("text") or "")
    return text or None
