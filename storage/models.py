"""Storage: the typed SQLAlchemy 2 models.

Times of day are stored as minutes from local midnight (0..1440) beside an IANA zone, because a
recurring window is a wall-clock promise, converted to instants per actual date. Instants are
aware UTC (``UTCDateTime``).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from storage.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


ID = String(64)


class District(Base):
    __tablename__ = "districts"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))


class School(Base):
    __tablename__ = "schools"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(64))


class SchoolHours(Base):
    __tablename__ = "school_hours"
    __table_args__ = (
        CheckConstraint("start_minute < end_minute", name="window"),
        UniqueConstraint("school_id", "day", "start_minute", "end_minute"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    day: Mapped[int] = mapped_column(SmallInteger)  # 0 = Monday
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)


class Provider(Base):
    __tablename__ = "providers"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    slack_user_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    discipline: Mapped[str] = mapped_column(String(8))
    home_state: Mapped[str] = mapped_column(String(2))
    timezone: Mapped[str] = mapped_column(String(64))
    weekly_hours: Mapped[Decimal] = mapped_column(Numeric(5, 2))
    # Set when a re-import with removals applied no longer listed the provider; a later
    # import that lists them again clears it. Their assignments then stand as conflicts.
    removed_at: Mapped[datetime | None]


class License(Base):
    __tablename__ = "licenses"
    __table_args__ = (UniqueConstraint("provider_id", "state", "license_number"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    state: Mapped[str] = mapped_column(String(2))
    expires_on: Mapped[date] = mapped_column(Date, index=True)
    license_number: Mapped[str] = mapped_column(String(64))


class Manager(Base):
    __tablename__ = "managers"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    slack_user_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    timezone: Mapped[str | None] = mapped_column(String(64))


class ManagerDistrict(Base):
    """A district a manager serves. A manager with no rows here serves every district."""

    __tablename__ = "manager_districts"
    manager_id: Mapped[str] = mapped_column(ForeignKey("managers.id"), primary_key=True)
    district_id: Mapped[str] = mapped_column(ForeignKey("districts.id"), primary_key=True)


class Student(Base):
    __tablename__ = "students"
    id: Mapped[str] = mapped_column(ID, primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    grade: Mapped[str] = mapped_column(String(8))
    annual_review_due: Mapped[date] = mapped_column(Date, index=True)
    triennial_due: Mapped[date | None] = mapped_column(Date, index=True)
    # Set when a re-import with removals applied no longer listed the student (they exited).
    exited_at: Mapped[datetime | None]


class StudentService(Base):
    __tablename__ = "services"
    __table_args__ = (UniqueConstraint("student_id", "service"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"), index=True)
    service: Mapped[str] = mapped_column(String(8))
    sessions_per_week: Mapped[int] = mapped_column(SmallInteger)
    session_minutes: Mapped[int] = mapped_column(SmallInteger)
    group_ok: Mapped[bool] = mapped_column(Boolean)
    # The IEP's mandate when it is stated in minutes (at most one of the two), and the dates
    # the service runs; all optional.
    minutes_per_week: Mapped[int | None] = mapped_column(Integer)
    minutes_per_month: Mapped[int | None] = mapped_column(Integer)
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)


class SchoolCalendarDay(Base):
    """A span of school days that are closed or end early, for one district or one school."""

    __tablename__ = "school_calendar"
    __table_args__ = (
        CheckConstraint("(district_id IS NULL) <> (school_id IS NULL)", name="owner"),
        CheckConstraint("start_date <= end_date", name="span"),
        CheckConstraint(
            "(kind = 'closed' AND ends_at_minute IS NULL)"
            " OR (kind = 'early_release' AND ends_at_minute IS NOT NULL)",
            name="kind",
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    district_id: Mapped[str | None] = mapped_column(ForeignKey("districts.id"), index=True)
    school_id: Mapped[str | None] = mapped_column(ForeignKey("schools.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))  # closed | early_release
    ends_at_minute: Mapped[int | None] = mapped_column(SmallInteger)  # school-local wall time


class AvailabilityWindow(Base):
    """A recurring weekly window in the provider's wall time, valid over a date span."""

    __tablename__ = "availability_windows"
    __table_args__ = (
        CheckConstraint("start_minute < end_minute", name="window"),
        Index("ix_availability_provider_day", "provider_id", "day"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"))
    day: Mapped[int] = mapped_column(SmallInteger)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)
    timezone: Mapped[str] = mapped_column(String(64))
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)


class TimeOff(Base):
    __tablename__ = "time_off"
    __table_args__ = (CheckConstraint("start_date <= end_date", name="span"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime]
    # Part of each day only ("out Friday afternoon"): wall-clock minutes in `timezone`.
    # All three are null for whole days.
    start_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    end_minute: Mapped[int | None] = mapped_column(Integer, nullable=True)
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)


