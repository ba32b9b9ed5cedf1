"""Storage: what a re-imported folder no longer lists, and ending it (``--apply-removals``).

* A student missing from ``students.csv`` has exited: their assignments end, their future
  scheduled sessions are cancelled (``student_exited``) and their pending reminders are dropped.
* A provider missing from ``providers.csv`` is removed: their future scheduled sessions are
  cancelled (``provider_removed``); their assignments stay, as conflicts to re-match.
* An assignment missing from ``assignments.csv`` (when the file is there) ends, unless its
  provider is being removed (then it stays as a conflict); its future scheduled sessions are
  cancelled (``service_ended``, not owed).
* A licence missing from ``licenses.csv`` ends: it expires yesterday.

A reassignment (an assignment whose provider changed) moves the student's future scheduled
sessions for that service to the new provider. Every change has an audit row.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, tuple_, update

from bot.domain.vocabulary import CancelReason, SessionStatus
from storage import models as m
from storage.roster_check import Catalog
from storage.roster_write import Writer, chunks

SCHEDULED = "scheduled"
CANCELLED = SessionStatus.CANCELLED
SHOWN = 10  # ids listed by name; the rest are counted


def _n(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def move_reassigned_sessions(w: Writer) -> None:
    """Future scheduled sessions follow their student to the new provider."""
    ts = m.TherapySession
    for student_id, service, old, new in w.reassigned:
        result = w.s.execute(
            update(ts)
            .where(
                ts.student_id == student_id,
                ts.service == service,
                ts.provider_id == old,
                ts.status == SCHEDULED,
                ts.starts_at >= w.now,
            )
            .values(provider_id=new)
        )
        moved = int(getattr(result, "rowcount", 0) or 0)
        if moved:
            w.report.moved_sessions += moved
            w.note(
                "sessions.moved",
                "assignment",
                f"{student_id}, {service}",
                {"provider_id": old},
                {"provider_id": new, "sessions": moved},
            )


def find_missing(w: Writer, cat: Catalog) -> dict[str, list[Any]]:
    """Ids stored and still active that the folder no longer lists, per file."""
    s, today = w.s, w.now.date()
    students = cat.keys.get("students.csv", {})
    providers = cat.keys.get("providers.csv", {})
    missing: dict[str, list[Any]] = {}
    missing["students"] = sorted(
        sid
        for sid in s.scalars(select(m.Student.id).where(m.Student.exited_at.is_(None)))
        if sid not in students
    )
    missing["providers"] = sorted(
        pid
        for pid in s.scalars(select(m.Provider.id).where(m.Provider.removed_at.is_(None)))
        if pid not in providers
    )
    gone_students, gone_providers = set(missing["students"]), set(missing["providers"])
    if "assignments.csv" in cat.headers:
        listed = cat.keys.get("assignments.csv", {})
        q = select(m.Assignment.student_id, m.Assignment.service, m.Assignment.provider_id)
        missing["assignments"] = sorted(
            (sid, svc)
            for sid, svc, pid in s.execute(q)
            if (sid, svc) not in listed and sid not in gone_students and pid not in gone_providers
        )
    licences = cat.keys.get("licenses.csv", {})
    lic = m.License
    q2 = select(lic.provider_id, lic.state, lic.license_number).where(lic.expires_on >= today)
    missing["licences"] = sorted(
        key
        for key in (tuple(r) for r in s.execute(q2))
        if key not in licences and key[0] not in gone_providers
    )
    return {k: v for k, v in missing.items() if v}


def describe_missing(missing: dict[str, list[Any]]) -> list[str]:
    lines = []
    for what, keys in missing.items():
        shown = [k if isinstance(k, str) else " ".join(map(str, k)) for k in keys[:SHOWN]]
        more = f" and {len(keys) - SHOWN} more" if len(keys) > SHOWN else ""
        lines.append(f"{what} ({len(keys)}): {', '.join(shown)}{more}")
    return lines


def apply_removals(w: Writer, missing: dict[str, list[Any]]) -> None:
    if missing.get("students"):
        _exit_students(w, missing["students"])
    if missing.get("providers"):
        _remove_providers(w, missing["providers"])
    if missing.get("assignments"):
        ended = _end_assignments(w, missing["assignments"])
        w.report.removals.append(f"{_n(ended, 'assignment')} ended")
    if missing.get("licences"):
        _end_licences(w, missing["licences"])


def _cancel_future(w: Writer, column: Any, ids: Sequence[str], reason: str) -> int:
    ts, cancelled = m.TherapySession, 0
    for part in chunks(ids):
        result = w.s.execute(
            update(ts)
            .where(column.in_(part), ts.status == SCHEDULED, ts.starts_at >= w.now)
            .values(status=CANCELLED, cancel_reason=reason)
        )
        cancelled += int(getattr(result, "rowcount", 0) or 0)
    return cancelled


def _exit_students(w: Writer, ids: list[str]) -> None:
    s, st = w.s, m.Student
    assignments: list[tuple[str, str]] = []
    for part in chunks(ids):
        s.execute(update(st).where(st.id.in_(part)).values(exited_at=w.now))
        q = select(m.Assignment.student_id, m.Assignment.service).where(
            m.Assignment.student_id.in_(part)
        )
        assignments += [(r[0], r[1]) for r in s.execute(q)]
    cancelled = _cancel_future(w, m.TherapySession.student_id, ids, "student_exited")
    ended = _end_assignments(w, assignments)
    nudge = m.Nudge
    for part in chunks(ids):
        s.execute(
            update(nudge)
            .where(nudge.subject_id.in_(part), nudge.sent_at.is_(None), nudge.skipped_at.is_(None))
            .values(skipped_at=w.now, last_error="student exited")
        )
    for sid in ids:
        w.note("student.exited", "student", sid, None, {"exited_at": str(w.now)})
    w.report.removals.append(
        f"{_n(len(ids), 'student')} exited: {_n(ended, 'assignment')} ended, "
        f"{_n(cancelled, 'future session')} cancelled"
    )


def _remove_providers(w: Writer, ids: list[str]) -> None:
    pr = m.Provider
    for part in chunks(ids):
        w.s.execute(update(pr).where(pr.id.in_(part)).values(removed_at=w.now))
    cancelled = _cancel_future(w, m.TherapySession.provider_id, ids, "provider_removed")
    kept = 0
    for part in chunks(ids):
        kept += len(
            w.s.scalars(select(m.Assignment.id).where(m.Assignment.provider_id.in_(part))).all()
        )
    for pid in ids:
        w.note("provider.removed", "provider", pid, None, {"removed_at": str(w.now)})
    w.report.removals.append(
        f"{_n(len(ids), 'provider')} removed: {_n(cancelled, 'future session')} cancelled, "
        f"{_n(kept, 'assignment')} left to re-match"
    )


def _end_assignments(w: Writer, keys: Sequence[tuple[str, str]]) -> int:
    a, slot = m.Assignment, m.AssignmentSlot
    ended = 0
    for part in chunks(keys):
        rows = w.s.execute(
            select(a.id, a.student_id, a.service, a.provider_id).where(
                tuple_(a.student_id, a.service).in_(list(part))
            )
        ).all()
        ids = [r[0] for r in rows]
        if not ids:
            continue
        w.s.execute(delete(slot).where(slot.assignment_id.in_(ids)))
        w.s.execute(delete(a).where(a.id.in_(ids)))
        ended += len(ids)
        for _, sid, svc, pid in rows:
            cancelled = _cancel_service_sessions(w, sid, svc, pid)
            after = {"sessions_cancelled": cancelled} if cancelled else None
            w.note("assignment.ended", "assignment", f"{sid}, {svc}", {"provider_id": pid}, after)
    return ended


def _cancel_service_sessions(w: Writer, student_id: str, service: str, provider_id: str) -> int:
    """An ended assignment's scheduled sessions still ahead are cancelled (``service_ended``:
    not owed, and nobody is asked for their notes)."""
    ts = m.TherapySession
    result = w.s.execute(
        update(ts)
        .where(
            ts.student_id == student_id,
            ts.service == service,
            ts.provider_id == provider_id,
            ts.status == SCHEDULED,
            ts.starts_at >= w.now,
        )
        .values(status=CANCELLED, cancel_reason=CancelReason.SERVICE_ENDED.value)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def _end_licences(w: Writer, keys: list[tuple[str, str, str]]) -> None:
    lic = m.License
    yesterday = w.now.date() - timedelta(days=1)
    for provider_id, state, number in keys:
        before = w.s.scalar(
            select(lic.expires_on).where(
                lic.provider_id == provider_id, lic.state == state, lic.license_number == number
            )
        )
        w.s.execute(
            update(lic)
            .where(lic.provider_id == provider_id, lic.state == state, lic.license_number == number)
            .values(expires_on=yesterday)
        )
        w.note(
            "licence.ended",
            "licence",
            f"{provider_id}, {state}, {number}",
            {"expires_on": str(before)},
            {"expires_on": str(yesterday)},
        )
    w.report.removals.append(f"{_n(len(keys), 'licence')} ended (expired {yesterday.isoformat()})")
