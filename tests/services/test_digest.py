"""Services: the managers' weekly digest — Monday 08:00 in each manager's zone, once per week,
retried after a failed send, with counts, initials and ids only."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.clock import FixedClock
from bot.deps import Deps
from bot.domain.sessions import NoteText
from bot.services import digest as svc
from bot.services.soap import save_note
from devtools.local_slack import LocalSlack
from storage import models as m
from tests.services.caseload_seed import add_session, seed, utc

MONDAY_0830_PT = utc(2026, 11, 30, 16, 30)  # 07:30 in Alaska
MONDAY_0900_AK = utc(2026, 11, 30, 18, 0)


@pytest.fixture
def roster(deps: Deps, tmp_path: Path) -> Deps:
    seed(deps, tmp_path)
    with deps.session_factory.begin() as s:
        s.add(
            m.Manager(
                id="M2",
                name="Ola North",
                email="ola@example.org",
                slack_user_id="U0M2",
                timezone="America/Anchorage",
            )
        )
        s.add(m.Manager(id="M3", name="No Slack", email="n@example.org", slack_user_id=None))
    add_session(deps, "late", "S1", utc(2026, 11, 20, 18))
    return deps


def dms(slack: LocalSlack) -> dict[str, str]:
    return {c.params["channel"]: c.params["text"] for c in slack.calls_to("chat.postMessage")}


def ledger(deps: Deps) -> list[tuple[str, str, str, bool]]:
    with deps.session_factory() as s:
        rows = s.scalars(
            select(m.Nudge).where(m.Nudge.rule == "weekly_digest").order_by(m.Nudge.key)
        )
        return [(n.key, n.recipient_kind, n.recipient_id, n.sent_at is not None) for n in rows]


def test_each_manager_gets_it_from_monday_eight_their_time_once(
    roster: Deps, slack: LocalSlack
) -> None:
    assert svc.send_weekly_digests(roster, MONDAY_0830_PT - timedelta(hours=1)) == 0
    assert ledger(roster) == []

    assert svc.send_weekly_digests(roster, MONDAY_0830_PT) == 1  # M1 (org zone, Pacific)
    assert list(dms(slack)) == ["DU0M1"]
    assert ledger(roster) == [("digest:M1:2026-W49", "manager_digest", "M1", True)]

    assert svc.send_weekly_digests(roster, MONDAY_0900_AK) == 1  # now M2 (Alaska), not M1 again
    assert svc.send_weekly_digests(roster, MONDAY_0900_AK + timedelta(hours=3)) == 0
    assert len(slack.calls_to("chat.postMessage")) == 2
    assert [k for k, *_ in ledger(roster)] == ["digest:M1:2026-W49", "digest:M2:2026-W49"]

    tuesday = MONDAY_0900_AK + timedelta(days=1)
    assert svc.send_weekly_digests(roster, tuesday) == 0
    next_monday = MONDAY_0900_AK + timedelta(days=7)
    assert svc.send_weekly_digests(roster, next_monday) == 2


def test_a_failed_send_stays_unsent_and_goes_on_the_next_run(
    roster: Deps, slack: LocalSlack
) -> None:
    slack.fail_next("chat.postMessage", 200, error="fatal_error")
    assert svc.send_weekly_digests(roster, MONDAY_0830_PT) == 0
    assert ledger(roster) == [("digest:M1:2026-W49", "manager_digest", "M1", False)]
    with roster.session_factory() as s:
        row = s.scalars(select(m.Nudge).where(m.Nudge.rule == "weekly_digest")).one()
        assert (row.attempts, row.claimed_by) == (1, None)
        assert row.last_error and "fatal_error" in row.last_error
    assert svc.send_weekly_digests(roster, MONDAY_0830_PT + timedelta(minutes=15)) == 1
    assert ledger(roster)[0][3] is True
    assert svc.send_weekly_digests(roster, MONDAY_0830_PT + timedelta(minutes=20)) == 0


def test_a_running_send_is_not_sent_twice_by_another_process(roster: Deps) -> None:
    # Another process holds the lease on M1's row: this run leaves it alone.
    now = MONDAY_0830_PT
    svc.send_weekly_digests(roster, now - timedelta(hours=2))  # nothing due yet
    with roster.session_factory.begin() as s:
        s.add(
            m.Nudge(
                key="digest:M1:2026-W49",
                rule="weekly_digest",
                recipient_kind="manager_digest",
                recipient_id="M1",
                subject_id="digest:M1:2026-W49",
                stage="weekly",
                payload={},
                created_at=now,
                send_after=now,
                attempts=1,
                claimed_by="other",
                claimed_until=now + timedelta(minutes=5),
            )
        )
    assert svc.send_weekly_digests(roster, now) == 0
    assert svc.send_weekly_digests(roster, now + timedelta(minutes=6)) == 1  # lease lapsed


def test_what_the_digest_says(roster: Deps, slack: LocalSlack) -> None:
    svc.send_weekly_digests(roster, MONDAY_0830_PT)
    text = dms(slack)["DU0M1"]
    assert "week of Mon Nov 30, 2026" in text
    assert "Anchorage School District: 3 of 3 student services served (100%)" in text
    assert "*Overdue SOAP notes* (1)\n• Ana Reyes: 1, oldest from Nov 20" in text
    assert "Dec 5 — annual review, N.L. (S2), Birchwood Elementary (Ben Ko)" in text
    assert "Dec 10 — annual review, I.M. (S3)" in text
    assert "Tala" not in text and "Evans" not in text  # initials only
    # One line per district: students under 90% of their minutes so far, make-ups owed.
    assert "*IEP minutes this month*\n• Anchorage School District: 3 students behind, " in text
    assert "• Mesa Public Schools: 0 students behind, 0 make-ups owed" in text


def test_note_contents_never_reach_the_digest(roster: Deps, slack: LocalSlack) -> None:
    with roster.session_factory() as s:
        late = s.scalars(select(m.TherapySession.id)).one()
    secret = "Student disclosed something private"
    save_note(roster, "U0P1", late, NoteText(secret, secret, secret, secret))
    svc.send_weekly_digests(roster, MONDAY_0830_PT)
    assert secret not in dms(slack)["DU0M1"]
    assert "Overdue SOAP notes* (0)" in dms(slack)["DU0M1"]


def test_unserved_and_escaping(roster: Deps, slack: LocalSlack) -> None:
    with roster.session_factory.begin() as s:
        district = s.get(m.District, "mesa")
        assert district is not None
        district.name = "Mesa <Public> & Schools"
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
    svc.send_weekly_digests(roster, MONDAY_0830_PT)
    text = dms(slack)["DU0M1"]
    assert (
        "*Unserved student services* (1)\n• Z.Q. (S9) · SLP · Mesa &lt;Public&gt; &amp; Schools"
        in text
    )
    assert "not matched yet" in text


def test_the_nudge_outbox_leaves_an_unsent_digest_to_this_service(
    roster: Deps, slack: LocalSlack
) -> None:
    from bot.services import nudges

    slack.fail_next("chat.postMessage", 200, error="fatal_error")
    svc.send_weekly_digests(roster, MONDAY_0830_PT)
    nudges.deliver(roster)  # the other sender of the nudges table
    with roster.session_factory() as s:
        row = s.scalars(select(m.Nudge).where(m.Nudge.rule == "weekly_digest")).one()
        assert (row.sent_at, row.skipped_at, row.claimed_by) == (None, None, None)
    assert svc.send_weekly_digests(roster, MONDAY_0830_PT + timedelta(minutes=15)) == 1


# --- escalations that persist until resolved (one digest per manager per week) -------------


def test_overdue_reviews_triennials_and_old_notes_stay_until_resolved(
    roster: Deps, slack: LocalSlack
) -> None:
    with roster.session_factory.begin() as s:
        s1 = s.get(m.Student, "S1")
        s3 = s.get(m.Student, "S3")
        assert s1 is not None and s3 is not None
        s1.triennial_due = date(2026, 11, 2)  # four weeks overdue
        s3.annual_review_due = date(2026, 11, 27)
    svc.send_weekly_digests(roster, MONDAY_0830_PT)
    week1 = dms(slack)["DU0M1"]
    assert "*Overdue IEP reviews and triennials* (2)" in week1
    assert "Mon Nov 2 — triennial, T.E. (S1), Birchwood Elementary (Ana Reyes), 28 days" in week1
    assert "Fri Nov 27 — annual review, I.M. (S3)" in week1
    assert "• Ana Reyes: 1, oldest from Nov 20 (1 over 5 days)" in week1

    slack.clear()
    with roster.session_factory.begin() as s:
        s3 = s.get(m.Student, "S3")
        assert s3 is not None
        s3.annual_review_due = date(2027, 11, 27)  # the review was held
    svc.send_weekly_digests(roster, MONDAY_0830_PT + timedelta(days=7))
    week2 = dms(slack)["DU0M1"]
    assert "*Overdue IEP reviews and triennials* (2)" in week2  # S2's fell due on Dec 5
    assert "T.E. (S1)" in week2 and "N.L. (S2)" in week2 and "I.M. (S3)" not in week2
    assert "• Ana Reyes: 1, oldest from Nov 20 (1 over 5 days)" in week2  # still unwritten


def test_licences_ending_before_the_next_digest_and_a_bit_are_listed(
    roster: Deps, slack: LocalSlack
) -> None:
    with roster.session_factory.begin() as s:
        lic = s.scalars(select(m.License).where(m.License.license_number == "AK-2")).one()
        lic.expires_on = date(2026, 12, 10)
    svc.send_weekly_digests(roster, MONDAY_0830_PT)
    text = dms(slack)["DU0M1"]
    assert (
        "*Licences ending in the next 14 days* (1)\n• Thu Dec 10 — Ben Ko: AK licence AK-2" in text
    )


def test_people_slack_refuses_are_listed_until_a_dm_gets_through(
    roster: Deps, slack: LocalSlack, clock: FixedClock
) -> None:
    from bot.services import nudges

    nudges.sweep_annual_reviews(roster)  # S3 (Ana Reyes) and S2 (Ben Ko) are due soon
    slack.fail_next("chat.postMessage", 200, error="account_inactive")  # Ana's DM, first
    report = nudges.deliver(roster)
    assert (report.unreachable, report.messages) == (1, 1)
    assert nudges.deliver(roster).messages == 0  # never retried

    svc.send_weekly_digests(roster, MONDAY_0900_AK)
    text = dms(slack)["DU0M1"]
    line = "*Can't reach* (1)\n• can't reach <@U0P1> (Ana Reyes): Slack says account_inactive"
    assert line in text

    slack.clear()
    clock.advance(days=1)
    nudges.sweep_soap_notes(roster)
    assert nudges.deliver(roster).messages == 1  # Ana's account works again
    svc.send_weekly_digests(roster, MONDAY_0900_AK + timedelta(days=7))
    assert "Can't reach" not in dms(slack)["DU0M1"]


def test_a_manager_limited_to_some_districts_hears_only_about_them(
    roster: Deps, slack: LocalSlack
) -> None:
    with roster.session_factory.begin() as s:
        s.add(m.ManagerDistrict(manager_id="M2", district_id="mesa"))
    assert svc.send_weekly_digests(roster, MONDAY_0900_AK) == 2
    everything, mesa = dms(slack)["DU0M1"], dms(slack)["DU0M2"]
    assert "Anchorage School District" in everything and "Ana Reyes: 1" in everything
    assert "N.L. (S2)" in everything
    assert "For Mesa Public Schools." in mesa
    assert "• Mesa Public Schools: 0 of 0 student services served" in mesa
    for elsewhere in ("Anchorage", "Birchwood", "Ana Reyes", "Ben Ko", "(S1)", "(S2)", "(S3)"):
        assert elsewhere not in mesa
    assert "*Overdue SOAP notes* (0)" in mesa
    assert "*IEP reviews due in the next 14 days* (0)" in mesa
