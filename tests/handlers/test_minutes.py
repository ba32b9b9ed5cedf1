"""Handlers, through the app: /minutes for a provider, a manager, someone else; bad input."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.deps import Deps
from devtools.local_slack import LocalSlack
from devtools.slack_requests import block_actions_body
from storage import models as m
from tests.services.minutes_seed import seed_minutes
from tests.support.app_driver import Driver, Reply


def shown(reply: Reply) -> str:
    """The reply's text as a person reads it (block text unescaped)."""
    return reply.said().encode().decode("unicode_escape")


@pytest.fixture
def driver(deps: Deps, tmp_path: Path, clock: FixedClock, slack: LocalSlack) -> Driver:
    seed_minutes(deps, tmp_path, clock)
    slack.clear()
    return Driver(deps, slack)


def test_provider_sees_their_students_this_month(driver: Driver) -> None:
    said = shown(driver.slash("U0P1", "/minutes"))
    assert "Minutes, December 2026" in said
    # "So far" is what the sessions settled plus the whole weeks that are over (the domain's
    # due-so-far rule), never more than the month's required minutes.
    assert "T.E. (S1) · SLP" in said and "90 of 150 min so far (150 this month)" in said
    assert "30 min owed · *behind*" in said
    assert "2 make-ups owed" in said
    assert "Tala" not in said and "N.L. (S2)" not in said  # initials only; not P2's student


def test_manager_sees_a_district_and_every_district(driver: Driver) -> None:
    said = shown(driver.slash("U0M1", "/minutes", "district=anchorage"))
    assert "Anchorage School District, December 2026" in said
    assert "2 students behind" in said and "N.L. (S2)" in said and "T.E. (S1)" in said
    assert "Ana Reyes (P1) — 2 make-ups, 60 min" in said
    assert "I.M. (S3)" not in said  # on track
    org = shown(driver.slash("U0M1", "/minutes"))
    assert "Anchorage School District* (`anc`): 2 students behind, 2 make-ups owed" in org


@pytest.mark.parametrize(
    ("user", "text", "answer"),
    [
        ("U0P1", "district=anc", "Only provider-success managers can see a district's minutes"),
        ("U0NOBODY", "", "I don't have you in the roster yet"),
        ("U0P1", "month=2026-13", "month must be YYYY-MM"),
        ("U0P1", "everything please", "I don't understand `everything`"),
        ("U0M1", "district=atlantis", "I don't know a district called `atlantis`"),
    ],
)
def test_refusals_and_bad_input_get_a_sentence(
    driver: Driver, user: str, text: str, answer: str
) -> None:
    said = shown(driver.slash(user, "/minutes", text))
    assert answer in said
    assert "Traceback" not in said and "Something went wrong" not in said


def test_help(driver: Driver) -> None:
    assert "`/minutes district=anc`" in driver.slash("U0P1", "/minutes", "help").said()


def choose(driver: Driver, user: str, action_id: str, value: str) -> Reply:
    action = {
        "action_id": action_id,
        "block_id": "b",
        "type": "static_select",
        "selected_option": {"text": {"type": "plain_text", "text": "x"}, "value": value},
    }
    return driver.send(
        block_actions_body(
            user_id=user,
            action=action,
            response_url=None,
            container={"type": "view", "view_id": "VHOME"},
            view={"id": "VHOME", "type": "home", "blocks": []},
        )
    )


def test_home_cancel_menu_asks_who_cancelled_and_minutes_follow(driver: Driver) -> None:
    home = shown(driver.open_home("U0P1"))
    assert "Minutes, December 2026" in home and "Cancelled by the school" in home
    with driver.deps.session_factory() as s:
        group = s.query(m.TherapySession).filter_by(session_key="g1", student_id="S1").one().id
    assert "30 min owed" in shown(driver.slash("U0P1", "/minutes"))
    reply = choose(driver, "U0P1", "home_mark_cancelled", f"provider:{group}")
    assert reply.status == 200 and "views.publish" in reply.methods()
    with driver.deps.session_factory() as s:
        row = s.get(m.TherapySession, group)
        assert row is not None and (row.status, row.cancel_reason) == ("cancelled", "provider")
    assert "60 of 150 min so far (150 this month) · 60 min owed" in shown(
        driver.slash("U0P1", "/minutes")
    )
    choose(driver, "U0P1", "home_mark_cancelled", f"school:{group}")
    assert "60 of 150 min so far (150 this month) · 30 min owed" in shown(
        driver.slash("U0P1", "/minutes")
    )
    # Another provider can't, and a forged reason is refused politely.
    assert "Only the session's own provider" in shown(
        choose(driver, "U0P2", "home_mark_cancelled", f"provider:{group}")
    )
    assert "out of date" in shown(choose(driver, "U0P1", "home_mark_cancelled", f"snow:{group}"))


def test_manager_home_button_uploads_this_months_csvs(driver: Driver) -> None:
    home = shown(driver.open_home("U0M1"))
    assert "Minutes this month" in home and "Service log CSV" in home
    reply = driver.press("U0M1", "home_minutes_csv", "anc", from_home=True)
    uploads = [c.params for c in reply.calls if c.method == "file_upload"]
    assert [u["filename"] for u in uploads] == [
        "minutes-anc-2026-12-sessions.csv",
        "minutes-anc-2026-12-summary.csv",
    ]
    sessions = uploads[0]["content"].decode()
    assert sessions.startswith("date,start_time,timezone,student_id,service,")
    assert len(sessions.splitlines()) == 11 and "Tala" not in sessions
    refused = shown(driver.press("U0P1", "home_minutes_csv", "anc", from_home=True))
    assert "Only provider-success managers can download service logs" in refused


def s3_line(driver: Driver) -> str:
    """What /minutes says of S3 (its line)."""
    said = shown(driver.slash("U0P1", "/minutes"))
    start = said.index("I.M. (S3)")
    return said[start : said.index("\n", start)]


def test_a_missed_session_makes_the_student_behind_at_once_and_a_held_make_up_clears_it(
    driver: Driver, clock: FixedClock
) -> None:
    from datetime import UTC, datetime

    from bot.services import makeups

    with driver.deps.session_factory.begin() as s:  # no winter break: make-up times ahead
        s.query(m.SchoolCalendarDay).delete()
        group = s.query(m.TherapySession).filter_by(session_key="g1", student_id="S3").one().id
    # Tue Dec 15: S3 (1 x 30 a week) had 90 of the 75 due so far: on track.
    line = s3_line(driver)
    assert "90 of 75 min so far" in line and "behind" not in line, line
    # Yesterday's group session turns out cancelled by the provider: due at once, so behind.
    choose(driver, "U0P1", "home_mark_cancelled", f"provider:{group}")
    line = s3_line(driver)
    assert "60 of 75 min so far" in line and "60 min owed" in line and "behind" in line
    # A make-up is booked (not yet held: still behind), then held a week later: on track.
    first = makeups.makeup_options(driver.deps, "U0P1", group).slots[0]
    booked = makeups.book_makeup(driver.deps, "U0P1", group, first.value)
    assert "behind" in s3_line(driver)
    clock.at = first.starts_at + timedelta(hours=1)
    assert clock.at < datetime(2026, 12, 31, tzinfo=UTC)  # still December
    driver.press("U0P1", "home_mark_held", str(booked.session_id), from_home=True)
    line = s3_line(driver)
    assert "behind" not in line and "30 min owed" in line  # Dec 7 never marked: still owed
