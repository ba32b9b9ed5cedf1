"""Services: who may see which object, and one audit row for every refusal.

Under FERPA a manager's legitimate educational interest covers the districts they serve
(``managers.csv`` ``district_ids``; empty means every district, an organisation admin). A scoped
manager who asks about another district's provider, student, note, session, reminder or
proposal is refused, and so is a provider who asks about someone else's.

Refusals are raised as ``Refused`` anywhere inside a use case decorated with ``@audited``; the
decorator writes the one audit row in its own transaction (the use case's own has rolled back by
then) and re-raises. Where an object that does not exist and one that is not yours could be told
apart, both get the same ``Refused`` sentence, so ids cannot be probed.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Concatenate, ParamSpec, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.services.errors import NotAllowed
from bot.services.people import identify
from storage import models as m
from storage.queries import manager_district_scope

if TYPE_CHECKING:
    from bot.deps import Deps
    from bot.services.schedule_effects import Effects

P = ParamSpec("P")
R = TypeVar("R")

OUTSIDE = "You can only work with the districts you serve."
PROPOSAL_GONE = (
    "That proposal no longer exists or is for a district you don't serve. Run `/match` again."
)
OUTSIDE_REASON = "outside_district_scope"


class Refused(NotAllowed):
    """A refusal the audit log records (``action`` such as ``caseload.view_denied``)."""

    def __init__(
        self,
        message: str,
        *,
        action: str,
        subject_type: str,
        subject_id: str,
        reason: str = OUTSIDE_REASON,
    ) -> None:
        super().__init__(message)
        self.action, self.subject_type = action, subject_type
        self.subject_id, self.reason = subject_id[:64], reason
        self.recorded = False


def record(deps: Deps, slack_user_id: str, refusal: Refused) -> None:
    """Write ``refusal`` to the audit log once, in a transaction of its own."""
    if refusal.recorded:
        return
    with deps.session_factory.begin() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        s.add(
            m.AuditLog(
                at=deps.clock.now(),
                actor=person.actor,
                action=refusal.action,
                subject_type=refusal.subject_type,
                subject_id=refusal.subject_id,
                before=None,
                after={"reason": refusal.reason},
            )
        )
    refusal.recorded = True


def audited(
    fn: Callable[Concatenate[Deps, str, P], R],
) -> Callable[Concatenate[Deps, str, P], R]:
    """A use case ``fn(deps, slack_user_id, …)`` whose ``Refused`` errors are audited."""

    @functools.wraps(fn)
    def run(deps: Deps, slack_user_id: str, /, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(deps, slack_user_id, *args, **kwargs)
        except Refused as refusal:
            record(deps, slack_user_id, refusal)
            raise

    return run


# --- districts -------------------------------------------------------------------------------


def districts_of(s: Session, slack_user_id: str) -> frozenset[str] | None:
    """The districts a manager serves; None means every district (an organisation admin)."""
    return manager_district_scope(s, slack_user_id)


def in_scope(s: Session, slack_user_id: str, district_id: str) -> bool:
    """False only for a manager scoped to other districts. Someone who is no manager at all is
    left to the services' own "only managers can …" answer."""
    scope = manager_district_scope(s, slack_user_id)
    return not scope or district_id in scope


def check_district(s: Session, slack_user_id: str, district_id: str, action: str) -> None:
    """Raise ``Refused`` unless the manager serves ``district_id``."""
    if not in_scope(s, slack_user_id, district_id):
        raise Refused(OUTSIDE, action=action, subject_type="district", subject_id=district_id)


def student_districts(s: Session, student_ids: Iterable[str]) -> dict[str, str]:
    """Each student's district."""
    ids = sorted(set(student_ids))
    if not ids:
        return {}
    q = (
        select(m.Student.id, m.School.district_id)
        .join(m.School, m.School.id == m.Student.school_id)
        .where(m.Student.id.in_(ids))
    )
    return {sid: did for sid, did in s.execute(q)}


