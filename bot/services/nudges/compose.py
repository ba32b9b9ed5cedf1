"""Services: deadline nudges — each claimed row checked against today's data, and the DM's
contents gathered: a review marked held, a renewed licence, a note written or a later stage due
make a row obsolete, and it is dropped unsent."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import replace
from datetime import date, datetime

from sqlalchemy import (
    select,
)
from sqlalchemy.orm import Session

from bot.domain.deadlines import (
    NudgePolicy,
    Rule,
    days_overdue,
    note_due_at,
    stage_is_current,
)
from bot.domain.privacy import student_label
from bot.domain.schedule import local_date
from bot.domain.sessions import NOTE_STATUSES, note_overdue, overdue_bound
from bot.services.hours_notice import HOURS_RULE
from bot.services.nudges.common import MAX_NOTES_LISTED, Recipient
from bot.services.nudges.messages import (
    DeadlineLine,
    LicenceLine,
    NoteLine,
    NudgeMessage,
    notice_of,
)
from bot.services.schedule_effects import CHANGE_RULE
from storage import models as m


def compose(
    s: Session,
    rows: list[m.Nudge],
    person: Recipient,
    now: datetime,
    policy: NudgePolicy,
) -> tuple[NudgeMessage, list[m.Nudge], list[tuple[str, m.Nudge]]]:
    """Check each row against today's data and gather what the DM says about it."""
    today = local_date(now, person.zone)
    keep: list[m.Nudge] = []
    stale: list[tuple[str, m.Nudge]] = []
    by_rule: dict[str, list[m.Nudge]] = defaultdict(list)
    for row in rows:
        by_rule[row.rule].append(row)
    message = NudgeMessage(
        batch_id=str(uuid.uuid4()),
        recipient_kind=person.kind,
        recipient_name=person.name,
        today=today,
    )

    student_rows = by_rule.pop(Rule.ANNUAL_REVIEW, []) + by_rule.pop(Rule.TRIENNIAL, [])
    if student_rows:
        lines, ok, bad = _deadline_lines(s, student_rows, person, today, policy)
        message = replace(message, deadlines=lines)
        keep += ok
        stale += bad

    licence_rows = by_rule.pop(Rule.LICENCE, [])
    if licence_rows:
        licences = {
            lic.id: lic
            for lic in s.scalars(
                select(m.License).where(m.License.id.in_([int(r.subject_id) for r in licence_rows]))
            )
        }
        found: list[LicenceLine] = []
        for row in licence_rows:
            lic = licences.get(int(row.subject_id))
            if lic is None or lic.expires_on != row.due_on or lic.provider_id != person.id:
                stale.append(("changed", row))
            elif not stage_is_current(row.rule, row.stage, row.due_on, today, policy):
                stale.append(("superseded", row))
            else:
                keep.append(row)
                found.append(
                    LicenceLine(
                        row.id,
                        lic.state,
                        lic.license_number,
                        lic.expires_on,
                        (lic.expires_on - today).days,
                    )
                )
        message = replace(message, licences=tuple(found))

    # Rows other features queued (matching's "new students" DM, when its own immediate send
    # failed): always still true, delivered as they were queued.
    notice_rows = (
        by_rule.pop(Rule.ASSIGNMENT, [])
        + by_rule.pop(CHANGE_RULE, [])
        + by_rule.pop(HOURS_RULE, [])
    )
    if notice_rows:
        notices = [notice_of(r.payload or {}) for r in notice_rows]
        keep += [r for r, n in zip(notice_rows, notices, strict=True) if n is not None]
        stale += [("empty", r) for r, n in zip(notice_rows, notices, strict=True) if n is None]
        message = replace(message, notices=tuple(n for n in notices if n is not None))

    soap_rows = by_rule.pop(Rule.SOAP_NOTE, [])
    if soap_rows:
        notes = provider_overdue_notes(s, person.id, person.zone, now, policy)
        if notes:
            keep += soap_rows
            message = replace(
                message, notes=tuple(notes[:MAX_NOTES_LISTED]), notes_total=len(notes)
            )
        else:
            stale += [("notes_written", r) for r in soap_rows]

    for leftover in by_rule.values():
        stale += [("unknown_rule", r) for r in leftover]
    return message, keep, stale


def _deadline_lines(
    s: Session,
    rows: list[m.Nudge],
    person: Recipient,
    today: date,
    policy: NudgePolicy,
) -> tuple[tuple[DeadlineLine, ...], list[m.Nudge], list[tuple[str, m.Nudge]]]:
    ids = sorted({r.subject_id for r in rows})
    students = {
        st.id: (st, school)
        for st, school in s.execute(
            select(m.Student, m.School.name)
            .join(m.School, m.School.id == m.Student.school_id)
            .where(m.Student.id.in_(ids))
        )
    }
    assigned = set(
        s.scalars(
            select(m.Assignment.student_id).where(
                m.Assignment.student_id.in_(ids), m.Assignment.provider_id == person.id
            )
        )
    )
    lines: dict[tuple[str, str], DeadlineLine] = {}
    keep: list[m.Nudge] = []
    stale: list[tuple[str, m.Nudge]] = []
    for row in rows:
        found = students.get(row.subject_id)
        if found is None or row.subject_id not in assigned:
            stale.append(("unassigned", row))
            continue
        student, school = found
        due = student.annual_review_due if row.rule == Rule.ANNUAL_REVIEW else student.triennial_due
        if due is None or due != row.due_on:
            stale.append(("changed", row))  # marked held, or re-dated by an import
            continue
        if not stage_is_current(row.rule, row.stage, due, today, policy):
            stale.append(("superseded", row))
            continue
        keep.append(row)
        label = student_label(
            student.id, student.first_name, student.last_name, policy.show_student_names
        )
        lines.setdefault(
            (row.rule, student.id),
            DeadlineLine(row.id, row.rule, label, school, due, (due - today).days),
        )
    ordered = sorted(lines.values(), key=lambda line: (line.due_on, line.rule, line.student))
    return tuple(ordered), keep, stale


def provider_overdue_notes(
    s: Session, provider_id: str, zone: str, now: datetime, policy: NudgePolicy
) -> list[NoteLine]:
    """Every note the provider owes now, oldest first."""
    ts = m.TherapySession
    q = (
        select(
            ts.id,
            ts.starts_at,
            ts.minutes,
            ts.status,
            ts.service,
            m.Student.id,
            m.Student.first_name,
            m.Student.last_name,
            m.School.name,
        )
        .join(m.Student, m.Student.id == ts.student_id)
        .join(m.School, m.School.id == m.Student.school_id)
        .where(
            ts.provider_id == provider_id,
            ts.note_done_at.is_(None),
            ts.status.in_(NOTE_STATUSES),
            ts.starts_at <= overdue_bound(now, policy.soap_note_due_hours),
        )
        .order_by(ts.starts_at, ts.id)
    )
    notes: list[NoteLine] = []
    hours = policy.soap_note_due_hours
    for sid, starts_at, minutes, status, service, student_id, first, last, school in s.execute(q):
        if not note_overdue(status, starts_at, minutes, now, hours):
            continue
        notes.append(
            NoteLine(
                sid,
                student_label(student_id, first, last, policy.show_student_names),
                school,
                service,
                local_date(starts_at, zone),
                days_overdue(note_due_at(starts_at, minutes, hours), now),
                now - note_due_at(starts_at, minutes, hours),
            )
        )
    return notes
