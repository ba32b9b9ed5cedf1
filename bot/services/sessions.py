"""Services: dated sessions from approved weekly slots, and a provider marking how one went.

``generate_sessions`` reconciles the next 14 days with the slots: it adds what is missing
(``ON CONFLICT DO NOTHING`` on ``(session_key, student_id)``, so a re-run or a second process
adds nothing twice) and removes future, untouched generated sessions that no longer hold
(a slot removed, school hours changed, a licence ended, the school closed). A date inside the
provider's time off is kept as a session cancelled ``provider_out`` (owed to the student, no
note asked). Sessions a provider marked, or that have a note, are never removed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.conflicts import Cause, Rule, utc_minute
from bot.domain.minutes import BY_PROVIDER, BY_SCHOOL, STUDENT_ABSENT
from bot.domain.sessions import (
    GENERATED_PREFIXES,
    occurrences,
    session_key,
    within_hours,
)
from bot.domain.vocabulary import CancelReason, SessionStatus
from bot.services.conflicts import facts_for
from bot.services.errors import Conflict, InvalidInput
from bot.services.people import identify, require_known
from bot.services.scope import Refused, audited
from storage import models as m
from storage import outbox
from storage.queries import school_zones

log = logging.getLogger(__name__)

HORIZON = timedelta(days=14)
INSERT_CHUNK = 500
MARKABLE = (SessionStatus.HELD, SessionStatus.CANCELLED, SessionStatus.NO_SHOW)
# Who cancelled, as a provider can say it (the minutes rule decides what is owed).
MARK_REASONS = (BY_PROVIDER, BY_SCHOOL, STUDENT_ABSENT)

TS = m.TherapySession


def _generated() -> Any:
    return or_(*(TS.session_key.startswith(p) for p in GENERATED_PREFIXES))


# What a slot's date becomes when the conflict rule says it can't happen as planned: time off
# is a cancellation the student is owed (recorded, no note asked); availability is the
# manager's call (the date stays, shown as a conflict); anything else is not generated at all.
CANCELLED_BY = {Cause.TIME_OFF: CancelReason.PROVIDER_OUT}
KEPT = {Cause.OUTSIDE_AVAILABILITY}


def _wanted(
    s: Session, start: datetime, end: datetime, provider_ids: Collection[str] | None = None
) -> dict[tuple[str, str], dict[str, Any]]:
    """Every (session_key, student) the slots promise in ``[start, end)``, with its row."""
    zones = school_zones(s)
    hours: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for h in s.scalars(select(m.SchoolHours)):
        hours[h.school_id].append((h.day, h.start_minute, h.end_minute))
    q = (
        select(
            m.Assignment.provider_id,
            m.Assignment.student_id,
            m.Assignment.service,
            m.AssignmentSlot,
            m.Student.school_id,
        )
        .join(m.AssignmentSlot, m.AssignmentSlot.assignment_id == m.Assignment.id)
        .join(m.Student, m.Student.id == m.Assignment.student_id)
        .order_by(m.AssignmentSlot.id)
    )
    if provider_ids is not None:
        q = q.where(m.Assignment.provider_id.in_(list(provider_ids)))
    planned = s.execute(q).all()
    rule = Rule(
        facts_for(
            s,
            (start - timedelta(days=1)).date(),
            (end + timedelta(days=1)).date(),
            {student: school for _, student, _, _, school in planned},
            {provider for provider, *_ in planned},
        )
    )
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    for provider_id, student_id, service, slot, school_id in planned:
        school_tz = zones.get(school_id, slot.timezone)
        for occ in occurrences(
            slot.day, slot.start_minute, slot.end_minute, slot.timezone, start, end
        ):
            if not within_hours(occ.starts_at, occ.minutes, school_tz, hours[school_id]):
                continue
            cause = rule.cause(
                provider_id, student_id, service, occ.on, slot.start_minute,
                utc_minute(occ.starts_at), occ.minutes,
            )  # fmt: skip
            if cause is not None and cause not in KEPT and cause not in CANCELLED_BY:
                continue
            reason = CANCELLED_BY.get(cause) if cause is not None else None
            key = session_key(slot.id, slot.group_key, occ.on)
            wanted.setdefault(
                (key, student_id),
                {
                    "session_key": key,
                    "provider_id": provider_id,
                    "student_id": student_id,
                    "service": service,
                    "starts_at": occ.starts_at,
                    "minutes": occ.minutes,
                    "status": SessionStatus.CANCELLED if reason else SessionStatus.SCHEDULED,
                    "cancel_reason": reason,
                    "note_done_at": None,
                },
            )
    return wanted


def generate_sessions(
    deps: Deps, now: datetime, provider_ids: Collection[str] | None = None
) -> int:
    """Reconcile the next 14 days of sessions with the weekly slots; returns how many were new.

    A date the rule rules out (licence ended, school closed, student exited, ...) gets no
    session, and an untouched one already there is removed; a date inside time off is a
    session cancelled ``provider_out``, and one cancelled so whose time off was cancelled
    since is scheduled again. Sessions a provider marked, or with a note, are never touched.
    """
    end = now + HORIZON
    with deps.session_factory.begin() as s:
        created, changed = reconcile(s, now, end, provider_ids)
    log.info("sessions.generated", extra={"new": created, "changed": changed})
    return created


def reconcile(
    s: Session, now: datetime, end: datetime, provider_ids: Collection[str] | None = None
) -> tuple[int, int]:
    """(sessions created, sessions removed or changed) in ``[now, end)``; never commits."""
    wanted = _wanted(s, now, end, provider_ids)
    q = select(
        TS.id, TS.session_key, TS.student_id, TS.status, TS.note_done_at, TS.cancel_reason
    ).where(_generated(), TS.starts_at >= now, TS.starts_at < end)
    if provider_ids is not None:
        q = q.where(TS.provider_id.in_(list(provider_ids)))
    existing = s.execute(q).all()
    have = {(key, student) for _, key, student, *_ in existing}
    stale: list[int] = []
    to_cancel: dict[str, list[int]] = defaultdict(list)
    to_restore: list[int] = []
    for sid, key, student, status, done, reason in existing:
        row = wanted.get((key, student))
        untouched = status == SessionStatus.SCHEDULED and done is None
        ours = status == SessionStatus.CANCELLED and reason in _OURS
        if row is None:
            if untouched or ours:
                stale.append(sid)
        elif untouched and row["status"] == SessionStatus.CANCELLED:
            to_cancel[row["cancel_reason"]].append(sid)
        elif ours and row["status"] == SessionStatus.SCHEDULED:
            to_restore.append(sid)
    for i in range(0, len(stale), INSERT_CHUNK):
        s.execute(
            delete(TS).where(
                TS.id.in_(stale[i : i + INSERT_CHUNK]),
                or_(
                    (TS.status == SessionStatus.SCHEDULED) & TS.note_done_at.is_(None),
                    (TS.status == SessionStatus.CANCELLED) & TS.cancel_reason.in_(_OURS),
                ),
            )
        )
    for reason, ids in to_cancel.items():
        cancel_untouched(s, ids, CancelReason(reason))
    restore(s, to_restore)
    rows = [row for pair, row in wanted.items() if pair not in have]
    created = 0
    if rows:
        created = len(
            outbox.insert_ignore(
                s, TS, rows, ["session_key", "student_id"], returning=TS.id,
                chunk_size=INSERT_CHUNK,
            )
        )  # fmt: skip
    return created, len(stale) + sum(map(len, to_cancel.values())) + len(to_restore)


# Cancellations the bot made itself (and so may undo); a person's are never touched.
_OURS = (CancelReason.PROVIDER_OUT.value,)


def cancel_untouched(s: Session, ids: Sequence[int], reason: CancelReason) -> int:
    """Cancel scheduled sessions without a note, with ``reason``; how many changed."""
    n = 0
    for i in range(0, len(ids), INSERT_CHUNK):
        res = s.execute(
            update(TS)
            .where(
                TS.id.in_(ids[i : i + INSERT_CHUNK]),
                TS.status == SessionStatus.SCHEDULED,
                TS.note_done_at.is_(None),
            )
            .values(status=SessionStatus.CANCELLED, cancel_reason=reason.value)
        )
        n += res.rowcount  # type: ignore[attr-defined]
    return n


def restore(s: Session, ids: Sequence[int]) -> int:
    """Schedule again sessions the bot cancelled for time off; how many changed."""
    n = 0
    for i in range(0, len(ids), INSERT_CHUNK):
        res = s.execute(
            update(TS)
            .where(
                TS.id.in_(ids[i : i + INSERT_CHUNK]),
                TS.status == SessionStatus.CANCELLED,
                TS.cancel_reason.in_(_OURS),
            )
            .values(status=SessionStatus.SCHEDULED, cancel_reason=None)
        )
        n += res.rowcount  # type: ignore[attr-defined]
    return n


# --- marking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Marked:
    session_id: int
    provider_slack_id: str | None
    status: str
    already: bool
    reason: str | None = None


MARK_NOT_YOURS = "Only the session's own provider can mark it."


@audited
def mark_session(
    deps: Deps,
    slack_user_id: str,
    session_id: int,
    status: str,
    reason: CancelReason | None = None,
) -> Marked:
    """The session's own provider says it was held, cancelled (by ``reason``: by them, by the
    school, the student absent; a cancellation must say which) or a no-show."""
    if status not in MARKABLE:
        raise InvalidInput("A session can be marked held, cancelled or no-show.")
    if status == SessionStatus.CANCELLED and reason not in MARK_REASONS:
        raise InvalidInput("A cancellation is by you, by the school, or the student was absent.")
    recorded = reason.value if status == SessionStatus.CANCELLED and reason else None
    now = deps.clock.now()
    with deps.session_factory.begin() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        require_known(person)
        session = s.get(TS, session_id)
        # A missing session and someone else's get the same answer: ids can't be probed.
        if session is None or person.provider is None or session.provider_id != person.provider.id:
            raise Refused(
                MARK_NOT_YOURS, action="session.mark_denied", subject_type="session",
                subject_id=str(session_id), reason="not_found" if session is None else "not_own",
            )  # fmt: skip
        if session.status == status and session.cancel_reason == recorded:
            return Marked(session_id, slack_user_id, status, True, recorded)
        if session.note_done_at is not None:
            raise Conflict("A note is already written for that session, so it stays held.")
        if status != SessionStatus.CANCELLED and session.starts_at > now:
            raise InvalidInput(
                "That session hasn't started yet. Mark it after it happens "
                "(or mark it cancelled now)."
            )
        before = session.status
        # Conditional: if a note was saved (or another mark landed) since the read above, this
        # changes nothing, so a session is never both cancelled and noted, and each transition
        # gets exactly one audit row.
        changed = s.execute(
            update(TS)
            .where(TS.id == session_id, TS.status == before, TS.note_done_at.is_(None))
            .values(status=status, cancel_reason=recorded)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if changed != 1:
            s.refresh(session)
            if session.status == status and session.cancel_reason == recorded:
                return Marked(session_id, slack_user_id, status, True, recorded)
            raise Conflict("That session changed a moment ago. Please look at it again.")
        s.add(
            m.AuditLog(
                at=now,
                actor=person.actor,
                action="session.mark",
                subject_type="session",
                subject_id=str(session_id),
                before={"status": before},
                after=(
                    {"status": status, "cancel_reason": recorded}
                    if status == SessionStatus.CANCELLED
                    else {"status": status}
                ),
            )
        )
    return Marked(session_id, slack_user_id, status, False, recorded)