def students_in(s: Session, district_ids: Iterable[str]) -> set[str]:
    """The ids of the students of ``district_ids``."""
    q = (
        select(m.Student.id)
        .join(m.School, m.School.id == m.Student.school_id)
        .where(m.School.district_id.in_(sorted(set(district_ids))))
    )
    return set(s.scalars(q))


def student_in_scope(s: Session, slack_user_id: str, student_id: str) -> bool:
    """Whether a manager serves the student's district (an unscoped manager serves all)."""
    district = student_districts(s, [student_id]).get(student_id)
    return district is not None and in_scope(s, slack_user_id, district)


def provider_districts(s: Session, provider_id: str) -> set[str]:
    """The districts whose students a provider serves (assigned, or with a session)."""
    assigned = (
        select(m.School.district_id)
        .join(m.Student, m.Student.school_id == m.School.id)
        .join(m.Assignment, m.Assignment.student_id == m.Student.id)
        .where(m.Assignment.provider_id == provider_id)
    )
    seen = (
        select(m.School.district_id)
        .join(m.Student, m.Student.school_id == m.School.id)
        .join(m.TherapySession, m.TherapySession.student_id == m.Student.id)
        .where(m.TherapySession.provider_id == provider_id)
    )
    return set(s.scalars(assigned.union(seen)))


AVAILABILITY_REFUSED = "You can only see or set the availability of providers in your districts."


def check_provider_availability(s: Session, slack_user_id: str, provider: m.Provider) -> None:
    """A scoped manager may see and set the availability of a provider who serves their
    districts, or who serves no student yet (a new provider: nothing of another district's
    to show); not of one whose students are all elsewhere."""
    if provider.slack_user_id == slack_user_id:
        return
    scope = manager_district_scope(s, slack_user_id)
    if not scope:
        return
    served = provider_districts(s, provider.id)
    if served and not served & scope:
        raise Refused(
            AVAILABILITY_REFUSED, action="availability.denied", subject_type="provider",
            subject_id=provider.id,
        )  # fmt: skip


def visible_effects(
    s: Session, slack_user_id: str, provider: m.Provider, effects: Effects
) -> Effects:
    """What a change does to a provider's weekly sessions, as the asker may read it: a scoped
    manager acting for a provider who also serves other districts does not see those districts'
    students (their own managers are told)."""
    if provider.slack_user_id == slack_user_id or not effects.outside:
        return effects
    scope = manager_district_scope(s, slack_user_id)
    if not scope:
        return effects
    districts = student_districts(s, effects.student_ids)
    mine = tuple(
        e for e in effects.outside if all(districts.get(sid) in scope for sid in e.student_ids)
    )
    return dataclasses.replace(effects, outside=mine)


# --- the checks the Slack edge makes before a service call -----------------------------------


def require_district(deps: Deps, slack_user_id: str, district_id: str, action: str) -> None:
    """Raise ``NotAllowed`` (after auditing it) unless the manager serves ``district_id``."""
    _require_district(deps, slack_user_id, district_id, f"{action}.denied")


@audited
def _require_district(deps: Deps, slack_user_id: str, district_id: str, action: str) -> None:
    with deps.session_factory() as s:
        check_district(s, slack_user_id, district_id, action)


@audited
def require_proposal(deps: Deps, slack_user_id: str, proposal_id: str, action: str) -> None:
    """Raise ``NotAllowed`` (after auditing it) if a scoped manager names a proposal that does not
    exist or is for another district: both get the same sentence. An organisation admin, or
    someone who is no manager, is left to the service's own answer."""
    with deps.session_factory() as s:
        scope = manager_district_scope(s, slack_user_id)
        if not scope:
            return
        proposal = s.get(m.PendingAction, proposal_id)
        district_id = (proposal.payload or {}).get("district_id") if proposal else None
        if isinstance(district_id, str) and district_id in scope:
            return
    raise Refused(
        PROPOSAL_GONE,
        action=f"{action}.denied",
        subject_type="proposal",
        subject_id=proposal_id,
        reason=OUTSIDE_REASON if proposal is not None else "not_found",
    )
