"""Domain: required, delivered and owed minutes across months, holidays and make-ups."""

from __future__ import annotations

from datetime import date
from fractions import Fraction

import pytest

from bot.domain.minutes import (
    Mandate,
    Month,
    OpenDays,
    Outcome,
    SchoolDays,
    SessionFacts,
    SlotDates,
    Tally,
    closed_dates,
    free_starts,
    intersect,
    minutes_line,
    outcome,
    required_minutes,
    slot_days,
    unrecorded_minutes,
)

DEC = Month(2026, 12)  # Tue 1 .. Thu 31: 23 weekdays
NOV = Month(2026, 11)  # Sun 1 .. Mon 30: 21 weekdays
WEEKLY_60 = Mandate(sessions_per_week=2, session_minutes=30)
SCHOOL = SchoolDays()
WINTER_BREAK = SchoolDays(closed=closed_dates([(date(2026, 12, 21), date(2027, 1, 1))]))


def test_month_parse_and_bounds() -> None:
    assert Month.parse("2026-12") == DEC
    assert (DEC.first, DEC.last) == (date(2026, 12, 1), date(2026, 12, 31))
    assert Month(2028, 2).last == date(2028, 2, 29)
    for bad in ["2026-13", "2026-1", "Dec 2026", "", "2026-00"]:
        with pytest.raises(ValueError, match="YYYY-MM"):
            Month.parse(bad)


def test_weekly_mandate_is_spread_over_the_school_days() -> None:
    # 23 school days in December at 60/5 = 12 minutes each.
    assert required_minutes(WEEKLY_60, SCHOOL, DEC) == 276
    # November 2026 starts on a Sunday: 21 weekdays.
    assert required_minutes(WEEKLY_60, SCHOOL, NOV) == 252


def test_minutes_per_week_overrides_sessions_times_length() -> None:
    mandate = Mandate(sessions_per_week=1, session_minutes=30, minutes_per_week=90)
    assert mandate.weekly == 90
    assert required_minutes(mandate, SCHOOL, DEC) == Fraction(90 * 23, 5)


def test_monthly_mandate_is_the_month_whatever_its_holidays() -> None:
    monthly = Mandate(sessions_per_week=0, session_minutes=30, minutes_per_month=120)
    assert required_minutes(monthly, SCHOOL, DEC) == 120
    assert required_minutes(monthly, WINTER_BREAK, DEC) == 120
    # Half the open days gone by: half the month's minutes are due so far.
    assert required_minutes(monthly, SCHOOL, NOV, through=date(2026, 11, 13)) == Fraction(
        120 * 10, 21
    )


def test_holidays_lower_a_weekly_mandate() -> None:
    # Dec 21-31 closed: 8 school days remain of 23 (Dec 21,22,23,24,25,28,29,30,31 = 9 closed).
    assert required_minutes(WEEKLY_60, WINTER_BREAK, DEC) == 12 * 14
    thanksgiving = SchoolDays(closed=closed_dates([(date(2026, 11, 26), date(2026, 11, 27))]))
    assert required_minutes(WEEKLY_60, thanksgiving, NOV) == 252 - 24


def test_partial_weeks_prorate_by_school_day() -> None:
    # Dec 1 is a Tuesday: the first week has four school days, 48 of its 60 minutes.
    assert required_minutes(WEEKLY_60, SCHOOL, DEC, through=date(2026, 12, 4)) == 48
    # A school that meets Mon/Wed only: each meeting day is half the week.
    two_days = SchoolDays(weekdays=frozenset({0, 2}))
    assert required_minutes(WEEKLY_60, two_days, DEC, through=date(2026, 12, 7)) == 60
    assert required_minutes(WEEKLY_60, SCHOOL, DEC, through=date(2026, 11, 30)) == 0


