"""Handlers, through the app: /minutes for a provider, a manager, someone else; bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.clock import FixedClock
from bot.deps import Deps
from bot.local_slack import LocalSlack
from tests.handlers.app_driver import Driver, Reply
from tests.services.minutes_seed import seed_minutes


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
    assert "T.E. (S1) · SLP" in said and "90 of 150 min so far (270 this month)" in said
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
