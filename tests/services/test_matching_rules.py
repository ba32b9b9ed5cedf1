"""Services: /match's rules on a real database: a proposal goes stale only when its own inputs
change, the 8-week licence rule, and `provider=` explained with the whole district in view."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.clock import FixedClock
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


def test_provider_filter_explains_the_unserved_with_the_whole_district_in_view(
    deps: Deps, tmp_path: Path
) -> None:
    # Mesa (Arizona) needs OT. Ben (P2) is licensed in Alaska only; Mo (P5) holds an Arizona
    # licence and has Wednesday mornings; Eve (P6) holds one too but is free only on Mondays.
    providers = PROVIDERS + (
        "P5,Mo Rahimi,mo@example.org,U0P5,ot,AZ,America/Phoenix,20\n"
        "P6,Eve Lund,eve@example.org,U0P6,ot,AZ,America/Phoenix,20\n"
    )
    lic = LIC + "P2,AK,2028-06-30,AK-2\nP5,AZ,2028-06-30,AZ-5\nP6,AZ,2028-06-30,AZ-6\n"
    lic += "P3,AZ,2028-06-30,AZ-3\n"
    load(
        deps,
        tmp_path,
        providers_csv=providers,
        licenses_csv=lic,
        students_csv=students(3, school="SCH2"),
        services_csv=SV + "S1,ot,1,30,no\nS2,ot,1,30,no\nS3,slp,1,30,no\n",
        availability_csv=AV
        + "P2,wed,08:00,12:00\nP5,wed,08:00,12:00\nP6,mon,08:00,12:00\nP3,wed,08:00,12:00\n",
    )
    ben = svc.propose(deps, "U0M1", svc.Filters("mesa", provider_slack_id="U0P2"))
    assert ben.students_served == 0
    assert {(u.student_id, u.reason, u.detail) for u in ben.unmatched} == {
        (
            sid,
            "other_providers",
            "Ben K. holds no active Arizona licence (or none at home); Mo R. could serve it: "
            "run /match without provider=",
        )
        for sid in ("S1", "S2")
    } | {
        # Not a licence gap: Ben is no SLP, and Cy (Arizona) is.
        (
            "S3",
            "other_providers",
            "Ben K. is an OT, not an SLP; Cy D. could serve it: run /match without provider=",
        )
    }
    assert ben.hires == ()  # others could serve them all: nobody to hire

    eve = svc.propose(deps, "U0M1", svc.Filters("mesa", "ot", "U0P6"))
    assert {u.detail for u in eve.unmatched} == {
        "Eve L. holds an Arizona licence but has no time in common; Mo R. could serve it: "
        "run /match without provider="
    }

    # Without Mo, nobody in the district can serve them, and it says so.
    with deps.session_factory.begin() as s:
        mo = s.get(m.Provider, "P5")
        assert mo is not None
        mo.discipline = "slp"
    again = svc.propose(deps, "U0M1", svc.Filters("mesa", provider_slack_id="U0P6"))
    assert {(u.reason, u.detail) for u in again.unmatched if u.service == "ot"} == {
        (
            "no_common_time",
            "Eve L. holds an Arizona licence but has no time in common; no other OT holds an "
            "Arizona licence",
        )
    }
    assert sum(len(h.would_serve) for h in again.hires) == 2
    ben = svc.propose(deps, "U0M1", svc.Filters("mesa", provider_slack_id="U0P2"))
    assert {(u.reason, u.detail) for u in ben.unmatched if u.service == "ot"} == {
        (
            "no_common_time",
            "Ben K. holds no active Arizona licence (or none at home); Eve L. holds an Arizona "
            "licence but no time in common",
        )
    }


def licence_roster(deps: Deps, tmp_path: Path, p1_hours: str, p7_ends: str = "2027-01-12") -> None:
    """P7's Alaska licence ends Jan 12, within 8 weeks of today (Nov 30); P1's runs to Feb 1,
    past them. P7 already serves the school (S4), so without the rule the matcher, which keeps
    new provider-school links few, would give P7 everyone."""
    providers = (
        "provider_id,name,email,slack_user_id,discipline,home_state,timezone,weekly_hours\n"
        f"P1,Ana Reyes,ana@example.org,U0P1,slp,AK,America/Los_Angeles,{p1_hours}\n"
        "P7,Dana Kim,dana@example.org,U0P7,slp,AK,America/Anchorage,20\n"
    )
    load(
        deps,
        tmp_path,
        providers_csv=providers,
        licenses_csv=LIC + f"P1,AK,2027-02-01,AK-1\nP7,AK,{p7_ends},AK-7\n",
        students_csv=students(4),
        services_csv=SV + "".join(f"S{i},slp,1,30,no\n" for i in range(1, 5)),
        availability_csv=AV
        + "P1,mon,09:00,13:00\nP1,tue,09:00,13:00\nP7,mon,08:00,12:00\nP7,tue,08:00,12:00\n",
        assignments_csv="student_id,service,provider_id\nS4,slp,P7\n",
    )


def test_a_licence_ending_within_8_weeks_is_spared_when_someone_else_can_serve(
    deps: Deps, tmp_path: Path
) -> None:
    licence_roster(deps, tmp_path, p1_hours="20")
    p = svc.propose(deps, "U0M1", svc.Filters("anc"))
    assert p.students_served == 3
    assert [(plan.provider_id, plan.licence) for plan in p.plans] == [("P1", "")]


def test_a_licence_ending_within_8_weeks_serves_whom_nobody_else_can_and_says_so(
    deps: Deps, tmp_path: Path
) -> None:
    licence_roster(deps, tmp_path, p1_hours="1")  # room for two 30-minute sessions
    p = svc.propose(deps, "U0M1", svc.Filters("anc"))
    assert p.students_served == 3
    by = {plan.provider_id: plan for plan in p.plans}
    assert len(by["P1"].sessions) == 2 and len(by["P7"].sessions) == 1
    assert by["P7"].licence == (
        "Alaska licence ends Jan 12: used for 1 student nobody else can serve"
    )
    assert by["P1"].licence == ""
    assert "Alaska licence ends Jan 12: used for 1 student" in svc.text_summary(p)


def test_a_rerun_with_unchanged_inputs_gives_the_same_proposal_and_a_change_solves_again(
    deps: Deps, proposal: svc.Proposal
) -> None:
    def plan(p: svc.Proposal) -> list[tuple[str, tuple[str, ...], str, str]]:
        return sorted(
            (x.provider_id, s.student_ids, s.day, s.start) for x in p.plans for s in x.sessions
        )

    again = svc.propose(deps, "U0M1", svc.Filters("anc"))
    assert again.proposal_id != proposal.proposal_id
    assert plan(again) == plan(proposal) and again.method == "unchanged since the last run"
    assert (again.bound, again.unmatched) == (proposal.bound, proposal.unmatched)
    assert svc.approve(deps, "U0M1", again.proposal_id or "").created == 3

    change(deps, window("P3"))  # nothing of Anchorage's: the approval above is what changed
    after = svc.propose(deps, "U0M1", svc.Filters("anc"))
    assert after.method != "unchanged since the last run" and after.students_total == 0


def test_the_8_weeks_count_from_the_clock_and_a_rerun_across_the_line_solves_again(
    deps: Deps, tmp_path: Path, clock: FixedClock
) -> None:
    # P7's licence ends Jan 26: 57 days after Nov 30, 56 after Dec 1 (same target week).
    licence_roster(deps, tmp_path, p1_hours="20", p7_ends="2027-01-26")
    before = svc.propose(deps, "U0M1", svc.Filters("anc"))
    assert [plan.provider_id for plan in before.plans] == ["P7"]
    clock.advance(days=1)
    after = svc.propose(deps, "U0M1", svc.Filters("anc"))
    assert after.week_of == before.week_of and after.method != "unchanged since the last run"
    assert [(plan.provider_id, plan.licence) for plan in after.plans] == [("P1", "")]