def test_a_service_starting_mid_month_is_prorated() -> None:
    weekly = Mandate(2, 30, starts_on=date(2026, 12, 14))
    # Dec 14-31: 14 school days.
    assert required_minutes(weekly, SCHOOL, DEC) == 12 * 14
    monthly = Mandate(0, 30, minutes_per_month=230, starts_on=date(2026, 12, 14))
    assert required_minutes(monthly, SCHOOL, DEC) == Fraction(230 * 14, 23)
    ended = Mandate(2, 30, ends_on=date(2026, 12, 4))
    assert required_minutes(ended, SCHOOL, DEC) == 48
    assert required_minutes(Mandate(2, 30, starts_on=date(2027, 1, 4)), SCHOOL, DEC) == 0


@pytest.mark.parametrize(
    ("facts", "no_show_owed", "expected"),
    [
        (SessionFacts("held"), False, Outcome.DELIVERED),
        (SessionFacts("scheduled", note_written=True), False, Outcome.DELIVERED),
        (SessionFacts("scheduled"), False, Outcome.PENDING),
        (SessionFacts("scheduled", unmarked_overdue=True), False, Outcome.OWED),
        (SessionFacts("cancelled", "provider"), False, Outcome.OWED),
        (SessionFacts("cancelled", "provider_out"), False, Outcome.OWED),
        (SessionFacts("cancelled", "licence_ended"), False, Outcome.OWED),
        (SessionFacts("cancelled", None), False, Outcome.OWED),
        (SessionFacts("cancelled", "school"), False, Outcome.NOT_OWED),
        (SessionFacts("cancelled", "school_closed"), False, Outcome.NOT_OWED),
        (SessionFacts("cancelled", "student_exited"), False, Outcome.NOT_OWED),
        (SessionFacts("cancelled", "student_absent"), False, Outcome.NOT_OWED),
        (SessionFacts("cancelled", "student_absent"), True, Outcome.OWED),
        (SessionFacts("no_show"), False, Outcome.NOT_OWED),
        (SessionFacts("no_show"), True, Outcome.OWED),
        (SessionFacts("held", makeup=True), False, Outcome.DELIVERED),
        (SessionFacts("cancelled", "provider", makeup=True), False, Outcome.NOT_OWED),
        (SessionFacts("scheduled", makeup=True, unmarked_overdue=True), False, Outcome.NOT_OWED),
    ],
)
def test_what_a_session_means_for_minutes(
    facts: SessionFacts, no_show_owed: bool, expected: Outcome
) -> None:
    assert outcome(facts, no_show_owed=no_show_owed) is expected


def _tally(*rows: tuple[SessionFacts, int, bool], no_show_owed: bool = False) -> Tally:
    t = Tally()
    for facts, minutes, in_month in rows:
        t = t.add(facts, minutes, in_month, no_show_owed=no_show_owed)
    return t


def test_group_sessions_count_their_full_length_for_each_student() -> None:
    # A 30-minute group of three: each student's own row counts 30 for that student.
    for _student in range(3):
        assert _tally((SessionFacts("held"), 30, True)).delivered == 30


def test_time_off_cancellations_are_owed_and_make_ups_pay_them_back() -> None:
    out = SessionFacts("cancelled", "provider_out")
    held = SessionFacts("held")
    makeup = SessionFacts("held", makeup=True)
    # November's debt, paid back by a December make-up.
    owing = _tally((held, 30, True), (out, 30, False), (out, 30, True))
    line = minutes_line(WEEKLY_60, OpenDays.of(SCHOOL, DEC), date(2027, 1, 5), owing)
    assert (line.delivered, line.owed) == (30, 60)
    paid = _tally((held, 30, True), (out, 30, False), (out, 30, True), (makeup, 30, True))
    line = minutes_line(WEEKLY_60, OpenDays.of(SCHOOL, DEC), date(2027, 1, 5), paid)
    assert (line.delivered, line.owed) == (60, 30)
    over = _tally((out, 30, True), (makeup, 30, True), (makeup, 30, True))
    assert minutes_line(WEEKLY_60, OpenDays.of(SCHOOL, DEC), date(2027, 1, 5), over).owed == 0


def test_a_scheduled_make_up_does_not_clear_the_debt_until_it_is_held() -> None:
    t = _tally(
        (SessionFacts("cancelled", "provider"), 30, True),
        (SessionFacts("scheduled", makeup=True), 30, True),
    )
    assert minutes_line(WEEKLY_60, OpenDays.of(SCHOOL, DEC), date(2026, 12, 10), t).owed == 30


