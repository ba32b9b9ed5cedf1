"""A second held-out set: 60 availability messages written blind, after the parser work.

The first held-out set (`heldout_availability.py`) was written before the parser work, but the work
looked at its misses, so its figure is not fully blind. These 60 were written in a later session
without reading the grammar or the phrasing table, in the same categories and conventions, and were
measured once before any change (`python bench/heldout.py --set 2`). Today is Wednesday 2026-11-25.
"""

from __future__ import annotations

from tests.domain.heldout_availability import (
    ADD,
    ANCHORAGE,
    BARE,
    CANCEL,
    CHICAGO,
    DAYS,
    DENVER,
    EXC,
    HONOLULU,
    LA,
    LONG,
    NEW_YORK,
    NOTW,
    OFF,
    PART,
    PER,
    PHOENIX,
    PLAIN,
    RM,
    SHOW,
    UNTIL,
    ZONE,
    Expected,
    ask,
    mf,
    read,
)

HELDOUT_2: list[Expected] = [
    # removal
    read(RM, "remove Wed 2-4", "remove", "wed 14:00-16:00"),
    read(RM, "pls take off Mon 9-10 from my availability", "remove", "mon 09:00-10:00"),
    read(RM, "I can't do Wednesdays anymore", "remove", "wed 00:00-24:00"),
    read(RM, "no longer available Fri afternoons", "remove", "fri 12:00-16:00"),
    read(RM, "drop Tue and Thu 3-4", "remove", "tue 15:00-16:00", "thu 15:00-16:00"),
    # add
    read(ADD, "also Wed 8-10", "add", "wed 08:00-10:00"),
    read(ADD, "add Tues 1:30-3", "add", "tue 13:30-15:00"),
    read(ADD, "+ Thursday 9-11:30", "add", "thu 09:00-11:30"),
    read(ADD, "I could also do Mon 7-8am", "add", "mon 07:00-08:00"),
    # exceptions
    read(
        EXC,
        "Mon-Fri 8-2 except Tue 10-2",
        "replace",
        *mf("08:00-14:00", ("mon", "wed", "thu", "fri")),
        "tue 10:00-14:00",
    ),
    read(
        EXC,
        "M-Th 9-3 except Mondays",
        "replace",
        *mf("09:00-15:00", ("tue", "wed", "thu")),
    ),
    read(
        EXC,
        "Tue-Thu 8-4 except lunch 12-1",
        "replace",
        *(w for d in ("tue", "wed", "thu") for w in (f"{d} 08:00-12:00", f"{d} 13:00-16:00")),
    ),
    # explicit times beat period words
    read(PER, "Friday mornings 9-11", "replace", "fri 09:00-11:00"),
    read(PER, "Monday afternoon 1:30-3", "replace", "mon 13:30-15:00"),
    # bare hours
    read(BARE, "Thu 4-6", "replace", "thu 16:00-18:00"),
    read(BARE, "Mon 8-2", "replace", "mon 08:00-14:00"),
    read(BARE, "Wed 7:30-11", "replace", "wed 07:30-11:00"),
    # zones
    read(ZONE, "Tue 8-11 CT", "replace", "tue 08:00-11:00", tz=CHICAGO),
    read(ZONE, "Mon 9-1 Eastern", "replace", "mon 09:00-13:00", tz=NEW_YORK),
    read(ZONE, "Thu 10-2 Arizona time", "replace", "thu 10:00-14:00", tz=PHOENIX),
    read(ZONE, "Wed 8-12 Hawaii time", "replace", "wed 08:00-12:00", tz=HONOLULU),
    read(ZONE, "Fri 9-12 Denver time", "replace", "fri 09:00-12:00", tz=DENVER),
    read(ZONE, "M/W/F 9-11 pacific", "replace", *mf("09:00-11:00", ("mon", "wed", "fri")), tz=LA),
    read(ZONE, "Tue 7-10 Alaska", "replace", "tue 07:00-10:00", tz=ANCHORAGE),
    ask(ZONE, "Mon 9-12 Mars time"),
    # show
    read(SHOW, "show my hours", "show"),
    read(SHOW, "what availability do you have for me?", "show"),
    read(SHOW, "what's my schedule", "show"),
    # not weekly
    ask(NOTW, "every second Tuesday 1-3"),
    ask(NOTW, "biweekly Fridays 8-10"),
    read(
        NOTW,
        "dentist appointment Mon Nov 30 3-4",
        "time_off",
        "mon 15:00-16:00",
        dates=("2026-11-30", "2026-11-30"),
    ),
    # partial-day time off
    read(
        PART,
        "out Dec 9 9-11",
        "time_off",
        "wed 09:00-11:00",
        dates=("2026-12-09", "2026-12-09"),
    ),
    read(
        PART,
        "off Thursday afternoon",
        "time_off",
        "thu 12:00-16:00",
        dates=("2026-11-26", "2026-11-26"),
    ),
    read(
        PART,
        "PTO Dec 15 morning",
        "time_off",
        "tue 08:00-12:00",
        dates=("2026-12-15", "2026-12-15"),
    ),
    read(
        PART,
        "out Jan 6 after 2",
        "time_off",
        "wed 14:00-24:00",
        dates=("2027-01-06", "2027-01-06"),
    ),
    # time-off words and dates
    read(OFF, "out Dec 24 - Dec 26", "time_off", dates=("2026-12-24", "2026-12-26")),
    read(OFF, "OOO 12/28-12/30", "time_off", dates=("2026-12-28", "2026-12-30")),
    read(OFF, "vacation from Jan 11 to Jan 15", "time_off", dates=("2027-01-11", "2027-01-15")),
    read(OFF, "I'll be out on Dec 18", "time_off", dates=("2026-12-18", "2026-12-18")),
    read(OFF, "off the 2nd", "time_off", dates=("2026-12-02", "2026-12-02")),
    read(OFF, "away 4-8 Jan", "time_off", dates=("2027-01-04", "2027-01-08")),
    read(OFF, "PTO on 2026-12-07", "time_off", dates=("2026-12-07", "2026-12-07")),
    read(OFF, "out tomorrow", "time_off", dates=("2026-11-26", "2026-11-26")),
    read(OFF, "out next Monday", "time_off", dates=("2026-11-30", "2026-11-30")),
    read(OFF, "unavailable Jan 4-5", "time_off", dates=("2027-01-04", "2027-01-05")),
    # long stretches
    ask(LONG, "out Feb 1 - Jun 30"),
    ask(LONG, "off Jan 10 - Jan 3"),
    # cancel or change time off
    read(
        CANCEL,
        "cancel my time off on Dec 18",
        "cancel_time_off",
        dates=("2026-12-18", "2026-12-18"),
    ),
    read(
        CANCEL, "I'm not out Jan 4 anymore", "cancel_time_off", dates=("2027-01-04", "2027-01-04")
    ),
    read(
        CANCEL,
        "remove my PTO 12/21-12/23",
        "cancel_time_off",
        dates=("2026-12-21", "2026-12-23"),
    ),
    # end dates on a schedule
    read(
        UNTIL,
        "until Jan 8 Mon/Wed 9-12",
        "replace",
        "mon 09:00-12:00",
        "wed 09:00-12:00",
        dates=(None, "2027-01-08"),
    ),
    read(
        UNTIL,
        "M-F 10-2 through Dec 11",
        "replace",
        *mf("10:00-14:00"),
        dates=(None, "2026-12-11"),
    ),
    # replace only the days named
    read(DAYS, "Thu 9-1 instead of 1-5", "replace", "thu 09:00-13:00", days_only=True),
    read(DAYS, "Tuesdays 2-4 instead of 8-10", "replace", "tue 14:00-16:00", days_only=True),
    # plain schedules
    read(PLAIN, "Mon-Fri 8am-3pm", "replace", *mf("08:00-15:00")),
    read(PLAIN, "Tue, Thu 9:00-12:00", "replace", "tue 09:00-12:00", "thu 09:00-12:00"),
    read(PLAIN, "Mondays 8-11 and Wednesdays 1-4", "replace", "mon 08:00-11:00", "wed 13:00-16:00"),
    read(
        PLAIN,
        "from Dec 14 M/W 9-12",
        "replace",
        "mon 09:00-12:00",
        "wed 09:00-12:00",
        dates=("2026-12-14", None),
    ),
    read(PLAIN, "weekdays 7:30-3:30 ET", "replace", *mf("07:30-15:30"), tz=NEW_YORK),
]
