"""Services: deadline nudges — the policy, per-zone values and the outbox row every sweep queues."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    text,
)
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.deadlines import (
    NudgePolicy,
    RecipientKind,
    WorkingHours,
    nudge_key,
    send_after,
    usable_zone,
    window_date,
)
from bot.domain.schedule import local_date
from bot.settings import Settings
from storage import models as m
from storage import outbox

log = logging.getLogger("bot.services.nudges")

N = m.Nudge
LEASE = timedelta(minutes=5)
RECIPIENTS_PER_CLAIM = 20
FAILURES_BEFORE_STOPPING = 2
ANALYZE_AFTER = 2000  # rows inserted by one sweep
MAX_NOTES_LISTED = 25


def policy_of(settings: Settings) -> NudgePolicy:
    return NudgePolicy(
        annual_review_stages=tuple(settings.annual_review_stages),
        triennial_stages=tuple(settings.triennial_stages),
        licence_stages=tuple(settings.licence_stages),
        licence_manager_stage=settings.licence_manager_stage,
        soap_note_due_hours=settings.soap_note_due_hours,
        soap_escalate_days=settings.soap_escalate_days,
        hours=WorkingHours.of(
            settings.working_days, settings.working_hours_start, settings.working_hours_end
        ),
        org_timezone=settings.org_timezone,
        show_student_names=settings.show_student_names,
    )


def rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


class ZoneCache:
    """Per-zone values of one sweep (every provider in a zone shares them)."""

    def __init__(self, now: datetime, policy: NudgePolicy) -> None:
        self.now, self.policy = now, policy
        self._today: dict[str, date] = {}
        self._after: dict[str, datetime] = {}
        self._window: dict[str, date] = {}

    def zone(self, name: str | None) -> str:
        return usable_zone(name, self.policy.org_timezone)

    def today(self, zone: str) -> date:
        if zone not in self._today:
            self._today[zone] = local_date(self.now, zone)
        return self._today[zone]

    def send_after(self, zone: str) -> datetime:
        if zone not in self._after:
            self._after[zone] = send_after(self.now, zone, self.policy.hours)
        return self._after[zone]

    def window_date(self, zone: str) -> date:
        if zone not in self._window:
            self._window[zone] = window_date(self.now, zone, self.policy.hours)
        return self._window[zone]


# --- queueing ------------------------------------------------------------------------------


def outbox_row(
    rule: str,
    subject: str,
    due: date | None,
    stage: str,
    kind: str,
    recipient: str,
    now: datetime,
    after: datetime,
    payload: dict[str, Any] | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    return {
        "key": key or nudge_key(rule, subject, due, stage, kind, recipient),
        "rule": rule,
        "recipient_kind": kind,
        "recipient_id": recipient,
        "subject_id": subject,
        "due_on": due,
        "stage": stage,
        "payload": payload or {},
        "created_at": now,
        "send_after": after,
        "attempts": 0,
    }


def queue(s: Session, items: Iterable[dict[str, Any]]) -> int:
    """Queue the items whose key is not in the outbox yet; returns how many were new."""
    return outbox.enqueue(s, items)


def analyze_after_bulk_insert(deps: Deps, inserted: int) -> None:
    """Refresh PostgreSQL's statistics on the outbox after a large insert.

    A fresh table is analysed while empty; until autovacuum catches up (a minute or more), the
    planner takes the outbox for empty and scans it whole for every key or id lookup. One
    ``ANALYZE`` (a sample, about 0.1 s) right after the first big sweep avoids minutes of it.
    """
    if inserted < ANALYZE_AFTER or deps.engine.dialect.name != "postgresql":
        return
    with deps.engine.connect() as conn:
        conn.execute(text("ANALYZE nudges"))
        conn.commit()


@dataclass(frozen=True)
class Recipient:
    kind: str
    id: str
    slack_user_id: str | None
    zone: str
    name: str


def recipient_of(s: Session, kind: str, rid: str, policy: NudgePolicy) -> Recipient | None:
    if kind == RecipientKind.PROVIDER:
        p = s.get(m.Provider, rid)
        if p is None:
            return None
        return Recipient(
            kind, rid, p.slack_user_id, usable_zone(p.timezone, policy.org_timezone), p.name
        )
    mgr = s.get(m.Manager, rid)
    if mgr is None:
        return None
    zone = usable_zone(mgr.timezone, policy.org_timezone)
    return Recipient(kind, rid, mgr.slack_user_id, zone, mgr.name)
