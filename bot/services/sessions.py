"""Services: dated sessions from approved weekly slots, and a provider marking how one went.

``generate_sessions`` reconciles the next 14 days with the slots: it adds what is missing
(``ON CONFLICT DO NOTHING`` on ``(session_key, student_id)``, so a re-run or a second process
adds nothing twice) and removes future, untouched generated sessions that no longer hold
(time off taken since, a slot removed, school hours changed). Sessions a provider marked, or
that have a note, are never removed.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.sessions import (
    GENERATED_PREFIXES,
    occurrences,
    on_time_off,
    session_key,
    within_hours,
)
from bot.domain.vocabulary import CancelReason, SessionStatus
from bot.services.errors import Conflict, InvalidInput, NotAllowed
from bot.services.people import identify, require_known
from storage import models as m
from storage import outbox
from storage.queries import school_zones

log = logging.getLogger(__name__)

HORIZON = timedelta(days=14)
INSERT_CHUNK = 500
MARKABLE = (SessionStatus.HELD, SessionStatus.CANCELLED, SessionStatus.NO_SHOW)

TS = m.TherapySession


def _generated() -> Any:
    return or_(*(TS.session_key.startswith(p) for p in GENERATED_PREFIXES))


def _wanted(s: Session, start: datetime, end: datetime) -> dict[tuple[str, str], dict[str, Any]]:
    """Every (session_key, student) the slots promise in ``[start, end)``, with its row."""
    zones = school_zones(s)
    hours: dict[str, list[tuple[int, int, int]]] = defaultdict(list)
    for h in s.scalars(select(m.SchoolHours)):
        hours[h.school_id].append((h.day, h.start_minute, h.end_minute))
    provider_tz = dict(s.execute(select(m.Provider.id, m.Provider.timezone)).all())
    off: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
    first_day = (start - timedelta(days=1)).date()
    for t in s.scalars(select(m.TimeOff).where(m.TimeOff.end_date >= first_day)):
        off[t.provider_id].append((t.start_date, t.end_date))
    q = (
        select(m.Assignment, m.AssignmentSlot, m.Student.school_id)
        .join(m.AssignmentSlot, m.AssignmentSlot.assignment_id == m.Assignment.id)
        .join(m.Student, m.Student.id == m.Assignment.student_id)
        .order_by(m.AssignmentSlot.id)
    )
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    for a, slot, school_id in s.execute(q):
        school_tz = zones.get(school_id, slot.timezone)
        for occ in occurrences(
            slot.day, slot.start_minute, slot.end_minute, slot.timezone, start, end
        ):
            if not within_hours(occ.starts_at, occ.minutes, school_tz, hours[school_id]):
                continue
            tz = provider_tz.get(a.provider_id, school_tz)
            if on_time_off(occ.starts_at, tz, off[a.provider_id]):
                continue
            key = session_key(slot.id, slot.group_key, occ.on)
            wanted.setdefault(
                (key, a.student_id),
                {
                    "session_key": key,
                    "provider_id": a.provider_id,
                    "student_id": a.student_id,
                    "service": a.service,
                    "starts_at": occ.starts_at,
                    "minutes": occ.minutes,
                    "status": SessionStatus.SCHEDULED,
                    "note_done_at": None,
                },
            )
    return wanted


def generate_sessions(deps: Deps, now: datetime) -> int:
    """Create the next 14 days of sessions from the weekly slots; returns how many were new."""
    end = now + HORIZON
    with deps.session_factory.begin() as s:
        wanted = _wanted(s, now, end)
        existing = s.execute(
            select(TS.id, TS.session_key, TS.student_id, TS.status, TS.note_done_at).where(
                _generated(), TS.starts_at >= now, TS.starts_at < end
            )
        ).all()
        have = {(key, student) for _, key, student, _, _ in existing}
        stale = [
            sid
            for sid, key, student, status, done in existing
            if (key, student) not in wanted and status == SessionStatus.SCHEDULED and done is None
        ]
        for i in range(0, len(stale), INSERT_CHUNK):
            chunk = stale[i : i + INSERT_CHUNK]
            s.execute(
                delete(TS).where(
                    TS.id.in_(chunk),
                    TS.status == SessionStatus.SCHEDULED,
                    TS.note_done_at.is_(None),
                )
            )
        rows = [row for pair, row in wanted.items() if pair not in have]
        created = 0
        if rows:
            created = len(
                outbox.insert_ignore(
                    s,
                    TS,
                    rows,
                    ["session_key", "student_id"],
                    returning=TS.id,
                    chunk_size=INSERT_CHUNK,
                )
            )
    log.info("sessions.generated", extra={"new": created, "removed": len(stale)})
    return created


# --- marking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Marked:
    session_id: int
    provider_slack_id: str | None
    status: str
    already: bool


def mark_session(
    deps: Deps,
    slack_user_id: str,
    session_id: int,
    status: str,
    reason: CancelReason = CancelReason.PROVIDER,
) -> Marked:
    """The session's own provider says it was held, cancelled (by ``reason``) or a no-show."""
    if status not in MARKABLE:
        raise InvalidInput("A session can be marked held, cancelled or no-show.")
    now = deps.clock.now()
    with deps.session_factory.begin() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        require_known(person)
        session = s.get(TS, session_id)
        # A missing session and someone else's get the same answer: ids can't be probed.
        if session is None or person.provider is None or session.provider_id != person.provider.id:
            raise NotAllowed("Only the session's own provider can mark it.")
        if session.status == status:
            return Marked(session_id, slack_user_id, status, True)
        if session.note_done_at is not None:
            raise Conflict("A note is already written for that session, so it stays held.")
        if status != SessionStatus.CANCELLED and session.starts_at > now:
            raise InvalidInput(
                "That session hasn't started yet. Mark it after it happens "
                "(or mark it cancelled now)."
            )
        before = session.status
        cancel_reason = reason.value if status == SessionStatus.CANCELLED else None
        # Conditional: if a note was saved (or another mark landed) since the read above, this
        # changes nothing, so a session is never both cancelled and noted, and each transition
        # gets exactly one audit row.
        changed = s.execute(
            update(TS)
            .where(TS.id == session_id, TS.status == before, TS.note_done_at.is_(None))
            .values(status=status, cancel_reason=cancel_reason)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if changed != 1:
            s.refresh(session)
            if session.status == status:
                return Marked(session_id, slack_user_id, status, True)
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
                    {"status": status, "cancel_reason": cancel_reason}
                    if status == SessionStatus.CANCELLED
                    else {"status": status}
                ),
            )
        )
    return Marked(session_id, slack_user_id, status, False)