def test_behind_is_below_90_percent_of_what_is_due_so_far() -> None:
    # Due so far follows the sessions, not the calendar (the old rule prorated day by day, so
    # 12 school days by Wed Dec 16 made 144 minutes due whatever day the sessions fall on).
    # By Wed Dec 16: the partial first week (Dec 1-4, four school days: a 48-minute share)
    # settled 60 minutes of sessions, so 48 are due; Dec 7-13 is a whole week that is over: 60;
    # this week's sessions are still to come: nothing. 108 due: 97 < 97.2 is behind, 98 is not.
    today = date(2026, 12, 16)
    first_week = OpenDays.of(SCHOOL, DEC).week_of(date(2026, 12, 2))
    settled = tuple(60 if w == first_week else 0 for w in range(6))
    line = minutes_line(
        WEEKLY_60, OpenDays.of(SCHOOL, DEC), today, Tally(delivered=97, weeks=settled)
    )
    assert (line.required, line.required_to_date, line.status) == (276, 108, "behind")
    assert (
        minutes_line(
            WEEKLY_60, OpenDays.of(SCHOOL, DEC), today, Tally(delivered=98, weeks=settled)
        ).status
        == "on track"
    )
    # A month that is over: every whole week in full (Nov 2-6, 9-13, 16-20, 23-27: 240), the
    # partial week of Mon Nov 30 only up to its sessions (none here).
    past = minutes_line(
        WEEKLY_60, OpenDays.of(SCHOOL, NOV), date(2026, 12, 11), Tally(delivered=216)
    )
    assert (past.required, past.required_to_date, past.status, past.percent) == (
        252, 240, "on track", 90,
    )  # fmt: skip
    # Nothing due yet (a service that starts later) is never behind.
    later = Mandate(2, 30, starts_on=date(2026, 12, 20))
    assert not minutes_line(later, OpenDays.of(SCHOOL, DEC), today, Tally()).behind


def _held(day: date, minutes: int = 30, *, makeup: bool = False) -> tuple[date, SessionFacts, int]:
    return day, SessionFacts("held", makeup=makeup), minutes


def _cancelled(day: date, reason: str, minutes: int = 30) -> tuple[date, SessionFacts, int]:
    return day, SessionFacts("cancelled", reason), minutes


def _month_line(
    mandate: Mandate,
    school: SchoolDays,
    today: date,
    sessions: list[tuple[date, SessionFacts, int]],
    settled: date | None = None,
) -> tuple[int, int, str]:
    days = OpenDays.of(school, Month.of(today if sessions == [] else sessions[0][0]))
    t = Tally()
    for day, facts, minutes in sessions:
        t = t.add(facts, minutes, True, no_show_owed=False, week=days.week_of(day))
    line = minutes_line(mandate, days, today, t, settled)
    return line.required_to_date, line.delivered, line.status


D = lambda day: date(2026, 12, day)  # noqa: E731
FRIDAY_60 = Mandate(1, 60)
MON_WED_30 = Mandate(2, 30)
MONTHLY_120 = Mandate(0, 60, minutes_per_month=120)
DEC_11_CLOSED = SchoolDays(closed=closed_dates([(D(11), D(11))]))


