"""Services: a manager's answer to "a provider's new hours left weekly sessions outside them"
(the DM with [Find new times] and [Keep for now], see ``schedule_effects``).

* ``rematch_targets`` says what [Find new times] re-matches: the change's services still outside
  the provider's hours, per district the manager serves; the solve itself is
  ``matching.propose_rematch``, run by the edge in the bounded solve pool.
* ``keep_for_now`` records the decision (status and an audit row); the sessions stay and go on
  showing as conflicts.

Both re-read the change as it is now: pressed twice, by two managers, or after the provider's
hours or the assignments changed, they answer in a sentence, never with an error.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain.mrkdwn import escape
from bot.domain.schedule import local_date
from bot.services import scope
from bot.services.errors import Conflict, NotAllowed, NotFound
from bot.services.people import identify, require_manager
from bot.services.schedule_effects import CHANGE_KIND, still_outside
from storage import models as m

KEPT = "kept"
OUT_OF_DATE = "That message is out of date: I no longer have that change."


@dataclass(frozen=True)
class RematchTarget:
    """One district's share of a change: the (student, service) pairs to re-match there."""

    change_id: str
    provider_name: str
    district_id: str
    district_name: str
    services: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Kept:
    provider_name: str
    sessions: int  # weekly sessions that stay outside the provider's hours
    already: bool
    by: str | None  # who chose it (a Slack id) when already


def _change(s: Session, change_id: str) -> tuple[m.PendingAction, m.Provider]:
    change = s.get(m.PendingAction, change_id)
    provider = s.get(m.Provider, change.payload.get("provider_id")) if change else None
    if change is None or change.kind != CHANGE_KIND or provider is None:
        raise NotFound(OUT_OF_DATE)
    return change, provider


def _outside_now(
    s: Session, deps: Deps, change: m.PendingAction, provider: m.Provider
) -> dict[tuple[str, str], int]:
    services = [(str(x[0]), str(x[1])) for x in change.payload.get("services") or []]
    today = local_date(deps.clock.now(), provider.timezone)
    return still_outside(s, provider.id, services, today)


def _districts(s: Session, student_ids: Collection[str]) -> dict[str, tuple[str, str]]:
    """student -> (district id, district name)."""
    q = (
        select(m.Student.id, m.District.id, m.District.name)
        .join(m.School, m.School.id == m.Student.school_id)
        .join(m.District, m.District.id == m.School.district_id)
        .where(m.Student.id.in_(sorted(student_ids)))
    )
    return {sid: (did, name) for sid, did, name in s.execute(q)}


def _nothing_left(provider: m.Provider) -> Conflict:
    return Conflict(
        f"Nothing to do: no weekly session of this change is outside {escape(provider.name)}'s "
        "hours any more (their hours or the assignments changed since)."
    )


def _refuse_outside(
    deps: Deps, slack_user_id: str, districts: Collection[str], action: str
) -> None:
    """The manager serves none of ``districts``: refused, and the refusal audited."""
    scope.require_district(deps, slack_user_id, sorted(districts)[0], action)
    raise NotAllowed(scope.OUTSIDE)  # require_district raised already; for the type checker


def rematch_targets(deps: Deps, slack_user_id: str, change_id: str) -> list[RematchTarget]:
    """What [Find new times] re-matches, per district the manager serves. Refuses when nothing
    is outside the provider's hours any more, or a re-match of it is waiting for approval."""
    with deps.session_factory() as s:
        require_manager(identify(s, slack_user_id, deps.settings.org_timezone), "find new times")
        change, provider = _change(s, change_id)
        outside = _outside_now(s, deps, change, provider)
        if not outside:
            raise _nothing_left(provider)
        where = _districts(s, {sid for sid, _ in outside})
        by_district: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for pair in sorted(outside):
            if pair[0] in where:
                by_district[where[pair[0]][0]].append(pair)
        mine = [d for d in sorted(by_district) if scope.in_scope(s, slack_user_id, d)]
        made = change.payload.get("rematches") or {}
        waiting = [
            d
            for d in mine
            if (p := s.get(m.PendingAction, str(made.get(d, "")))) is not None
            and p.status == "pending"
        ]
        names = {did: name for did, name in where.values()}
        name = provider.name
    if not mine and by_district:
        _refuse_outside(deps, slack_user_id, by_district, "match.rematch")
    if waiting and len(waiting) == len(mine):
        raise Conflict(
            "I already proposed new times for this change (in our DM): approve or discard "
            "that proposal, or press its Run it again for a fresh one."
        )
    return [
        RematchTarget(change_id, name, d, names[d], tuple(by_district[d]))
        for d in mine
        if d not in waiting
    ]


def keep_for_now(deps: Deps, slack_user_id: str, change_id: str) -> Kept:
    """Leave the sessions where they are: record who decided (status and an audit row)."""
    now: datetime = deps.clock.now()
    with deps.session_factory() as s:
        require_manager(
            identify(s, slack_user_id, deps.settings.org_timezone), "decide on schedule changes"
        )
        change, _ = _change(s, change_id)
        services = [(str(x[0]), str(x[1])) for x in change.payload.get("services") or []]
        districts = {d for d, _ in _districts(s, {sid for sid, _ in services}).values()}
        mine = [d for d in districts if scope.in_scope(s, slack_user_id, d)]
    if not mine and districts:
        _refuse_outside(deps, slack_user_id, districts, "schedule_change.keep")
    with deps.session_factory.begin() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        change, provider = _change(s, change_id)
        outside = _outside_now(s, deps, change, provider)
        count = sum(outside.values())
        if change.status == KEPT:
            return Kept(provider.name, count, True, change.decided_by)
        if not outside:
            raise _nothing_left(provider)
        claimed = s.execute(
            update(m.PendingAction)
            .where(m.PendingAction.id == change_id, m.PendingAction.status != KEPT)
            .values(status=KEPT, decided_at=now, decided_by=slack_user_id)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if claimed == 1:
            s.add(
                m.AuditLog(
                    at=now,
                    actor=person.actor,
                    action="schedule_change.keep",
                    subject_type="provider",
                    subject_id=provider.id,
                    before=None,
                    after={
                        "change_id": change_id,
                        "sessions": count,
                        "services": [list(x) for x in sorted(outside)],
                    },
                )
            )
            return Kept(provider.name, count, False, None)
        by = s.scalar(select(m.PendingAction.decided_by).where(m.PendingAction.id == change_id))
    return Kept(provider.name, count, True, by)  # another manager's click landed first
