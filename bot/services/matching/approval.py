"""Services: approving or discarding a proposal, creating assignments and the provider DMs.

Approving all, or one provider's part, is one transaction that first locks the proposal, so
clicks on one proposal take turns: a double click, a second manager pressing Approve all while
the first presses a provider's Approve, or a stale proposal changes nothing and says who did it.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.services import dm
from bot.services.errors import Conflict, NotFound
from bot.services.matching.common import KIND, SERVICE_LABEL, Stale
from bot.services.matching.filters import Filters
from bot.services.matching.fingerprint import Scope, fingerprint
from bot.services.matching.inputs import Week, _student_label
from bot.services.nudges.messages import NewStudentLine, NewStudents
from bot.services.people import identify, require_manager
from bot.services.sessions import HORIZON, reconcile
from storage import models as m
from storage import outbox
from storage.db import is_retryable
from storage.proposals import get_proposal
from storage.queries import school_zones

log = logging.getLogger(__name__)

# --- approval -----------------------------------------------------------------------------

APPROVAL_LEASE = timedelta(minutes=2)


@dataclass(frozen=True)
class Approval:
    proposal_id: str
    already: bool
    approved_by: str | None
    created: int
    notified: tuple[str, ...]
    not_notified: tuple[str, ...]
    district_id: str


def approve(
    deps: Deps, slack_user_id: str, proposal_id: str, provider_id: str | None = None
) -> Approval:
    """Approve a whole proposal, or one provider's part, in one transaction; then DM.

    A transaction that lost a race the database settled by rolling it back (a deadlock, a
    serialization failure) runs once more; being idempotent, the second run finds whatever the
    winner did.
    """
    try:
        approval, keys = _approve(deps, slack_user_id, proposal_id, provider_id)
    except DBAPIError as exc:
        if not is_retryable(exc):
            raise
        log.info("match.approve_retried", extra={"proposal": proposal_id})
        approval, keys = _approve(deps, slack_user_id, proposal_id, provider_id)
    if not keys:
        return approval
    notified, failed = deliver_assignment_dms(deps, keys)
    return replace(approval, notified=notified, not_notified=failed)


def _approve(
    deps: Deps, slack_user_id: str, proposal_id: str, provider_id: str | None
) -> tuple[Approval, list[str]]:
    now = deps.clock.now()
    with deps.session_factory.begin() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        require_manager(person, "approve proposals")
        assert person.manager is not None
        # Decisions on one proposal run one after another from here on: Approve all and each
        # provider's Approve see what the one before them committed, never half of it.
        action = get_proposal(s, proposal_id, lock=True)
        if action is None:
            raise NotFound("That proposal no longer exists. Run `/match` again.")
        payload = action.payload
        district_id = payload["district_id"]
        if action.status == "discarded":
            raise Conflict("That proposal was discarded. Run `/match` again for a fresh one.")
        done_by = _approved_by(action, provider_id)
        if done_by is not None:
            return Approval(proposal_id, True, done_by, 0, (), (), district_id), []
        moving = payload.get("rematch") or []
        current = fingerprint(s, Scope.of_payload(proposal_id, payload))
        if current != action.fingerprint or not _still_with(s, moving, proposal_id):
            raise Stale(
                "The roster, an availability or an assignment changed since this proposal was "
                "computed, so I didn't approve it. Run it again to get a fresh proposal."
            )
        sessions = [
            x for x in payload["sessions"] if provider_id is None or x["provider_id"] == provider_id
        ]
        created, providers = _create_assignments(s, deps, action, sessions, person.manager.id, now)
        if provider_id is not None and created == 0:
            # Every one of these students was given a provider elsewhere in the meantime.
            return Approval(
                proposal_id, True, _assigned_by(s, proposal_id, provider_id), 0, (), (), district_id
            ), []
        if provider_id is None:
            action.status, action.decided_at, action.decided_by = "approved", now, slack_user_id
        else:
            _mark_provider_approved(action, provider_id, slack_user_id, now)
        s.add(
            m.AuditLog(
                at=now,
                actor=person.actor,
                action="match.approve",
                subject_type="district",
                subject_id=district_id,
                before=None,
                after={
                    "proposal_id": proposal_id,
                    "provider_id": provider_id,
                    "assignments": created,
                },
            )
        )
        keys = _queue_assignment_dms(s, deps, proposal_id, providers, now)
    return Approval(proposal_id, False, slack_user_id, created, (), (), district_id), keys


def _approved_by(action: m.PendingAction, provider_id: str | None) -> str | None:
    """Who approved this already (a Slack user id, or "" when unknown); None when nobody did."""
    if provider_id is not None:
        by = action.payload.get("approved_providers", {}).get(provider_id)
        if by is not None:
            return str(by)
    if action.status == "approved":
        return action.decided_by or ""
    return None


def _assigned_by(s: Session, proposal_id: str, provider_id: str) -> str:
    """The Slack user id of the manager behind this provider's assignments ("" if unknown)."""
    by = s.scalar(
        select(m.Manager.slack_user_id)
        .join(m.Assignment, m.Assignment.approved_by == m.Manager.id)
        .where(m.Assignment.proposal_id == proposal_id, m.Assignment.provider_id == provider_id)
        .limit(1)
    )
    return by or ""


