"""Storage: read queries that several services share. They take a session and never commit."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
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


def manager_district_scope(s: Session, slack_user_id: str) -> frozenset[str] | None:
    """TEMPORARY stand-in for import's query: every manager serves every district."""
    return None