@pytest.mark.parametrize(
    ("mandate", "school", "today", "sessions", "expected"),
    [
        # A Friday-only student on Wednesday: the week's session is still to come. Old rule:
        # 12 school days, 144 due, 120 = 83% "behind". Now: Dec 1-4 (48 share, 60 held) + Dec
        # 7-13 (whole, over: 60) + this week (nothing yet) = 108.
        (FRIDAY_60, SCHOOL, D(16), [_held(D(4), 60), _held(D(11), 60)], (108, 120, "on track")),
        # Friday's session cancelled by the provider: behind at once ...
        (FRIDAY_60, SCHOOL, D(16), [_held(D(4), 60), _cancelled(D(11), "provider", 60)],
         (108, 60, "behind")),
        # ... and a make-up held on Tuesday clears it at once (it adds to delivered, not due).
        (FRIDAY_60, SCHOOL, D(16),
         [_held(D(4), 60), _cancelled(D(11), "provider", 60), _held(D(15), 60, makeup=True)],
         (108, 120, "on track")),
        # Mon/Wed 2 x 30 on Wednesday morning, Monday's held: this week is due what it held.
        (MON_WED_30, SCHOOL, D(9), [_held(D(2)), _held(D(7))], (60, 60, "on track")),
        # Monday's cancelled by the provider: due at once, so behind (30 of 60).
        (MON_WED_30, SCHOOL, D(9), [_held(D(2)), _cancelled(D(7), "provider")],
         (60, 30, "behind")),
        # A date nobody recorded (the sweeper's not_recorded) is the same as a cancellation.
        (MON_WED_30, SCHOOL, D(9), [_held(D(2)), _cancelled(D(7), "not_recorded")],
         (60, 30, "behind")),
        # A school cancellation (an assembly) is due too (a whole week would be), but a session
        # cancelled because the school closed, or the student exited, is not.
        (MON_WED_30, SCHOOL, D(9), [_held(D(2)), _cancelled(D(7), "school")],
         (60, 30, "behind")),
        (MON_WED_30, SCHOOL, D(9), [_held(D(2)), _cancelled(D(7), "school_closed")],
         (30, 30, "on track")),
        # No sessions at all: a whole week that is over is still due in full.
        (MON_WED_30, SCHOOL, D(16), [_held(D(2))], (90, 30, "behind")),
        # A closure on the session's day (Fri Dec 11 closed): that week is due only what its
        # sessions settled (nothing), so the student is not behind for it.
        (FRIDAY_60, DEC_11_CLOSED, D(16), [_held(D(4), 60)], (48, 60, "on track")),
        # A service starting mid-month (Wed Dec 9): its first week is judged by its sessions,
        # the next whole week in full once over.
        (Mandate(1, 60, starts_on=D(9)), SCHOOL, D(14), [_held(D(11), 60)],
         (36, 60, "on track")),
        (Mandate(1, 60, starts_on=D(9)), SCHOOL, D(22), [_held(D(11), 60)],
         (96, 60, "behind")),
        # A monthly mandate (120 a month): due as its sessions settle, whatever the day ...
        (MONTHLY_120, SCHOOL, D(10), [], (0, 0, "on track")),
        (MONTHLY_120, SCHOOL, D(18), [_held(D(17), 60)], (60, 60, "on track")),
        (MONTHLY_120, SCHOOL, D(18), [_cancelled(D(17), "provider", 60)], (60, 0, "behind")),
        # ... and the whole month once it is over.
        (MONTHLY_120, SCHOOL, date(2027, 1, 5), [_held(D(17), 60)], (120, 60, "behind")),
    ],
)  # fmt: skip
def test_due_so_far_follows_the_sessions_not_the_calendar(
    mandate: Mandate,
    school: SchoolDays,
    today: date,
    sessions: list[tuple[date, SessionFacts, int]],
    expected: tuple[int, int, str],
) -> None:
    if not sessions:
        sessions_month = OpenDays.of(school, Month.of(today))
        line = minutes_line(mandate, sessions_month, today, Tally())
        assert (line.required_to_date, line.delivered, line.status) == expected
        return
    assert _month_line(mandate, school, today, sessions) == expected


N = lambda day: date(2026, 11, day)  # noqa: E731
THANKSGIVING = SchoolDays(closed=closed_dates([(N(23), N(27))]))  # 16 open days: 10 each
MONTHLY_160 = Mandate(0, 60, minutes_per_month=160)


def _november(
    mandate: Mandate, today: date, settled: date, sessions: list[tuple[date, SessionFacts, int]]
) -> tuple[int, int, int, str]:
    days = OpenDays.of(THANKSGIVING, NOV)
    t = Tally()
    for day, facts, minutes in sessions:
        t = t.add(facts, minutes, True, no_show_owed=False, week=days.week_of(day))
    line = minutes_line(mandate, days, today, t, settled)
    return line.required, line.required_to_date, line.delivered, line.status


