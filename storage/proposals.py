"""Storage: the repository of /match proposals (stored as `pending_actions` of kind "match").

Queries only; the calling service owns the transaction.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage import models as m

KIND = "match"


LOOKBACK = 20  # proposals per district searched for the latest one made without some filter


def latest_proposal(
    s: Session, district_id: str, *, without: tuple[str, ...] = ()
) -> m.PendingAction | None:
    """The district's most recent proposal, whatever its status; with ``without``, the most
    recent of its last ``LOOKBACK`` made with none of those `/match` filters (say
    ``("provider",)``: a `provider=` proposal's unserved are explained for that provider only)."""
    rows = s.scalars(
        select(m.PendingAction)
        .where(m.PendingAction.kind == KIND, m.PendingAction.subject_id == district_id)
        .order_by(m.PendingAction.created_at.desc(), m.PendingAction.id)
        .limit(LOOKBACK if without else 1)
    )
    for row in rows:
        filters = row.payload.get("filters") or {}
        if not any(filters.get(name) for name in without):
            return row
    return None


def get_proposal(s: Session, proposal_id: str, *, lock: bool = False) -> m.PendingAction | None:
    """One proposal by id (None when absent or not a proposal).

    ``lock`` makes every other transaction that locks the same proposal wait until this one
    ends, so decisions on one proposal run one after another and each sees the last one's
    result. PostgreSQL takes the row lock (``SELECT … FOR UPDATE``). SQLite has no row locks, so
    a no-op UPDATE takes its database write lock, waiting out the busy timeout instead of
    failing; it must be the transaction's first write, before anything it reads here.
    """
    where = (m.PendingAction.id == proposal_id, m.PendingAction.kind == KIND)
    q = select(m.PendingAction).where(*where)
    if lock:
        if s.get_bind().dialect.name == "sqlite":
            s.execute(
                update(m.PendingAction)
                .where(*where)
                .values(status=m.PendingAction.status)
                .execution_options(synchronize_session=False)
            )
        else:
            q = q.with_for_update()
        # Read past the identity map: the row as the lock holder before us left it.
        q = q.execution_options(populate_existing=True)
    return s.scalars(q).first()
