"""Services: the App Home's data, /caseload and /deadlines — times in the provider's zone,
deadlines, overdue notes, coverage and unserved reasons — and who may see what."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.deps import Deps
from bot.domain.conflicts import Cause
from bot.services import caseload as cs
from bot.services import deadlines as dl
from bot.services import home as svc
from bot.services.errors import InvalidInput, NotAllowed, NotFound
from handlers.caseload_blocks import district_caseload_blocks
from storage import models as m
from tests.services.caseload_seed import add_session, add_slot, seed


@pytest.fixture
def roster(deps: Deps, tmp_path: Path, clock: FixedClock) -> Deps:
    seed(deps, tmp_path)
    add_slot(deps, "S1", "slp", 1, "09:00", "09:30", group="g:1")  # Tue 09:00 Alaska
    add_slot(deps, "S3", "slp", 1, "09:00", "09:30", group="g:1")
    add_slot(deps, "S1", "slp", 0, "12:15", "12:45")  # Mon 12:15 Alaska
    now = clock.now()
    add_session(deps, "old", "S1", now - timedelta(days=6))  # overdue
    add_session(deps, "fresh", "S3", now - timedelta(hours=20))  # needs a note, not overdue
    add_session(deps, "ot", "S2", now - timedelta(days=4), provider="P2", service="ot")
    return deps


def test_provider_home_shows_caseload_in_their_zone(roster: Deps) -> None:
    home = svc.home_for(roster, "U0P1")
    assert home.known and home.provider is not None and home.manager is None
    c = home.provider.caseload
    assert (c.tz, c.monday, c.students, c.services) == (
        "America/Los_Angeles",
        date(2026, 11, 30),
        2,
        2,
    )
    (school,) = c.schools
    assert school.school == "Birchwood Elementary"
    by_student = {e.student_id: e for e in school.entries}
    # 09:00 Alaska is 10:00 Pacific; 12:15 Alaska is 13:15 Pacific.
    assert by_student["S1"].times == ("Mon 13:15–13:45", "Tue 10:00–10:30")
    assert by_student["S1"].group and by_student["S3"].times == ("Tue 10:00–10:30",)
    assert c.weekly_minutes == 60  # the group's 30 minutes count once
    assert by_student["S1"].student == "T.E. (S1)"


def test_provider_home_deadlines_notes_and_recent_sessions(roster: Deps) -> None:
    p = svc.home_for(roster, "U0P1").provider
    assert p is not None
    # S3's annual review on Dec 10 is within 30 days; S1's (Jan 15) is not. Licences end 2027.
    assert [(d.kind, d.subject, d.due_on) for d in p.deadlines] == [
        ("annual_review", "I.M. (S3)", date(2026, 12, 10))
    ]
    assert [(n.student, n.days_overdue) for n in p.overdue] == [("T.E. (S1)", 3)]
    assert [(r.student, r.status) for r in p.recent] == [
        ("I.M. (S3)", "held"),
        ("T.E. (S1)", "held"),
    ]


def test_other_provider_licence_ending_is_a_deadline(roster: Deps) -> None:
    p = svc.home_for(roster, "U0P2").provider
    assert p is not None
    # P2's Alaska licence ends 2026-12-20; S2's annual review is Dec 5.
    assert [(d.kind, d.due_on) for d in p.deadlines] == [
        ("annual_review", date(2026, 12, 5)),
        ("licence", date(2026, 12, 20)),
    ]


def test_manager_home_coverage_unserved_notes_and_licences(roster: Deps, clock: FixedClock) -> None:
    with roster.session_factory.begin() as s:
        s.add(
            m.StudentService(
                student_id="S3",
                service="ot",
                sessions_per_week=1,
                session_minutes=30,
                group_ok=False,
            )
        )
        s.add(
            m.Student(
                id="S9",
                school_id="SCH2",
                first_name="Zed",
                last_name="Quill",
                grade="4",
                annual_review_due=date(2027, 3, 1),
                triennial_due=None,
            )
        )
        s.add(
            m.StudentService(
                student_id="S9",
                service="slp",
                sessions_per_week=1,
                session_minutes=30,
                group_ok=False,
            )
        )
        s.add(
            m.PendingAction(
                id=str(uuid.uuid4()),
                kind="match",
                actor_slack_id="U0M1",
                subject_id="anc",
                payload={
                    "sessions": [],
                    "unmatched": [
                        {
                            "student_id": "S3",
                            "service": "ot",
                            "reason": "no_licensed_provider",
                            "detail": "no OT holds an active Alaska licence",
                        }
                    ],
                },
                status="pending",
                created_at=clock.now(),
            )
        )
    home = svc.home_for(roster, "U0M1")
    assert home.is_manager and home.provider is None and home.manager is not None
    mh = home.manager
    assert [(c.district_id, c.served, c.total) for c in mh.coverage] == [
        ("anc", 3, 4),
        ("mesa", 0, 1),
    ]
    assert [(u.student, u.service, u.reason) for u in mh.unserved] == [
        ("I.M. (S3)", "ot", "no licensed provider"),
        ("Z.Q. (S9)", "slp", "not matched yet"),
    ]
    assert [(n.provider, n.count) for n in mh.notes] == [("Ana Reyes", 1), ("Ben Ko", 1)]
    assert [(lic.subject, lic.provider) for lic in mh.licences] == [("AK licence AK-2", "Ben Ko")]


def test_unknown_user_gets_the_roster_sentence(roster: Deps) -> None:
    home = svc.home_for(roster, "U0NOBODY")
    assert not home.known and home.provider is None and home.manager is None


def test_names_only_when_the_setting_allows(roster: Deps) -> None:
    named = Deps(
        settings=roster.settings.model_copy(update={"show_student_names": True}),
        engine=roster.engine,
        session_factory=roster.session_factory,
        clock=roster.clock,
        gateway=roster.gateway,
    )
    p = svc.home_for(named, "U0P1").provider
    assert p is not None and p.overdue[0].student == "Tala Evans (S1)"


# --- /caseload -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "target", "outcome"),
    [
        ("U0P1", None, "Ana Reyes"),  # a provider: their own
        ("U0P1", "U0P1", "Ana Reyes"),  # naming themselves
        ("U0P1", "U0P2", "You can only see your own caseload."),  # another provider's: refused
        ("U0M1", "U0P2", "Ben Ko"),  # a manager: anyone
        ("U0M1", None, "You're in the roster as a manager"),  # a manager must name someone
        ("U0M1", "U0NOPE", "is not a provider in the roster"),
        ("U0NOBODY", None, "I don't have you in the roster"),  # unknown Slack user
    ],
)
def test_who_may_see_a_caseload(roster: Deps, user: str, target: str | None, outcome: str) -> None:
    try:
        c = cs.caseload_for(roster, user, target)
    except (NotAllowed, NotFound, InvalidInput) as exc:
        assert outcome in exc.message
        return
    assert c.provider_name == outcome
    assert c.on_behalf is (user == "U0M1")


# --- /deadlines ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", dl.DeadlineArgs(None, 30)),
        ("district=anchorage days=14", dl.DeadlineArgs("anchorage", 14)),
        ("DAYS=365", dl.DeadlineArgs(None, 365)),
    ],
)
def test_deadline_arguments(text: str, expected: dl.DeadlineArgs) -> None:
    assert dl.parse_deadline_args(text) == expected


@pytest.mark.parametrize(
    "text", ["days=0", "days=400", "days=ten", "anchorage", "days=1 days=2", "help"]
)
def test_bad_deadline_arguments_get_usage(text: str) -> None:
    with pytest.raises(InvalidInput) as exc:
        dl.parse_deadline_args(text)
    assert "days" in exc.value.message


def test_provider_deadlines_are_their_own(roster: Deps) -> None:
    d = dl.deadlines_for(roster, "U0P2", dl.DeadlineArgs(days=30))
    assert (d.scope, d.for_manager) == ("your students", False)
    assert [(i.kind, i.subject) for i in d.items] == [
        ("annual_review", "N.L. (S2)"),
        ("licence", "AK licence AK-2"),
    ]
    assert [(n.provider, n.count) for n in d.notes] == [("Ben Ko", 1)]


def test_manager_deadlines_by_district(roster: Deps) -> None:
    d = dl.deadlines_for(roster, "U0M1", dl.DeadlineArgs("anchorage", 60))
    assert (d.scope, d.for_manager) == ("Anchorage School District", True)
    assert [(i.kind, i.subject, i.provider) for i in d.items] == [
        ("annual_review", "N.L. (S2)", "Ben Ko"),
        ("annual_review", "I.M. (S3)", "Ana Reyes"),
        ("licence", "AK licence AK-2", "Ben Ko"),
        ("annual_review", "T.E. (S1)", "Ana Reyes"),
    ]
    everything = dl.deadlines_for(roster, "U0M1", dl.DeadlineArgs(None, 30))
    assert everything.scope == "all districts" and len(everything.notes) == 2
    with pytest.raises(NotFound, match="Did you mean"):
        dl.deadlines_for(roster, "U0M1", dl.DeadlineArgs("anchorge", 30))
    with pytest.raises(NotAllowed, match="roster"):
        dl.deadlines_for(roster, "U0NOBODY", dl.DeadlineArgs())


def test_a_provider_naming_a_district_counts_only_its_overdue_notes(roster: Deps) -> None:
    anc = dl.deadlines_for(roster, "U0P1", dl.DeadlineArgs("anc", 30))
    assert [(n.provider, n.count) for n in anc.notes] == [("Ana Reyes", 1)]
    mesa = dl.deadlines_for(roster, "U0P1", dl.DeadlineArgs("mesa", 30))
    assert mesa.scope == "your students in Mesa Public Schools"
    assert mesa.notes == ()


def test_a_managers_district_caseload(roster: Deps) -> None:
    every = cs.district_caseload(roster, "U0M1")
    assert every.district is None and {c.district_id for c in every.coverage} == {"anc", "mesa"}
    anc = cs.district_caseload(roster, "U0M1", "anc")
    assert anc.district == "Anchorage School District"
    assert [(p.provider, p.students, p.services) for p in anc.providers] == [
        ("Ana Reyes", 2, 2),
        ("Ben Ko", 1, 1),
    ]
    # The district's conflicts come with it: S1's Monday slot is outside Ana's hours, and the
    # winter break shows once.
    assert anc.conflicts is not None and every.conflicts is None
    [line] = anc.conflicts.lines
    assert (line.cause, line.provider, line.day) == (Cause.OUTSIDE_AVAILABILITY, "Ana Reyes", 0)
    assert anc.conflicts.closed == ((date(2026, 12, 21), date(2027, 1, 1)),)
    shown = str([b.to_dict() for b in district_caseload_blocks(anc)])
    assert "*Conflicts*" in shown and "outside availability" in shown
    assert "closed Dec 21 – Jan 1" in shown
    with pytest.raises(NotAllowed, match="Only provider-success managers"):
        cs.district_caseload(roster, "U0P1", "anc")


def _proposal(when: datetime, unmatched: list[dict[str, str]], **filters: str) -> m.PendingAction:
    payload: dict[str, object] = {"sessions": [], "unmatched": unmatched}
    if filters:
        payload["filters"] = filters
    return m.PendingAction(
        id=str(uuid.uuid4()),
        kind="match",
        actor_slack_id="U0M1",
        subject_id="anc",
        payload=payload,
        status="pending",
        created_at=when,
    )


def test_unserved_reasons_come_from_the_latest_proposal_for_every_provider(
    roster: Deps, clock: FixedClock
) -> None:
    """A later `provider=` proposal explains the unserved for that one provider ("Ben K. holds no
    Alaska licence"); the manager Home keeps the reason its last whole-district proposal gave."""
    whole = {"student_id": "S3", "service": "ot", "reason": "no_common_time", "detail": "x"}
    narrow = {"student_id": "S3", "service": "ot", "reason": "other_providers", "detail": "y"}
    with roster.session_factory.begin() as s:
        s.add(
            m.StudentService(
                student_id="S3",
                service="ot",
                sessions_per_week=1,
                session_minutes=30,
                group_ok=False,
            )
        )
        s.add(_proposal(clock.now() - timedelta(hours=2), [whole]))
        s.add(_proposal(clock.now() - timedelta(hours=1), [narrow], provider="U0P2"))
    mh = svc.home_for(roster, "U0M1").manager
    assert mh is not None
    assert [(u.student_id, u.detail) for u in mh.unserved] == [("S3", "x")]

    # A later service= proposal looked at every provider of that discipline: it counts.
    with roster.session_factory.begin() as s:
        s.add(_proposal(clock.now(), [{**whole, "detail": "z"}], service="ot"))
    mh = svc.home_for(roster, "U0M1").manager
    assert mh is not None
    assert [(u.student_id, u.detail) for u in mh.unserved] == [("S3", "z")]