@pytest.mark.parametrize(
    ("mandate", "today", "settled", "sessions", "expected"),
    [
        # November: whole weeks Nov 2-6, 9-13 and 16-20; Thanksgiving week closed; Mon Nov 30
        # alone. No sessions at all: nothing due while the first week is still open or its
        # grace runs (never mid-week) ...
        (MONTHLY_160, N(6), N(4), [], (160, 0, 0, "on track")),
        (MONTHLY_160, N(9), N(6), [], (160, 0, 0, "on track")),
        # ... then behind once it is over: its five open days' share of the month.
        (MONTHLY_160, N(9), N(7), [], (160, 50, 0, "behind")),
        (MONTHLY_160, N(18), N(16), [], (160, 100, 0, "behind")),
        # The closed week adds nothing; the partial week (Nov 30 alone) is not whole.
        (MONTHLY_160, date(2026, 12, 1), N(29), [], (160, 150, 0, "behind")),
        # The whole month once it (and its grace) is over.
        (MONTHLY_160, date(2026, 12, 3), date(2026, 12, 1), [], (160, 160, 0, "behind")),
        # Sessions settled beyond the floor are due as before, capped at the month's minutes.
        (MONTHLY_160, N(11), N(9), [_held(N(3), 60)], (160, 60, 60, "on track")),
        (MONTHLY_160, N(25), N(23), [_held(N(3), 60)], (160, 150, 60, "behind")),
        (MONTHLY_160, N(25), N(23), [_held(N(3), 90), _held(N(10), 90)],
         (160, 160, 180, "on track")),
        # A service starting Wed Nov 11: 9 open days (90). Its first week is not whole ...
        (Mandate(0, 60, minutes_per_month=160, starts_on=N(11)), N(18), N(16), [],
         (90, 0, 0, "on track")),
        # ... the next one is, once over; the weeks before the start count for nothing.
        (Mandate(0, 60, minutes_per_month=160, starts_on=N(11)), N(25), N(23), [],
         (90, 50, 0, "behind")),
        # And one ending Wed Nov 18: its last week is not whole either.
        (Mandate(0, 60, minutes_per_month=160, ends_on=N(18)), N(25), N(23), [],
         (130, 100, 0, "behind")),
    ],
)  # fmt: skip
def test_a_monthly_mandate_is_due_at_least_its_whole_weeks_that_are_over(
    mandate: Mandate,
    today: date,
    settled: date,
    sessions: list[tuple[date, SessionFacts, int]],
    expected: tuple[int, int, int, str],
) -> None:
    assert _november(mandate, today, settled, sessions) == expected


def test_a_monthly_floor_matches_the_weekly_rule_week_for_week() -> None:
    # 160 a month over November's 16 open days is 50 a five-day week: with no sessions, a
    # weekly mandate of 50 and the monthly one are due the same on every day of the month.
    weekly = Mandate(0, 0, minutes_per_week=50)
    for day in range(1, 31):
        today, settled = N(day), N(max(1, day - 2))
        assert (
            _november(MONTHLY_160, today, settled, [])[1]
            == _november(weekly, today, settled, [])[1]
        ), today


def test_due_so_far_waits_for_the_grace_to_mark_a_week() -> None:
    # Monday Dec 14: the week of Dec 7-11 is whole, but while ``settled`` (dates before it are
    # past the grace to be marked) is still Fri Dec 11, its Friday session may yet be marked:
    # the week is judged by its sessions until then, and due in full after.
    sessions = [_held(D(4), 60)]
    assert _month_line(FRIDAY_60, SCHOOL, D(14), sessions, settled=D(11))[0] == 48
    assert _month_line(FRIDAY_60, SCHOOL, D(14), sessions, settled=D(12))[0] == 108


def test_holiday_weeks_do_not_make_a_student_behind() -> None:
    # Two sessions a week held through Dec 18, then the break: December is complete.
    held = Tally(delivered=60 * 3 - 12)  # first week is four days: 48 + 60 + 60
    line = minutes_line(WEEKLY_60, OpenDays.of(WINTER_BREAK, DEC), date(2027, 1, 4), held)
    assert (line.required, line.status) == (168, "on track")


