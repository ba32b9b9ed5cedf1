"""Services: deadline nudges — delivery, exactly once.

Delivery claims due rows per recipient with a lease (``storage.outbox``), commits the claim,
sends one DM per recipient combining all their items through the ``Notifier`` port, and marks
the rows sent. No row lock is held across a Slack call; a failed send releases the claim so the
next run retries it.
"""

from __future__ import annotations

import os
import socket
import time as monotonic_time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import (
    ColumnElement,
    and_,
    func,
    or_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.deadlines import (
    NudgePolicy,
    RecipientKind,
    back_from_hours_off,
    back_from_time_off,
    in_working_hours,
    send_after,
)
from bot.domain.schedule import local_date
from bot.services import dm
from bot.services.nudges.common import (
    FAILURES_BEFORE_STOPPING,
    LEASE,
    RECIPIENTS_PER_CLAIM,
    N,
    log,
    policy_of,
    recipient_of,
)
from bot.services.nudges.compose import compose
from bot.services.nudges.sweeps import SWEEPS
from bot.services.ports import DeliveryFailed
from storage import models as m
from storage import outbox


@dataclass
class DeliveryReport:
    messages: int = 0  # DMs posted
    items: int = 0  # outbox rows marked sent (including ones found already in Slack)
    held: int = 0  # DMs (people) whose items wait for their working hours or a snooze
    held_rows: int = 0  # rows this run found due outside their recipient's working hours
    skipped: int = 0  # rows dropped unsent because they no longer held
    unreachable: int = 0  # people Slack refused for good (deactivated, unknown): not retried
    failed: int = 0  # DMs Slack did not take; their rows wait for the next run
    error: str | None = None  # the last Slack failure, if any
    left: int = 0  # when ``error``: rows still due and unsent at the end of the run


def _outbox(now: datetime) -> ColumnElement[bool]:
    return and_(
        N.sent_at.is_(None),
        N.skipped_at.is_(None),
        N.send_after <= now,
        N.recipient_kind.in_((RecipientKind.PROVIDER, RecipientKind.MANAGER)),
        or_(N.claimed_until.is_(None), N.claimed_until < now),
    )


def default_worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def deliver(deps: Deps, *, worker: str | None = None) -> DeliveryReport:
    """Send what is due, one DM per recipient combining all their items."""
    policy = policy_of(deps.settings)
    now = deps.clock.now()
    worker = worker or default_worker_id()
    report = DeliveryReport()
    with deps.session_factory() as s:
        recipients = [
            (str(kind), str(rid))
            for kind, rid in s.execute(
                select(N.recipient_kind, N.recipient_id)
                .where(_outbox(now))
                .group_by(N.recipient_kind, N.recipient_id)
                .order_by(func.min(N.send_after), N.recipient_kind, N.recipient_id)
            )
        ]
    failures_in_a_row, stopped = 0, False
    for chunk in outbox.chunks(recipients, RECIPIENTS_PER_CLAIM):
        claimed = list(_claim(deps, worker, chunk, now).items())
        away = _time_off(
            deps, [rid for (kind, rid), _ in claimed if kind == RecipientKind.PROVIDER], now
        )
        started = monotonic_time.monotonic()
        for index, ((kind, rid), ids) in enumerate(claimed):
            if monotonic_time.monotonic() - started > LEASE.total_seconds() * 0.8:
                # Never post on a lease about to lapse (another process may take the rows):
                # hand the rest of this chunk back for the next run.
                _release(deps, worker, [i for _, more in claimed[index:] for i in more])
                break
            try:
                _deliver_to(deps, policy, worker, kind, rid, ids, now, report, away)
                failures_in_a_row = 0
            except (_Failed, DeliveryFailed) as exc:
                # One person's DM may fail on its own; two in a row means Slack is down or
                # limiting us: stop, and let the next run catch up.
                report.failed += 1
                report.error = str(exc)
                failures_in_a_row += 1
                if failures_in_a_row >= FAILURES_BEFORE_STOPPING:
                    _release(deps, worker, [i for _, more in claimed[index + 1 :] for i in more])
                    stopped = True
                    break
        if stopped:
            break
    report.held = _held(deps, now)
    if report.error:
        report.left = _waiting(deps, now)
        log.warning("nudges.delivery_failed", extra={"failed": report.failed, "left": report.left})
    log.info(
        "nudges.delivered",
        extra={
            "messages": report.messages,
            "items": report.items,
            "held": report.held,
            "unreachable": report.unreachable,
            "skipped": report.skipped,
        },
    )
    return report


def _waiting(deps: Deps, now: datetime) -> int:
    with deps.session_factory() as s:
        due = and_(
            N.sent_at.is_(None),
            N.skipped_at.is_(None),
            N.send_after <= now,
            N.recipient_kind.in_((RecipientKind.PROVIDER, RecipientKind.MANAGER)),
        )
        return int(s.scalar(select(func.count()).select_from(N).where(due)) or 0)


def _held(deps: Deps, now: datetime) -> int:
    """People with queued items that wait for a later time (their working hours, a snooze)."""
    with deps.session_factory() as s:
        later = (
            select(N.recipient_kind, N.recipient_id)
            .where(
                N.sent_at.is_(None),
                N.skipped_at.is_(None),
                N.send_after > now,
                N.recipient_kind.in_((RecipientKind.PROVIDER, RecipientKind.MANAGER)),
            )
            .distinct()
            .subquery()
        )
        return int(s.scalar(select(func.count()).select_from(later)) or 0)


def _claim(
    deps: Deps, worker: str, recipients: Sequence[tuple[str, str]], now: datetime
) -> dict[tuple[str, str], list[int]]:
    """Lease every due row of these recipients to ``worker``; the claim commits on return.

    The lease runs from the clock's time now, not the run's start: a long run never hands out
    a lease that has already lapsed.
    """
    leased_at = max(now, deps.clock.now())
    with deps.session_factory.begin() as s:
        due = and_(_outbox(now), tuple_(N.recipient_kind, N.recipient_id).in_(list(recipients)))
        rows = outbox.claim(s, due, worker, leased_at, LEASE)
    claimed: dict[tuple[str, str], list[int]] = defaultdict(list)
    for nudge_id, kind, rid in rows:
        claimed[(str(kind), str(rid))].append(int(nudge_id))
    return {r: claimed[r] for r in recipients if r in claimed}


def _release(deps: Deps, worker: str, ids: Sequence[int], error: str | None = None) -> None:
    """Give claimed rows back unsent; the next run takes them."""
    if not ids:
        return
    with deps.session_factory.begin() as s:
        outbox.release(s, ids, worker, error)


def _skip(rows: Iterable[m.Nudge], now: datetime, reason: str) -> int:
    n = 0
    for row in rows:
        row.skipped_at, row.last_error = now, reason
        row.claimed_by = row.claimed_until = None
        n += 1
    return n


def _deliver_to(
    deps: Deps,
    policy: NudgePolicy,
    worker: str,
    kind: str,
    rid: str,
    ids: list[int],
    now: datetime,
    report: DeliveryReport,
    away: dict[str, _Away],
) -> None:
    with deps.session_factory.begin() as s:
        person = recipient_of(s, kind, rid, policy)
        rows = _claimed_rows(s, ids, worker)
        if person is None or not person.slack_user_id:
            report.skipped += _skip(rows, now, "no_slack_user")
            log.info("nudges.no_slack_user", extra={"kind": kind, "recipient": rid})
            return
        later = None
        if not in_working_hours(now, person.zone, policy.hours):
            later = send_after(now, person.zone, policy.hours)
        elif rid in away and kind == RecipientKind.PROVIDER:
            # Reminders wait while the provider is on time off: nobody is nagged on holiday.
            # Partial-day time off holds them for those hours only.
            today = local_date(now, person.zone)
            days, hours = away[rid]
            later = back_from_time_off(today, days, person.zone, policy.hours)
            if later is None:
                later = back_from_hours_off(
                    now, [(a, b, start, end, tz or person.zone) for a, b, start, end, tz in hours]
                )
        if later is not None:
            for row in rows:
                row.send_after, row.claimed_by, row.claimed_until = later, None, None
            report.held_rows += len(rows)
            return
        slack_user = person.slack_user_id
    ids, found = dm.settle_earlier(deps, worker, ids, slack_user, now)
    report.items += found
    if not ids:
        return
    with deps.session_factory.begin() as s:
        rows = _claimed_rows(s, ids, worker)
        message, keep, stale = compose(s, rows, person, now, policy)
        for reason, row in stale:
            report.skipped += _skip([row], now, reason)
        if not keep or message.item_count == 0:
            report.skipped += _skip(keep, now, "nothing_left")
            return
        for row in keep:
            row.batch_id = message.batch_id
        keep_ids = [row.id for row in keep]
    # The claim is committed and no transaction is open: now talk to Slack.
    result = dm.send(deps, worker, keep_ids, slack_user, message, message.batch_id, now)
    if result.outcome == dm.Outcome.UNREACHABLE:
        report.unreachable += 1
        report.skipped += len(keep_ids)
        return
    if result.outcome == dm.Outcome.FAILED:
        raise _Failed(result.error or "failed")
    report.messages += 1
    report.items += result.marked
    log.info("nudges.sent", extra={"batch": message.batch_id, "kind": kind, "recipient": rid})


_Away = tuple[list[tuple[date, date]], list[tuple[date, date, int, int, str | None]]]


def _time_off(deps: Deps, providers: list[str], now: datetime) -> dict[str, _Away]:
    """The time off of these providers that has not ended everywhere: whole days (first and
    last day), and partial days (first and last day, the minutes and their zone)."""
    if not providers:
        return {}
    spans: dict[str, _Away] = defaultdict(lambda: ([], []))
    t = m.TimeOff
    with deps.session_factory() as s:
        for pid, start, end, first, last, tz in s.execute(
            select(
                t.provider_id, t.start_date, t.end_date, t.start_minute, t.end_minute, t.timezone
            ).where(t.provider_id.in_(providers), t.end_date >= now.date() - timedelta(days=1))
        ):
            if first is None or last is None:
                spans[pid][0].append((start, end))
            else:
                spans[pid][1].append((start, end, first, last, tz))
    return spans


def _claimed_rows(s: Session, ids: list[int], worker: str) -> list[m.Nudge]:
    return list(
        s.scalars(
            select(N)
            .where(N.id.in_(ids), N.claimed_by == worker, N.sent_at.is_(None))
            .order_by(N.id)
        )
    )


class _Failed(Exception):
    """One recipient's DM was not delivered (the rows went back to the outbox)."""


# --- one run -------------------------------------------------------------------------------


@dataclass
class RunReport:
    queued: dict[str, int] = field(default_factory=dict)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)


def run_once(deps: Deps, *, worker: str | None = None) -> RunReport:
    """Every sweep, then one delivery, as of ``deps.clock.now()``."""
    report = RunReport()
    for name, sweep in SWEEPS:
        report.queued[name] = sweep(deps)
    report.delivery = deliver(deps, worker=worker)
    return report
