"""Services: the weekly digest DM each manager gets on Monday at 08:00 in their own zone.

The ``nudges`` table is the ledger: one row per manager and ISO week (rule ``weekly_digest``,
key ``digest:{manager_id}:{iso_week}``) is inserted first under its unique key, then claimed
with a short lease, sent, and marked sent. A failed send leaves the row unsent, and the next
run (still that Monday) sends it; a second process or a re-run sends nothing twice.

The rows use recipient kind ``manager_digest`` so that the nudge outbox, which delivers the
kinds it knows (``provider``, ``manager``), never picks them up.

The service gathers the digest as plain values (``WeeklyDigest``) and hands it to the
``Notifier``; ``bot.views.digest`` lays it out. The digest carries counts, initials and ids —
never a name unless ``show_student_names`` is on, and never a note's contents.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.schedule import local_date
from bot.domain.sessions import digest_due, digest_key
from bot.services import dm
from bot.services.coverage import DistrictCoverage, Unserved, coverage, unserved
from bot.services.deadlines import (
    DeadlineItem,
    NoteCount,
    overdue_by_provider,
    overdue_notes,
    provider_names,
    student_deadlines,
)
from storage import models as m
from storage import outbox

log = logging.getLogger(__name__)

RULE = "weekly_digest"
RECIPIENT_KIND = "manager_digest"
LEASE = timedelta(minutes=5)
REVIEW_DAYS = 14
MAX_LINES = 10
N = m.Nudge


@dataclass(frozen=True)
class WeeklyDigest:
    week_of: date
    coverage: tuple[DistrictCoverage, ...]
    unserved: tuple[Unserved, ...]
    notes: tuple[NoteCount, ...]
    reviews: tuple[DeadlineItem, ...]


def _zone(name: str | None, fallback: str) -> str:
    if name:
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return fallback


def build_digest(deps: Deps, s: Session, now: datetime, tz: str) -> WeeklyDigest:
    names = deps.settings.show_student_names
    today = local_date(now, tz)
    notes = overdue_notes(s, now, deps.settings.soap_note_due_hours, names)
    reviews = student_deadlines(
        s, today, today + timedelta(days=REVIEW_DAYS), names, include_overdue=False
    )
    return WeeklyDigest(
        week_of=today - timedelta(days=today.weekday()),
        coverage=tuple(coverage(s)),
        unserved=tuple(unserved(s, names)),
        notes=tuple(overdue_by_provider(notes, provider_names(s))),
        reviews=tuple(reviews),
    )


def send_weekly_digests(deps: Deps, now: datetime) -> int:
    """Send each manager's digest once per week, from Monday 08:00 their time; returns sends."""
    org = deps.settings.org_timezone
    due: list[tuple[str, str, str]] = []  # (key, slack user, zone)
    with deps.session_factory.begin() as s:
        managers = s.scalars(
            select(m.Manager).where(m.Manager.slack_user_id.is_not(None)).order_by(m.Manager.id)
        ).all()
        rows: list[dict[str, Any]] = []
        for mgr in managers:
            tz = _zone(mgr.timezone, org)
            if not digest_due(now, tz) or mgr.slack_user_id is None:
                continue
            key = digest_key(mgr.id, now, tz)
            due.append((key, mgr.slack_user_id, tz))
            rows.append(
                {
                    "key": key,
                    "rule": RULE,
                    "recipient_kind": RECIPIENT_KIND,
                    "recipient_id": mgr.id,
                    "subject_id": key,
                    "due_on": local_date(now, tz),
                    "stage": "weekly",
                    "payload": {},
                    "created_at": now,
                    "send_after": now,
                    "attempts": 0,
                }
            )
        outbox.enqueue(s, rows)
    worker = f"digest:{uuid.uuid4().hex[:12]}"
    sent = 0
    for key, slack_user, tz in due:
        with deps.session_factory.begin() as s:
            if not outbox.claim_key(s, key, worker, now, LEASE):
                continue  # sent already, or another process is sending it
            ids = list(s.scalars(select(N.id).where(N.key == key)))
        ids, found = dm.settle_earlier(deps, worker, ids, slack_user, now)
        if not ids:
            sent += found
            continue  # Slack took it on an earlier, interrupted run
        with deps.session_factory() as s:
            digest = build_digest(deps, s, now, tz)
        batch = dm.new_batch_id()
        dm.stamp(deps, ids, worker, batch)
        result = dm.send(deps, worker, ids, slack_user, digest, batch, now)
        if result.outcome != dm.Outcome.SENT:
            log.warning("digest.not_sent", extra={"key": key, "outcome": str(result.outcome)})
            continue
        sent += 1
        log.info("digest.sent", extra={"key": key})
    return sent
