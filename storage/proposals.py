"""Storage: the repository of /match proposals (stored as `pending_actions` of kind "match").

Queries only; the calling service owns the transaction.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage import models as m

KIND = "match"


def latest_proposal(s: Session, district_id: str) -> m.PendingAction | None:
    """The district's most recent proposal, whatever its status."""
    return s.scalars(
        select(m.PendingAction)
        .where(m.PendingAction.kind == KIND, m.PendingAction.subject_id == district_id)
        .order_by(m.PendingAction.created_at.desc(), m.PendingAction.id)
        .limit(1)
    ).first()


def get_proposal(s: Session, proposal_id: str, *, lock: bool = False) -> m.PendingAction | None:
    """One proposal by id (None when absent or not a proposal); `lock` takes its row lock."""
    q = select(m.PendingAction).where(
        m.PendingAction.id == proposal_id, m.PendingAction.kind == KIND
    )
    if lock:
        q = q.with_for_update()
    return s.scalars(q).first()
