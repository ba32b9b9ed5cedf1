"""Services: deadline nudges — sweeps that queue what is due, delivery that sends it exactly once,
and the buttons on a nudge DM.

The ``nudges`` table is both the ledger and the outbox. A sweep turns the roster into items
(rule, subject, due date, stage, recipient), each under a unique key, and inserts the ones not
yet there (``ON CONFLICT DO NOTHING`` covers a second clock process racing this one). Delivery
then claims due rows per recipient (``FOR UPDATE SKIP LOCKED`` on PostgreSQL, a conditional
UPDATE of the lease everywhere), commits the claim, posts one DM per recipient combining all
their items, and marks the rows sent. No row lock is held across a Slack call; a failed post
releases the claim so the next run retries it.

Before posting, each row is checked against today's data: a review marked held, a renewed
licence, a note written, or a later stage due make the row obsolete, and it is skipped (never
sent). Escalations for managers (recipient kind ``managers``) are collected into one digest per
working day, DMed to every manager.

Every use case owns its transactions. Rules live in ``bot.domain.deadlines``; message layout is
the caller's ``render`` function (the Slack edge), so this module never builds Block Kit.
"""

from __future__ import annotations

import logging
import os
import socket
import time as monotonic_time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    and_,
    func,
    literal,
    or_,
    select,
    text,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.deadlines import (
    DAILY,
    ESCALATED,
    NOTE_STATUSES,
    OVERDUE,
    NudgePolicy,
    RecipientKind,
    Rule,
    WorkingHours,
    annual_review_stage,
    days_overdue,
    in_working_hours,
    licence_escalates,
    licence_stage,
    next_annual_review_due,
    next_day_window_start,
    note_due_at,
    note_escalates,
    note_overdue,
    nudge_key,
    overdue_start_bound,
    send_after,
    snoozed_key,
    stage_is_current,
    triennial_stage,
    usable_zone,
    window_date,
)
from bot.domain.privacy import student_label
from bot.domain.schedule import local_date
from bot.services.errors import InvalidInput, NotAllowed, NotFound
from bot.services.people import Person, identify
from bot.settings import Settings
from bot.slack_gateway import SlackUnavailable
from storage import models as m
from storage import outbox

log = logging.getLogger(__name__)

N = m.Nudge
LEASE = timedelta(minutes=5)
RECIPIENTS_PER_CLAIM = 20
FAILURES_BEFORE_STOPPING = 2
ANALYZE_AFTER = 2000  # rows inserted by one sweep
MAX_NOTES_LISTED = 25
MAX_DIGEST_LINES = 10  # per rule
ALL_MANAGERS = "all"


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


def _rowcount(result: Any) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


class _ZoneCache:
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


