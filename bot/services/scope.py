"""Services: a manager acts only inside the districts they serve.

Under FERPA a manager's legitimate educational interest covers the districts they serve
(``managers.csv`` ``district_ids``; empty means every district, an organisation admin). A scoped
manager who tries to match, approve, discard or re-run a proposal for another district is
refused, and the refusal is written to the audit log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from bot.services.errors import NotAllowed
from bot.services.people import identify
from storage import models as m
from storage.queries import manager_district_scope

if TYPE_CHECKING:
    from bot.deps import Deps

OUTSIDE = "You can only work with the districts you serve."


def in_scope(s: Session, slack_user_id: str, district_id: str) -> bool:
    """False only for a manager scoped to other districts. Someone who is no manager at all is
    left to the services' own "only managers can …" answer."""
    scope = manager_district_scope(s, slack_user_id)
    return not scope or district_id in scope


def _refuse(deps: Deps, s: Session, slack_user_id: str, district_id: str, action: str) -> None:
    person = identify(s, slack_user_id, deps.settings.org_timezone)
    s.add(
        m.AuditLog(
            at=deps.clock.now(),
            actor=person.actor,
            action=f"{action}.denied",
            subject_type="district",
            subject_id=district_id,
            before=None,
            after={"reason": "outside_district_scope"},
        )
    )


def require_district(deps: Deps, slack_user_id: str, district_id: str, action: str) -> None:
    """Raise ``NotAllowed`` (after auditing it) unless the manager serves ``district_id``."""
    with deps.session_factory.begin() as s:
        if in_scope(s, slack_user_id, district_id):
            return
        _refuse(deps, s, slack_user_id, district_id, action)
    raise NotAllowed(OUTSIDE)


def require_proposal(deps: Deps, slack_user_id: str, proposal_id: str, action: str) -> None:
    """As ``require_district``, for the district of a stored proposal; a proposal that does not
    exist is left for the service to answer."""
    with deps.session_factory.begin() as s:
        proposal = s.get(m.PendingAction, proposal_id)
        district_id = (proposal.payload or {}).get("district_id") if proposal else None
        if not isinstance(district_id, str) or in_scope(s, slack_user_id, district_id):
            return
        _refuse(deps, s, slack_user_id, district_id, action)
    raise NotAllowed(OUTSIDE)
