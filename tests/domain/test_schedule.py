"""Domain: weekly windows, their edits, and conversion across zones for actual dates."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.schedule import (
    Change,
    WeeklyWindow,
    apply_change,
    convert,
    describe_day_lines,
    merge,
    to_instants,
)

PT, AK, AZ, ET, HI = (
    "America/Los_Angeles",
    "America/Anchorage",
    "America/Phoenix",
    "America/New_York",
    "Pacific/Honolulu",
)
WINTER, SUMMER = date(2027, 1, 4), date(2027, 7, 5)  # Mondays
TUE_8_11_PT = WeeklyWindow(1, 8 * 60, 11 * 60, PT)


def hm(ws: list[WeeklyWindow] | tuple[WeeklyWindow, ...]) -> list[str]:
    return [
        f"{w.day}:{w.start // 60:02d}{w.start % 60:02d}-{w.end // 60:02d}{w.end % 60:02d}"
        for w in ws
    ]


@pytest.mark.parametrize(
    ("zone", "monday", "expected"),
    [
        (AK, WINTER, ["1:0700-1000"]),  # a PT provider's 8-11 is 7-10 in Anchorage all year
        (AK, SUMMER, ["1:0700-1000"]),
        (AZ, WINTER, ["1:0900-1200"]),  # but 9-12 in Phoenix in winter...
        (AZ, SUMMER, ["1:0800-1100"]),  # ...and 8-11 there in summer
        (HI, WINTER, ["1:0600-0900"]),
        (HI, SUMMER, ["1:0500-0800"]),
        (ET, WINTER, ["1:1100-1400"]),
        (PT, WINTER, ["1:0800-1100"]),
    ],
)
def test_pacific_window_seen_from_other_zones(zone: str, monday: date, expected: list[str]) -> None:
    assert hm(convert(TUE_8_11_PT, zone, monday)) == expected


def test_window_crossing_midnight_in_target_zone_is_split() -> None:
    late = WeeklyWindow(0, 20 * 60, 24 * 60, PT)  # Mon 20:00-24:00 Pacific
    assert hm(convert(late, ET, WINTER)) == ["0:2300-2400", "1:0000-0300"]


def test_instants_follow_daylight_saving_of_the_actual_week() -> None:
    # The week DST starts (Sun 2027-03-14): Monday 08:00 Pacific is 15:00Z, the week before 16:00Z.
    before = to_instants(WeeklyWindow(0, 480, 540, PT), date(2027, 3, 8))[0]
    after = to_instants(WeeklyWindow(0, 480, 540, PT), date(2027, 3, 15))[0]
    assert (before.hour, after.hour) == (16, 15)


def test_merge_joins_overlapping_and_touching_windows_per_day_and_zone() -> None:
    ws = [
        WeeklyWindow(1, 480, 600, PT),
        WeeklyWindow(1, 600, 660, PT),
        WeeklyWindow(1, 630, 720, PT),
        WeeklyWindow(2, 480, 600, PT),
        WeeklyWindow(1, 480, 600, ET),
    ]
    assert hm(merge(ws)) == ["1:0800-1200", "1:0800-1000", "2:0800-1000"]


@pytest.mark.parametrize(
    ("intent", "windows", "expected"),
    [
        ("replace", [WeeklyWindow(3, 540, 720, PT)], ["3:0900-1200"]),
        ("add", [WeeklyWindow(4, 780, 960, PT)], ["1:0800-1100", "4:1300-1600"]),
        ("add", [WeeklyWindow(1, 600, 780, PT)], ["1:0800-1300"]),
        ("remove", [WeeklyWindow(1, 540, 600, PT)], ["1:0800-0900", "1:1000-1100"]),
        ("remove", [WeeklyWindow(1, 0, 1440, PT)], []),
        # "no longer 10-12 ET" removes 7-9 Pacific, converted for the actual week.
        ("remove", [WeeklyWindow(1, 600, 720, ET)], ["1:0900-1100"]),
    ],
)
def test_apply_change(intent: str, windows: list[WeeklyWindow], expected: list[str]) -> None:
    assert hm(apply_change([TUE_8_11_PT], Change(intent, tuple(windows)), WINTER)) == expected


def test_describe_day_lines() -> None:
    ws = [WeeklyWindow(0, 480, 720, PT), WeeklyWindow(0, 780, 900, PT), TUE_8_11_PT]
    assert describe_day_lines(ws) == ["Mon  08:00–12:00, 13:00–15:00", "Tue  08:00–11:00"]


def test_invalid_window_is_refused() -> None:
    with pytest.raises(ValueError):
        WeeklyWindow(1, 600, 600, PT)
