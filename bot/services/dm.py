"""Services: sending one DM from the outbox, exactly once, through the ``Notifier`` port.

The caller has claimed the rows (``storage.outbox.claim``) and committed the claim; no
transaction is open here while Slack is called. Each DM carries a batch id (stored on its rows
before the post, and sent as the message's metadata key), so that:

* after an ambiguous failure (a timeout, or a process killed between the post and marking it
  sent) the rows keep their batch id, and before they are posted again ``settle_earlier`` asks
  the DM's recent history whether Slack took that batch: if it did, the rows are marked sent
  instead of being posted twice;
* after a failure that Slack surely did not take, the batch id is cleared;
* a permanent refusal (a deactivated or unknown account, a bot) drops the rows for good, with
  ``unreachable:<reason>`` as their ``last_error``, so they are never retried; the managers'
  digest lists the person as one the bot can't reach.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.services.ports import DeliveryFailed, RecipientUnreachable
from storage import models as m
from storage import outbox

log = logging.getLogger(__name__)

N = m.Nudge


class Outcome(StrEnum):
    SENT = "sent"
    FAILED = "failed"  # not delivered now; the rows wait for the next run
    UNREACHABLE = "unreachable"  # never deliverable; the rows are dropped


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    marked: int = 0  # rows marked sent
    error: str | None = None


def new_batch_id() -> str:
    return str(uuid.uuid4())


def settle_earlier(
    deps: Deps, worker: str, ids: list[int], slack_user: str, now: datetime
) -> tuple[list[int], int]:
    """Mark sent the claimed rows whose earlier DM Slack did take; returns (rows still to
    send, rows found already sent).

    Only rows whose batch id survived a failed or interrupted post are checked, one history
    call per such batch. ``DeliveryFailed`` from the history check propagates: the rows are
    not posted again while that is unknown.
    """
    with deps.session_factory() as s:
        earlier = s.execute(
            select(N.id, N.batch_id).where(
                N.id.in_(ids), N.claimed_by == worker, N.batch_id.is_not(None)
            )
        ).all()
    if not earlier:
        return ids, 0
    taken = {b for b in {str(b) for _, b in earlier} if deps.notifier.was_sent(slack_user, b)}
    done = [int(i) for i, b in earlier if b in taken]
    if not done:
        return ids, 0
    with deps.session_factory.begin() as s:
        marked = outbox.mark_sent(s, done, worker, now)
    log.info("outbox.found_in_history", extra={"rows": marked, "batches": len(taken)})
    left = set(done)
    return [i for i in ids if i not in left], marked


def stamp(deps: Deps, ids: list[int], worker: str, batch_id: str) -> None:
    """Name the DM the rows are about to go out in (committed before the post)."""
    with deps.session_factory.begin() as s:
        s.execute(
            update(N)
            .where(N.id.in_(ids), N.claimed_by == worker, N.sent_at.is_(None))
            .values(batch_id=batch_id)
            .execution_options(synchronize_session=False)
        )


def send(
    deps: Deps,
    worker: str,
    ids: list[int],
    slack_user: str,
    message: object,
    batch_id: str,
    now: datetime,
) -> Result:
    """Post ``message`` for rows stamped with ``batch_id``, then mark them sent or give them
    back; never raises for a failed send."""
    try:
        deps.notifier.send_dm(slack_user, message, key=batch_id)
    except RecipientUnreachable as exc:
        with deps.session_factory.begin() as s:
            outbox.mark_skipped(s, ids, now, f"{outbox.UNREACHABLE}{exc.reason}")
        log.warning("outbox.unreachable", extra={"batch": batch_id, "reason": exc.reason})
        return Result(Outcome.UNREACHABLE, error=exc.reason)
    except DeliveryFailed as exc:
        with deps.session_factory.begin() as s:
            outbox.release(s, ids, worker, str(exc))
            if not exc.uncertain:  # Slack surely did not take it: nothing to look for later
                s.execute(
                    update(N)
                    .where(N.id.in_(ids), N.sent_at.is_(None), N.batch_id == batch_id)
                    .values(batch_id=None)
                    .execution_options(synchronize_session=False)
                )
        return Result(Outcome.FAILED, error=str(exc))
    with deps.session_factory.begin() as s:
        marked = outbox.mark_sent(s, ids, worker, now)
    if marked != len(ids):
        log.warning("outbox.lease_lost", extra={"batch": batch_id})
    return Result(Outcome.SENT, marked=marked)


@dataclass(frozen=True)
class Delivered:
    """What became of one keyed row sent at once: whom it was for, and the outcome (None: the
    person has no Slack account, so the row waits)."""

    name: str
    outcome: Outcome | None


def deliver_keys(
    deps: Deps,
    keys: list[str],
    lease: timedelta,
    message_of: Callable[[dict[str, Any]], object | None],
) -> list[Delivered]:
    """Send at once the outbox rows a committed change queued under ``keys`` (one DM a row:
    claim, settle, stamp, send). A row already sent or held by someone else, or whose payload is
    not ``message_of``'s, is passed over; one that fails stays for the clock process, which
    delivers it with the recipient's next nudges."""
    out: list[Delivered] = []
    worker = f"now:{uuid.uuid4().hex[:12]}"
    for key in keys:
        now = deps.clock.now()
        with deps.session_factory.begin() as s:
            claimed = outbox.claim_key(s, key, worker, now, lease)
            row = s.scalars(select(N).where(N.key == key)).one()
            person = _person(s, row.recipient_kind, row.recipient_id)
            name = person.name if person is not None else row.recipient_id
            slack_id = person.slack_user_id if person is not None else None
            message = message_of(row.payload or {})
            ids = [row.id]
        if not claimed or message is None:
            continue
        if not slack_id:
            out.append(Delivered(name, None))
            continue
        ids, _ = settle_earlier(deps, worker, ids, slack_id, now)
        outcome = Outcome.SENT  # found sent already, in the DM's history
        if ids:
            batch = new_batch_id()
            stamp(deps, ids, worker, batch)
            outcome = send(deps, worker, ids, slack_id, message, batch, deps.clock.now()).outcome
        out.append(Delivered(name, outcome))
    return out


def deliver_now(
    deps: Deps,
    key_prefix: str,
    lease: timedelta,
    message_of: Callable[[dict[str, Any]], object | None],
) -> int:
    """``deliver_keys`` for every row queued under ``key_prefix``; how many were delivered."""
    with deps.session_factory() as s:
        keys = list(s.scalars(select(N.key).where(N.key.like(f"{key_prefix}%"))))
    done = deliver_keys(deps, keys, lease, message_of)
    return sum(d.outcome == Outcome.SENT for d in done)


def _person(s: Session, kind: str, person_id: str) -> m.Manager | m.Provider | None:
    return s.get(m.Manager, person_id) if kind == "manager" else s.get(m.Provider, person_id)