def _item(
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


def _insert_new(s: Session, items: Iterable[dict[str, Any]]) -> int:
    """Queue the items whose key is not in the outbox yet; returns how many were new."""
    return outbox.enqueue(s, items)


def _after_bulk_insert(deps: Deps, inserted: int) -> None:
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


# --- sweeps --------------------------------------------------------------------------------


def _sweep_student_dates(deps: Deps, rule: Rule) -> int:
    """Annual reviews and triennials: DM each assigned provider at the current stage."""
    policy = policy_of(deps.settings)
    now = deps.clock.now()
    zones = _ZoneCache(now, policy)
    column: Any = m.Student.annual_review_due
    stages = policy.annual_review_stages
    if rule == Rule.TRIENNIAL:
        column, stages = m.Student.triennial_due, policy.triennial_stages
    # Local dates are at most a day off UTC's; the exact stage is decided per provider zone.
    horizon = now.date() + timedelta(days=max(stages) + 1)
    lower = now.date() - timedelta(days=1)
    q = (
        select(m.Student.id, column, m.Assignment.provider_id, m.Provider.timezone)
        .join(m.Assignment, m.Assignment.student_id == m.Student.id)
        .join(m.Provider, m.Provider.id == m.Assignment.provider_id)
        .where(column.is_not(None), column <= horizon)
        .distinct()
    )
    if rule != Rule.ANNUAL_REVIEW:
        q = q.where(column >= lower)
    items: list[dict[str, Any]] = []
    with deps.session_factory.begin() as s:
        for student_id, due, provider_id, tz in s.execute(q):
            zone = zones.zone(tz)
            today = zones.today(zone)
            if rule == Rule.ANNUAL_REVIEW:
                stage = annual_review_stage(due, today, stages)
            else:
                stage = triennial_stage(due, today, stages)
            if stage is None:
                continue
            items.append(
                _item(
                    rule,
                    student_id,
                    due,
                    stage,
                    RecipientKind.PROVIDER,
                    provider_id,
                    now,
                    zones.send_after(zone),
                )
            )
        if rule == Rule.ANNUAL_REVIEW:
            # Overdue reviews go to the managers' digest, assigned or not.
            org_today = zones.today(zones.zone(policy.org_timezone))
            late = select(m.Student.id, column).where(column < org_today)
            for student_id, due in s.execute(late):
                items.append(
                    _item(
                        rule,
                        student_id,
                        due,
                        OVERDUE,
                        RecipientKind.MANAGERS,
                        ALL_MANAGERS,
                        now,
                        now,
                    )
                )
        queued = _insert_new(s, items)
    _after_bulk_insert(deps, queued)
    log.info("nudges.swept", extra={"rule": str(rule), "candidates": len(items), "queued": queued})
    return queued


def sweep_annual_reviews(deps: Deps) -> int:
    return _sweep_student_dates(deps, Rule.ANNUAL_REVIEW)


def sweep_triennials(deps: Deps) -> int:
    return _sweep_student_dates(deps, Rule.TRIENNIAL)


def _overdue_notes_query(now: datetime, policy: NudgePolicy) -> Any:
    s_ = m.TherapySession
    return select(
        s_.id, s_.provider_id, s_.starts_at, s_.minutes, s_.status, m.Provider.timezone
    ).where(
        s_.note_done_at.is_(None),
        s_.status.in_(NOTE_STATUSES),
        s_.starts_at <= overdue_start_bound(now, policy.soap_note_due_hours),
    )


def sweep_soap_notes(deps: Deps) -> int:
    """One daily item per provider with overdue notes; escalations after ``soap_escalate_days``.

    The provider's daily item is keyed by the local date of the window it will go out in, so
    they get one DM a day; its note list is read fresh when it is sent.
    """
    policy = policy_of(deps.settings)
    now = deps.clock.now()
    zones = _ZoneCache(now, policy)
    s_ = m.TherapySession
    q = _overdue_notes_query(now, policy).join(m.Provider, m.Provider.id == s_.provider_id)
    overdue: dict[str, int] = defaultdict(int)
    zone_of: dict[str, str] = {}
    items: list[dict[str, Any]] = []
    hours, escalate = policy.soap_note_due_hours, policy.soap_escalate_days
    with deps.session_factory.begin() as s:
        for session_id, provider_id, starts_at, minutes, status, tz in s.execute(q):
            if not note_overdue(status, starts_at, minutes, None, now, hours):
                continue
            overdue[provider_id] += 1
            zone_of[provider_id] = tz
            due_at = note_due_at(starts_at, minutes, hours)
            if note_escalates(due_at, now, escalate):
                items.append(
                    _item(
                        Rule.SOAP_NOTE,
                        str(session_id),
                        due_at.date(),
                        ESCALATED,
                        RecipientKind.MANAGERS,
                        ALL_MANAGERS,
                        now,
                        now,
                        {"provider_id": provider_id},
                    )
                )
        for provider_id, count in overdue.items():
            zone = zones.zone(zone_of[provider_id])
            items.append(
                _item(
                    Rule.SOAP_NOTE,
                    provider_id,
                    zones.window_date(zone),
                    DAILY,
                    RecipientKind.PROVIDER,
                    provider_id,
                    now,
                    zones.send_after(zone),
                    {"overdue": count},
                )
            )
        queued = _insert_new(s, items)
    _after_bulk_insert(deps, queued)
    log.info(
        "nudges.swept", extra={"rule": "soap_note", "candidates": len(items), "queued": queued}
    )
    return queued


def sweep_licences(deps: Deps) -> int:
    policy = policy_of(deps.settings)
    now = deps.clock.now()
    zones = _ZoneCache(now, policy)
    lic = m.License
    horizon = now.date() + timedelta(
        days=max(*policy.licence_stages, policy.licence_manager_stage) + 1
    )
    q = (
        select(lic.id, lic.provider_id, lic.expires_on, m.Provider.timezone)
        .join(m.Provider, m.Provider.id == lic.provider_id)
        .where(lic.expires_on >= now.date() - timedelta(days=1), lic.expires_on <= horizon)
    )
    org_today = zones.today(zones.zone(policy.org_timezone))
    items: list[dict[str, Any]] = []
    with deps.session_factory.begin() as s:
        for licence_id, provider_id, expires_on, tz in s.execute(q):
            zone = zones.zone(tz)
            stage = licence_stage(expires_on, zones.today(zone), policy.licence_stages)
            if stage is not None:
                items.append(
                    _item(
                        Rule.LICENCE,
                        str(licence_id),
                        expires_on,
                        stage,
                        RecipientKind.PROVIDER,
                        provider_id,
                        now,
                        zones.send_after(zone),
                    )
                )
            if licence_escalates(expires_on, org_today, policy.licence_manager_stage):
                items.append(
                    _item(
                        Rule.LICENCE,
                        str(licence_id),
                        expires_on,
                        ESCALATED,
                        RecipientKind.MANAGERS,
                        ALL_MANAGERS,
                        now,
                        now,
                        {"provider_id": provider_id},
                    )
                )
        queued = _insert_new(s, items)
    _after_bulk_insert(deps, queued)
    log.info("nudges.swept", extra={"rule": "licence", "candidates": len(items), "queued": queued})
    return queued


def assemble_digest(deps: Deps) -> int:
    """Once per working day (organisation zone), put the waiting escalations into a digest.

    One outbox row per manager refers to the digest; escalations that arrive after it was made
    wait for the next day's. Two processes cannot both make it: the managers' rows are keyed by
    the date, and only the process whose insert went in assigns the escalations.
    """
    policy = policy_of(deps.settings)
    now = deps.clock.now()
    org = usable_zone(policy.org_timezone, "UTC")
    if not in_working_hours(now, org, policy.hours):
        return 0
    day = local_date(now, org)
    digest_key = f"digest:{day.isoformat()}"
    # Waiting escalations are unsent rows, so the small outbox index finds them.
    waiting = and_(
        N.sent_at.is_(None),
        N.skipped_at.is_(None),
        N.recipient_kind == RecipientKind.MANAGERS,
        N.digest_key.is_(None),
    )
    with deps.session_factory.begin() as s:
        if s.scalar(select(N.id).where(waiting).limit(1)) is None:
            return 0
        managers = s.execute(
            select(m.Manager.id, m.Manager.timezone).where(m.Manager.slack_user_id.is_not(None))
        ).all()
        if not managers:
            return 0  # the escalations wait for a manager to exist
        keys = [
            nudge_key(Rule.DIGEST, digest_key, day, DAILY, RecipientKind.MANAGER, manager_id)
            for manager_id, _ in managers
        ]
        if s.scalar(select(N.id).where(N.key.in_(keys)).limit(1)) is not None:
            return 0  # today's digest went out; these wait for tomorrow's
        rows = [
            _item(
                Rule.DIGEST,
                digest_key,
                day,
                DAILY,
                RecipientKind.MANAGER,
                manager_id,
                now,
                send_after(now, usable_zone(tz, org), policy.hours),
            )
            for manager_id, tz in managers
        ]
        if not outbox.enqueue_new(s, rows):
            return 0
        escalations = _rowcount(
            s.execute(update(N).where(waiting).values(digest_key=digest_key, sent_at=now))
        )
    log.info("nudges.digest_made", extra={"digest": digest_key, "escalations": escalations})
    return escalations


SWEEPS: tuple[tuple[str, Callable[[Deps], int]], ...] = (
    ("annual_review", sweep_annual_reviews),
    ("triennial", sweep_triennials),
    ("soap_note", sweep_soap_notes),
    ("licence", sweep_licences),
    ("manager_digest", assemble_digest),
)


# --- what a DM says ------------------------------------------------------------------------


@dataclass(frozen=True)
class DeadlineLine:
    nudge_id: int
    rule: str  # annual_review | triennial
    student: str  # initials and id (or name, when allowed)
    school: str
    due_on: date
    days_left: int  # < 0: overdue


@dataclass(frozen=True)
class NoteLine:
    session_id: int
    student: str
    school: str
    service: str
    held_on: date  # in the provider's zone
    days_overdue: int


@dataclass(frozen=True)
class LicenceLine:
    nudge_id: int
    state: str
    number: str
    expires_on: date
    days_left: int


@dataclass(frozen=True)
class DigestLine:
    rule: str
    what: str  # student label, or the provider's name for a licence
    school: str
    provider: str
    due_on: date


@dataclass(frozen=True)
class Digest:
    counts: dict[str, int]  # rule -> how many escalations are in it
    lines: tuple[DigestLine, ...]  # at most MAX_DIGEST_LINES per rule


@dataclass(frozen=True)
class NudgeMessage:
    """Everything one DM says to one person; the edge renders it."""

    batch_id: str
    recipient_kind: str
    recipient_name: str
    today: date
    deadlines: tuple[DeadlineLine, ...] = ()
    notes: tuple[NoteLine, ...] = ()
    notes_total: int = 0
    licences: tuple[LicenceLine, ...] = ()
    digest: Digest | None = None
    notices: tuple[str, ...] = ()  # plain text queued by other features (new assignments)

    @property
    def item_count(self) -> int:
        digest = sum(self.digest.counts.values()) if self.digest else 0
        found = len(self.deadlines) + self.notes_total + len(self.licences) + len(self.notices)
        return found + digest


Render = Callable[[NudgeMessage], tuple[str, list[dict[str, Any]]]]


# --- delivery ------------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    messages: int = 0  # DMs posted
    items: int = 0  # outbox rows marked sent
    held: int = 0  # rows waiting for the recipient's working hours
    skipped: int = 0  # rows dropped unsent because they no longer held
    failed: int = 0  # DMs Slack did not take; their rows wait for the next run
    error: str | None = None  # the last Slack failure, if any
    left: int = 0  # when ``error``: rows still due and unsent at the end of the run


@dataclass(frozen=True)
class _Recipient:
    kind: str
    id: str
    slack_user_id: str | None
    zone: str
    name: str


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


def deliver(deps: Deps, render: Render, *, worker: str | None = None) -> DeliveryReport:
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
    digests: dict[str, Digest | None] = {}
    failures_in_a_row, stopped = 0, False
    for chunk in outbox.chunks(recipients, RECIPIENTS_PER_CLAIM):
        claimed = list(_claim(deps, worker, chunk, now).items())
        started = monotonic_time.monotonic()
        for index, ((kind, rid), ids) in enumerate(claimed):
            if monotonic_time.monotonic() - started > LEASE.total_seconds() * 0.8:
                # Never post on a lease about to lapse (another process may take the rows):
                # hand the rest of this chunk back for the next run.
                _release(deps, worker, [i for _, more in claimed[index:] for i in more])
                break
            try:
                _deliver_to(deps, policy, render, worker, kind, rid, ids, now, report, digests)
                failures_in_a_row = 0
            except SlackUnavailable as exc:
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
    if report.error:
        report.left = _waiting(deps, now)
        log.warning("nudges.delivery_failed", extra={"failed": report.failed, "left": report.left})
    log.info(
        "nudges.delivered",
        extra={
            "messages": report.messages,
            "items": report.items,
            "held": report.held,
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


def _recipient(s: Session, kind: str, rid: str, policy: NudgePolicy) -> _Recipient | None:
    if kind == RecipientKind.PROVIDER:
        p = s.get(m.Provider, rid)
        if p is None:
            return None
        return _Recipient(
            kind, rid, p.slack_user_id, usable_zone(p.timezone, policy.org_timezone), p.name
        )
    mgr = s.get(m.Manager, rid)
    if mgr is None:
        return None
    zone = usable_zone(mgr.timezone, policy.org_timezone)
    return _Recipient(kind, rid, mgr.slack_user_id, zone, mgr.name)


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
    render: Render,
    worker: str,
    kind: str,
    rid: str,
    ids: list[int],
    now: datetime,
    report: DeliveryReport,
    digests: dict[str, Digest | None],
) -> None:
    with deps.session_factory.begin() as s:
        rows = list(
            s.scalars(
                select(N)
                .where(N.id.in_(ids), N.claimed_by == worker, N.sent_at.is_(None))
                .order_by(N.id)
            )
        )
        person = _recipient(s, kind, rid, policy)
        if person is None or not person.slack_user_id:
            report.skipped += _skip(rows, now, "no_slack_user")
            log.info("nudges.no_slack_user", extra={"kind": kind, "recipient": rid})
            return
        if not in_working_hours(now, person.zone, policy.hours):
            later = send_after(now, person.zone, policy.hours)
            for row in rows:
                row.send_after, row.claimed_by, row.claimed_until = later, None, None
            report.held += len(rows)
            return
        message, keep, stale = _compose(s, rows, person, now, policy, digests)
        for reason, row in stale:
            report.skipped += _skip([row], now, reason)
        if not keep or message.item_count == 0:
            report.skipped += _skip(keep, now, "nothing_left")
            return
        for row in keep:
            row.batch_id = message.batch_id
        keep_ids = [row.id for row in keep]
        slack_user = person.slack_user_id
    # The claim is committed and no transaction is open: now talk to Slack.
    text, blocks = render(message)
    try:
        deps.gateway.post_dm(slack_user, text, blocks)
    except SlackUnavailable as exc:
        _release(deps, worker, keep_ids, str(exc))
        raise
    with deps.session_factory.begin() as s:
        marked = outbox.mark_sent(s, keep_ids, worker, now)
    if marked != len(keep_ids):
        log.warning("nudges.lease_lost", extra={"batch": message.batch_id})
    report.messages += 1
    report.items += marked
    log.info("nudges.sent", extra={"batch": message.batch_id, "kind": kind, "recipient": rid})


def _compose(
    s: Session,
    rows: list[m.Nudge],
    person: _Recipient,
    now: datetime,
    policy: NudgePolicy,
    digests: dict[str, Digest | None],
) -> tuple[NudgeMessage, list[m.Nudge], list[tuple[str, m.Nudge]]]:
    """Check each row against today's data and gather what the DM says about it."""
    today = local_date(now, person.zone)
    keep: list[m.Nudge] = []
    stale: list[tuple[str, m.Nudge]] = []
    by_rule: dict[str, list[m.Nudge]] = defaultdict(list)
    for row in rows:
        by_rule[row.rule].append(row)
    message = NudgeMessage(
        batch_id=str(uuid.uuid4()),
        recipient_kind=person.kind,
        recipient_name=person.name,
        today=today,
    )

    student_rows = by_rule.pop(Rule.ANNUAL_REVIEW, []) + by_rule.pop(Rule.TRIENNIAL, [])
    if student_rows:
        lines, ok, bad = _deadline_lines(s, student_rows, person, today, policy)
        message = replace(message, deadlines=lines)
        keep += ok
        stale += bad

    licence_rows = by_rule.pop(Rule.LICENCE, [])
    if licence_rows:
        licences = {
            lic.id: lic
            for lic in s.scalars(
                select(m.License).where(m.License.id.in_([int(r.subject_id) for r in licence_rows]))
            )
        }
        found: list[LicenceLine] = []
        for row in licence_rows:
            lic = licences.get(int(row.subject_id))
            if lic is None or lic.expires_on != row.due_on or lic.provider_id != person.id:
                stale.append(("changed", row))
            elif not stage_is_current(row.rule, row.stage, row.due_on, today, policy):
                stale.append(("superseded", row))
            else:
                keep.append(row)
                found.append(
                    LicenceLine(
                        row.id,
                        lic.state,
                        lic.license_number,
                        lic.expires_on,
                        (lic.expires_on - today).days,
                    )
                )
        message = replace(message, licences=tuple(found))

    # Rows other features queued with their text ready (matching's "new students" DM, when
    # its own immediate send failed): always still true, delivered as written.
    notice_rows = by_rule.pop(Rule.ASSIGNMENT, [])
    if notice_rows:
        texts = [str((r.payload or {}).get("text") or "") for r in notice_rows]
        keep += [r for r, t in zip(notice_rows, texts, strict=True) if t]
        stale += [("empty", r) for r, t in zip(notice_rows, texts, strict=True) if not t]
        message = replace(message, notices=tuple(t for t in texts if t))

    soap_rows = by_rule.pop(Rule.SOAP_NOTE, [])
    if soap_rows:
        notes = provider_overdue_notes(s, person.id, person.zone, now, policy)
        if notes:
            keep += soap_rows
            message = replace(
                message, notes=tuple(notes[:MAX_NOTES_LISTED]), notes_total=len(notes)
            )
        else:
            stale += [("notes_written", r) for r in soap_rows]

    digest_rows = by_rule.pop(Rule.DIGEST, [])
    if digest_rows:
        digest: Digest | None = None
        for row in digest_rows:
            if row.subject_id not in digests:
                digests[row.subject_id] = _digest(s, row.subject_id, now, policy)
            digest = digest or digests[row.subject_id]
        if digest is not None:
            keep += digest_rows
            message = replace(message, digest=digest)
        else:
            stale += [("resolved", r) for r in digest_rows]

    for leftover in by_rule.values():
        stale += [("unknown_rule", r) for r in leftover]
    return message, keep, stale


def _deadline_lines(
    s: Session,
    rows: list[m.Nudge],
    person: _Recipient,
    today: date,
    policy: NudgePolicy,
) -> tuple[tuple[DeadlineLine, ...], list[m.Nudge], list[tuple[str, m.Nudge]]]:
    ids = sorted({r.subject_id for r in rows})
    students = {
        st.id: (st, school)
        for st, school in s.execute(
            select(m.Student, m.School.name)
            .join(m.School, m.School.id == m.Student.school_id)
            .where(m.Student.id.in_(ids))
        )
    }
    assigned = set(
        s.scalars(
            select(m.Assignment.student_id).where(
                m.Assignment.student_id.in_(ids), m.Assignment.provider_id == person.id
            )
        )
    )
    lines: dict[tuple[str, str], DeadlineLine] = {}
    keep: list[m.Nudge] = []
    stale: list[tuple[str, m.Nudge]] = []
    for row in rows:
        found = students.get(row.subject_id)
        if found is None or row.subject_id not in assigned:
            stale.append(("unassigned", row))
            continue
        student, school = found
        due = student.annual_review_due if row.rule == Rule.ANNUAL_REVIEW else student.triennial_due
        if due is None or due != row.due_on:
            stale.append(("changed", row))  # marked held, or re-dated by an import
            continue
        if not stage_is_current(row.rule, row.stage, due, today, policy):
            stale.append(("superseded", row))
            continue
        keep.append(row)
        label = student_label(
            student.id, student.first_name, student.last_name, policy.show_student_names
        )
        lines.setdefault(
            (row.rule, student.id),
            DeadlineLine(row.id, row.rule, label, school, due, (due - today).days),
        )
    ordered = sorted(lines.values(), key=lambda line: (line.due_on, line.rule, line.student))
    return tuple(ordered), keep, stale


def provider_overdue_notes(
    s: Session, provider_id: str, zone: str, now: datetime, policy: NudgePolicy
) -> list[NoteLine]:
    """Every note the provider owes now, oldest first."""
    ts = m.TherapySession
    q = (
        select(
            ts.id,
            ts.starts_at,
            ts.minutes,
            ts.status,
            ts.service,
            m.Student.id,
            m.Student.first_name,
            m.Student.last_name,
            m.School.name,
        )
        .join(m.Student, m.Student.id == ts.student_id)
        .join(m.School, m.School.id == m.Student.school_id)
        .where(
            ts.provider_id == provider_id,
            ts.note_done_at.is_(None),
            ts.status.in_(NOTE_STATUSES),
            ts.starts_at <= overdue_start_bound(now, policy.soap_note_due_hours),
        )
        .order_by(ts.starts_at, ts.id)
    )
    notes: list[NoteLine] = []
    hours = policy.soap_note_due_hours
    for sid, starts_at, minutes, status, service, student_id, first, last, school in s.execute(q):
        if not note_overdue(status, starts_at, minutes, None, now, hours):
            continue
        notes.append(
            NoteLine(
                sid,
                student_label(student_id, first, last, policy.show_student_names),
                school,
                service,
                local_date(starts_at, zone),
                days_overdue(note_due_at(starts_at, minutes, hours), now),
            )
        )
    return notes


def _digest(s: Session, digest_key: str, now: datetime, policy: NudgePolicy) -> Digest | None:
    """The escalations of one digest that still hold now, counted per rule, a few listed."""
    rows = s.execute(
        select(N.rule, N.subject_id, N.due_on, N.payload)
        .where(N.digest_key == digest_key, N.recipient_kind == RecipientKind.MANAGERS)
        .order_by(N.due_on, N.id)
    ).all()
    by_rule: dict[str, list[tuple[str, date | None, dict[str, Any]]]] = defaultdict(list)
    for rule, subject, due, payload in rows:
        by_rule[rule].append((subject, due, payload or {}))
    counts: dict[str, int] = {}
    shown: list[tuple[str, str, date | None, dict[str, Any]]] = []
    for rule, entries in by_rule.items():
        live = _live_escalations(s, rule, entries, now, policy)
        if live:
            counts[rule] = len(live)
            shown += [(rule, subj, due, payload) for subj, due, payload in live[:MAX_DIGEST_LINES]]
    if not counts:
        return None
    return Digest(counts=counts, lines=tuple(_digest_lines(s, shown, policy)))


def _live_escalations(
    s: Session,
    rule: str,
    entries: list[tuple[str, date | None, dict[str, Any]]],
    now: datetime,
    policy: NudgePolicy,
) -> list[tuple[str, date | None, dict[str, Any]]]:
    """The escalations still true: review not held, note not written, licence not renewed."""
    live: set[tuple[str, date | None]] = set()
    subjects = [e[0] for e in entries]
    for chunk in outbox.chunks(subjects, outbox.IN_CHUNK):
        if rule == Rule.ANNUAL_REVIEW:
            q: Any = select(m.Student.id, m.Student.annual_review_due).where(
                m.Student.id.in_(chunk)
            )
        elif rule == Rule.LICENCE:
            q = select(m.License.id, m.License.expires_on).where(
                m.License.id.in_([int(c) for c in chunk])
            )
        elif rule == Rule.SOAP_NOTE:
            q = select(m.TherapySession.id, literal(None)).where(
                m.TherapySession.id.in_([int(c) for c in chunk]),
                m.TherapySession.note_done_at.is_(None),
            )
        else:
            return []
        live.update((str(subject), due) for subject, due in s.execute(q))
    if rule == Rule.SOAP_NOTE:
        return [e for e in entries if (e[0], None) in live]
    return [e for e in entries if (e[0], e[1]) in live]


def _digest_lines(
    s: Session, shown: list[tuple[str, str, date | None, dict[str, Any]]], policy: NudgePolicy
) -> Iterator[DigestLine]:
    names = policy.show_student_names
    org = usable_zone(policy.org_timezone, "UTC")

    def provider_name(provider_id: str) -> str:
        return s.scalar(select(m.Provider.name).where(m.Provider.id == provider_id)) or provider_id

    for rule, subject, due, _payload in shown:
        when = due or date.min
        if rule == Rule.ANNUAL_REVIEW:
            found = s.execute(
                select(m.Student, m.School.name)
                .join(m.School, m.School.id == m.Student.school_id)
                .where(m.Student.id == subject)
            ).first()
            if found is None:
                continue
            st, school = found
            assigned = s.scalars(
                select(m.Provider.name)
                .join(m.Assignment, m.Assignment.provider_id == m.Provider.id)
                .where(m.Assignment.student_id == st.id)
            ).all()
            label = student_label(st.id, st.first_name, st.last_name, names)
            who = ", ".join(sorted(set(assigned))) or "no provider assigned"
            yield DigestLine(rule, label, school, who, when)
        elif rule == Rule.SOAP_NOTE:
            note = s.execute(
                select(m.TherapySession, m.Student, m.School.name)
                .join(m.Student, m.Student.id == m.TherapySession.student_id)
                .join(m.School, m.School.id == m.Student.school_id)
                .where(m.TherapySession.id == int(subject))
            ).first()
            if note is None:
                continue
            ts, st, school = note
            label = student_label(st.id, st.first_name, st.last_name, names)
            held = local_date(ts.starts_at, org)
            yield DigestLine(rule, label, school, provider_name(ts.provider_id), held)
        elif rule == Rule.LICENCE:
            lic = s.get(m.License, int(subject))
            if lic is None:
                continue
            what = f"{lic.state} licence {lic.license_number}"
            yield DigestLine(rule, what, "", provider_name(lic.provider_id), when)


# --- one run -------------------------------------------------------------------------------


@dataclass
class RunReport:
    queued: dict[str, int] = field(default_factory=dict)
    delivery: DeliveryReport = field(default_factory=DeliveryReport)


def run_once(deps: Deps, render: Render, *, worker: str | None = None) -> RunReport:
    """Every sweep, then one delivery, as of ``deps.clock.now()``."""
    report = RunReport()
    for name, sweep in SWEEPS:
        report.queued[name] = sweep(deps)
    report.delivery = deliver(deps, render, worker=worker)
    return report


# --- the buttons on a nudge DM -------------------------------------------------------------


@dataclass(frozen=True)
class ReviewHeld:
    student: str
    held_on: date
    next_due: date
    already: bool


@dataclass(frozen=True)
class Snoozed:
    until: datetime  # UTC instant the items come back
    zone: str
    items: int
    already: bool


def _may_act(person: Person, nudge: m.Nudge) -> None:
    if not person.known:
        raise NotAllowed("I don't have you in the roster, so I can't change this reminder.")
    if nudge.recipient_kind == RecipientKind.PROVIDER:
        mine = person.provider is not None and person.provider.id == nudge.recipient_id
    else:
        mine = person.manager is not None and person.manager.id == nudge.recipient_id
    if not (mine or person.is_manager):
        raise NotAllowed("This reminder was sent to someone else, so only they can act on it.")


def mark_review_held(deps: Deps, slack_user_id: str, nudge_id: int, held_on: date) -> ReviewHeld:
    """Record the annual review as held on ``held_on``: the next falls due a year later.

    Acts once: the student's due date moves only while it is still the one the nudge was
    about, so a second click (or a second person) changes nothing.
    """
    now = deps.clock.now()
    policy = policy_of(deps.settings)
    with deps.session_factory.begin() as s:
        nudge = s.get(N, nudge_id)
        if nudge is None or nudge.rule != Rule.ANNUAL_REVIEW or nudge.due_on is None:
            raise NotFound("I can't find that reminder any more.")
        person = identify(s, slack_user_id, policy.org_timezone)
        _may_act(person, nudge)
        student = s.get(m.Student, nudge.subject_id)
        if student is None:
            raise NotFound("That student is no longer in the roster.")
        label = student_label(
            student.id, student.first_name, student.last_name, policy.show_student_names
        )
        today = local_date(now, usable_zone(person.timezone, policy.org_timezone))
        if held_on > today:
            raise InvalidInput("That date is in the future. Pick the day the review was held.")
        if held_on <= nudge.due_on - timedelta(days=366):
            raise InvalidInput(
                "That date is more than a year before the review was due. "
                "Pick the day this year's review was held."
            )
        due = nudge.due_on
        next_due = next_annual_review_due(held_on)
        moved = _rowcount(
            s.execute(
                update(m.Student)
                .where(m.Student.id == student.id, m.Student.annual_review_due == due)
                .values(annual_review_due=next_due)
                .execution_options(synchronize_session=False)
            )
        )
        if moved != 1:
            current = s.scalar(
                select(m.Student.annual_review_due).where(m.Student.id == student.id)
            )
            return ReviewHeld(label, held_on, current or next_due, already=True)
        s.execute(
            update(N)
            .where(
                N.rule == Rule.ANNUAL_REVIEW,
                N.subject_id == student.id,
                N.due_on == due,
                N.acted_at.is_(None),
            )
            .values(acted_at=now)
            .execution_options(synchronize_session=False)
        )
        s.add(
            m.AuditLog(
                at=now,
                actor=person.actor,
                action="annual_review.held",
                subject_type="student",
                subject_id=student.id,
                before={"annual_review_due": due.isoformat()},
                after={"annual_review_due": next_due.isoformat(), "held_on": held_on.isoformat()},
            )
        )
    log.info("nudges.review_held", extra={"student": student.id, "nudge": nudge_id})
    return ReviewHeld(label, held_on, next_due, already=False)


def snooze(deps: Deps, slack_user_id: str, batch_id: str) -> Snoozed:
    """Bring the DM's items back at the recipient's next day's window, once."""
    now = deps.clock.now()
    policy = policy_of(deps.settings)
    with deps.session_factory.begin() as s:
        rows = list(s.scalars(select(N).where(N.batch_id == batch_id, N.sent_at.is_not(None))))
        if not rows:
            raise NotFound("I can't find that reminder any more.")
        person = identify(s, slack_user_id, policy.org_timezone)
        _may_act(person, rows[0])
        recipient = _recipient(s, rows[0].recipient_kind, rows[0].recipient_id, policy)
        zone = recipient.zone if recipient else policy.org_timezone
        until = next_day_window_start(now, zone, policy.hours)
        acted = set(
            s.scalars(
                update(N)
                .where(N.batch_id == batch_id, N.sent_at.is_not(None), N.acted_at.is_(None))
                .values(acted_at=now)
                .returning(N.id)
                .execution_options(synchronize_session=False)
            )
        )
        if not acted:
            return Snoozed(until, zone, 0, already=True)
        copies = [
            _item(
                r.rule,
                r.subject_id,
                r.due_on,
                r.stage,
                r.recipient_kind,
                r.recipient_id,
                now,
                until,
                {**(r.payload or {}), "snoozed_from": r.id},
                key=snoozed_key(r.key, local_date(until, zone)),
            )
            for r in rows
            if r.id in acted
        ]
        _insert_new(s, copies)
    log.info("nudges.snoozed", extra={"batch": batch_id, "items": len(copies)})
    return Snoozed(until, zone, len(copies), already=False)
