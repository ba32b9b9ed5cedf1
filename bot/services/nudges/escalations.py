"""Services: deadline nudges — escalations for managers, collected into their digest."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    and_,
    literal,
    select,
    update,
)
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.deadlines import (
    DAILY,
    NudgePolicy,
    RecipientKind,
    Rule,
    in_working_hours,
    nudge_key,
    send_after,
    usable_zone,
)
from bot.domain.privacy import student_label
from bot.domain.schedule import local_date
from bot.services.nudges.common import (
    MAX_DIGEST_LINES,
    N,
    log,
    outbox_row,
    policy_of,
    rowcount,
)
from bot.services.nudges.messages import Digest, DigestLine
from storage import models as m
from storage import outbox


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
            outbox_row(
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
        escalations = rowcount(
            s.execute(update(N).where(waiting).values(digest_key=digest_key, sent_at=now))
        )
    log.info("nudges.digest_made", extra={"digest": digest_key, "escalations": escalations})
    return escalations


def digest_for(s: Session, digest_key: str, now: datetime, policy: NudgePolicy) -> Digest | None:
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
