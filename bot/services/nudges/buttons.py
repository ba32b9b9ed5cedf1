"""Services: deadline nudges — the buttons on a nudge DM (review held, snooze), each acting once."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import (
    select,
    update,
)
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.deadlines import (
    RecipientKind,
    Rule,
    next_annual_review_due,
    next_day_window_start,
    snoozed_key,
    usable_zone,
)
from bot.domain.privacy import student_label
from bot.domain.schedule import local_date
from bot.services.errors import InvalidInput, NotAllowed, NotFound
from bot.services.nudges.common import N, log, outbox_row, policy_of, queue, recipient_of, rowcount
from bot.services.people import Person, identify
from bot.services.scope import (
    Refused,
    audited,
    districts_of,
    provider_districts,
    student_districts,
)
from storage import models as m

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


# A reminder that is gone and one sent to someone else get the same answer: ids can't be probed.
NOT_YOURS_OR_GONE = "I can't find that reminder, or it was sent to someone else."


def _refused(subject: str, reason: str) -> Refused:
    return Refused(
        NOT_YOURS_OR_GONE, action="nudge.denied", subject_type="nudge", subject_id=subject,
        reason=reason,
    )  # fmt: skip


def _in_scope(s: Session, person: Person, nudge: m.Nudge) -> bool:
    """Whether a manager serves the district of what the reminder is about: the student of a
    review or triennial, else the districts its provider serves."""
    scope = districts_of(s, person.slack_user_id)
    if scope is None:
        return True
    if nudge.rule in (Rule.ANNUAL_REVIEW, Rule.TRIENNIAL):
        districts = set(student_districts(s, [nudge.subject_id]).values())
    elif nudge.recipient_kind == RecipientKind.PROVIDER:
        districts = provider_districts(s, nudge.recipient_id)
    else:
        districts = set()
    return bool(districts & scope)


def _may_act(s: Session, person: Person, nudge: m.Nudge, subject: str) -> None:
    if not person.known:
        raise NotAllowed("I don't have you in the roster, so I can't change this reminder.")
    if nudge.recipient_kind == RecipientKind.PROVIDER:
        mine = person.provider is not None and person.provider.id == nudge.recipient_id
    else:
        mine = person.manager is not None and person.manager.id == nudge.recipient_id
    if not (mine or (person.is_manager and _in_scope(s, person, nudge))):
        raise _refused(subject, "not_own")


@audited
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
            raise _refused(str(nudge_id), "not_found")
        person = identify(s, slack_user_id, policy.org_timezone)
        _may_act(s, person, nudge, str(nudge_id))
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
        moved = rowcount(
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


@audited
def snooze(deps: Deps, slack_user_id: str, batch_id: str) -> Snoozed:
    """Bring the DM's items back at the recipient's next day's window, once."""
    now = deps.clock.now()
    policy = policy_of(deps.settings)
    with deps.session_factory.begin() as s:
        rows = list(s.scalars(select(N).where(N.batch_id == batch_id, N.sent_at.is_not(None))))
        if not rows:
            raise _refused(batch_id, "not_found")
        person = identify(s, slack_user_id, policy.org_timezone)
        _may_act(s, person, rows[0], batch_id)
        recipient = recipient_of(s, rows[0].recipient_kind, rows[0].recipient_id, policy)
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
            outbox_row(
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
        queue(s, copies)
    log.info("nudges.snoozed", extra={"batch": batch_id, "items": len(copies)})
    return Snoozed(until, zone, len(copies), already=False)
