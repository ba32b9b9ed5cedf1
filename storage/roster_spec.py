"""Storage: the roster's files and columns (the README's roster table), in the order they are read.

A file is read after the files it references, so a reference is checked against ids already seen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from storage.roster_values import (
    int_between,
    p_bool,
    p_calendar_kind,
    p_date,
    p_day,
    p_email,
    p_grade,
    p_hours,
    p_id,
    p_id_list,
    p_service,
    p_slack_id,
    p_state,
    p_status,
    p_text,
    p_time,
    p_timestamp,
    p_zone,
)


@dataclass(frozen=True)
class Col:
    name: str
    parse: Callable[[str], Any]
    optional: bool = False  # the value may be empty
    ref: str | None = None  # the file whose key this column references
    may_be_absent: bool = False  # the header may leave the column out (then every value is empty)


@dataclass(frozen=True)
class Spec:
    filename: str
    required: bool
    columns: tuple[Col, ...]
    key: tuple[str, ...]  # uniqueness within the file

    @property
    def table(self) -> str:
        return self.filename.removesuffix(".csv")


_OPTIONAL: dict[str, Any] = {"optional": True, "may_be_absent": True}

SPECS: tuple[Spec, ...] = (
    Spec(
        "districts.csv",
        True,
        (
            Col("district_id", p_id),
            Col("name", p_text),
            Col("state", p_state),
            Col("timezone", p_zone),
        ),
        ("district_id",),
    ),
    Spec(
        "schools.csv",
        True,
        (
            Col("school_id", p_id),
            Col("district_id", p_id, ref="districts.csv"),
            Col("name", p_text),
            Col("timezone", p_zone, optional=True),
        ),
        ("school_id",),
    ),
    Spec(
        "school_hours.csv",
        True,
        (
            Col("school_id", p_id, ref="schools.csv"),
            Col("day", p_day),
            Col("start", p_time),
            Col("end", p_time),
        ),
        ("school_id", "day", "start", "end"),
    ),
    Spec(
        "providers.csv",
        True,
        (
            Col("provider_id", p_id),
            Col("name", p_text),
            Col("email", p_email),
            Col("slack_user_id", p_slack_id, optional=True),
            Col("discipline", p_service),
            Col("home_state", p_state),
            Col("timezone", p_zone),
            Col("weekly_hours", p_hours),
        ),
        ("provider_id",),
    ),
    Spec(
        "licenses.csv",
        True,
        (
            Col("provider_id", p_id, ref="providers.csv"),
            Col("state", p_state),
            Col("expires_on", p_date),
            Col("license_number", p_text),
        ),
        ("provider_id", "state", "license_number"),
    ),
    Spec(
        "managers.csv",
        True,
        (
            Col("manager_id", p_id),
            Col("name", p_text),
            Col("email", p_email),
            Col("slack_user_id", p_slack_id, optional=True),
            Col("district_ids", p_id_list, optional=True, ref="districts.csv", may_be_absent=True),
        ),
        ("manager_id",),
    ),
    Spec(
        "students.csv",
        True,
        (
            Col("student_id", p_id),
            Col("school_id", p_id, ref="schools.csv"),
            Col("first_name", p_text),
            Col("last_name", p_text),
            Col("grade", p_grade),
            Col("annual_review_due", p_date),
            Col("triennial_due", p_date, optional=True),
        ),
        ("student_id",),
    ),
    Spec(
        "services.csv",
        True,
        (
            Col("student_id", p_id, ref="students.csv"),
            Col("service", p_service),
            Col("sessions_per_week", int_between(1, 5, "sessions a week")),
            Col("session_minutes", int_between(5, 240, "minutes")),
            Col("group_ok", p_bool),
            Col("minutes_per_week", int_between(5, 2400, "minutes a week"), **_OPTIONAL),
            Col("minutes_per_month", int_between(5, 10000, "minutes a month"), **_OPTIONAL),
            Col("starts_on", p_date, **_OPTIONAL),
            Col("ends_on", p_date, **_OPTIONAL),
        ),
        ("student_id", "service"),
    ),
    Spec(
        "availability.csv",
        False,
        (
            Col("provider_id", p_id, ref="providers.csv"),
            Col("day", p_day),
            Col("start", p_time),
            Col("end", p_time),
        ),
        ("provider_id", "day", "start", "end"),
    ),
    Spec(
        "assignments.csv",
        False,
        (
            Col("student_id", p_id, ref="students.csv"),
            Col("service", p_service),
            Col("provider_id", p_id, ref="providers.csv"),
        ),
        ("student_id", "service"),
    ),
    Spec(
        "calendar.csv",
        False,
        (
            Col("district_id", p_id, optional=True, ref="districts.csv"),
            Col("school_id", p_id, optional=True, ref="schools.csv"),
            Col("start", p_date),
            Col("end", p_date),
            Col("kind", p_calendar_kind),
            Col("ends_at", p_time, optional=True, may_be_absent=True),
        ),
        ("district_id", "school_id", "start", "end", "kind"),
    ),
    Spec(
        "sessions.csv",
        False,
        (
            Col("session_id", p_id),
            Col("provider_id", p_id, ref="providers.csv"),
            Col("student_id", p_id, ref="students.csv"),
            Col("service", p_service),
            Col("starts_at", p_timestamp),
            Col("minutes", int_between(5, 480, "minutes")),
            Col("status", p_status),
            Col("note_done_at", p_timestamp, optional=True),
        ),
        ("session_id", "student_id"),
    ),
)
SPEC_BY_FILE = {s.filename: s for s in SPECS}
