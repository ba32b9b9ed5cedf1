"""Services: /match's rules on a real database: a proposal goes stale only when its own inputs
change, the 8-week licence rule, and `provider=` explained with the whole district in view."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.deps import Deps
from bot.services import matching as svc
from storage import models as m
from tests.services.test_matching import AV, LIC, SV, count, load, students

PROVIDERS = (
    "provider_id,name,email,slack_user_id,discipline,home_state,timezone,weekly_hours\n"
    "P1,Ana Reyes,ana@example.org,U0P1,slp,CA,America/Los_Angeles,20\n"
    "P2,Ben Ko,ben@example.org,U0P2,ot,AK,America/Anchorage,12.5\n"
    "P3,Cy Diaz,cy@example.org,U0P3,slp,AZ,America/Phoenix,20\n"  # Mesa's only: not Alaska's
    "P4,Di Moss,di@example.org,U0P4,psych,AK,America/Anchorage,20\n"  # no psych needs
)


@pytest.fixture
def proposal(deps: Deps, tmp_path: Path) -> svc.Proposal:
    lic = (
        LIC + "P1,CA,2028-06-30,CA-1\nP1,AK,2028-06-30,AK-1\nP2,AK,2028-06-30,AK-2\n"
        "P3,AZ,2028-06-30,AZ-3\nP4,AK,2028-06-30,AK-4\n"
    )
    load(
        deps,
        tmp_path,
        providers_csv=PROVIDERS,
        licenses_csv=lic,
        students_csv=students(3),
        services_csv=SV + "S1,slp,2,30,no\nS2,slp,1,30,no\nS3,ot,1,45,no\n",
        availability_csv=AV
        + "P1,mon,08:00,12:00\nP1,tue,08:00,12:00\nP2,mon,09:00,12:00\n"
        + "P3,wed,08:00,12:00\nP4,mon,09:00,12:00\n",
    )
    p = svc.propose(deps, "U0M1", svc.Filters("anc"))
    assert p.students_served == 3
    return p


def change(deps: Deps, *rows: m.Base) -> None:
    with deps.session_factory.begin() as s:
        s.add_all(rows)


def window(pid: str, day: int = 3) -> m.AvailabilityWindow:
    return m.AvailabilityWindow(
        provider_id=pid,
        day=day,
        start_minute=13 * 60,
        end_minute=15 * 60,
        timezone="America/Anchorage",
        effective_from=None,
        effective_to=None,
    )


def off(deps: Deps, pid: str, day: date) -> m.TimeOff:
    return m.TimeOff(provider_id=pid, start_date=day, end_date=day, created_at=deps.clock.now())


def test_changes_to_providers_who_could_not_serve_it_keep_a_proposal_approvable(
    deps: Deps, proposal: svc.Proposal
) -> None:
    # P3 practises only in Arizona (another district's state); P4 is a psychologist, and the
    # district needs none; P1's time off is in another week than the proposal's.
    change(
        deps,
        window("P3"),
        off(deps, "P3", date(2026, 12, 8)),
        m.License(provider_id="P3", state="TX", expires_on=date(2029, 1, 1), license_number="T"),
        window("P4"),
        off(deps, "P1", date(2027, 1, 12)),
    )
    with deps.session_factory.begin() as s:
        p3 = s.get(m.Provider, "P3")
        assert p3 is not None
        p3.weekly_hours = p3.weekly_hours + 5
    approval = svc.approve(deps, "U0M1", proposal.proposal_id or "")
    assert approval.created == 3 and count(deps, m.Assignment) == 3


@pytest.mark.parametrize(
    "what",
    ["availability", "time off that week", "weekly hours", "alaska licence elsewhere"],
)
def test_a_change_to_its_own_inputs_makes_a_proposal_stale(
    deps: Deps, proposal: svc.Proposal, what: str
) -> None:
    if what == "availability":
        change(deps, window("P1"))
    elif what == "time off that week":
        change(deps, off(deps, "P2", date(2026, 12, 7)))
    elif what == "weekly hours":
        with deps.session_factory.begin() as s:
            p1 = s.get(m.Provider, "P1")
            assert p1 is not None
            p1.weekly_hours = p1.weekly_hours - 1
    else:  # P3 now holds an Alaska licence too: a candidate the proposal never considered
        change(
            deps,
            m.License(
                provider_id="P3", state="AK", expires_on=date(2029, 1, 1), license_number="A"
            ),
        )
    with pytest.raises(svc.Stale, match="changed since this proposal was computed"):
        svc.approve(deps, "U0M1", proposal.proposal_id or "")
    assert count(deps, m.Assignment) == 0
