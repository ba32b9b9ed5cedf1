"""Services: a student's sessions of other services that stay are busy time for the matcher, in
a re-match and in /match (real database, fixed clock)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.deps import Deps
from bot.services import matching as svc
from storage import models as m
from tests.services.caseload_seed import add_slot
from tests.services.test_matching import NO_SESSIONS, load, run

AK = "America/Anchorage"
PROVIDERS = (
    "provider_id,name,email,slack_user_id,discipline,home_state,timezone,weekly_hours\n"
    "P1,Ana Reyes,ana@example.org,U0P1,slp,CA,America/Anchorage,20\n"
    "P2,Ben Ko,ben@example.org,U0P2,ot,AK,America/Anchorage,12.5\n"
)
STUDENT = (
    "student_id,school_id,first_name,last_name,grade,annual_review_due,triennial_due\n"
    "S1,SCH1,Tala,Evans,3,2027-01-15,2028-09-01\n"
)
SERVICES = "student_id,service,sessions_per_week,session_minutes,group_ok\nS1,slp,1,30,no\n"
# Target week: Monday 2026-12-07 (the clock says Monday 2026-11-30). Tuesday 09:00 AKST:
TUE_9 = 1440 + 18 * 60  # minutes since Monday 00:00 UTC


def seed(deps: Deps, tmp_path: Path, availability: str, assigned: str, **files: str) -> None:
    load(
        deps,
        tmp_path,
        providers_csv=PROVIDERS,
        students_csv=STUDENT,
        services_csv=SERVICES + "S1,ot,1,30,no\n",
        availability_csv="provider_id,day,start,end\n" + availability,
        assignments_csv="student_id,service,provider_id\nS1,ot,P2\n" + assigned,
        **files,
    )
    add_slot(deps, "S1", "ot", 1, "09:00", "09:30", tz=AK)  # OT stays: Tue 09:00-09:30


def test_rematch_keeps_clear_of_the_students_other_service(deps: Deps, tmp_path: Path) -> None:
    # SLP is moving off Monday; the SLP is free Tuesday 09:00-10:00, and 09:00-09:30 is OT.
    seed(deps, tmp_path, "P1,tue,09:00,10:00\n", "S1,slp,P1\n")
    add_slot(deps, "S1", "slp", 0, "09:00", "09:30", tz=AK)
    proposal = svc.propose_rematch(deps, "U0M1", "anc", [("S1", "slp")])
    assert proposal.proposal_id is not None
    with deps.session_factory() as s:
        payload = s.get(m.PendingAction, proposal.proposal_id).payload  # type: ignore[union-attr]
    [session] = payload["sessions"]
    assert (session["provider_id"], session["start"], session["end"]) == (
        "P1",
        TUE_9 + 30,
        TUE_9 + 60,
    )


def test_match_leaves_unserved_when_the_only_time_is_the_students(
    deps: Deps, tmp_path: Path
) -> None:
    # A makeup OT session on Wednesday 09:00 AKST that week is busy time too.
    makeup = NO_SESSIONS + "MK1,P2,S1,ot,2026-12-09T18:00:00+00:00,30,scheduled,\n"
    seed(deps, tmp_path, "P1,tue,09:00,09:30\n", "", sessions_csv=makeup)
    inp, result, proposal = run(deps, "anc", date(2026, 11, 30))
    [need] = inp.needs
    assert need.key == ("S1", "slp")
    assert need.busy == ((TUE_9, TUE_9 + 30), (TUE_9 + 1440, TUE_9 + 1470))
    assert result.sessions == ()
    [left] = proposal.unmatched
    assert left.reason == "no_common_time"
    assert left.detail == (
        "the licensed SLP's availability does not meet Mon–Tue 08:30–15:00 AKT outside the "
        "student's other sessions"
    )


def test_moving_the_other_service_makes_the_proposal_stale(deps: Deps, tmp_path: Path) -> None:
    seed(deps, tmp_path, "P1,tue,09:00,10:00\n", "")
    proposal = svc.propose(deps, "U0M1", svc.Filters("anc"))
    assert proposal.students_served == 1 and proposal.proposal_id
    with deps.session_factory.begin() as s:
        slot = s.scalars(select(m.AssignmentSlot)).one()
        slot.start_minute, slot.end_minute = 9 * 60 + 30, 10 * 60  # OT moves onto the SLP time
    with pytest.raises(svc.Stale, match="changed since this proposal"):
        svc.approve(deps, "U0M1", proposal.proposal_id)


def test_approving_one_service_leaves_the_other_approvable(deps: Deps, tmp_path: Path) -> None:
    """The proposal's own approved sessions are not a change to its other needs' busy time."""
    load(
        deps,
        tmp_path,
        providers_csv=PROVIDERS,
        students_csv=STUDENT,
        services_csv=SERVICES + "S1,ot,1,30,no\n",
        availability_csv="provider_id,day,start,end\nP1,tue,09:00,10:00\nP2,tue,09:00,10:00\n",
    )
    proposal = svc.propose(deps, "U0M1", svc.Filters("anc"))
    assert proposal.proposal_id and len(proposal.plans) == 2
    assert svc.approve(deps, "U0M1", proposal.proposal_id, "P1").created == 1
    assert svc.approve(deps, "U0M1", proposal.proposal_id, "P2").created == 1
    with deps.session_factory() as s:
        slots = sorted((x.start_minute, x.end_minute) for x in s.scalars(select(m.AssignmentSlot)))
    assert slots == [(540, 570), (570, 600)]
