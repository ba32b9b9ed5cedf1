"""Services: the digest of everything a proposal was computed from, to refuse stale ones."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import models as m


def fingerprint(
    s: Session,
    district_id: str,
    provider_ids: Iterable[str],
    exclude_proposal: str | None,
    moving: Iterable[Sequence[str]] = (),
) -> str:
    """A digest of everything a proposal was computed from (roster, availability, assignments).

    The assignments of ``moving`` (student, service) pairs, which a re-match proposes to move,
    are left out: approving part of it moves them, and the rest of it still holds."""
    skip = {(str(p[0]), str(p[1])) for p in moving}
    h = hashlib.sha256()
    pids = sorted(provider_ids)
    schools = select(m.School.id).where(m.School.district_id == district_id)
    students = select(m.Student.id).where(m.Student.school_id.in_(schools))
    queries: list[Any] = [
        select(m.School.id, m.School.timezone).where(m.School.district_id == district_id),
        select(
            m.SchoolHours.school_id,
            m.SchoolHours.day,
            m.SchoolHours.start_minute,
            m.SchoolHours.end_minute,
        ).where(m.SchoolHours.school_id.in_(schools)),
        select(m.Student.id, m.Student.school_id).where(m.Student.id.in_(students)),
        select(
            m.StudentService.student_id,
            m.StudentService.service,
            m.StudentService.sessions_per_week,
            m.StudentService.session_minutes,
            m.StudentService.group_ok,
        ).where(m.StudentService.student_id.in_(students)),
        select(
            m.Provider.id, m.Provider.weekly_hours, m.Provider.discipline, m.Provider.home_state
        ).where(m.Provider.id.in_(pids)),
        select(m.License.provider_id, m.License.state, m.License.expires_on).where(
            m.License.provider_id.in_(pids)
        ),
        select(
            m.AvailabilityWindow.provider_id,
            m.AvailabilityWindow.day,
            m.AvailabilityWindow.start_minute,
            m.AvailabilityWindow.end_minute,
            m.AvailabilityWindow.timezone,
            m.AvailabilityWindow.effective_from,
            m.AvailabilityWindow.effective_to,
        ).where(m.AvailabilityWindow.provider_id.in_(pids)),
        select(m.TimeOff.provider_id, m.TimeOff.start_date, m.TimeOff.end_date).where(
            m.TimeOff.provider_id.in_(pids)
        ),
    ]
    mine = (m.Assignment.proposal_id.is_(None)) | (
        m.Assignment.proposal_id != (exclude_proposal or "")
    )
    assignments = select(
        m.Assignment.student_id, m.Assignment.service, m.Assignment.provider_id
    ).where(mine, (m.Assignment.provider_id.in_(pids)) | (m.Assignment.student_id.in_(students)))
    for q in queries:
        _digest(h, s.execute(q))
    _digest(h, (r for r in s.execute(assignments) if (r[0], r[1]) not in skip))
    return h.hexdigest()[:32]


def _digest(h: Any, rows: Iterable[Any]) -> None:
    h.update("\n".join(sorted(repr(tuple(r)) for r in rows)).encode())
    h.update(b"\x00")
