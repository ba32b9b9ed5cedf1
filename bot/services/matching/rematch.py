"""Services: a re-match: a new provider and new times for a few students' services, with every
other assignment kept as it is (a manager's [Find new times] after a provider's new hours left
weekly sessions outside them).

The proposal is an ordinary one (Approve, Discard, Run it again); its payload's ``rematch``
lists the (student, service, provider it leaves) that approving moves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.domain import matching as mt
from bot.services import scope
from bot.services.errors import NotFound
from bot.services.matching.filters import DistrictInfo
from bot.services.matching.fingerprint import fingerprint
from bot.services.matching.inputs import build_input
from bot.services.matching.proposals import Proposal, render, scope_of, solve, store
from bot.services.people import identify, require_manager
from storage import models as m

REMATCH = "rematch"  # the payload key that makes a proposal a re-match


def rematch_subject(district_id: str, change_id: str | None) -> str:
    """The stored proposal's subject: not the district's, so it never stands for the district's
    latest /match (whose unserved list the Home and the digest show)."""
    return f"{REMATCH}:{change_id or district_id}"


def propose_rematch(
    deps: Deps,
    manager_slack_id: str,
    district_id: str,
    services: Iterable[Sequence[str]],
    change_id: str | None = None,
    progress: mt.ProgressFn | None = None,
) -> Proposal:
    """Propose a provider and times for ``services`` (student, service) of one district; every
    other assignment stays fixed and keeps its provider's time. With ``change_id`` (a schedule
    change's pending action) the proposal is recorded on it."""
    pairs = frozenset((str(x[0]), str(x[1])) for x in services)
    with deps.session_factory() as s:
        require_manager(identify(s, manager_slack_id, deps.settings.org_timezone), "find new times")
    scope.require_district(deps, manager_slack_id, district_id, "match.rematch")
    with deps.session_factory() as s:
        row = s.get(m.District, district_id)
        if row is None:
            raise NotFound("I don't know that district any more.")
        district = DistrictInfo.of(row)
        today = deps.clock.now().astimezone(ZoneInfo(district.timezone)).date()
        inp, ctx = build_input(s, deps, district, today, moving=pairs)
        leaving = _current_providers(s, pairs)
        fp = fingerprint(s, scope_of(inp, ctx, None, pairs))
    result = solve(deps, inp, ctx, progress)
    moving = [[sid, service, leaving.get((sid, service))] for sid, service in sorted(pairs)]
    with deps.session_factory.begin() as s:
        proposal_id = store(
            s,
            deps,
            manager_slack_id,
            inp,
            result,
            ctx,
            fp,
            {REMATCH: moving, "change_id": change_id, "filters": {}},
            rematch_subject(district_id, change_id),
        )
        change = s.get(m.PendingAction, change_id) if change_id else None
        if change is not None:
            made = dict(change.payload.get("rematches") or {})
            made[district_id] = proposal_id
            change.payload = {**change.payload, "rematches": made}
    return render(result, ctx, proposal_id)


def _current_providers(s: Session, pairs: frozenset[tuple[str, str]]) -> dict[tuple[str, str], str]:
    if not pairs:
        return {}
    q = select(m.Assignment.student_id, m.Assignment.service, m.Assignment.provider_id).where(
        m.Assignment.student_id.in_(sorted({sid for sid, _ in pairs}))
    )
    return {(a, b): p for a, b, p in s.execute(q) if (a, b) in pairs}


def rematch_of(
    deps: Deps, proposal_id: str
) -> tuple[str, list[tuple[str, str]], str | None] | None:
    """(district, pairs, change id) of a stored re-match proposal; None for any other."""
    with deps.session_factory() as s:
        action = s.get(m.PendingAction, proposal_id)
        payload = dict(action.payload or {}) if action is not None else {}
    if REMATCH not in payload:
        return None
    pairs = [(str(x[0]), str(x[1])) for x in payload[REMATCH]]
    return str(payload["district_id"]), pairs, payload.get("change_id")
