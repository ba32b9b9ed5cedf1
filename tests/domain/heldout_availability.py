"""Held-out availability messages: 100 fresh phrasings with the reading a therapist means.

Written before the issue-11 parser work and never tuned on: the phrasing table in
`test_availability_text.py` is what the grammar is built against; this set only measures it
(`python bench/heldout.py`). Today is Wednesday 2026-11-25.

Each row gives the expected `parse` reading: intent, windows ("day HH:MM-HH:MM"), zone, dates, and
the extra keys `days_only` (a replace of just the days named) and `school_time` (hours given in the
zone of the provider's schools); or `ASK`, meaning the bot must ask a question and save nothing.
A wrong reading without a question is a misreading the user could save.

Recorded before the issue-11 work (parser of main at c3262e4): 27 of 100 read as expected, 46
savable misreadings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

TODAY = date(2026, 11, 25)  # a Wednesday

LA = "America/Los_Angeles"
DENVER = "America/Denver"
PHOENIX = "America/Phoenix"
CHICAGO = "America/Chicago"
NEW_YORK = "America/New_York"
ANCHORAGE = "America/Anchorage"
HONOLULU = "Pacific/Honolulu"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


@dataclass(frozen=True)
class Expected:
    category: str
    text: str
    intent: str | None  # None: a question is expected
    windows: tuple[str, ...] = ()
    tz: str | None = None
    dates: tuple[str | None, str | None] | None = None
    extras: dict[str, object] = field(default_factory=dict)


def read(
    category: str,
    text: str,
    intent: str,
    *windows: str,
    tz: str | None = None,
    dates: tuple[str | None, str | None] | None = None,
    **extras: object,
) -> Expected:
    return Expected(category, text, intent, windows, tz, dates, dict(extras))


def ask(category: str, text: str) -> Expected:
    return Expected(category, text, None)


def mf(span: str, days: tuple[str, ...] = WEEKDAYS) -> tuple[str, ...]:
    return tuple(f"{day} {span}" for day in days)


RM, ADD, EXC, PER, BARE, ZONE, SHOW, NOTW = (
    "removal",
    "add",
    "exceptions",
    "explicit times beat period words",
    "bare hours",
    "zones",
    "show",
    "not weekly",
)
PART, OFF, LONG, CANCEL, UNTIL, DAYS, PLAIN = (
    "partial-day time off",
    "time-off words and dates",
    "long stretches",
    "cancel or change time off",
    "end dates on a schedule",
    "replace only the days named",
    "plain schedules",
)

HELDOUT: list[Expected] = [
    # --- 1. removal in its everyday forms (9) -------------------------------------------------
    read(RM, "take Tue 8-11 off my schedule", "remove", "tue 08:00-11:00"),
    read(RM, "cancel my M/W 8-9 slots", "remove", "mon 08:00-09:00", "wed 08:00-09:00"),
    read(RM, "please drop my Thursday 1-3 block", "remove", "thu 13:00-15:00"),
    read(RM, "can't do Fridays anymore", "remove", "fri 00:00-24:00"),
    read(RM, "not available Monday mornings anymore", "remove", "mon 08:00-12:00"),
    read(RM, "I no longer work Tuesdays after 2", "remove", "tue 14:00-24:00"),
    read(RM, "cancel my Friday hours", "remove", "fri 00:00-24:00"),
    read(RM, "take Thursday afternoons off my availability", "remove", "thu 12:00-16:00"),
    read(RM, "can't do M 3-4 anymore", "remove", "mon 15:00-16:00"),
    # --- 2. add (7) ----------------------------------------------------------------------------
    read(ADD, "+ Mon 2:30-4", "add", "mon 14:30-16:00"),
    read(ADD, "+Fri 12-1", "add", "fri 12:00-13:00"),
    read(ADD, "plus Thu 9-11", "add", "thu 09:00-11:00"),
    read(ADD, "I can also take Tue 3-5", "add", "tue 15:00-17:00"),
    read(ADD, "Wed + Fri 10-2", "replace", "wed 10:00-14:00", "fri 10:00-14:00"),
    read(ADD, "add Monday 8-9:30 please", "add", "mon 08:00-09:30"),
    read(ADD, "can also do Sat 9-11", "add", "sat 09:00-11:00"),
    # --- 3. exceptions inside a schedule (8) ---------------------------------------------------
    read(
        EXC,
        "M-F 9-3 except Wed 9-12",
        "replace",
        *mf("09:00-15:00", ("mon", "tue", "thu", "fri")),
        "wed 09:00-12:00",
    ),
    read(
        EXC,
        "Mon-Thu 10-4 but Thursdays only until 1",
        "replace",
        *mf("10:00-16:00", ("mon", "tue", "wed")),
        "thu 10:00-13:00",
    ),
    read(
        EXC,
        "M-F 8-3 except lunch 12-12:30",
        "replace",
        *(w for d in WEEKDAYS for w in (f"{d} 08:00-12:00", f"{d} 12:30-15:00")),
    ),
    read(
        EXC,
        "Tue/Thu 8-2 with lunch 11:30-12",
        "replace",
        "tue 08:00-11:30",
        "tue 12:00-14:00",
        "thu 08:00-11:30",
        "thu 12:00-14:00",
    ),
    read(
        EXC,
        "Mon Wed 9-4 but not 12-1",
        "replace",
        "mon 09:00-12:00",
        "mon 13:00-16:00",
        "wed 09:00-12:00",
        "wed 13:00-16:00",
    ),
    read(
        EXC,
        "M-F 8-4 except Wednesdays",
        "replace",
        *mf("08:00-16:00", ("mon", "tue", "thu", "fri")),
    ),
    read(
        EXC,
        "weekdays 9-3, except Fri 9-11",
        "replace",
        *mf("09:00-15:00", ("mon", "tue", "wed", "thu")),
        "fri 09:00-11:00",
    ),
    read(
        EXC,
        "Mon-Fri 7:30-3 but Fridays only till 12",
        "replace",
        *mf("07:30-15:00", ("mon", "tue", "wed", "thu")),
        "fri 07:30-12:00",
    ),
    # --- 4. explicit times beat period words (5) -----------------------------------------------
    read(PER, "Tuesday mornings 8:30-11", "replace", "tue 08:30-11:00"),
    read(PER, "Thursday afternoons (1-3:30)", "replace", "thu 13:00-15:30"),
    read(PER, "Mon morning 9-11:30", "replace", "mon 09:00-11:30"),
    read(PER, "Wednesday afternoons 12:30-2", "replace", "wed 12:30-14:00"),
    read(PER, "add Friday mornings 7-10", "add", "fri 07:00-10:00"),
    # --- 5. bare hours that would run overnight (7) --------------------------------------------
    read(BARE, "Tue 5-7", "replace", "tue 17:00-19:00"),
    read(BARE, "Mon 6-8", "replace", "mon 18:00-20:00"),
    ask(BARE, "Mon 6-10"),
    ask(BARE, "Thu 6:30-12"),
    read(BARE, "Wed 06:30-12", "replace", "wed 06:30-12:00"),
    read(BARE, "add Thu 5-8", "add", "thu 17:00-20:00"),
    read(BARE, "Fri 7-5:30", "replace", "fri 07:00-17:30"),
    # --- 6. zones as people write them (13) ----------------------------------------------------
    read(ZONE, "Mon 9-12 AK", "replace", "mon 09:00-12:00", tz=ANCHORAGE),
    read(
        ZONE,
        "Tue/Thu 8-11 Alaska time",
        "replace",
        "tue 08:00-11:00",
        "thu 08:00-11:00",
        tz=ANCHORAGE,
    ),
    read(ZONE, "Wed 9-2 TX time", "replace", "wed 09:00-14:00", tz=CHICAGO),
    read(ZONE, "Fri 8-12 Texas time", "replace", "fri 08:00-12:00", tz=CHICAGO),
    read(
        ZONE,
        "M/W 10-1 Anchorage time",
        "replace",
        "mon 10:00-13:00",
        "wed 10:00-13:00",
        tz=ANCHORAGE,
    ),
    read(ZONE, "Tue 9-11 Chicago time", "replace", "tue 09:00-11:00", tz=CHICAGO),
    read(ZONE, "Mon 8-10 mountain (AZ)", "replace", "mon 08:00-10:00", tz=PHOENIX),
    read(ZONE, "Thu 1-4 MST (Arizona)", "replace", "thu 13:00-16:00", tz=PHOENIX),
    read(ZONE, "M-F 8-3 school time", "replace", *mf("08:00-15:00"), school_time=True),
    read(ZONE, "Tue 9-12 my school's time", "replace", "tue 09:00-12:00", school_time=True),
    ask(ZONE, "Mon 9-12 Guam time"),
    ask(ZONE, "Mon 9-3 Alaska, Tue 9-3 Texas"),
    read(ZONE, "Wed 8-11 NY time", "replace", "wed 08:00-11:00", tz=NEW_YORK),
    # --- 7. show (5) ---------------------------------------------------------------------------
    read(SHOW, "list my schedule", "show"),
    read(SHOW, "what do I have on file for Tuesdays?", "show"),
    read(SHOW, "what are my hours", "show"),
    read(SHOW, "what's on file for me?", "show"),
    read(SHOW, "can you show my availability?", "show"),
    # --- 8. not weekly (5) ---------------------------------------------------------------------
    ask(NOTW, "every other Friday 9-12"),
    ask(NOTW, "this week only Tue 1-4"),
    read(
        NOTW, "dentist Tue 2-3", "time_off", "tue 14:00-15:00", dates=("2026-12-01", "2026-12-01")
    ),
    ask(NOTW, "alternate Mondays 8-11"),
    read(
        NOTW,
        "doctor's appt Thursday Dec 3 9-10",
        "time_off",
        "thu 09:00-10:00",
        dates=("2026-12-03", "2026-12-03"),
    ),
    # --- 9. partial-day time off (7) -----------------------------------------------------------
    read(
        PART,
        "out Dec 4 1-4 ET",
        "time_off",
        "fri 13:00-16:00",
        tz=NEW_YORK,
        dates=("2026-12-04", "2026-12-04"),
    ),
    read(
        PART,
        "off Jan 5 afternoon",
        "time_off",
        "tue 12:00-16:00",
        dates=("2027-01-05", "2027-01-05"),
    ),
    read(
        PART,
        "out Friday afternoon",
        "time_off",
        "fri 12:00-16:00",
        dates=("2026-11-27", "2026-11-27"),
    ),
    read(
        PART,
        "OOO mornings Apr 1-2",
        "time_off",
        "thu 08:00-12:00",
        "fri 08:00-12:00",
        dates=("2027-04-01", "2027-04-02"),
    ),
    read(
        PART,
        "out Dec 10 after 1",
        "time_off",
        "thu 13:00-24:00",
        dates=("2026-12-10", "2026-12-10"),
    ),
    read(
        PART, "PTO Dec 11 8-12", "time_off", "fri 08:00-12:00", dates=("2026-12-11", "2026-12-11")
    ),
    read(
        PART,
        "off Monday morning",
        "time_off",
        "mon 08:00-12:00",
        dates=("2026-11-30", "2026-11-30"),
    ),
    # --- 10. time-off words and date forms (14) ------------------------------------------------
    read(OFF, "vacation Dec 21-23", "time_off", dates=("2026-12-21", "2026-12-23")),
    read(OFF, "on leave Jan 4 - Jan 8", "time_off", dates=("2027-01-04", "2027-01-08")),
    read(OFF, "no sessions Dec 24", "time_off", dates=("2026-12-24", "2026-12-24")),
    read(OFF, "unavailable Dec 11", "time_off", dates=("2026-12-11", "2026-12-11")),
    read(OFF, "out 2026-12-28 to 2026-12-31", "time_off", dates=("2026-12-28", "2026-12-31")),
    read(OFF, "PTO 2027-01-15", "time_off", dates=("2027-01-15", "2027-01-15")),
    read(OFF, "out 23 Dec", "time_off", dates=("2026-12-23", "2026-12-23")),
    read(OFF, "off 23-31 Dec", "time_off", dates=("2026-12-23", "2026-12-31")),
    read(OFF, "out the 30th", "time_off", dates=("2026-11-30", "2026-11-30")),
    read(OFF, "OOO on the 4th", "time_off", dates=("2026-12-04", "2026-12-04")),
    read(OFF, "out Mon 11/30 and Tue 12/1", "time_off", dates=("2026-11-30", "2026-12-01")),
    ask(OFF, "out Dec 3 and Dec 8"),
    read(
        OFF, "out Dec 21 through Jan 1, back Jan 4", "time_off", dates=("2026-12-21", "2027-01-03")
    ),
    read(OFF, "I'm away 8 Jan", "time_off", dates=("2027-01-08", "2027-01-08")),
    # --- 11. long stretches (3) ----------------------------------------------------------------
    ask(LONG, "out Jan 2 - Dec 23"),
    ask(LONG, "out Dec 23 - Dec 1"),
    ask(LONG, "on leave Jan 4 - Apr 30"),
    # --- 12. cancel or change time off (7) -----------------------------------------------------
    read(CANCEL, "cancel time off Dec 7", "cancel_time_off", dates=("2026-12-07", "2026-12-07")),
    read(CANCEL, "not out Dec 7 after all", "cancel_time_off", dates=("2026-12-07", "2026-12-07")),
    read(
        CANCEL,
        "remove time off Dec 23 - Jan 2",
        "cancel_time_off",
        dates=("2026-12-23", "2027-01-02"),
    ),
    read(
        CANCEL,
        "back Dec 29 instead of Jan 4",
        "cancel_time_off",
        dates=("2026-12-29", "2027-01-03"),
    ),
    read(CANCEL, "cancel my PTO on Dec 11", "cancel_time_off", dates=("2026-12-11", "2026-12-11")),
    read(
        CANCEL, "I'm not off Friday anymore", "cancel_time_off", dates=("2026-11-27", "2026-11-27")
    ),
    read(
        CANCEL,
        "delete my time off 12/14-12/18",
        "cancel_time_off",
        dates=("2026-12-14", "2026-12-18"),
    ),
    # --- 13. end dates on a schedule (4) -------------------------------------------------------
    read(UNTIL, "until Dec 18 M-F 7-11", "replace", *mf("07:00-11:00"), dates=(None, "2026-12-18")),
    read(
        UNTIL,
        "through Dec 18 I can only do Thursdays 10-1",
        "replace",
        "thu 10:00-13:00",
        dates=(None, "2026-12-18"),
    ),
    read(
        UNTIL,
        "Tue/Thu 9-12 until Jan 15",
        "replace",
        "tue 09:00-12:00",
        "thu 09:00-12:00",
        dates=(None, "2027-01-15"),
    ),
    read(
        UNTIL,
        "till the end of Dec only Mon 1-3",
        "replace",
        "mon 13:00-15:00",
        dates=(None, "2026-12-31"),
    ),
    # --- 14. replace only the days named (3) ---------------------------------------------------
    read(DAYS, "Wed 1-4 instead of 9-12", "replace", "wed 13:00-16:00", days_only=True),
    read(DAYS, "Fridays 10-2 instead of 8-12", "replace", "fri 10:00-14:00", days_only=True),
    read(DAYS, "Mon 8-11 instead of 12-3", "replace", "mon 08:00-11:00", days_only=True),
    # --- 15. plain schedules that must keep working (3) ----------------------------------------
    read(PLAIN, "M-F 8-3 PT", "replace", *mf("08:00-15:00"), tz=LA),
    read(
        PLAIN,
        "Mon/Wed 8-12, Fri 1-4",
        "replace",
        "mon 08:00-12:00",
        "wed 08:00-12:00",
        "fri 13:00-16:00",
    ),
    read(
        PLAIN,
        "starting Dec 7, Tue/Thu 8-11",
        "replace",
        "tue 08:00-11:00",
        "thu 08:00-11:00",
        dates=("2026-12-07", None),
    ),
]

EXTRA_DEFAULTS: dict[str, object] = {"days_only": False, "school_time": False}


def reading(parsed: dict[str, object]) -> Expected | None:
    """A `parse` JSON object as an `Expected` row, or None when it is a question."""
    if parsed.get("error") is not None or parsed.get("intent") is None:
        return None
    windows = parsed.get("windows") or []
    assert isinstance(windows, list)
    dates = parsed.get("dates")
    return Expected(
        "",
        str(parsed["text"]),
        str(parsed["intent"]),
        tuple(sorted(f"{w['day']} {w['start']}-{w['end']}" for w in windows)),
        parsed.get("tz"),  # type: ignore[arg-type]
        None if not isinstance(dates, dict) else (dates.get("start"), dates.get("end")),
        {key: parsed.get(key, default) for key, default in EXTRA_DEFAULTS.items()},
    )


def matches(expected: Expected, parsed: dict[str, object]) -> bool:
    got = reading(parsed)
    if expected.intent is None or got is None:
        return expected.intent is None and got is None
    wanted_extras = {**EXTRA_DEFAULTS, **expected.extras}
    # `show` carries no windows: what the message asked about is not part of the reading.
    return (
        got.intent == expected.intent
        and got.windows == tuple(sorted(expected.windows))
        and got.tz == expected.tz
        and got.dates == expected.dates
        and got.extras == wanted_extras
    )
