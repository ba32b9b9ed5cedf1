"""Services: Slack event de-duplication that holds across processes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from storage.models import ProcessedEvent

if TYPE_CHECKING:
    from bot.deps import Deps


def claim_event(deps: Deps, event_id: str) -> bool:
    """True the first time an ``event_id`` is seen, by any process; False for a retry."""
    try:
        with deps.session_factory.begin() as s:
            s.add(ProcessedEvent(event_id=event_id, received_at=deps.clock.now()))
    except IntegrityError:
        return False
    return True


def forget_old_events(deps: Deps, keep_days: int = 3) -> int:
    """Drop event ids older than ``keep_days``: Slack retries within minutes, not days."""
    from datetime import timedelta

    from sqlalchemy import delete

    cutoff = deps.clock.now() - timedelta(days=keep_days)
    with deps.session_factory.begin() as s:
        result = s.execute(delete(ProcessedEvent).where(ProcessedEvent.received_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
