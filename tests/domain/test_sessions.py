"""Domain: dated sessions from weekly slots across DST, the note rules, trial data, digest weeks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.domain.sessions import (
    OBJECTIVE_MISSING,
    TrialsError,
    digest_due,
    digest_key,
    iso_week,
    merge_hours,
    needs_note,
    note_from_form,
    note_overdue,
    occurrences,
    parse_trials,
    session_key,
    within_hours,
)

AK, PT, AZ = "America/Anchorage", "America/Los_Angeles", "America/Phoenix"
NOW = datetime(2026, 11, 30, 17, 0, tzinfo=UTC)  # Mon 08:00 Alaska


def test_weekly_slot_gives_one_session_per_week_in_the_window() -> None:
    got = occurrences(1, 9 * 60, 9 * 60 + 30, AK, NOW, NOW + timedelta(days=14))
    assert [(o.on, o.starts_at, o.minutes) for o in got] == [
        (date(2026, 12, 1), datetime(2026, 12, 1, 18, 0, tzinfo=UTC), 30),
        (date(2026, 12, 8), datetime(2026, 12, 8, 18, 0, tzinfo=UTC), 30),
    ]


def test_a_slot_earlier_today_is_not_in_the_window() -> None:
    # Mon 07:30 Alaska has passed at 08:00 Alaska; next Monday's and the one after are in.
    got = occurrences(0, 7 * 60 + 30, 8 * 60, AK, NOW, NOW + timedelta(days=14))
    assert [o.on for o in got] == [date(2026, 12, 7), date(2026, 12, 14)]


@pytest.mark.parametrize(
    ("zone", "expected_utc_hours"),
    [
        (PT, [17, 16]),  # 09:00 Pacific: PST (UTC-8) before Mar 14, PDT (UTC-7) after
        (AZ, [16, 16]),  # Arizona does not shift
    ],
)
def test_slot_keeps_its_wall_time_across_daylight_saving(
    zone: str, expected_utc_hours: list[int]
) -> None:
    start = datetime(2027, 3, 9, 0, 0, tzinfo=UTC)
    got = occurrences(2, 9 * 60, 9 * 60 + 30, zone, start, start + timedelta(days=14))
    assert [o.starts_at.hour for o in got] == expected_utc_hours
    assert [o.on for o in got] == [date(2027, 3, 10), date(2027, 3, 17)]


@pytest.mark.parametrize(
    ("local_start", "minutes", "inside"),
    [
        ("09:00", 30, True),
        ("11:15", 30, False),  # runs past 11:30 into lunch
        ("08:00", 30, False),  # before the bell
        ("11:00", 30, True),  # ends exactly at 11:30
    ],
)
def test_within_school_hours(local_start: str, minutes: int, inside: bool) -> None:
    h, m = (int(x) for x in local_start.split(":"))
    # Monday 2026-11-30 in Alaska (UTC-9)
    starts = datetime(2026, 11, 30, h + 9, m, tzinfo=UTC)
    hours = [(0, 8 * 60 + 30, 11 * 60 + 30), (0, 12 * 60 + 15, 15 * 60)]
    assert within_hours(starts, minutes, AK, hours) is inside


def test_touching_school_windows_merge() -> None:
    assert merge_hours([(0, 600, 700), (0, 510, 600), (1, 0, 10)]) == [(0, 510, 700), (1, 0, 10)]


def test_group_slots_share_a_key_and_solo_slots_do_not() -> None:
    d = date(2026, 12, 1)
    assert session_key(7, None, d) == "slot:7:2026-12-01"
    assert session_key(7, "abc:99", d) == session_key(8, "abc:99", d) == "group:abc:99:2026-12-01"
    long = session_key(1, "x" * 80, d)
    assert len(long) <= 64 and long == session_key(2, "x" * 80, d)


@pytest.mark.parametrize(
    ("status", "hours_ago", "needs", "overdue"),
    [
        ("held", 49, True, True),
        ("held", 47, True, False),
        ("scheduled", 49, True, True),  # nobody marked it, but it is over
        ("scheduled", -1, False, False),  # still in the future
        ("cancelled", 100, False, False),
        ("no_show", 100, False, False),
    ],
)
def test_note_rules(status: str, hours_ago: float, needs: bool, overdue: bool) -> None:
    starts = NOW - timedelta(hours=hours_ago, minutes=30)  # a 30-minute session
    assert needs_note(status, starts, 30, NOW) is needs
    assert note_overdue(status, starts, 30, NOW, 48) is overdue


def test_trials_read_several_forms() -> None:
    trials = parse_trials("8/10\nGoal 3: 7 of 10\n 5 / 5 correct; 0/4")
    assert [(t.goal, t.correct, t.total) for t in trials] == [
        (1, 8, 10),
        (3, 7, 10),
        (3, 5, 5),
        (4, 0, 4),
    ]
    assert trials[0].line() == "Goal 1: 8/10 correct (80%)"
    assert parse_trials("") == []


@pytest.mark.parametrize(
    ("typed", "objective"),
    [
        ("8/10 with cues", "Goal 1: 8/10 correct (80%), with cues"),
        ("80%", "Goal 1: 80% correct"),
        ("8 of 10 (min cues)", "Goal 1: 8/10 correct (80%), min cues"),
        ("Goal 2: 7 out of 10 correct - max cues", "Goal 2: 7/10 correct (70%), max cues"),
        ("8/10 with cues, then faded", "Goal 1: 8/10 correct (80%), with cues, then faded"),
        ("90% (min, visual cues)", "Goal 1: 90% correct, min, visual cues"),
    ],
)
def test_trials_as_clinicians_write_them_keep_the_comment(typed: str, objective: str) -> None:
    note, errors = note_from_form(None, None, None, None, typed)
    assert errors == {}
    assert note is not None and note.objective == objective


def test_a_comma_before_another_score_separates_goals() -> None:
    trials = parse_trials("8/10, 70% with cues; goal 4 3 of 4")
    assert [(t.goal, t.percent, t.note) for t in trials] == [
        (1, 80, ""),
        (2, 70, "with cues"),
        (4, 75, ""),
    ]


@pytest.mark.parametrize("bad", ["eight of ten", "11/10", "3/0", "8/10/2", "120%", "8/10 5"])
def test_unreadable_trials_say_which_line(bad: str) -> None:
    with pytest.raises(TrialsError, match="Line 1"):
        parse_trials(bad)


def test_note_form_builds_objective_from_trials_when_empty() -> None:
    note, errors = note_from_form("tired", "", "", "", "8/10\n6/10")
    assert errors == {}
    assert note is not None
    assert note.objective == "Goal 1: 8/10 correct (80%)\nGoal 2: 6/10 correct (60%)"
    note, _ = note_from_form(None, "Produced /s/ in words", None, None, "8/10")
    assert note is not None and note.objective.splitlines() == [
        "Produced /s/ in words",
        "Goal 1: 8/10 correct (80%)",
    ]


def test_note_form_problems_are_per_field() -> None:
    note, errors = note_from_form("x" * 3001, "  ", None, None, "oops")
    assert note is None
    assert set(errors) == {"subjective", "trials", "objective"}
    assert errors["objective"] == OBJECTIVE_MISSING
    _, errors = note_from_form(None, "o" * 2990, None, None, "8/10")
    assert "limit is 3,000" in errors["objective"]


@pytest.mark.parametrize(
    ("now", "zone", "due"),
    [
        (datetime(2026, 11, 30, 15, 59, tzinfo=UTC), PT, False),  # Mon 07:59 Pacific
        (datetime(2026, 11, 30, 16, 0, tzinfo=UTC), PT, True),  # Mon 08:00 Pacific
        (datetime(2026, 12, 1, 7, 59, tzinfo=UTC), PT, True),  # Mon 23:59 Pacific: catch up
        (datetime(2026, 12, 1, 8, 0, tzinfo=UTC), PT, False),  # Tuesday
        (datetime(2026, 11, 30, 16, 0, tzinfo=UTC), AK, False),  # Mon 07:00 Alaska
        (datetime(2026, 11, 30, 17, 0, tzinfo=UTC), AK, True),
    ],
)
def test_digest_is_due_from_monday_eight_local(now: datetime, zone: str, due: bool) -> None:
    assert digest_due(now, zone) is due


def test_digest_key_is_per_manager_and_local_iso_week() -> None:
    assert iso_week(date(2027, 1, 4)) == "2027-W01"
    assert iso_week(date(2026, 12, 31)) == "2026-W53"
    monday_pt = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)
    assert digest_key("M1", monday_pt, PT) == "digest:M1:2026-W49"