def _still_with(s: Session, moving: list[list[Any]], proposal_id: str) -> bool:
    """A re-match's students are still with the providers it moves them from (or moved by
    this very proposal already)."""
    if not moving:
        return True
    leaving = {(str(x[0]), str(x[1])): x[2] for x in moving}
    rows = s.execute(
        select(m.Assignment.student_id, m.Assignment.service, m.Assignment.provider_id,
               m.Assignment.proposal_id)
        .where(m.Assignment.student_id.in_(sorted({sid for sid, _ in leaving})))
    )  # fmt: skip
    found = {(a, b): (p, prop) for a, b, p, prop in rows if (a, b) in leaving}
    return all(
        (found[pair][1] == proposal_id or found[pair][0] == provider)
        if pair in found
        else provider is None
        for pair, provider in leaving.items()
    )


def _mark_provider_approved(
    action: m.PendingAction, provider_id: str, by: str, now: datetime
) -> None:
    approved = dict(action.payload.get("approved_providers", {}))
    approved[provider_id] = by
    action.payload = {**action.payload, "approved_providers": approved}
    if set(approved) >= {x["provider_id"] for x in action.payload["sessions"]}:
        action.status, action.decided_at, action.decided_by = "approved", now, by


def _create_assignments(
    s: Session,
    deps: Deps,
    action: m.PendingAction,
    sessions: list[dict[str, Any]],
    manager_id: str,
    now: datetime,
) -> tuple[int, dict[str, list[dict[str, Any]]]]:
    week = Week(date.fromisoformat(action.payload["week_of"]))
    school_tz = school_zones(s)
    by_pair: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for x in sessions:
        for sid in x["student_ids"]:
            by_pair[(sid, x["service"])].append(x)
    existing = {
        (a.student_id, a.service): a
        for a in s.scalars(
            select(m.Assignment).where(m.Assignment.student_id.in_([p[0] for p in by_pair]))
        )
    }
    moving = {(str(x[0]), str(x[1])) for x in action.payload.get("rematch") or []}
    moved_from: set[str] = set()
    created = 0
    providers: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for (sid, service), lst in sorted(by_pair.items()):
        a = existing.get((sid, service))
        if a is not None and (sid, service) in moving and a.proposal_id != action.id:
            # A re-match moves the assignment (the proposal's lock is held): new provider,
            # new weekly times.
            moved_from.add(a.provider_id)
            s.execute(delete(m.AssignmentSlot).where(m.AssignmentSlot.assignment_id == a.id))
            a.provider_id = lst[0]["provider_id"]
            a.approved_at, a.approved_by, a.proposal_id = now, manager_id, action.id
            s.flush()
            inserted: list[Any] = [a.id]
        elif a is not None:
            continue  # approved already (by this proposal's other button, or elsewhere)
        else:
            inserted = _insert_assignment(s, sid, service, lst, manager_id, action.id, now)
            if not inserted:
                continue
        created += 1
        for x in lst:
            tz = school_tz[x["school_id"]]
            la, lb = week.local(x["start"], tz), week.local(x["end"], tz)
            group = f"{action.id[:8]}:{x['start']}" if len(x["student_ids"]) > 1 else None
            s.add(
                m.AssignmentSlot(
                    assignment_id=int(inserted[0]),
                    day=la.weekday(),
                    start_minute=la.hour * 60 + la.minute,
                    end_minute=(lb.hour * 60 + lb.minute) or 1440,
                    timezone=tz,
                    group_key=group,
                )
            )
            providers[x["provider_id"]].append({**x, "student_id": sid})
    s.flush()
    if moved_from:  # the dated sessions of the next two weeks follow the moved slots now
        reconcile(s, now, now + HORIZON, moved_from | set(providers))
    return created, providers