def test_make_up_times_avoid_busy_spans_and_stay_inside_windows() -> None:
    school = [(480, 900)]  # 08:00-15:00
    provider = [(540, 720), (780, 1020)]  # 09:00-12:00, 13:00-17:00
    windows = intersect(school, provider)
    assert windows == [(540, 720), (780, 900)]
    busy = [(570, 600), (780, 810)]
    starts = free_starts(windows, busy, 30, 30)
    assert starts == [540, 600, 630, 660, 690, 810, 840, 870]
    assert free_starts([(545, 600)], [], 30, 15) == [555, 570]


# --- weekly slots with no session on file ---------------------------------------------------

TUESDAY_30 = SlotDates(weekday=1, minutes=30)


def test_a_slot_date_with_no_session_on_file_is_owed_once_its_grace_has_passed() -> None:
    dec = OpenDays.of(SCHOOL, DEC)
    # December's Tuesdays: 1, 8, 15, 22, 29. By Wed Dec 16 (the grace over for Dec 15 only the
    # day after), Dec 1, 8 and 15 are past; Dec 8 has a session (any status), the rest none.
    assert slot_days(TUESDAY_30, dec, date(2026, 12, 16)) == [
        date(2026, 12, 1), date(2026, 12, 8), date(2026, 12, 15),
    ]  # fmt: skip
    assert unrecorded_minutes(TUESDAY_30, dec, date(2026, 12, 16), [date(2026, 12, 8)]) == 60
    # Dec 15 still within its grace on the 15th: not owed yet.
    assert unrecorded_minutes(TUESDAY_30, dec, date(2026, 12, 15), [date(2026, 12, 8)]) == 30
    # Every date on file: nothing owed.
    on_file = [date(2026, 12, d) for d in (1, 8, 15, 22, 29)]
    assert unrecorded_minutes(TUESDAY_30, dec, date(2027, 1, 10), on_file) == 0


def test_a_closed_school_and_dates_outside_the_slot_owe_nothing() -> None:
    # The winter break (Dec 21 - Jan 1) takes Dec 22 and 29 out; a month that is over counts to
    # its end and no further.
    dec = OpenDays.of(WINTER_BREAK, DEC)
    assert slot_days(TUESDAY_30, dec, date(2027, 1, 20)) == [
        date(2026, 12, 1), date(2026, 12, 8), date(2026, 12, 15),
    ]  # fmt: skip
    assert unrecorded_minutes(TUESDAY_30, dec, date(2027, 1, 20), []) == 90
    # Approved Dec 3 (so from Dec 4), the student exited Dec 14: only Dec 8 was owed.
    short = SlotDates(weekday=1, minutes=30, first=date(2026, 12, 4), last=date(2026, 12, 14))
    assert unrecorded_minutes(short, dec, date(2027, 1, 20), []) == 30
    # A slot that starts after the month, or a weekday the school does not meet: nothing.
    later = SlotDates(weekday=1, minutes=30, first=date(2027, 1, 5))
    assert unrecorded_minutes(later, dec, date(2027, 1, 20), []) == 0
    saturday = SlotDates(weekday=5, minutes=30)
    assert unrecorded_minutes(saturday, dec, date(2027, 1, 20), []) == 0


def test_only_the_months_own_slot_dates_count() -> None:
    # November 2026's Tuesdays are 3, 10, 17, 24; Thanksgiving week closed (Nov 23-27).
    thanksgiving = SchoolDays(closed=closed_dates([(date(2026, 11, 23), date(2026, 11, 27))]))
    nov = OpenDays.of(thanksgiving, NOV)
    assert unrecorded_minutes(TUESDAY_30, nov, date(2026, 12, 16), [date(2026, 11, 3)]) == 60


@pytest.mark.parametrize("den", [1, 2, 3, 4, 5, 7, 20, 23])
def test_whole_minutes_round_half_to_even_as_fractions_do(den: int) -> None:
    from bot.domain.minutes import _rounded

    for num in range(0, 200):
        assert _rounded((num, den)) == round(Fraction(num, den)), (num, den)
