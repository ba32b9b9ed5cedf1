"""Storage: read queries that several services share. They take a session and never commit."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage import models as m


def school_zones(s: Session, district_ids: Iterable[str] | None = None) -> dict[str, str]:
    """Each school's IANA zone: its own, or its district's when the roster left it empty."""
    q = select(m.School.id, m.School.timezone, m.District.timezone).join(
        m.District, m.District.id == m.School.district_id
    )
    if district_ids is not None:
        q = q.where(m.School.district_id.in_(list(district_ids)))
    return {sid: stz or dtz for sid, stz, dtz in s.execute(q)}


def find_student_id(s: Session, typed: str) -> str | None:
    """The stored id of the student a person typed, ignoring case ("s1006" finds "S1006").

    The exact id wins; otherwise a case-insensitive match, when exactly one student has it.
    """
    if s.get(m.Student, typed) is not None:
        return typed
    found = list(
        s.scalars(select(m.Student.id).where(func.lower(m.Student.id) == typed.lower()).limit(2))
    )
    return found[0] if len(found) == 1 else None