def _insert_assignment(
    s: Session,
    sid: str,
    service: str,
    lst: list[dict[str, Any]],
    manager_id: str,
    proposal_id: str,
    now: datetime,
) -> list[Any]:
    """The new assignment's id in a list, or an empty list when another approval got there
    first (whoever commits first keeps the student; the other skips them, no unique
    violation)."""
    row = {
        "student_id": sid,
        "service": service,
        "provider_id": lst[0]["provider_id"],
        "approved_at": now,
        "approved_by": manager_id,
        "proposal_id": proposal_id,
    }
    return list(
        outbox.insert_ignore(
            s, m.Assignment, [row], ["student_id", "service"], returning=m.Assignment.id
        )
    )


def _queue_assignment_dms(
    s: Session,
    deps: Deps,
    proposal_id: str,
    providers: dict[str, list[dict[str, Any]]],
    now: datetime,
) -> list[str]:
    """Put one 'your new students' DM per provider in the outbox, keyed so it is sent once."""
    keys = []
    rows: list[dict[str, Any]] = []
    for pid, items in providers.items():
        provider = s.get(m.Provider, pid)
        if provider is None:
            continue
        students = {
            st.id: st
            for st in s.scalars(
                select(m.Student).where(m.Student.id.in_([i["student_id"] for i in items]))
            )
        }
        school_names = dict(s.execute(select(m.School.id, m.School.name)).all())
        week = Week(date.fromisoformat(s.get(m.PendingAction, proposal_id).payload["week_of"]))  # type: ignore[union-attr]
        lines = []
        for i in sorted(items, key=lambda i: (i["student_id"], i["start"])):
            st = students[i["student_id"]]
            a, b = (
                week.local(i["start"], provider.timezone),
                week.local(i["end"], provider.timezone),
            )
            lines.append(
                NewStudentLine(
                    student=_student_label(st, deps.settings.show_student_names),
                    service=SERVICE_LABEL.get(i["service"], i["service"]),
                    school=school_names.get(i["school_id"], i["school_id"]),
                    day=a.weekday(),
                    start=f"{a:%H:%M}",
                    end=f"{b:%H:%M}",
                )
            )
        message = NewStudents(week.monday, provider.timezone, tuple(lines))
        key = f"assignment:{proposal_id}:{pid}"
        keys.append(key)
        rows.append(
            {
                "key": key,
                "rule": "assignment",
                "recipient_kind": "provider",
                "recipient_id": pid,
                "subject_id": proposal_id,
                "due_on": None,
                "stage": "new",
                "payload": message.to_payload(),
                "created_at": now,
                "send_after": now,
                "attempts": 0,
            }
        )
    outbox.enqueue(s, rows)
    return keys


def deliver_assignment_dms(deps: Deps, keys: list[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Claim, send, mark sent (``dm.deliver_keys``); (notified, failed) by provider name. A
    failure leaves the row for the clock process to retry."""
    done = dm.deliver_keys(deps, keys, APPROVAL_LEASE, NewStudents.from_payload)
    notified = tuple(d.name for d in done if d.outcome == dm.Outcome.SENT)
    failed = tuple(
        f"{d.name} (no Slack account)" if d.outcome is None else d.name
        for d in done
        if d.outcome != dm.Outcome.SENT
    )
    return notified, failed


def discard(deps: Deps, slack_user_id: str, proposal_id: str) -> bool:
    with deps.session_factory.begin() as s:
        require_manager(identify(s, slack_user_id, deps.settings.org_timezone), "discard proposals")
        res = s.execute(
            update(m.PendingAction)
            .where(
                m.PendingAction.id == proposal_id,
                m.PendingAction.kind == KIND,
                m.PendingAction.status == "pending",
            )
            .values(status="discarded", decided_at=deps.clock.now(), decided_by=slack_user_id)
        )
        return bool(res.rowcount == 1)  # type: ignore[attr-defined]


def proposal_filters(deps: Deps, proposal_id: str) -> Filters | None:
    with deps.session_factory() as s:
        action = s.get(m.PendingAction, proposal_id)
        if action is None or action.kind != KIND:
            return None
        f = action.payload.get("filters", {})
        return Filters(action.payload["district_id"], f.get("service"), f.get("provider"))
