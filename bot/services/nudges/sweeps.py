"""Services: deadline nudges — the sweeps that turn the roster into outbox rows.

A sweep turns the roster into items (rule, subject, due date, stage, recipient), each under a
unique key, and queues the ones not yet there (``storage.outbox.enqueue``). One sweep per rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    select,
)

from bot.deps import Deps
from bot.domain.deadlines import (
    DAILY,
    NudgePolicy,
    RecipientKind,
    Rule,
    annual_review_stage,
    licence_stage,
    triennial_stage,
)
from bot.domain.sessions import NOTE_STATUSES, note_overdue, overdue_bound
from bot.services.nudges.common import (
    ZoneCache,
    analyze_after_bulk_insert,
    log,
    outbox_row,
    policy_of,
    queue,
)
from storage import models as m

# --- sweeps --------------------------------------------------------------------------------


def _sweep_student_dates(deps: Deps, rule: Rule) -> int:
    """Annual reviews and triennials: DM each assigned provider at the current stage."""
    policy = policy_of(deps.settings)
    now = deps.clock.now()
    zones = ZoneCache(now, policy)
    column: Any = m.Student.annual_review_due
    stages = policy.annual_review_stages
    if rule == Rule.TRIENNIAL:
        column, stages = m.Student.triennial_due, policy.triennial_stages
    # Local dates are at most a day off UTC's; the exact stage is decided per provider zone.
    # Overdue dates have a stage too ("overdue", sent once); the managers' weekly digest
    # lists them until they are resolved.
    horizon = now.date() + timedelta(days=max(stages) + 1)
    q = (
        select(m.Student.id, column, m.Assignment.provider_id, m.Provider.timezone)
        .join(m.Assignment, m.Assignment.student_id == m.Student.id)
        .join(m.Provider, m.Provider.id == m.Assignment.provider_id)
        .where(column.is_not(None), column <= horizon)
        .distinct()
    )
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
                outbox_row(
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
        queued = queue(s, items)
    analyze_after_bulk_insert(deps, queued)
    log.info("nudges.swept", extra={"rule": str(rule), "candidates": len(items), "queued": queued})
    return queued


def sweep_annual_reviews(deps: Deps) -> int:
    return _sweep_student_dates(deps, Rule.ANNUAL_REVIEW)


def sweep_triennials(deps: Deps) -> int:
    return _sweep_student_dates(deps, Rule.TRIENNIAL)


def _overdue_notes_query(now: datetime, policy: NudgePolicy) -> Any:
    s_ = m.TherapySession
    return select(s_.provider_id, s_.starts_at, s_.minutes, s_.status, m.Provider.timezone).where(
        s_.note_done_at.is_(None),
        s_.status.in_(NOTE_STATUSES),
        s_.starts_at <= overdue_bound(now, policy.soap_note_due_hours),
    )


def sweep_soap_notes(deps: Deps) -> int:
    """One daily item per provider with overdue notes (managers see them in their digest).

    The provider's daily item is keyed by the local date of the window it will go out in, so
    they get one DM a day; its note list is read fresh when it is sent.
    """
    policy = policy_of(deps.settings)
    now = deps.clock.now()
    zones = ZoneCache(now, policy)
    s_ = m.TherapySession
    q = _overdue_notes_query(now, policy).join(m.Provider, m.Provider.id == s_.provider_id)
    overdue: dict[str, int] = defaultdict(int)
    zone_of: dict[str, str] = {}
    items: list[dict[str, Any]] = []
    hours = policy.soap_note_due_hours
    with deps.session_factory.begin() as s:
        for provider_id, starts_at, minutes, status, tz in s.execute(q):
            if not note_overdue(status, starts_at, minutes, now, hours):
                continue
            overdue[provider_id] += 1
            zone_of[provider_id] = tz
        for provider_id, count in overdue.items():
            zone = zones.zone(zone_of[provider_id])
            items.append(
                outbox_row(
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
        queued = queue(s, items)
    analyze_after_bulk_insert(deps, queued)
    log.info(
        "nudges.swept", extra={"rule": "soap_note", "candidates": len(items), "queued": queued}
    )
    return queued


def sweep_licences(deps: Deps) -> int:
    policy = policy_of(deps.settings)
    now = deps.clock.now()
    zones = ZoneCache(now, policy)
    lic = m.License
    horizon = now.date() + timedelta(days=max(policy.licence_stages) + 1)
    q = (
        select(lic.id, lic.provider_id, lic.expires_on, m.Provider.timezone)
        .join(m.Provider, m.Provider.id == lic.provider_id)
        .where(lic.expires_on >= now.date() - timedelta(days=1), lic.expires_on <= horizon)
    )
    items: list[dict[str, Any]] = []
    with deps.session_factory.begin() as s:
        for licence_id, provider_id, expires_on, tz in s.execute(q):
            zone = zones.zone(tz)
            stage = licence_stage(expires_on, zones.today(zone), policy.licence_stages)
            if stage is not None:
                items.append(
                    outbox_row(
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
        queued = queue(s, items)
    analyze_after_bulk_insert(deps, queued)
    log.info("nudges.swept", extra={"rule": "licence", "candidates": len(items), "queued": queued})
    return queued


SWEEPS: tuple[tuple[str, Callable[[Deps], int]], ...] = (
    ("annual_review", sweep_annual_reviews),
    ("triennial", sweep_triennials),
    ("soap_note", sweep_soap_notes),
    ("licence", sweep_licences),
)
