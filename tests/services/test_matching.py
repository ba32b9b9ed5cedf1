"""Services: /match on a real database: rules at the edges, checked by the independent
validator, and approval that happens once."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.deps import Deps
from bot.domain import matching as mt
from bot.services import matching as svc
from bot.services.errors import InvalidInput, NotAllowed, NotFound
from storage import models as m
from storage.roster import import_roster
from tests.storage.roster_files import write_roster

H = "provider_id,name,email,slack_user_id,discipline,home_state,timezone,weekly_hours\n"
LIC = "provider_id,state,expires_on,license_number\n"
AV = "provider_id,day,start,end\n"
ST = "student_id,school_id,first_name,last_name,grade,annual_review_due,triennial_due\n"
SV = "student_id,service,sessions_per_week,session_minutes,group_ok\n"
NONE_ASSIGNED = "student_id,service,provider_id\n"
NO_SESSIONS = "session_id,provider_id,student_id,service,starts_at,minutes,status,note_done_at\n"


def load(deps: Deps, tmp_path: Path, **files: str) -> None:
    defaults = {"assignments_csv": NONE_ASSIGNED, "sessions_csv": NO_SESSIONS}
    report = import_roster(
        write_roster(tmp_path / "r", **{**defaults, **files}), deps.session_factory
    )
    assert report.ok, report.problems


def run(
    deps: Deps, district: str, today: date, **filters: str
) -> tuple[mt.MatchInput, mt.MatchResult, svc.Proposal]:
    with deps.session_factory() as s:
        d = svc.DistrictInfo.of(svc.find_district(s, district))
        inp, ctx = svc.build_input(
            s, deps, d, today, svc.Filters(d.id, **filters) if filters else None
        )
    result = mt.solve(inp, time_limit_s=2)
    assert mt.validate(inp, result) == []
    return inp, result, svc.render(result, ctx, None)


def students(n: int, school: str = "SCH1", start: int = 1) -> str:
    return ST + "".join(
        f"S{i},{school},Kid,Number{i},3,2027-05-01,\n" for i in range(start, start + n)
    )


def test_licence_expiring_on_the_week_does_not_count(deps: Deps, tmp_path: Path) -> None:
    # P1's Alaska licence ends Wed Dec 9 2026, inside the target week of Dec 7.
    lic = LIC + "P1,CA,2027-06-30,CA-1\nP1,AK,2026-12-09,AK-1\nP2,AK,2027-06-30,AK-2\n"
    load(
        deps,
        tmp_path,
        licenses_csv=lic,
        students_csv=students(1),
        services_csv=SV + "S1,slp,1,30,no\n",
        availability_csv=AV + "P1,mon,08:00,12:00\nP1,tue,08:00,12:00\n",
    )
    _, result, proposal = run(deps, "anc", date(2026, 12, 2))
    assert result.sessions == ()
    assert [(u.student_id, u.reason) for u in result.unmatched] == [("S1", "no_licensed_provider")]
    assert "Alaska" in result.unmatched[0].detail
    assert proposal.students_served == 0
    # Whom to hire: an SLP licensed in Alaska, half an hour on the roomiest school day.
    assert proposal.to_json()["hires"] == [
        {
            "service": "slp",
            "state": "AK",
            "weekly_hours": 0.5,
            "windows": [
                {"day": "tue", "start": "08:30", "end": "09:00", "timezone": "America/Anchorage"}
            ],
            "would_serve": ["S1"],
        }
    ]


def test_licence_valid_through_the_week_counts(deps: Deps, tmp_path: Path) -> None:
    lic = LIC + "P1,CA,2027-06-30,CA-1\nP1,AK,2026-12-12,AK-1\nP2,AK,2027-06-30,AK-2\n"
    load(
        deps,
        tmp_path,
        licenses_csv=lic,
        students_csv=students(1),
        services_csv=SV + "S1,slp,2,30,no\n",
        availability_csv=AV + "P1,mon,08:00,12:00\nP1,tue,08:00,12:00\n",
    )
    _, result, proposal = run(deps, "anc", date(2026, 12, 2))
    assert len(result.sessions) == 2 and {x.day for x in result.sessions} == {"mon", "tue"}
    plan = proposal.plans[0]
    # Pacific 08:00 is 07:00 in Anchorage, before school opens at 08:30: first slot is 08:30 AKT.
    assert (plan.sessions[0].day, plan.sessions[0].start, plan.sessions[0].timezone) == (
        "mon",
        "08:30",
        "America/Anchorage",
    )
    assert plan.sessions[0].provider_start == "09:30"


@pytest.mark.parametrize(
    ("today", "school_start"), [(date(2027, 1, 6), "09:00"), (date(2027, 7, 7), "08:00")]
)
def test_arizona_school_with_a_pacific_provider_across_daylight_saving(
    deps: Deps, tmp_path: Path, today: date, school_start: str
) -> None:
    # Pacific 08:00-09:00 is 09:00-10:00 in Phoenix in winter and 08:00-09:00 in summer.
    lic = LIC + "P1,CA,2028-06-30,CA-1\nP1,AZ,2028-06-30,AZ-1\nP2,AK,2028-06-30,AK-2\n"
    load(
        deps,
        tmp_path,
        licenses_csv=lic,
        students_csv=students(1, "SCH2"),
        services_csv=SV + "S1,slp,1,60,no\n",
        availability_csv=AV + "P1,wed,08:00,09:00\n",
        school_hours_csv="school_id,day,start,end\nSCH1,mon,08:30,15:00\nSCH2,wed,08:00,13:00\n",
    )
    _, result, proposal = run(deps, "mesa", today)
    session = proposal.plans[0].sessions[0]
    assert (session.day, session.start, session.timezone) == (
        "wed",
        school_start,
        "America/Phoenix",
    )
    assert session.provider_start == "08:00"


def test_group_of_four_and_a_fifth_student(deps: Deps, tmp_path: Path) -> None:
    lic = LIC + "P1,CA,2028-06-30,CA-1\nP1,AK,2028-06-30,AK-1\nP2,AK,2028-06-30,AK-2\n"
    svcs = SV + "".join(f"S{i},slp,1,30,yes\n" for i in range(1, 6))
    # Room for exactly one 30-minute session: grouping is the only way to serve four.
    load(
        deps,
        tmp_path,
        licenses_csv=lic,
        students_csv=students(5),
        services_csv=svcs,
        availability_csv=AV + "P1,mon,09:30,10:00\n",
    )
    inp, result, proposal = run(deps, "anc", date(2026, 12, 2))
    assert len(result.sessions) == 1
    assert len(result.sessions[0].student_ids) == 4  # group_max 4, never 5
    assert len(result.unmatched) == 1
    # One session of room: at most four can be served, and the proposal says so.
    assert proposal.to_json()["bound"] == 4


def test_provider_already_full_elsewhere(deps: Deps, tmp_path: Path) -> None:
    providers = H + (
        "P1,Ana Reyes,ana@example.org,U0P1,slp,CA,America/Los_Angeles,1\n"
        "P2,Ben Ko,ben@example.org,U0P2,ot,AK,America/Anchorage,12.5\n"
    )
    lic = (
        LIC
        + "P1,CA,2028-06-30,CA-1\nP1,AK,2028-06-30,AK-1\nP1,AZ,2028-06-30,AZ-1\n"
        + "P2,AK,2028-06-30,AK-2\n"
    )
    studs = students(1) + "S9,SCH2,Other,Kid,4,2027-05-01,\n"
    svcs = SV + "S1,slp,1,30,no\nS9,slp,2,30,no\n"
    load(
        deps,
        tmp_path,
        providers_csv=providers,
        licenses_csv=lic,
        students_csv=studs,
        services_csv=svcs,
        availability_csv=AV + "P1,mon,08:00,15:00\nP1,tue,08:00,15:00\n",
        assignments_csv=NONE_ASSIGNED + "S9,slp,P1\n",
    )
    inp, result, _ = run(deps, "anc", date(2026, 12, 2))
    p1 = next(p for p in inp.providers if p.provider_id == "P1")
    assert p1.capacity_minutes == 0  # 1 h/week, all taken by the Mesa student
    assert [(u.student_id, u.reason) for u in result.unmatched] == [("S1", "no_capacity")]


def _one_student_and_time_off(
    deps: Deps, tmp_path: Path, days: str, first: date, last: date, **hours: object
) -> None:
    """S1 needs SLP twice a week; P1 works ``days`` 08:00-12:00 and is out ``first``-``last``
    (``hours``: the start and end minutes and zone of a partial day)."""
    lic = LIC + "P1,CA,2028-06-30,CA-1\nP1,AK,2028-06-30,AK-1\nP2,AK,2028-06-30,AK-2\n"
    load(
        deps,
        tmp_path,
        licenses_csv=lic,
        students_csv=students(1),
        services_csv=SV + "S1,slp,2,30,no\n",
        availability_csv=AV + "".join(f"P1,{d},08:00,12:00\n" for d in days.split()),
    )
    with deps.session_factory.begin() as s:
        s.add(
            m.TimeOff(
                provider_id="P1",
                start_date=first,
                end_date=last,
                created_at=deps.clock.now(),
                **hours,
            )
        )


def test_time_off_keeps_the_recurring_plan_and_is_noted(deps: Deps, tmp_path: Path) -> None:
    """Out Mon-Tue Dec 7-8: the weekly plan still uses Mon and Tue; the proposal says so."""
    _one_student_and_time_off(deps, tmp_path, "mon tue wed", date(2026, 12, 7), date(2026, 12, 8))
    _, result, proposal = run(deps, "anc", date(2026, 12, 2))
    assert len(result.sessions) == 2 and result.unmatched == ()
    (plan,) = proposal.plans
    assert plan.time_off == "out Dec 7–8: those sessions will be cancelled"


def test_partial_time_off_keeps_its_hours_in_the_plan(deps: Deps, tmp_path: Path) -> None:
    """Out Mon Dec 7 8-10 (Pacific): the recurring week keeps Monday 8-12, noted as time off."""
    monday = date(2026, 12, 7)
    _one_student_and_time_off(
        deps, tmp_path, "mon tue", monday, monday,
        start_minute=8 * 60, end_minute=10 * 60, timezone="America/Los_Angeles",
    )  # fmt: skip
    inp, result, proposal = run(deps, "anc", date(2026, 12, 2))
    p1 = next(p for p in inp.providers if p.provider_id == "P1")
    assert [b - a for a, b in p1.available] == [240, 240]
    assert len(result.sessions) == 2 and result.unmatched == ()
    assert proposal.plans[0].time_off == "out Dec 7: those sessions will be cancelled"


def test_filters_and_district_lookup(deps: Deps, tmp_path: Path) -> None:
    load(deps, tmp_path)
    assert svc.parse_filters("district=anchorage service=SLP") == svc.Filters(
        "anchorage", "slp", None
    )
    assert svc.parse_filters("district=anc provider=<@U0P1|ana>").provider_slack_id == "U0P1"
    for bad in [
        "",
        "service=slp",
        "district=anc color=blue",
        "district=anc service=speech",
        "district",
    ]:
        with pytest.raises(InvalidInput):
            svc.parse_filters(bad)
    with deps.session_factory() as s:
        assert svc.find_district(s, "ANCHORAGE").id == "anc"
        assert svc.find_district(s, "mesa public schools").id == "mesa"
        with pytest.raises(NotFound, match="Did you mean Anchorage School District"):
            svc.find_district(s, "anchorag3")
    # Outside a session callers get a plain value, never a detached ORM row.
    found = svc.resolve_district(deps, "anchorage")
    assert found == svc.DistrictInfo("anc", found.name, "AK", "America/Anchorage")
    assert not isinstance(found, m.Base)


@pytest.fixture
def proposal(deps: Deps, tmp_path: Path) -> svc.Proposal:
    lic = LIC + "P1,CA,2028-06-30,CA-1\nP1,AK,2028-06-30,AK-1\nP2,AK,2028-06-30,AK-2\n"
    load(
        deps,
        tmp_path,
        licenses_csv=lic,
        students_csv=students(3),
        services_csv=SV + "S1,slp,2,30,no\nS2,slp,1,30,no\nS3,ot,1,45,no\n",
        availability_csv=AV + "P1,mon,08:00,12:00\nP1,tue,08:00,12:00\nP2,mon,09:00,12:00\n",
    )
    return svc.propose(deps, "U0M1", svc.Filters("anc"))


def count(deps: Deps, model: type[m.Base]) -> int:
    with deps.session_factory() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_approve_all_creates_assignments_slots_and_dms_once(
    deps: Deps, proposal: svc.Proposal, slack
) -> None:  # type: ignore[no-untyped-def]
    assert proposal.students_served == 3 and proposal.proposal_id
    approval = svc.approve(deps, "U0M1", proposal.proposal_id)
    assert (approval.already, approval.created) == (False, 3)
    assert sorted(approval.notified) == ["Ana Reyes", "Ben Ko"]
    assert count(deps, m.Assignment) == 3 and count(deps, m.AssignmentSlot) == 4
    dms = slack.calls_to("chat.postMessage")
    assert len(dms) == 2
    text = " ".join(c.params["text"] for c in dms)
    # initials and ids, never names
    assert "K.N. (S1)" in text and "Number1" not in text and "Kid" not in text
    again = svc.approve(deps, "U0M1", proposal.proposal_id)
    assert again.already and again.approved_by == "U0M1"
    assert count(deps, m.Assignment) == 3 and len(slack.calls_to("chat.postMessage")) == 2


def test_two_managers_approving_at_once_create_once(deps: Deps, proposal: svc.Proposal) -> None:
    with deps.session_factory.begin() as s:
        s.add(m.Manager(id="M2", name="Lee Chan", email="lee@example.org", slack_user_id="U0M2"))
    results: list[object] = []
    barrier = threading.Barrier(2)

    def click(user: str) -> None:
        barrier.wait()
        try:
            results.append(svc.approve(deps, user, proposal.proposal_id or ""))
        except Exception as exc:  # noqa: BLE001 - asserted below
            results.append(exc)

    threads = [threading.Thread(target=click, args=(u,)) for u in ("U0M1", "U0M2")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fresh = [r for r in results if isinstance(r, svc.Approval) and not r.already]
    assert len(fresh) == 1, results
    assert count(deps, m.Assignment) == 3


def test_approve_one_provider_then_all(deps: Deps, proposal: svc.Proposal) -> None:
    assert proposal.proposal_id
    one = svc.approve(deps, "U0M1", proposal.proposal_id, "P2")
    assert (one.created, one.notified) == (1, ("Ben Ko",))
    assert svc.approve(deps, "U0M1", proposal.proposal_id, "P2").already
    rest = svc.approve(deps, "U0M1", proposal.proposal_id)
    assert rest.created == 2
    assert count(deps, m.Assignment) == 3


def test_stale_proposal_is_not_approved(deps: Deps, proposal: svc.Proposal) -> None:
    with deps.session_factory.begin() as s:
        s.add(
            m.TimeOff(
                provider_id="P1",
                start_date=date(2026, 12, 7),
                end_date=date(2026, 12, 7),
                created_at=deps.clock.now(),
            )
        )
    with pytest.raises(svc.Stale, match="changed since this proposal"):
        svc.approve(deps, "U0M1", proposal.proposal_id or "")
    assert count(deps, m.Assignment) == 0


def test_only_managers_may_match_or_approve(deps: Deps, proposal: svc.Proposal) -> None:
    with pytest.raises(NotAllowed, match="Only provider-success managers"):
        svc.check_manager(deps, "U0P1")
    with pytest.raises(NotAllowed):
        svc.approve(deps, "U0P1", proposal.proposal_id or "")
    with pytest.raises(NotAllowed, match="roster"):
        svc.check_manager(deps, "U0NOBODY")
    assert count(deps, m.Assignment) == 0


def test_discard_then_approve_is_refused(deps: Deps, proposal: svc.Proposal) -> None:
    assert svc.discard(deps, "U0M1", proposal.proposal_id or "")
    with pytest.raises(svc.Conflict, match="discarded"):
        svc.approve(deps, "U0M1", proposal.proposal_id or "")


def test_failed_dm_is_kept_for_retry(deps: Deps, proposal: svc.Proposal, slack) -> None:  # type: ignore[no-untyped-def]
    slack.fail_next("chat.postMessage", 500, times=10)
    approval = svc.approve(deps, "U0M1", proposal.proposal_id or "")
    assert approval.created == 3 and approval.notified == ()
    assert sorted(approval.not_notified) == ["Ana Reyes", "Ben Ko"]
    with deps.session_factory() as s:
        pending = s.scalars(
            select(m.Nudge).where(m.Nudge.rule == "assignment", m.Nudge.sent_at.is_(None))
        ).all()
    assert len(pending) == 2
    slack.clear()
    keys = [n.key for n in pending]
    notified, failed = svc.deliver_assignment_dms(deps, keys)
    assert sorted(notified) == ["Ana Reyes", "Ben Ko"] and failed == ()
    assert svc.deliver_assignment_dms(deps, keys) == ((), ())
