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