class Assignment(Base):
    """An approved (student, service) -> provider pairing. One active provider per service."""

    __tablename__ = "assignments"
    __table_args__ = (UniqueConstraint("student_id", "service"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"))
    service: Mapped[str] = mapped_column(String(8))
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"), index=True)
    approved_at: Mapped[datetime | None]
    approved_by: Mapped[str | None] = mapped_column(String(64))
    proposal_id: Mapped[str | None] = mapped_column(String(36))


class AssignmentSlot(Base):
    """A weekly session time of an assignment, in the school's wall time."""

    __tablename__ = "assignment_slots"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("assignments.id"), index=True)
    day: Mapped[int] = mapped_column(SmallInteger)
    start_minute: Mapped[int] = mapped_column(SmallInteger)
    end_minute: Mapped[int] = mapped_column(SmallInteger)
    timezone: Mapped[str] = mapped_column(String(64))
    group_key: Mapped[str | None] = mapped_column(String(64))


class TherapySession(Base):
    """One student's place in a dated session; a group session shares ``session_key``."""

    __tablename__ = "sessions"
    __table_args__ = (
        UniqueConstraint("session_key", "student_id"),
        Index("ix_sessions_provider_starts", "provider_id", "starts_at"),
        Index("ix_sessions_note_pending", "note_done_at", "status", "starts_at"),
        # Only the sessions still missing a note: the SOAP sweep and each provider's list.
        Index(
            "ix_sessions_note_missing",
            "provider_id",
            "starts_at",
            postgresql_where=text("note_done_at IS NULL"),
            sqlite_where=text("note_done_at IS NULL"),
        ),
        # The minutes' reads: the make-ups booked, and the sessions that may owe minutes (all
        # but held ones: a small share of the table). (No index on starts_at alone: a query
        # read through a cursor in start order would walk it over every district's sessions.)
        Index(
            "ix_sessions_makeup",
            "session_key",
            postgresql_where=text("makeup"),
            sqlite_where=text("makeup"),
        ),
        Index(
            "ix_sessions_unheld",
            "starts_at",
            postgresql_where=text("status <> 'held'"),
            sqlite_where=text("status <> 'held'"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_key: Mapped[str] = mapped_column(String(64))
    provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"))
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"), index=True)
    service: Mapped[str] = mapped_column(String(8))
    starts_at: Mapped[datetime]
    minutes: Mapped[int] = mapped_column(SmallInteger)
    status: Mapped[str] = mapped_column(String(16))
    note_done_at: Mapped[datetime | None]
    # Why a cancelled session did not happen (``bot.domain.vocabulary.CancelReason``).
    cancel_reason: Mapped[str | None] = mapped_column(String(32))
    makeup: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))


class SoapNote(Base):
    __tablename__ = "soap_notes"
    __table_args__ = (UniqueConstraint("session_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"))
    student_id: Mapped[str] = mapped_column(ForeignKey("students.id"), index=True)
    author_provider_id: Mapped[str] = mapped_column(ForeignKey("providers.id"))
    subjective: Mapped[str] = mapped_column(Text, default="")
    objective: Mapped[str] = mapped_column(Text)
    assessment: Mapped[str] = mapped_column(Text, default="")
    plan: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]


class Nudge(Base):
    """The nudge ledger and outbox: one row per (rule, subject, due date, stage), sent once.

    ``claimed_by``/``claimed_until`` is a short lease so that two clock processes never send
    the same row, and a process killed mid-send leaves a row that the next run picks up.
    ``batch_id`` names the DM a row went out in (its Snooze button carries it); a row with
    ``skipped_at`` was dropped unsent because it no longer held (``last_error`` says why).
    """

    __tablename__ = "nudges"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_nudges_pending", "sent_at", "send_after"),
        # The outbox proper: only rows still waiting to go out.
        Index(
            "ix_nudges_outbox",
            "send_after",
            postgresql_where=text("sent_at IS NULL AND skipped_at IS NULL"),
            sqlite_where=text("sent_at IS NULL AND skipped_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200))
    rule: Mapped[str] = mapped_column(String(32))
    recipient_kind: Mapped[str] = mapped_column(String(16))  # provider | manager
    recipient_id: Mapped[str] = mapped_column(ID)
    subject_id: Mapped[str] = mapped_column(String(128))
    due_on: Mapped[date | None] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(String(16))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime]
    send_after: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200))
    acted_at: Mapped[datetime | None]
    batch_id: Mapped[str | None] = mapped_column(String(36), index=True)
    skipped_at: Mapped[datetime | None]


class AuditLog(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_subject", "subject_type", "subject_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    subject_type: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(String(128))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PendingAction(Base):
    """A preview or proposal waiting for a click. Buttons carry only its id.

    ``status`` moves pending -> applied | cancelled | undone exactly once (a conditional
    UPDATE), which is what makes a double click or a Slack retry harmless.
    """

    __tablename__ = "pending_actions"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor_slack_id: Mapped[str] = mapped_column(String(32))
    subject_id: Mapped[str] = mapped_column(ID)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    fingerprint: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime]
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(32))


class ProcessedEvent(Base):
    """Slack events already handled, so a retried delivery is handled once across processes."""

    __tablename__ = "processed_events"
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    received_at: Mapped[datetime]


class SeenRequest(Base):
    """Verified Slack requests inside the five-minute signature window, by (timestamp,
    signature): an exact replay is refused, whichever web process it reaches."""

    __tablename__ = "seen_requests"
    timestamp: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    signature: Mapped[str] = mapped_column(String(80), primary_key=True)
