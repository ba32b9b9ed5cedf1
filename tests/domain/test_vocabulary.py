"""Tests: the one vocabulary (days, services, session statuses) and its one table of labels."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from bot.domain import labels
from bot.domain.vocabulary import SCHOOL_DAYS, Day, Service, SessionStatus


def test_days_follow_date_weekday() -> None:
    monday = date(2026, 11, 30)
    for offset, day in enumerate(Day):
        weekday = (monday + timedelta(days=offset)).weekday()
        assert day.weekday == weekday
        assert Day.of(weekday) is day
    assert SCHOOL_DAYS == (Day.MON, Day.TUE, Day.WED, Day.THU, Day.FRI)


@pytest.mark.parametrize(
    ("text", "day"), [("Mon", Day.MON), ("thursday", Day.THU), (" SUN", Day.SUN)]
)
def test_day_parse(text: str, day: Day) -> None:
    assert Day.parse(text) is day


def test_day_parse_refuses_other_words() -> None:
    with pytest.raises(ValueError):
        Day.parse("someday")


def test_members_equal_the_stored_strings() -> None:
    assert SessionStatus.NO_SHOW == "no_show"
    assert Service.PSYCH == "psych"
    assert [str(s) for s in Service] == ["slp", "ot", "pt", "psych", "mh"]


def test_every_service_and_status_has_a_label() -> None:
    assert set(labels.SERVICE_LABELS) == set(Service)
    assert set(labels.STATUS_LABELS) == set(SessionStatus)


@pytest.mark.parametrize(
    ("service", "label", "one", "many"),
    [
        ("slp", "SLP", "SLP", "SLPs"),
        ("psych", "school psychology", "school psychologist", "school psychologists"),
        ("mh", "mental health", "mental-health specialist", "mental-health specialists"),
        ("art", "art", "art", "arts"),
    ],
)
def test_one_service_table(service: str, label: str, one: str, many: str) -> None:
    assert labels.service_label(service) == label
    assert labels.provider_label(service) == one
    assert labels.provider_label(service, 2) == many


def test_status_labels() -> None:
    assert labels.status_label("no_show") == "no-show"
    assert labels.status_label("scheduled") == "not marked yet"
    assert labels.marked_as("no_show") == "a no-show"
    assert labels.marked_as("held") == "held"


def test_day_labels() -> None:
    assert labels.day_label(Day.WED) == labels.day_label(2) == "Wed"
    assert labels.day_full(6) == "Sunday"


def test_zone_labels() -> None:
    assert labels.zone_label("America/Anchorage") == "Alaska"
    assert labels.zone_abbr("America/Anchorage") == "AKT"
    assert labels.zone_abbr("America/Phoenix") == "Arizona time"
    assert labels.zone_abbr("Europe/Paris") == labels.zone_label("Europe/Paris") == "Europe/Paris"
    # Every zone people may type has both labels.
    for tz in {*labels.ZONE_ABBREVIATIONS.values(), *labels.ZONE_WORDS.values()}:
        assert tz in labels.ZONE_LABELS


def test_state_names() -> None:
    assert labels.state_name("ak") == "Alaska"
    assert labels.state_name("ZZ") == "ZZ"
