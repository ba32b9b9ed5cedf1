"""Services: Slack event de-duplication and the request replay guard, both holding across
processes because they live in the database."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.exc import IntegrityError

from storage import outbox
from storage.db import each_statement_commits
from storage.models import ProcessedEvent, SeenRequest

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


def claim_request(deps: Deps, timestamp: int, signature: str) -> bool:
    """True the first time a verified (timestamp, signature) pair is seen by any process.

    A signature covers its timestamp and body, so the same pair again is a replay of the same
    request: Slack's own retries are signed afresh.
    """
    # One INSERT … ON CONFLICT DO NOTHING RETURNING, committed on its own (no BEGIN, no
    # COMMIT round trip), which names the row only when this call inserted it: no exception to
    # unwind on a replay. Every request waits for this claim, so on PostgreSQL its commit does
    # not wait for the disk (see ``outbox.insert_once_unsynced``).
    row = {"timestamp": timestamp, "signature": signature}
    with each_statement_commits(deps.engine).connect() as conn:
        return outbox.insert_once_unsynced(conn, SeenRequest, row)


def forget_old_requests(deps: Deps, before: int) -> int:
    """Drop request signatures older than ``before`` (epoch seconds): they are refused as stale."""
    from sqlalchemy import delete

    with deps.session_factory.begin() as s:
        result = s.execute(delete(SeenRequest).where(SeenRequest.timestamp < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
