"""Domain tests: the availability message grammar (the bot/domain/availability_text package).

The table pins every product convention with a fixed today, Friday 2026-11-27.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.domain import availability_text
from bot.domain.availability_text import (
    ZONE_ABBREVIATIONS,
    DateSpan,
    Day,
    Intent,
    ParseResult,
    Window,
    format_minutes,
    parse_availability,
    warm_up,
    zone_label,
)

TODAY = date(2026, 11, 27)  # a Friday
LA = "America/Los_Angeles"
DENVER = "America/Denver"
PHOENIX = "America/Phoenix"
CHICAGO = "America/Chicago"
NEW_YORK = "America/New_York"
ANCHORAGE = "America/Anchorage"
HONOLULU = "Pacific/Honolulu"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
OFF_TOPIC = "I can only update availability and time off"


@dataclass(frozen=True)
class Row:
    text: str
    intent: str | None
    windows: tuple[str, ...] = ()
    tz: str | None = None
    dates: tuple[str | None, str | None] | None = None
    question: str | None = None  # a phrase the question must contain


def ok(
    text: str,
    intent: str,
    *windows: str,
    tz: str | None = None,
    dates: tuple[str | None, str | None] | None = None,
) -> Row:
    return Row(text, intent, windows, tz, dates)


def off(text: str, start: str, end: str) -> Row:
    return Row(text, "time_off", (), None, (start, end))


def ask(text: str, question: str) -> Row:
    return Row(text, None, question=question)


def mf(span: str) -> tuple[str, ...]:
    return tuple(f"{day} {span}" for day in WEEKDAYS)


ROWS: list[Row] = [
    # --- day forms --------------------------------------------------------------------------
    ok("Tue 8-11 PT", "replace", "tue 08:00-11:00", tz=LA),
    ok("Monday 8-11", "replace", "mon 08:00-11:00"),
    ok("Mondays 8-11", "replace", "mon 08:00-11:00"),
    ok("Monday's 8-11", "replace", "mon 08:00-11:00"),
    ok("Tues 8-11", "replace", "tue 08:00-11:00"),
    ok("Tu 1-4", "replace", "tue 13:00-16:00"),
    ok("Wed 8-11", "replace", "wed 08:00-11:00"),
    ok("Weds 8-11", "replace", "wed 08:00-11:00"),
    ok("Th 1-4", "replace", "thu 13:00-16:00"),
    ok("Thu 1-4", "replace", "thu 13:00-16:00"),
    ok("Thur 1-4", "replace", "thu 13:00-16:00"),
    ok("Thurs 1-4", "replace", "thu 13:00-16:00"),
    ok("Fri 9-11", "replace", "fri 09:00-11:00"),
    ok("Sat 9-11", "replace", "sat 09:00-11:00"),
    ok("Sa/Su 9-12", "replace", "sat 09:00-12:00", "sun 09:00-12:00"),
    ok("Sun 9-11", "replace", "sun 09:00-11:00"),
    ok("T 8-11", "replace", "tue 08:00-11:00"),
    ok("w 8-11", "replace", "wed 08:00-11:00"),
    # ranges and lists of days
    ok("M-F 8-3", "replace", *mf("08:00-15:00")),
    ok("m-f 8-3", "replace", *mf("08:00-15:00")),
    ok("M–F 8–3 PT", "replace", *mf("08:00-15:00"), tz=LA),
    ok("Mon–Thu 9-12", "replace", *mf("09:00-12:00")[:4]),
    ok("Tues-Thurs 1-4", "replace", "tue 13:00-16:00", "wed 13:00-16:00", "thu 13:00-16:00"),
    ok("Monday through Friday 8 to 3", "replace", *mf("08:00-15:00")),
    ok("Mon thru Fri 8-4 CT", "replace", *mf("08:00-16:00"), tz=CHICAGO),
    ok("Monday to Thursday 9-3", "replace", *mf("09:00-15:00")[:4]),
    ok(
        "Fri-Mon 9-11",
        "replace",
        "mon 09:00-11:00",
        "fri 09:00-11:00",
        "sat 09:00-11:00",
        "sun 09:00-11:00",
    ),
    ok("Mon/Wed 9-12", "replace", "mon 09:00-12:00", "wed 09:00-12:00"),
    ok("Mon, Wed 9-12", "replace", "mon 09:00-12:00", "wed 09:00-12:00"),
    ok("Mon & Wed 9-12", "replace", "mon 09:00-12:00", "wed 09:00-12:00"),
    ok("M/W/F 8-12", "replace", "mon 08:00-12:00", "wed 08:00-12:00", "fri 08:00-12:00"),
    ok("M W F 8-12", "replace", "mon 08:00-12:00", "wed 08:00-12:00", "fri 08:00-12:00"),
    ok("MWF 9-12", "replace", "mon 09:00-12:00", "wed 09:00-12:00", "fri 09:00-12:00"),
    ok("mwf 9-12", "replace", "mon 09:00-12:00", "wed 09:00-12:00", "fri 09:00-12:00"),
    ok("T/Th 1-4", "replace", "tue 13:00-16:00", "thu 13:00-16:00"),
    ok("t/th 1-4", "replace", "tue 13:00-16:00", "thu 13:00-16:00"),
    ok("TTh 1-4", "replace", "tue 13:00-16:00", "thu 13:00-16:00"),
    ok("TuTh 1-4", "replace", "tue 13:00-16:00", "thu 13:00-16:00"),
    ok("MTWTF 8-3", "replace", *mf("08:00-15:00")),
    ok("MTWThF 7:30-2:30", "replace", *mf("07:30-14:30")),
    ok("Tuesdays and Thursdays 8-11", "replace", "tue 08:00-11:00", "thu 08:00-11:00"),
    ok("Mon/Tue/Wed 8-11", "replace", "mon 08:00-11:00", "tue 08:00-11:00", "wed 08:00-11:00"),
    ok("weekdays 8-3", "replace", *mf("08:00-15:00")),
    ok("every weekday 8-3", "replace", *mf("08:00-15:00")),
    ok("weekends 9-12", "replace", "sat 09:00-12:00", "sun 09:00-12:00"),
    ok("every day 9-11", "replace", *mf("09:00-11:00")),
    ok("daily 9-11 Pacific", "replace", *mf("09:00-11:00"), tz=LA),
    ok("every Monday 8-11", "replace", "mon 08:00-11:00"),
    ok("M-F except Wed 8-3", "replace", *(w for w in mf("08:00-15:00") if "wed" not in w)),
    # typos, and ordinary words that stay words
    ok("Tuseday 8-11", "replace", "tue 08:00-11:00"),
    ok("Teusday 9-12", "replace", "tue 09:00-12:00"),
    ok("thrusday 8-11", "replace", "thu 08:00-11:00"),
    ok("thursdy 8-10", "replace", "thu 08:00-10:00"),
    ok("wendesday 8-11 PT", "replace", "wed 08:00-11:00", tz=LA),
    ok("Wednsday 10-2", "replace", "wed 10:00-14:00"),
    ok("firday 1-4", "replace", "fri 13:00-16:00"),
    ask("monkey 8-11", "Which days?"),
    ask("someday 8-11", "Which days?"),
    ask("midday 8-11", "Which days?"),
    ask("Monkey business", OFF_TOPIC),
    # --- time forms -------------------------------------------------------------------------
    ok("Tue 8am-11am", "replace", "tue 08:00-11:00"),
    ok("Tue 8 am - 11 am", "replace", "tue 08:00-11:00"),
    ok("Tue 8 a.m. - 11 a.m.", "replace", "tue 08:00-11:00"),
    ok("Tue 8a-11a", "replace", "tue 08:00-11:00"),
    ok("Mon 9a-12p", "replace", "mon 09:00-12:00"),
    ok("Wed 1p-4p", "replace", "wed 13:00-16:00"),
    ok("Tue 8:30-11", "replace", "tue 08:30-11:00"),
    ok("Tue 0830-1130", "replace", "tue 08:30-11:30"),
    ok("my schedule is M-F 0800-1500 ET", "replace", *mf("08:00-15:00"), tz=NEW_YORK),
    ok("available Mon-Fri 8:00-15:00", "replace", *mf("08:00-15:00")),
    ok("Tue 8.30-11", "replace", "tue 08:30-11:00"),
    ok("Tue noon-3", "replace", "tue 12:00-15:00"),
    ok("Tue 8-noon", "replace", "tue 08:00-12:00"),
    ok("Tue 9-midnight", "replace", "tue 09:00-24:00"),
    ok("Mon midnight-8am", "replace", "mon 00:00-08:00"),
    ok("Mon 12am-8am", "replace", "mon 00:00-08:00"),
    ok("Mon 10pm-12am", "replace", "mon 22:00-24:00"),
    ok("Mon 20:00-23:30", "replace", "mon 20:00-23:30"),
    ok("Tue 8–11", "replace", "tue 08:00-11:00"),
    ok("Tue 8—11", "replace", "tue 08:00-11:00"),
    ok("Tue 8 to 11", "replace", "tue 08:00-11:00"),
    ok("Tue from 9 until 12:30", "replace", "tue 09:00-12:30"),
    ok("Tue between 9 and 11", "replace", "tue 09:00-11:00"),
    ok("Tue 9-11:30am", "replace", "tue 09:00-11:30"),
    ok("Thu 9:00 am - 12:00 pm", "replace", "thu 09:00-12:00"),
    ok("Mon 7:30am-3pm", "replace", "mon 07:30-15:00"),
    ok("Mon-Fri 7am to 3pm", "replace", *mf("07:00-15:00")),
    ok("Tue 9-11 30 min sessions", "replace", "tue 09:00-11:00"),
    # bare hours: 7-11 am, 12 noon, 1-6 pm, each end on its own; 13+ as 24-hour
    ok("Tue 8-3", "replace", "tue 08:00-15:00"),
    ok("Tue 11-1", "replace", "tue 11:00-13:00"),
    ok("Tue 7-11", "replace", "tue 07:00-11:00"),
    ok("Tue 9-11", "replace", "tue 09:00-11:00"),
    ok("Wed 12-4", "replace", "wed 12:00-16:00"),
    ok("Tue 12-12:30", "replace", "tue 12:00-12:30"),
    ok("Tue 1-4", "replace", "tue 13:00-16:00"),
    ok("Tue 13-15", "replace", "tue 13:00-15:00"),
    ok("Thur 12:30-3:30", "replace", "thu 12:30-15:30"),
    ok("Tue 7:45-11:15", "replace", "tue 07:45-11:15"),
    ok("I'm free Tuesdays 10 to 2", "replace", "tue 10:00-14:00"),
    ok("Tue 6-9", "replace", "tue 18:00-21:00"),
    # an explicit am/pm carries to the other end only if the range still increases
    ok("Tue 7-9pm", "replace", "tue 19:00-21:00"),
    ok("Tue 6-8pm", "replace", "tue 18:00-20:00"),
    ok("Tue 9-12:30pm", "replace", "tue 09:00-12:30"),
    ok("Tue 10-11am", "replace", "tue 10:00-11:00"),
    ok("Tue 12-3pm", "replace", "tue 12:00-15:00"),
    ok("Tue 11-1pm", "replace", "tue 11:00-13:00"),
    ok("Tue 9am-11", "replace", "tue 09:00-11:00"),
    ok("Tue 10am-2", "replace", "tue 10:00-14:00"),
    ok("Tue 8am-12", "replace", "tue 08:00-12:00"),
    # words for parts of the day
    ok("I'm available Mon/Wed mornings", "replace", "mon 08:00-12:00", "wed 08:00-12:00"),
    ok("Wed morning", "replace", "wed 08:00-12:00"),
    ok("Tue am", "replace", "tue 08:00-12:00"),
    ok("Tue afternoons", "replace", "tue 12:00-16:00"),
    ok("Tue evenings", "replace", "tue 16:00-20:00"),
    ok("Tue/Thu pm", "replace", "tue 12:00-16:00", "thu 12:00-16:00"),
    ok("Thursdays after 2", "replace", "thu 14:00-24:00"),
    ok("Fri before 10", "replace", "fri 00:00-10:00"),
    ok("Mon all day", "replace", "mon 00:00-24:00"),
    ok("Mon morning and afternoon", "replace", "mon 08:00-16:00"),
    ok("I am available Tue 8-11", "replace", "tue 08:00-11:00"),
    # several groups, several ranges, merging
    ok("Mon/Wed 8-12, Fri 1-4", "replace", "mon 08:00-12:00", "wed 08:00-12:00", "fri 13:00-16:00"),
    ok("Tue 8-10 and 1-3", "replace", "tue 08:00-10:00", "tue 13:00-15:00"),
    ok("Tue 8-11 7-9pm", "replace", "tue 08:00-11:00", "tue 19:00-21:00"),
    ok(
        "Mon 8-11 Tue 1-3 Wed 9-12",
        "replace",
        "mon 08:00-11:00",
        "tue 13:00-15:00",
        "wed 09:00-12:00",
    ),
    ok(
        "Monday 8-11, Tuesday 1-3, Wednesday 9-12",
        "replace",
        "mon 08:00-11:00",
        "tue 13:00-15:00",
        "wed 09:00-12:00",
    ),
    ok("8-11 Mon, 1-3 Wed", "replace", "mon 08:00-11:00", "wed 13:00-15:00"),
    ok("mornings Mon and Wed", "replace", "mon 08:00-12:00", "wed 08:00-12:00"),
    ok("Mon 8-11, Mon 10-12", "replace", "mon 08:00-12:00"),
    ok("Mon 8-10, Mon 10-12", "replace", "mon 08:00-12:00"),
    ok("Mon 8-10 and 9-11, Wed 1-2", "replace", "mon 08:00-11:00", "wed 13:00-14:00"),
    ok("Tue 8-11 and Thu 8-11", "replace", "tue 08:00-11:00", "thu 08:00-11:00"),
    # --- zones ------------------------------------------------------------------------------
    ok("Tue 8-11 PST", "replace", "tue 08:00-11:00", tz=LA),
    ok("Wed 9-11 PDT", "replace", "wed 09:00-11:00", tz=LA),
    ok("Tue 8-11 Pacific", "replace", "tue 08:00-11:00", tz=LA),
    ok("Tue 8-11 MT", "replace", "tue 08:00-11:00", tz=DENVER),
    ok("Mon 9-11 MST", "replace", "mon 09:00-11:00", tz=DENVER),
    ok("Tue 8-11 MDT", "replace", "tue 08:00-11:00", tz=DENVER),
    ok("Tue 8-11 mountain time", "replace", "tue 08:00-11:00", tz=DENVER),
    ok("M-F 8-2 Arizona", "replace", *mf("08:00-14:00"), tz=PHOENIX),
    ok("Thursdays 9-11 AZ", "replace", "thu 09:00-11:00", tz=PHOENIX),
    ok("Tue 8-11 CT", "replace", "tue 08:00-11:00", tz=CHICAGO),
    ok("Tue 8-11 CST", "replace", "tue 08:00-11:00", tz=CHICAGO),
    ok("Mon 9-11 CDT", "replace", "mon 09:00-11:00", tz=CHICAGO),
    ok("Tue 8-11 Central", "replace", "tue 08:00-11:00", tz=CHICAGO),
    ok("Thursdays 9-11 ET", "replace", "thu 09:00-11:00", tz=NEW_YORK),
    ok("Tue 8-11 EST", "replace", "tue 08:00-11:00", tz=NEW_YORK),
    ok("Thu 9-11 EDT", "replace", "thu 09:00-11:00", tz=NEW_YORK),
    ok("Mon 8-11 eastern", "replace", "mon 08:00-11:00", tz=NEW_YORK),
    ok("Tue/Thu 8-11 AKT", "replace", "tue 08:00-11:00", "thu 08:00-11:00", tz=ANCHORAGE),
    ok("Fri 9-11 AKST", "replace", "fri 09:00-11:00", tz=ANCHORAGE),
    ok("Fri 9-11 AKDT", "replace", "fri 09:00-11:00", tz=ANCHORAGE),
    ok("Fri 9-11 Alaska", "replace", "fri 09:00-11:00", tz=ANCHORAGE),
    ok("Mon 9-12 HT", "replace", "mon 09:00-12:00", tz=HONOLULU),
    ok("Mon/Wed 9-12 HST", "replace", "mon 09:00-12:00", "wed 09:00-12:00", tz=HONOLULU),
    ok("Mon 9-12 Hawaii time", "replace", "mon 09:00-12:00", tz=HONOLULU),
    ok("Mon 8-11 PT Pacific", "replace", "mon 08:00-11:00", tz=LA),
    ok("Mon 8-11 PST and PDT", "replace", "mon 08:00-11:00", tz=LA),
    ok("PT: Tue 8-11", "replace", "tue 08:00-11:00", tz=LA),
    # lower-case two-letter zones count only right after a time ("pt" is also "patient")
    ok("Tue 8-11 pt", "replace", "tue 08:00-11:00", tz=LA),
    ok("Mon 8-11am pt", "replace", "mon 08:00-11:00", tz=LA),
    ok("Thursdays 9-11 et", "replace", "thu 09:00-11:00", tz=NEW_YORK),
    ok("Thursdays 9-11 ct", "replace", "thu 09:00-11:00", tz=CHICAGO),
    ok("Thursdays 9-11 mt", "replace", "thu 09:00-11:00", tz=DENVER),
    ok("Thursdays 9-11 az", "replace", "thu 09:00-11:00", tz=PHOENIX),
    ok("Thursdays 9-11 ht", "replace", "thu 09:00-11:00", tz=HONOLULU),
    ok("pt Tue 8-11", "replace", "tue 08:00-11:00"),
    ok("et Thursdays 9-11", "replace", "thu 09:00-11:00"),
    ok("Tue pt sessions 8-11", "replace", "tue 08:00-11:00"),
    ok("Tue 8-11 pst", "replace", "tue 08:00-11:00", tz=LA),
    # "PT" next to profession words is a physical therapist
    ok("I'm a PT, Tue 8-11", "replace", "tue 08:00-11:00"),
    ok("PT students Tue 8-11", "replace", "tue 08:00-11:00"),
    # IANA names as they are
    ok("Tue 8-11 America/Boise", "replace", "tue 08:00-11:00", tz="America/Boise"),
    ok("Tue 8-11 Europe/London", "replace", "tue 08:00-11:00", tz="Europe/London"),
    ok("M-F 8-3 America/Anchorage", "replace", *mf("08:00-15:00"), tz=ANCHORAGE),
    ok("Thursdays 9-11 america/new_york", "replace", "thu 09:00-11:00", tz=NEW_YORK),
    ok("Mon 8-11 Pacific/Honolulu", "replace", "mon 08:00-11:00", tz=HONOLULU),
    ask("Thursdays 9-11 America/Nowhere", "Which time zone"),
    ask("Tue 8-11 PT and 1-3 ET", "Pacific or Eastern"),
    ask("Mon/Wed 8-12 PT, Tue/Thu 9-1 AKT", "Pacific or Alaska"),
    ask("Tue 8-11 IST", "“IST”"),
    ask("Mon 8-11 BST", "“BST”"),
    ask("Mon 8-11 AST", "“AST”"),
    ask("Mon 8-11 SST", "“SST”"),
    ask("Mon 8-11 ist", "“ist”"),
    # --- intents ----------------------------------------------------------------------------
    ok("my hours are M-F 8-3", "replace", *mf("08:00-15:00")),
    ok(
        "Hi! My hours are Mon/Wed 8-12 and Fri 1-4 Pacific time",
        "replace",
        "mon 08:00-12:00",
        "wed 08:00-12:00",
        "fri 13:00-16:00",
        tz=LA,
    ),
    ok("sure thing, Tue 8-11 works", "replace", "tue 08:00-11:00"),
    ok("add Fri 1-4", "add", "fri 13:00-16:00"),
    ok("also Wed mornings", "add", "wed 08:00-12:00"),
    ok("plus Thursday 9-11", "add", "thu 09:00-11:00"),
    ok("I can also do Tue 1-3", "add", "tue 13:00-15:00"),
    ok("add Tue after 3pm", "add", "tue 15:00-24:00"),
    ok("please add Thurs 8-10", "add", "thu 08:00-10:00"),
    ok("add Sat 9-12 PT", "add", "sat 09:00-12:00", tz=LA),
    ok("Fri 1-4 too", "add", "fri 13:00-16:00"),
    ok("no longer available Thursdays after 2", "remove", "thu 14:00-24:00"),
    ok("drop Mondays", "remove", "mon 00:00-24:00"),
    ok("remove Fri 1-4", "remove", "fri 13:00-16:00"),
    ok("can't do Tuesdays anymore", "remove", "tue 00:00-24:00"),
    ok("can’t do Tuesdays anymore", "remove", "tue 00:00-24:00"),
    ok("not available Wed mornings", "remove", "wed 08:00-12:00"),
    ok("remove Tue before 10am", "remove", "tue 00:00-10:00"),
    ok("drop Monday and Friday mornings", "remove", "mon 08:00-12:00", "fri 08:00-12:00"),
    ok("drop weekends", "remove", "sat 00:00-24:00", "sun 00:00-24:00"),
    ok("delete Wed", "remove", "wed 00:00-24:00"),
    ok("I don't do Thursdays anymore", "remove", "thu 00:00-24:00"),
    ok("can't make Fridays anymore", "remove", "fri 00:00-24:00"),
    ok("take off Wednesdays", "remove", "wed 00:00-24:00"),
    ok("also not available Wed mornings", "remove", "wed 08:00-12:00"),
    ask("drop Fri and add Sat 9-12", "One change at a time"),
    # show
    ok("", "show"),
    ok("   ", "show"),
    ok("show", "show"),
    ok("list", "show"),
    ok("what do I have", "show"),
    ok("my schedule", "show"),
    ok("what's my availability", "show"),
    ok("What’s my availability?", "show"),
    ok("show my hours", "show"),
    ok("what are my hours", "show"),
    # time off
    off("out Dec 23 - Jan 2", "2026-12-23", "2027-01-02"),
    off("OOO next week", "2026-11-30", "2026-12-04"),
    off("PTO Jan 5-9", "2027-01-05", "2027-01-09"),
    off("off Friday", "2026-11-27", "2026-11-27"),
    off("OOO this Friday", "2026-11-27", "2026-11-27"),
    off("OOO next Friday", "2026-12-04", "2026-12-04"),
    off("out next Monday", "2026-11-30", "2026-11-30"),
    off("day off Monday", "2026-11-30", "2026-11-30"),
    off("taking Friday off", "2026-11-27", "2026-11-27"),
    off("off Mon-Wed", "2026-11-30", "2026-12-02"),
    off("out tomorrow", "2026-11-28", "2026-11-28"),
    off("sick today", "2026-11-27", "2026-11-27"),
    off("out tomorrow through Monday", "2026-11-28", "2026-11-30"),
    off("vacation from Dec 22 to Jan 2", "2026-12-22", "2027-01-02"),
    off("out from Dec 19 to Jan 4", "2026-12-19", "2027-01-04"),
    off("back Jan 4", "2026-11-27", "2027-01-03"),
    off("back on Jan 5", "2026-11-27", "2027-01-04"),
    off("back Monday", "2026-11-27", "2026-11-29"),
    off("out until Jan 4", "2026-11-27", "2027-01-04"),
    off("out till Dec 31", "2026-11-27", "2026-12-31"),
    off("out Dec 23", "2026-12-23", "2026-12-23"),
    off("out Dec 23, back Jan 4", "2026-12-23", "2027-01-03"),
    off("out Dec 24 & 25", "2026-12-24", "2026-12-25"),
    off("I'll be out Dec 24-26", "2026-12-24", "2026-12-26"),
    off("OOO Dec 23rd through January 2nd", "2026-12-23", "2027-01-02"),
    off("out 23rd of December", "2026-12-23", "2026-12-23"),
    off("out 12/23-1/2", "2026-12-23", "2027-01-02"),
    off("out 12/23 - 1/2", "2026-12-23", "2027-01-02"),
    off("out Friday Dec 4", "2026-12-04", "2026-12-04"),
    off("out Monday Nov 30 through Wednesday Dec 2", "2026-11-30", "2026-12-02"),
    off("out the week of Dec 21", "2026-12-21", "2026-12-25"),
    off("on leave from Jan 5 until Feb 5", "2027-01-05", "2027-02-05"),
    off("out of office Jan 2", "2027-01-02", "2027-01-02"),
    off("not available Dec 24", "2026-12-24", "2026-12-24"),
    off("not available next week", "2026-11-30", "2026-12-04"),
    off("won't be available Dec 24 - Jan 1", "2026-12-24", "2027-01-01"),
    off("vacation July 1-15", "2027-07-01", "2027-07-15"),
    # --- effective dates for weekly changes --------------------------------------------------
    ok("starting next Monday Tue 8-11", "replace", "tue 08:00-11:00", dates=("2026-11-30", None)),
    ok("from Jan 5, M-F 8-3", "replace", *mf("08:00-15:00"), dates=("2027-01-05", None)),
    ok("from Monday, M-F 8-3", "replace", *mf("08:00-15:00"), dates=("2026-11-30", None)),
    ok("starting Dec 1 Tue 8-11", "replace", "tue 08:00-11:00", dates=("2026-12-01", None)),
    ok("as of Dec 1, Tue 8-11", "replace", "tue 08:00-11:00", dates=("2026-12-01", None)),
    ok("Mon 8-11 effective Jan 5", "replace", "mon 08:00-11:00", dates=("2027-01-05", None)),
    ok(
        "beginning January 4th, MWF 9-12",
        "replace",
        "mon 09:00-12:00",
        "wed 09:00-12:00",
        "fri 09:00-12:00",
        dates=("2027-01-04", None),
    ),
    ok("starting tomorrow add Sat 9-11", "add", "sat 09:00-11:00", dates=("2026-11-28", None)),
    ok("starting Jan 5 drop Mondays", "remove", "mon 00:00-24:00", dates=("2027-01-05", None)),
    ok("Tue 8-11 until Dec 18", "replace", "tue 08:00-11:00", dates=(None, "2026-12-18")),
    ok(
        "Mon through Fri 8-3 from Dec 1 until Dec 18",
        "replace",
        *mf("08:00-15:00"),
        dates=("2026-12-01", "2026-12-18"),
    ),
    # --- year rules --------------------------------------------------------------------------
    off("out Jan 30", "2027-01-30", "2027-01-30"),
    off("out Sep 27", "2027-09-27", "2027-09-27"),  # 61 days ago: next year
    off("out Nov 27", "2026-11-27", "2026-11-27"),  # today
    off("out Dec 23 2027", "2027-12-23", "2027-12-23"),
    off("OOO Dec 23 - Jan 2, 2027", "2026-12-23", "2027-01-02"),
    ask("out Dec 23 - Nov 1", "Dec 23 – Nov 1, 2027 is 314 days (224 school days)"),
    ask("out Sep 28", "Sep 28 has already passed"),  # 60 days ago: a slip, ask
    ask("out Nov 20", "Nov 20 has already passed"),
    ask("out Jan 5, 2025", "Jan 5, 2025 has already passed"),
    ask("out 11/20", "Nov 20 has already passed"),
    ask("out Nov 20 - Dec 3", "Nov 20 has already passed"),
    ask("out Feb 30", "“Feb 30”"),
    ask("out Feb 29", "“Feb 29”"),
    ask("PTO Jan 9-5", "run backwards"),
    ask("out Saturday Dec 4", "Dec 4 is a Friday"),
    # --- questions ---------------------------------------------------------------------------
    ask("8-11", "Which days?"),
    ask("mornings", "Which days?"),
    ask("add", "Which days?"),
    ask("I'm available", "Which days?"),
    ask("Tuesdays", "What times on Tue?"),
    ask("Mon 8-11 and Wed", "What times on Wed?"),
    ask("Tue 9", "“9”"),
    ask("Tue 11-8", "Is “11-8” am or pm?"),
    ask("Tue 1-12", "Is “1-12” am or pm?"),
    ask("10pm-2am", "past midnight"),
    ask("Tue 10pm-2am", "past midnight"),
    ask("Mon 22:00-02:00", "past midnight"),
    ask("Tue 8:75-11", "“8:75”"),
    ask("Tue 25:00-26:00", "“25:00”"),
    ask("Tue 13pm-3pm", "“13pm”"),
    ask("Tue or Wed", "Which one"),
    ask("Tue 8-11 or Thu 1-3", "Which one"),
    ask("either Mon or Tue mornings", "Which one"),
    ask("can you move my 2pm with J to Thursday?", OFF_TOPIC),
    ask("can we reschedule Tuesday's group?", OFF_TOPIC),
    ask("thanks!", OFF_TOPIC),
    ask("what's the weather", OFF_TOPIC),
    ask("ok", OFF_TOPIC),
    ask("who is on my caseload?", OFF_TOPIC),
    ask("I'll get back to you", OFF_TOPIC),
    ask("out", "Which dates are you out?"),
    ask("OOO", "Which dates are you out?"),
    ask("I'm out", "Which dates are you out?"),
    ask("off Mon and Wed", "one stretch of time off"),
    off("out today and tomorrow", "2026-11-27", "2026-11-28"),
    ask("out Dec 24 and 26", "one stretch of time off"),
    ask("out Fridays", "one Friday or every Friday"),
    Row("out Friday 1-3", "time_off", ("fri 13:00-15:00",), None, ("2026-11-27", "2026-11-27")),
    ask("on leave starting Jan 5", "Until when are you out?"),
    ask("Dec 23 - Jan 2", "Are you out then?"),
    ask("Tue 8-11 Jan 5", "Did you mean starting Jan 5?"),
    # --- issue 11: removal in its everyday forms -----------------------------------------------
    ok("take Wed 1-3 off my schedule", "remove", "wed 13:00-15:00"),
    ok("take Mon 9-10 off the calendar", "remove", "mon 09:00-10:00"),
    ok("cancel my T/Th 1-2 slots", "remove", "tue 13:00-14:00", "thu 13:00-14:00"),
    ok("cancel my Monday block", "remove", "mon 00:00-24:00"),
    ok("cancel the Fri 8-9 slot", "remove", "fri 08:00-09:00"),
    ok("I can't do Wednesdays anymore", "remove", "wed 00:00-24:00"),
    ok("can't do Tue 2-4 any more", "remove", "tue 14:00-16:00"),
    ok("not available Fridays after 12 anymore", "remove", "fri 12:00-24:00"),
    ok("no longer doing Thursday mornings", "remove", "thu 08:00-12:00"),
    ok("please remove Sat 9-11", "remove", "sat 09:00-11:00"),
    # add forms
    ok("+ Tue 3-4", "add", "tue 15:00-16:00"),
    ok("+Thu 9-10", "add", "thu 09:00-10:00"),
    ok("plus Mon 1-2", "add", "mon 13:00-14:00"),
    ok("can also take Wed 2-3", "add", "wed 14:00-15:00"),
    ok("also free Fri 9-11", "add", "fri 09:00-11:00"),
    ok("Tue + Thu 9-11", "replace", "tue 09:00-11:00", "thu 09:00-11:00"),
    ok("Tue until 1", "replace", "tue 00:00-13:00"),
    ask("Tue 9-12 until 1", "single time like “1”"),
    ok("lunch break Tue 9-12", "replace", "tue 09:00-12:00"),
    ok("Mon + Wed + Fri 8-10", "replace", "mon 08:00-10:00", "wed 08:00-10:00", "fri 08:00-10:00"),
    # exceptions inside a schedule
    ok(
        "M-F 8-3 except Fri 8-12",
        "replace",
        *mf("08:00-15:00")[:4],
        "fri 08:00-12:00",
    ),
    ok(
        "Mon-Wed 9-4 but Wednesdays only until 12",
        "replace",
        "mon 09:00-16:00",
        "tue 09:00-16:00",
        "wed 09:00-12:00",
    ),
    ok(
        "Mon-Thu 8-2 but Mondays only after 10",
        "replace",
        "mon 10:00-14:00",
        "tue 08:00-14:00",
        "wed 08:00-14:00",
        "thu 08:00-14:00",
    ),
    ok(
        "Tue/Thu 9-3 except lunch 12-12:30",
        "replace",
        "tue 09:00-12:00",
        "tue 12:30-15:00",
        "thu 09:00-12:00",
        "thu 12:30-15:00",
    ),
    ok(
        "Mon 8-4 with lunch 12-1",
        "replace",
        "mon 08:00-12:00",
        "mon 13:00-16:00",
    ),
    ok(
        "Wed 9-3 but not 11-12",
        "replace",
        "wed 09:00-11:00",
        "wed 12:00-15:00",
    ),
    ok("M-F 9-3 except Tuesdays", "replace", "mon 09:00-15:00", *mf("09:00-15:00")[2:]),
    ok("weekdays 8-12 except Mon", "replace", *mf("08:00-12:00")[1:]),
    # explicit hours beat period words
    ok("Mon mornings 9-11", "replace", "mon 09:00-11:00"),
    ok("Fri afternoon 1:30-3", "replace", "fri 13:30-15:00"),
    ok("Thursday mornings (8-10:30)", "replace", "thu 08:00-10:30"),
    ok("Wed evenings 5-7", "replace", "wed 17:00-19:00"),
    # bare hours that would run overnight
    ok("Mon 5-7", "replace", "mon 17:00-19:00"),
    ok("Thu 6-8", "replace", "thu 18:00-20:00"),
    ok("Fri 4-8", "replace", "fri 16:00-20:00"),
    ask("Tue 6-10", "am or pm"),
    ask("Wed 6:30-12", "am or pm"),
    ask("Thu 5-10", "am or pm"),
    ok("Wed 06:30-12", "replace", "wed 06:30-12:00"),
    ok("Mon 05:00-07:00", "replace", "mon 05:00-07:00"),
    # zones as people write them
    ok("Tue 9-12 AK", "replace", "tue 09:00-12:00", tz=ANCHORAGE),
    ok("Wed 8-11 TX", "replace", "wed 08:00-11:00", tz=CHICAGO),
    ok("Mon 8-12 tx time", "replace", "mon 08:00-12:00", tz=CHICAGO),
    ok("Fri 9-1 Texas time", "replace", "fri 09:00-13:00", tz=CHICAGO),
    ok("Thu 8-11 Alaska time", "replace", "thu 08:00-11:00", tz=ANCHORAGE),
    ok("Mon 9-12 Anchorage time", "replace", "mon 09:00-12:00", tz=ANCHORAGE),
    ok("Tue 1-3 Chicago time", "replace", "tue 13:00-15:00", tz=CHICAGO),
    ok("Wed 9-11 New York time", "replace", "wed 09:00-11:00", tz=NEW_YORK),
    ok("Thu 8-10 Denver time", "replace", "thu 08:00-10:00", tz=DENVER),
    ok("Fri 9-12 California time", "replace", "fri 09:00-12:00", tz=LA),
    ok("Mon 8-10 mountain (AZ)", "replace", "mon 08:00-10:00", tz=PHOENIX),
    ok("Tue 8-10 MST (Arizona)", "replace", "tue 08:00-10:00", tz=PHOENIX),
    ok("Wed 8-10 Arizona time", "replace", "wed 08:00-10:00", tz=PHOENIX),
    ok("Mon 9-11 HI time", "replace", "mon 09:00-11:00", tz=HONOLULU),
    ok("Tue 9-11 local time", "replace", "tue 09:00-11:00"),
    ask("Wed 9-12 Guam time", "Which time zone do you mean by “Guam time”"),
    ask("Mon 9-12 Atlantis time", "Which time zone"),
    ask("Mon 9-3 Alaska, Tue 9-3 Texas", "Alaska or Central"),
    ask("Tue 9-12 PT, Wed 9-12 ET", "Pacific or Eastern"),
    # show
    ok("list my schedule", "show"),
    ok("what do I have on file for Tuesdays?", "show"),
    ok("what hours do I have on file?", "show"),
    ok("what's on file for me?", "show"),
    ok("what availability do you have for me?", "show"),
    ok("what hours do you have on file for me", "show"),
    ok("can you show my availability?", "show"),
    ok("what's saved", "show"),
    # not weekly
    ask("every other Friday 9-12", "repeat every week"),
    ask("alternate Tuesdays 8-11", "repeat every week"),
    ask("biweekly Mon 1-3", "repeat every week"),
    ask("this week only Tue 1-4", "repeat every week"),
    ask("first Monday of the month 9-12", "repeat every week"),
    Row("dentist Tue 2-3", "time_off", ("tue 14:00-15:00",), None, ("2026-12-01", "2026-12-01")),
    Row(
        "doctor's appointment Dec 3 9-10",
        "time_off",
        ("thu 09:00-10:00",),
        None,
        ("2026-12-03", "2026-12-03"),
    ),
    # partial-day time off
    Row(
        "out Dec 4 1-4 ET",
        "time_off",
        ("fri 13:00-16:00",),
        NEW_YORK,
        ("2026-12-04", "2026-12-04"),
    ),
    Row(
        "off Jan 5 afternoon", "time_off", ("tue 12:00-16:00",), None, ("2027-01-05", "2027-01-05")
    ),
    Row(
        "out Friday afternoon", "time_off", ("fri 12:00-16:00",), None, ("2026-11-27", "2026-11-27")
    ),
    Row(
        "OOO mornings Apr 1-2",
        "time_off",
        ("thu 08:00-12:00", "fri 08:00-12:00"),
        None,
        ("2027-04-01", "2027-04-02"),
    ),
    Row("out Dec 9 after 2", "time_off", ("wed 14:00-24:00",), None, ("2026-12-09", "2026-12-09")),
    Row("PTO Dec 10 8-12", "time_off", ("thu 08:00-12:00",), None, ("2026-12-10", "2026-12-10")),
    # time-off words and date forms
    off("vacation Dec 28-30", "2026-12-28", "2026-12-30"),
    off("leave Jan 4 - Jan 8", "2027-01-04", "2027-01-08"),
    off("no sessions Dec 24", "2026-12-24", "2026-12-24"),
    off("unavailable Dec 11", "2026-12-11", "2026-12-11"),
    off("out 2026-12-28 to 2026-12-31", "2026-12-28", "2026-12-31"),
    off("PTO 2027-01-15", "2027-01-15", "2027-01-15"),
    off("off 2026-12-21 - 2026-12-23", "2026-12-21", "2026-12-23"),
    off("out 23 Dec", "2026-12-23", "2026-12-23"),
    off("off 23-31 Dec", "2026-12-23", "2026-12-31"),
    off("away 8 Jan 2027", "2027-01-08", "2027-01-08"),
    off("out the 30th", "2026-11-30", "2026-11-30"),
    off("OOO on the 4th", "2026-12-04", "2026-12-04"),
    off("out the 27th", "2026-11-27", "2026-11-27"),
    off("out Mon 11/30 and Tue 12/1", "2026-11-30", "2026-12-01"),
    off("out Fri Dec 4 and Mon Dec 7", "2026-12-04", "2026-12-07"),
    ask("out Dec 3 and Dec 8", "one stretch of time off"),
    off("out Dec 21 through Jan 1, back Jan 4", "2026-12-21", "2027-01-03"),
    # long stretches
    ask("out Jan 2 - Dec 23", "356 days (254 school days)"),
    ask("out Dec 23 - Dec 1", "344 days"),
    ask("on leave Jan 4 - Apr 30", "school days"),
    # cancelling and changing time off
    Row("cancel time off Dec 7", "cancel_time_off", (), None, ("2026-12-07", "2026-12-07")),
    Row("not out Dec 7 after all", "cancel_time_off", (), None, ("2026-12-07", "2026-12-07")),
    Row(
        "remove time off Dec 23 - Jan 2",
        "cancel_time_off",
        (),
        None,
        ("2026-12-23", "2027-01-02"),
    ),
    Row(
        "back Dec 29 instead of Jan 4",
        "cancel_time_off",
        (),
        None,
        ("2026-12-29", "2027-01-03"),
    ),
    Row("cancel my PTO Dec 11", "cancel_time_off", (), None, ("2026-12-11", "2026-12-11")),
    Row(
        "delete my vacation 12/21-12/23", "cancel_time_off", (), None, ("2026-12-21", "2026-12-23")
    ),
    # end dates on a schedule
    ok("until Dec 18 M-F 7-11", "replace", *mf("07:00-11:00"), dates=(None, "2026-12-18")),
    ok(
        "through Dec 18 I can only do Thursdays 10-1",
        "replace",
        "thu 10:00-13:00",
        dates=(None, "2026-12-18"),
    ),
    ok("Mon 9-12 through Jan 8", "replace", "mon 09:00-12:00", dates=(None, "2027-01-08")),
    # replace only the days named
    ok("Wed 1-4 instead of 9-12", "replace", "wed 13:00-16:00"),
    ok("Tue 8-10 instead of 1-3", "replace", "tue 08:00-10:00"),
]


def compact(w: Window) -> str:
    return f"{w.day.value} {format_minutes(w.start)}-{format_minutes(w.end)}"


def test_the_table_is_large_and_has_no_duplicates() -> None:
    texts = [row.text for row in ROWS]
    assert len(ROWS) >= 400
    assert len(texts) == len(set(texts))


@pytest.mark.parametrize("row", ROWS, ids=[row.text or "<empty>" for row in ROWS])
def test_phrasing(row: Row) -> None:
    result = parse_availability(row.text, today=TODAY)
    assert result.text == row.text
    if row.question is not None:
        assert result.error is not None, result
        assert row.question in result.error
        assert result.intent is None
        assert result.windows == ()
        assert result.dates is None
        assert result.tz is None
        return
    assert result.error is None, result.error
    assert result.intent is not None
    assert result.intent.value == row.intent
    assert result.tz == row.tz
    assert [compact(w) for w in result.windows] == list(row.windows)
    got_dates = (
        None
        if result.dates is None
        else (
            None if result.dates.start is None else result.dates.start.isoformat(),
            None if result.dates.end is None else result.dates.end.isoformat(),
        )
    )
    assert got_dates == row.dates


@pytest.mark.parametrize(
    ("text", "assumptions"),
    [
        ("Tue 1-4", ("read 1-4 as 1 pm–4 pm",)),
        ("Tue 8-3", ("read 8-3 as 8 am–3 pm",)),
        ("Tue 11-1", ("read 11-1 as 11 am–1 pm",)),
        ("Tue 10am-2", ("read 10am-2 as 10 am–2 pm",)),
        ("Tue 1:30-4", ("read 1:30-4 as 1:30 pm–4 pm",)),
        ("Thursdays after 2", ("read after 2 as after 2 pm",)),
        ("Mon/Wed 8-12, Fri 1-4", ("read 1-4 as 1 pm–4 pm",)),
        ("Mon 1-4, Wed 1-4", ("read 1-4 as 1 pm–4 pm",)),
        ("daily 9-11", ("read “daily” as Mon–Fri",)),
        # am/pm written, carried, or bare hours that are am / noon / 24-hour: nothing assumed
        ("Tue 8-11", ()),
        ("Tue 7-9pm", ()),
        ("Tue 1-4pm", ()),
        ("Tue 9-12:30pm", ()),
        ("Tue noon-3", ()),
        ("Tue 12-12:30", ()),
        ("Tue 13-15", ()),
        ("Fri before 10", ()),
        ("weekdays 8-11", ()),
    ],
)
def test_assumptions_are_recorded_only_when_a_bare_hour_rule_decided(
    text: str, assumptions: tuple[str, ...]
) -> None:
    result = parse_availability(text, today=TODAY)
    assert result.error is None
    assert result.assumptions == assumptions


def test_to_json_matches_the_contract_example_exactly() -> None:
    result = parse_availability("Tue 8-11 PT", today=TODAY)
    expected = {
        "text": "Tue 8-11 PT",
        "intent": "replace",
        "tz": "America/Los_Angeles",
        "windows": [{"day": "tue", "start": "08:00", "end": "11:00"}],
        "dates": None,
        "error": None,
    }
    assert result.to_json() == expected
    assert list(result.to_json()) == ["text", "intent", "tz", "windows", "dates", "error"]
    assert json.dumps(result.to_json()) == json.dumps(expected)


def test_to_json_of_dates_end_of_day_and_questions() -> None:
    time_off = parse_availability("out Dec 23 - Jan 2", today=TODAY).to_json()
    assert time_off["intent"] == "time_off"
    assert time_off["windows"] == []
    assert time_off["dates"] == {"start": "2026-12-23", "end": "2027-01-02"}
    assert list(time_off["dates"]) == ["start", "end"]  # type: ignore[call-overload]

    starting = parse_availability("starting Dec 1 Tue 8-11", today=TODAY).to_json()
    assert starting["dates"] == {"start": "2026-12-01", "end": None}

    drop = parse_availability("drop Mondays", today=TODAY).to_json()
    assert drop["windows"] == [{"day": "mon", "start": "00:00", "end": "24:00"}]

    question = parse_availability("Tue or Wed", today=TODAY).to_json()
    assert question["intent"] is None
    assert question["windows"] == []
    assert isinstance(question["error"], str) and question["error"]
    json.dumps(question)  # serialisable as it stands


def test_parse_result_can_be_built_and_compared_as_plain_values() -> None:
    a = ParseResult("x", Intent.ADD, None, (Window(Day.FRI, 780, 960),), None, None)
    b = ParseResult("x", Intent.ADD, None, (Window(Day.FRI, 780, 960),), None, None)
    assert a == b
    assert a.assumptions == ()
    span = DateSpan(date(2027, 1, 5), None)
    assert span.end is None


def test_relative_days_from_a_wednesday() -> None:
    wednesday = date(2026, 11, 25)
    friday = parse_availability("off Friday", today=wednesday).dates
    next_friday = parse_availability("off next Friday", today=wednesday).dates
    next_week = parse_availability("OOO next week", today=wednesday).dates
    assert friday == DateSpan(date(2026, 11, 27), date(2026, 11, 27))
    assert next_friday == DateSpan(date(2026, 12, 4), date(2026, 12, 4))
    assert next_week == DateSpan(date(2026, 11, 30), date(2026, 12, 4))


def test_year_rules_early_in_the_year() -> None:
    january = date(2027, 1, 10)
    # Dec 23 passed 18 days ago (last year): a question, not a date eleven months ahead.
    assert "passed" in (parse_availability("out Dec 23", today=january).error or "")
    assert "passed" in (parse_availability("out Dec 23 - Jan 2", today=january).error or "")
    # Older than 60 days, it is next time round.
    assert parse_availability("out Oct 5", today=january).dates == DateSpan(
        date(2027, 10, 5), date(2027, 10, 5)
    )
    assert parse_availability("out Jan 2", today=january).error is not None  # 8 days ago
    assert parse_availability("out Feb 1", today=january).dates == DateSpan(
        date(2027, 2, 1), date(2027, 2, 1)
    )
    # Leap day: only read where the year has one.
    leap = parse_availability("out Feb 29", today=date(2028, 1, 10))
    assert leap.dates == DateSpan(date(2028, 2, 29), date(2028, 2, 29))


def test_day_enum_order_is_the_weekday_index() -> None:
    assert [d.value for d in Day] == ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    assert list(Day)[TODAY.weekday()] is Day.FRI
    assert [i.value for i in Intent] == [
        "replace",
        "add",
        "remove",
        "time_off",
        "cancel_time_off",
        "show",
    ]


def test_zone_abbreviations_cover_the_us_zones_and_are_valid() -> None:
    expected = {
        LA: {"PT", "PST", "PDT"},
        DENVER: {"MT", "MST", "MDT"},
        PHOENIX: {"AZ"},
        CHICAGO: {"CT", "CST", "CDT"},
        NEW_YORK: {"ET", "EST", "EDT"},
        ANCHORAGE: {"AKT", "AKST", "AKDT"},
        HONOLULU: {"HT", "HST"},
    }
    for zone, abbreviations in expected.items():
        assert {k for k, v in ZONE_ABBREVIATIONS.items() if v == zone} == abbreviations
        ZoneInfo(zone)
    with pytest.raises(TypeError):
        ZONE_ABBREVIATIONS["XT"] = "Nowhere"  # type: ignore[index]


@pytest.mark.parametrize(
    ("tz", "label"),
    [
        (LA, "Pacific"),
        (ANCHORAGE, "Alaska"),
        (PHOENIX, "Arizona"),
        (CHICAGO, "Central"),
        (NEW_YORK, "Eastern"),
        (DENVER, "Mountain"),
        (HONOLULU, "Hawaii"),
        ("America/Boise", "Mountain"),  # the shared labels name it
        ("Europe/London", "Europe/London"),
    ],
)
def test_zone_label(tz: str, label: str) -> None:
    assert zone_label(tz) == label


@pytest.mark.parametrize(
    ("minutes", "text"),
    [(0, "00:00"), (5, "00:05"), (480, "08:00"), (750, "12:30"), (1439, "23:59"), (1440, "24:00")],
)
def test_format_minutes(minutes: int, text: str) -> None:
    assert format_minutes(minutes) == text


def test_warm_up_runs_and_leaves_parsing_unchanged() -> None:
    before = parse_availability("out Dec 23 - Jan 2", today=TODAY)
    warm_up()
    assert parse_availability("out Dec 23 - Jan 2", today=TODAY) == before


def _split(text: str) -> list[str]:
    return text.split()


_VOCABULARY = _split(
    "Mon Tue Wed Thu Fri Sat Sun M T W F Th TTh MWF weekdays daily every day - – / , & and or "
    "to until from between after before except 8 9 10 11 12 1 3 4 6 7 13 24 25 0 8:30 9.30 "
    "0830 8:75 am pm a p noon midnight mornings afternoons all PT pt ET IST America/Boise "
    "Europe/Nowhere Dec Jan Feb 23 5 29 30 31 5th 12/23 1/2 next this week of tomorrow today "
    "out off back OOO PTO add also drop remove starting effective as 2027 2025 ? ! ."
)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_on_any_text(text: str) -> None:
    _check_invariants(parse_availability(text, today=TODAY))


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.sampled_from(_VOCABULARY), max_size=10),
    st.sampled_from([" ", ""]),
    st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
)
def test_never_raises_on_availability_like_text(words: list[str], sep: str, today: date) -> None:
    _check_invariants(parse_availability(sep.join(words), today=today))


def _check_invariants(result: ParseResult) -> None:
    assert (result.error is None) == (result.intent is not None)
    if result.error is not None:
        assert result.windows == () and result.dates is None and result.tz is None
    for w in result.windows:
        assert 0 <= w.start < w.end <= 1440
    assert list(result.windows) == sorted(
        result.windows, key=lambda w: (list(Day).index(w.day), w.start)
    )
    if result.intent in (Intent.TIME_OFF, Intent.CANCEL_TIME_OFF):
        # Whole days, or some hours on each day of the stretch (a week at most).
        assert result.dates is not None and result.dates.end is not None
        assert result.dates.start is not None and result.dates.start <= result.dates.end
        assert len({w.day for w in result.windows}) <= 7
    json.dumps(result.to_json())


_FORBIDDEN = ("slack", "slack_sdk", "slack_bolt", "sqlalchemy", "apscheduler")


def _package_trees() -> list[ast.Module]:
    package = Path(availability_text.__file__).parent
    modules = sorted(package.glob("*.py"))
    assert len(modules) > 5  # the scan sees the whole package
    return [ast.parse(path.read_text(encoding="utf-8")) for path in modules]


def test_module_imports_nothing_from_slack_sqlalchemy_or_apscheduler() -> None:
    path = Path(availability_text.__file__)
    imported: set[str] = set()
    for node in (node for tree in _package_trees() for node in ast.walk(tree)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert "bot" in imported  # the scan sees real imports
    assert not imported & set(_FORBIDDEN)
    # And nothing pulls them in indirectly.
    code = (
        "import sys, bot.domain.availability_text as m; "
        f"bad = [n for n in sys.modules if n.split('.')[0] in {_FORBIDDEN!r}]; "
        "print(bad); sys.exit(1 if bad else 0)"
    )
    root = path.parents[3]
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_module_never_reads_the_clock() -> None:
    calls = {
        node.func.attr
        for tree in _package_trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert calls  # the scan sees real calls
    assert not calls & {"now", "today", "utcnow"}
