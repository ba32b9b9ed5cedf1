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
from collections import defaultdict
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
from bot.services.conflicts import DistrictConflicts, district_conflicts
from bot.services.coverage import DistrictCoverage, Unserved, coverage, unserved
from bot.services.deadlines import (
    DeadlineItem,
    OverdueNote,
    licence_deadlines,
    overdue_by_provider,
    overdue_notes,
    provider_names,
    student_deadlines,
)
from bot.services.minutes import DistrictLine, DistrictLinesOnce
from storage import models as m
from storage import outbox
from storage.queries import manager_district_scope

log = logging.getLogger(__name__)

RULE = "weekly_digest"
RECIPIENT_KIND = "manager_digest"
LEASE = timedelta(minutes=5)
REVIEW_DAYS = 14
MAX_LINES = 10
DAYS_TO_NEXT_DIGEST = 7  # a licence ending before the next digest plus the usual notice
UNREACHABLE_WINDOW = timedelta(days=28)
N = m.Nudge


@dataclass(frozen=True)
class ProviderNotes:
    provider: str
    count: int  # overdue notes
    oldest: date  # the oldest overdue session, in the provider's zone
    escalated: int  # of them, overdue for ``soap_escalate_days`` or more


@dataclass(frozen=True)
class Unreachable:
    name: str
    slack_user_id: str
    reason: str  # Slack's answer: account_inactive, user_not_found, …


@dataclass(frozen=True)
class WeeklyDigest:
    """One manager's week, for their districts (``districts`` None: all of them)."""

    week_of: date
    districts: tuple[str, ...] | None  # names, when the manager is limited to some
    coverage: tuple[DistrictCoverage, ...]
    unserved: tuple[Unserved, ...]
    notes: tuple[ProviderNotes, ...]
    escalate_days: int
    overdue: tuple[DeadlineItem, ...]  # reviews and triennials past due, until resolved
    reviews: tuple[DeadlineItem, ...]  # due in the next ``REVIEW_DAYS`` days
    licences: tuple[DeadlineItem, ...]  # ending within ``licence_days``
    licence_days: int
    unreachable: tuple[Unreachable, ...]
    minutes: tuple[DistrictLine, ...] = ()  # per district: students behind, make-ups owed
    conflicts: tuple[DistrictConflicts, ...] = ()  # what can't happen as planned, 60 days


def _zone(name: str | None, fallback: str) -> str:
    if name:
        try:
            ZoneInfo(name)
            return name
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return fallback


def build_digest(
    deps: Deps,
    s: Session,
    now: datetime,
    tz: str,
    scope: frozenset[str] | None = None,
    minutes: DistrictLinesOnce | None = None,
) -> WeeklyDigest:
    """What a manager whose districts are ``scope`` (None: all) should see this week.

    Everything overdue is computed from today's data, so it stays in every week's digest
    until it is resolved (a review held, a note written, a licence renewed). ``minutes``: the
    run's district minutes lines, shared by every manager's digest (each district worked out
    once).
    """
    settings = deps.settings
    names = settings.show_student_names
    today = local_date(now, tz)
    districts = {d.id: d for d in s.scalars(select(m.District).order_by(m.District.name))}
    if scope is not None:
        districts = {k: d for k, d in districts.items() if k in scope}
    notes = overdue_notes(s, now, settings.soap_note_due_hours, names)
    deadlines: list[DeadlineItem] = []
    until = today + timedelta(days=REVIEW_DAYS)
    licence_days = settings.licence_manager_stage + DAYS_TO_NEXT_DIGEST
    licences: list[DeadlineItem] = []
    if scope is None:
        deadlines = student_deadlines(s, today, until, names)
        licences = licence_deadlines(s, today, today + timedelta(days=licence_days))
    else:
        students = set(
            s.scalars(
                select(m.Student.id)
                .join(m.School, m.School.id == m.Student.school_id)
                .where(m.School.district_id.in_(sorted(districts)))
            )
        )
        notes = [n for n in notes if n.student_id in students]
        for district_id in districts:
            deadlines += student_deadlines(s, today, until, names, district_id=district_id)
        for state in sorted({d.state for d in districts.values()}):
            licences += licence_deadlines(
                s, today, today + timedelta(days=licence_days), state=state
            )
        deadlines.sort(key=lambda i: (i.due_on, i.kind, i.subject))
        licences.sort(key=lambda i: (i.due_on, i.where))
    return WeeklyDigest(
        week_of=today - timedelta(days=today.weekday()),
        districts=None if scope is None else tuple(d.name for d in districts.values()),
        coverage=tuple(c for c in coverage(s) if c.district_id in districts),
        unserved=tuple(u for u in unserved(s, names) if u.district_id in districts),
        notes=_by_provider(notes, provider_names(s), settings.soap_escalate_days),
        escalate_days=settings.soap_escalate_days,
        overdue=tuple(i for i in deadlines if i.days_left < 0),
        reviews=tuple(i for i in deadlines if i.days_left >= 0),
        licences=tuple(licences),
        licence_days=licence_days,
        unreachable=_unreachable(s, now, None if scope is None else set(districts)),
        minutes=tuple((minutes or DistrictLinesOnce(now, settings)).lines(s, scope)),
        conflicts=tuple(district_conflicts(s, now, tz, names, scope)),
    )


