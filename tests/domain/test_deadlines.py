"""Domain: deadline stages (with catch-up after downtime), SOAP note rules, working hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.domain.deadlines import (
    NudgePolicy,
    WorkingHours,
    annual_review_stage,
    back_from_time_off,
    current_stage,
    days_overdue,
    in_working_hours,
    licence_escalates,
    licence_stage,
    next_annual_review_due,
    next_day_window_start,
    note_due_at,
    note_escalates,
    nudge_key,
    send_after,
    snoozed_key,
    stage_is_current,
    triennial_stage,
    usable_zone,
    window_date,
    working_window,
)
from bot.domain.privacy import initials, student_label
from bot.domain.schedule import local_date
from bot.domain.sessions import needs_note, note_overdue

TODAY = date(2026, 11, 30)  # a Monday
ANNUAL = (30, 14, 7, 1)
TRIENNIAL = (60, 30, 14)
LICENCE = (60, 30, 7)
HOURS = WorkingHours.of(("mon", "tue", "wed", "thu", "fri"), time(8), time(18))
AK, NY, LA, AZ = "America/Anchorage", "America/New_York", "America/Los_Angeles", "America/Phoenix"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# --- stages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days_left", "stage"),
    [
        (45, None),
        (31, None),
        (30, "30"),
        (29, "30"),
        (15, "30"),
        (14, "14"),
        (8, "14"),
        (7, "7"),
        (6, "7"),  # after downtime: the 7-day notice, never the 30-day one
        (2, "7"),
        (1, "1"),
        (0, "1"),
        (-1, "overdue"),
        (-200, "overdue"),
    ],
)
def test_annual_review_stage_is_the_smallest_threshold_reached(days_left: int, stage: str) -> None:
    assert annual_review_stage(TODAY + timedelta(days=days_left), TODAY, ANNUAL) == stage


@pytest.mark.parametrize(
    ("days_left", "stage"),
    [(90, None), (61, None), (60, "60"), (31, "60"), (30, "30"), (15, "30"), (14, "14"),
     (1, "14"), (0, "14"), (-1, "overdue"), (-400, "overdue")],
)  # fmt: skip
def test_triennial_stage(days_left: int, stage: str | None) -> None:
    assert triennial_stage(TODAY + timedelta(days=days_left), TODAY, TRIENNIAL) == stage


@pytest.mark.parametrize(
    ("days_left", "stage", "managers"),
    [
        (61, None, False),
        (60, "60", False),
        (31, "60", False),
        (30, "30", False),
        (8, "30", False),
        (7, "7", True),
        (3, "7", True),
        (0, "7", True),  # expires today: still worth saying
        (-1, None, False),  # expired: it no longer counts, nothing more to say
    ],
)
def test_licence_stage_and_manager_escalation(
    days_left: int, stage: str | None, managers: bool
) -> None:
    expires = TODAY + timedelta(days=days_left)
    assert licence_stage(expires, TODAY, LICENCE) == stage
    assert licence_escalates(expires, TODAY, 7) is managers


@pytest.mark.parametrize(
    ("run_days", "sent"),
    [
        # A clock that runs every day sends every stage once.
        (list(range(40, -3, -1)), ["30", "14", "7", "1", "overdue"]),
        # Down from 20 days out to 6: on day 6 only the 7-day notice goes, not 30 or 14.
        ([40, 35, 31, 6, 5, 1, 0], ["7", "1"]),
        # Down across the due date: the overdue notice, not the missed 1-day one.
        ([9, 8, -3, -4], ["14", "overdue"]),
        # Runs many times a day change nothing.
        ([14, 14, 14, 13, 13], ["14"]),
    ],
)
def test_downtime_catch_up_sends_only_the_latest_stage(
    run_days: list[int], sent: list[str]
) -> None:
    due = TODAY + timedelta(days=60)
    ledger: list[str] = []
    for days_left in run_days:
        stage = annual_review_stage(due, due - timedelta(days=days_left), ANNUAL)
        if stage is not None and stage not in ledger:
            ledger.append(stage)
    assert ledger == sent


@pytest.mark.parametrize(
    ("rule", "stage", "days_left", "current"),
    [
        ("annual_review", "30", 20, True),
        ("annual_review", "30", 6, False),  # queued, then held past the 7-day mark
        ("annual_review", "7", 6, True),
        ("annual_review", "1", -1, False),
        ("triennial", "60", 31, True),
        ("triennial", "60", 30, False),
        ("licence", "30", 7, False),
        ("soap_note", "daily", 3, True),
    ],
)
def test_a_queued_stage_is_current_only_while_it_is_the_latest(
    rule: str, stage: str, days_left: int, current: bool
) -> None:
    due = TODAY + timedelta(days=days_left)
    assert stage_is_current(rule, stage, due, TODAY, NudgePolicy()) is current


def test_current_stage_ignores_the_order_stages_are_given_in() -> None:
    assert current_stage(5, (1, 30, 7, 14)) == 7
    assert current_stage(40, (1, 30, 7, 14)) is None


@pytest.mark.parametrize(
    ("held", "next_due"),
    [
        (date(2026, 11, 20), date(2027, 11, 20)),
        (date(2028, 2, 29), date(2029, 2, 28)),
    ],
)
def test_next_annual_review_is_a_year_after_it_was_held(held: date, next_due: date) -> None:
    assert next_annual_review_due(held) == next_due


def test_keys_name_rule_subject_due_stage_and_recipient() -> None:
    key = nudge_key("annual_review", "S1", date(2026, 12, 1), "1", "provider", "P1")
    assert key == "annual_review:S1:2026-12-01:1:provider:P1"
    assert nudge_key("soap_note", "P1", None, "daily", "provider", "P1") != key
    once = snoozed_key(key, date(2026, 12, 1))
    assert snoozed_key(once, date(2026, 12, 2)) == key + ":snooze:2026-12-02"


# --- SOAP notes ----------------------------------------------------------------------------

START = utc("2026-11-25T17:00:00")  # a 30-minute session, over at 17:30Z


@pytest.mark.parametrize(
    ("status", "now", "needs"),
    [
        ("held", START + timedelta(minutes=30), True),
        ("scheduled", START + timedelta(minutes=30), True),  # over; nobody marked it held
        ("scheduled", START + timedelta(minutes=29), False),  # still running
        ("cancelled", START + timedelta(days=9), False),
        ("no_show", START + timedelta(days=9), False),
    ],
)
def test_which_sessions_need_a_note(status: str, now: datetime, needs: bool) -> None:
    assert needs_note(status, START, 30, now) is needs


@pytest.mark.parametrize(
    ("hours_after_end", "overdue"),
    [(47.9, False), (48, True), (200, True)],
)
def test_a_note_is_overdue_48_hours_after_the_session_ended(
    hours_after_end: float, overdue: bool
) -> None:
    # One rule for the nudges, the SOAP screens and /deadlines: bot.domain.sessions.
    now = START + timedelta(minutes=30, hours=hours_after_end)
    assert note_overdue("held", START, 30, now, 48) is overdue


@pytest.mark.parametrize(
    ("days_late", "escalates", "days"),
    [(0, False, 0), (1.5, False, 1), (4.99, False, 4), (5, True, 5), (9, True, 9)],
)
def test_notes_escalate_to_managers_five_days_after_falling_overdue(
    days_late: float, escalates: bool, days: int
) -> None:
    due_at = note_due_at(START, 30, 48)
    assert due_at == utc("2026-11-27T17:30:00")
    now = due_at + timedelta(days=days_late)
    assert note_escalates(due_at, now, 5) is escalates
    assert days_overdue(due_at, now) == days


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "last", "names", "label"),
    [
        ("Mateo", "Zeller", False, "M.Z. (S1003)"),
        ("mateo", "de la Cruz", False, "M.D. (S1003)"),
        ("Mateo", "Zeller", True, "Mateo Zeller (S1003)"),
        ("", "", False, "? (S1003)"),
    ],
)
def test_students_are_named_by_initials_and_id(
    first: str, last: str, names: bool, label: str
) -> None:
    assert student_label("S1003", first, last, names) == label


def test_initials() -> None:
    assert initials("Ana", "Li") == "A.L."


def test_unknown_zone_falls_back() -> None:
    assert usable_zone("Mars/Olympus", LA) == LA
    assert usable_zone(None, LA) == LA
    assert usable_zone(AK, LA) == AK


# --- working hours -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "zone", "inside", "after"),
    [
        # One instant, two providers: 09:00 in New York, 05:00 in Anchorage.
        ("2026-11-30T14:00:00", NY, True, "2026-11-30T14:00:00"),
        ("2026-11-30T14:00:00", AK, False, "2026-11-30T17:00:00"),
        # 08:00Z: midnight Pacific, 23:00 Sunday in Alaska: both wait for Monday 08:00.
        ("2026-11-30T08:00:00", LA, False, "2026-11-30T16:00:00"),
        ("2026-11-30T08:00:00", AK, False, "2026-11-30T17:00:00"),
        # 17:00Z: 08:00 sharp in Alaska opens the window.
        ("2026-11-30T17:00:00", AK, True, "2026-11-30T17:00:00"),
        # 18:00 local closes it: New York waits for the next morning, Anchorage is mid-day.
        ("2026-11-30T23:00:00", NY, False, "2026-12-01T13:00:00"),
        ("2026-11-30T23:00:00", AK, True, "2026-11-30T23:00:00"),
        # Friday evening waits for Monday.
        ("2026-12-04T23:30:00", NY, False, "2026-12-07T13:00:00"),
        ("2026-12-05T18:00:00", AK, False, "2026-12-07T17:00:00"),
    ],
)
def test_working_hours_in_the_recipients_own_zone(
    now: str, zone: str, inside: bool, after: str
) -> None:
    instant = utc(now)
    assert in_working_hours(instant, zone, HOURS) is inside
    assert send_after(instant, zone, HOURS) == utc(after)


@pytest.mark.parametrize(
    ("now", "zone", "opens"),
    [
        # The week of 2026-11-01: clocks fall back on Sunday. Friday's 08:00 EDT was 12:00Z;
        # Monday's 08:00 EST is 13:00Z. Alaska moves by the same hour; Arizona does not move.
        ("2026-10-30T22:30:00", NY, "2026-11-02T13:00:00"),
        ("2026-10-30T11:59:00", NY, "2026-10-30T12:00:00"),
        ("2026-10-31T12:00:00", AK, "2026-11-02T17:00:00"),
        ("2026-10-30T15:00:00", AK, "2026-10-30T16:00:00"),
        ("2026-10-30T14:00:00", AZ, "2026-10-30T15:00:00"),
        ("2026-10-31T12:00:00", AZ, "2026-11-02T15:00:00"),
        # The week of 2027-03-14: clocks spring forward on Sunday.
        ("2027-03-12T23:30:00", NY, "2027-03-15T12:00:00"),
        ("2027-03-12T12:30:00", NY, "2027-03-12T13:00:00"),
        ("2027-03-13T12:00:00", LA, "2027-03-15T15:00:00"),
    ],
)
def test_windows_follow_daylight_saving_per_date(now: str, zone: str, opens: str) -> None:
    assert send_after(utc(now), zone, HOURS) == utc(opens)


def test_the_window_closes_at_local_18_00_across_the_change() -> None:
    start, end = working_window(utc("2026-11-02T20:00:00"), NY, HOURS)
    assert (start, end) == (utc("2026-11-02T13:00:00"), utc("2026-11-02T23:00:00"))


@pytest.mark.parametrize(
    ("now", "zone", "day", "snooze_until"),
    [
        ("2026-11-30T17:00:00", AK, date(2026, 11, 30), "2026-12-01T17:00:00"),
        ("2026-11-30T08:00:00", LA, date(2026, 11, 30), "2026-12-01T16:00:00"),
        ("2026-12-04T20:00:00", NY, date(2026, 12, 4), "2026-12-07T13:00:00"),
        ("2026-12-05T20:00:00", NY, date(2026, 12, 7), "2026-12-07T13:00:00"),
    ],
)
def test_window_date_and_snooze_until_tomorrow(
    now: str, zone: str, day: date, snooze_until: str
) -> None:
    assert window_date(utc(now), zone, HOURS) == day
    assert next_day_window_start(utc(now), zone, HOURS) == utc(snooze_until)


def test_local_date_differs_by_zone_at_one_instant() -> None:
    instant = utc("2026-12-01T06:00:00")
    assert local_date(instant, NY) == date(2026, 12, 1)
    assert local_date(instant, AK) == date(2026, 11, 30)


def test_working_hours_need_a_day_and_a_span() -> None:
    with pytest.raises(ValueError):
        WorkingHours.of((), time(8), time(18))
    with pytest.raises(ValueError):
        WorkingHours.of(("mon",), time(18), time(8))


@pytest.mark.parametrize(
    ("spans", "back"),
    [
        ([], None),
        ([(date(2026, 12, 1), date(2026, 12, 4))], None),  # starts tomorrow
        ([(date(2026, 11, 23), date(2026, 11, 29))], None),  # ended yesterday
        ([(TODAY, TODAY)], datetime(2026, 12, 1, 16, tzinfo=UTC)),  # Tue 08:00 Pacific
        # Out through Friday: back Monday; a span that follows on counts too.
        ([(TODAY, date(2026, 12, 4))], datetime(2026, 12, 7, 16, tzinfo=UTC)),
        (
            [(date(2026, 12, 2), date(2026, 12, 8)), (date(2026, 11, 27), date(2026, 12, 1))],
            datetime(2026, 12, 9, 16, tzinfo=UTC),
        ),
    ],
)
def test_back_from_time_off(spans: list[tuple[date, date]], back: datetime | None) -> None:
    assert back_from_time_off(TODAY, spans, "America/Los_Angeles", HOURS) == back