def _by_provider(
    notes: list[OverdueNote], names: dict[str, str], escalate_days: int
) -> tuple[ProviderNotes, ...]:
    escalated: dict[str, int] = defaultdict(int)
    for n in notes:
        escalated[n.provider_id] += int(n.days_overdue >= escalate_days)
    return tuple(
        ProviderNotes(c.provider, c.count, c.oldest, escalated[c.provider_id])
        for c in overdue_by_provider(notes, names)
    )


def _unreachable(s: Session, now: datetime, districts: set[str] | None) -> tuple[Unreachable, ...]:
    """People the bot could not DM (Slack refused for good) in the last weeks, until a DM to
    them gets through; a limited manager sees the providers serving their districts."""
    found = outbox.unreachable(s, now - UNREACHABLE_WINDOW)
    providers = sorted(rid for (kind, rid) in found if kind == "provider")
    managers = sorted(rid for (kind, rid) in found if kind != "provider")
    out: list[Unreachable] = []
    if providers:
        q = select(m.Provider.id, m.Provider.name, m.Provider.slack_user_id).where(
            m.Provider.id.in_(providers)
        )
        if districts is not None:
            serving = (
                select(m.Assignment.provider_id)
                .join(m.Student, m.Student.id == m.Assignment.student_id)
                .join(m.School, m.School.id == m.Student.school_id)
                .where(m.School.district_id.in_(sorted(districts)))
            )
            q = q.where(m.Provider.id.in_(serving))
        for pid, name, slack_id in s.execute(q):
            out.append(Unreachable(name, slack_id or "", found[("provider", pid)]))
    if managers and districts is None:
        reasons = {rid: reason for (kind, rid), reason in found.items() if kind != "provider"}
        for mid, name, slack_id in s.execute(
            select(m.Manager.id, m.Manager.name, m.Manager.slack_user_id).where(
                m.Manager.id.in_(managers)
            )
        ):
            out.append(Unreachable(name, slack_id or "", reasons[mid]))
    return tuple(sorted(out, key=lambda u: u.name))


def send_weekly_digests(deps: Deps, now: datetime) -> int:
    """Send each manager's digest once per week, from Monday 08:00 their time; returns sends.

    A manager limited to some districts hears only about those (``managers.csv``'s
    ``district_ids``); one with none listed hears about every district.
    """
    org = deps.settings.org_timezone
    due: list[tuple[str, str, str, frozenset[str] | None]] = []  # key, slack user, zone, scope
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
            due.append((key, mgr.slack_user_id, tz, manager_district_scope(s, mgr.slack_user_id)))
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
    minutes = DistrictLinesOnce(now, deps.settings)  # once per district for the whole run
    for key, slack_user, tz, scope in due:
        with deps.session_factory.begin() as s:
            if not outbox.claim_key(s, key, worker, now, LEASE):
                continue  # sent already, or another process is sending it
            ids = list(s.scalars(select(N.id).where(N.key == key)))
        ids, found = dm.settle_earlier(deps, worker, ids, slack_user, now)
        if not ids:
            sent += found
            continue  # Slack took it on an earlier, interrupted run
        with deps.session_factory() as s:
            digest = build_digest(deps, s, now, tz, scope, minutes)
        batch = dm.new_batch_id()
        dm.stamp(deps, ids, worker, batch)
        result = dm.send(deps, worker, ids, slack_user, digest, batch, now)
        if result.outcome != dm.Outcome.SENT:
            log.warning("digest.not_sent", extra={"key": key, "outcome": str(result.outcome)})
            continue
        sent += 1
        log.info("digest.sent", extra={"key": key})
    return sent
