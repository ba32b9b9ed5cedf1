"""Domain: the availability message grammar.

Turns one plain-words Slack message from a provider ("Mon/Wed 8-12, Fri 1-4 PT", "add Fri 1-4",
"out Dec 23 - Jan 2") into a `ParseResult`: what the provider wants done (intent), the weekly
windows in local wall time, the zone they named, the dates involved, or a short question to put
back to them when the message cannot be saved as it stands.

Pure: no I/O and no clock; `today` is passed in. Weekday sets, times, ranges, calendar dates and
zones all come from the hand-written grammar of this package, so every rule is visible and
testable, and the year of a date is always chosen by our own rules
(`calendar_dates.resolve_start`). Work is linear in the message, which is capped at
`MAX_MESSAGE_CHARS`, so no message can cost more than a few milliseconds.

Product decisions worth knowing (the tests pin each one):
- a bare hour is am for 7-11, noon for 12, pm for 1-6, 24-hour for 13-24; an explicit am/pm on
  one end of a range carries to the other only when the range still increases;
- "daily" / "every day" mean Mon-Fri (a school product), recorded as an assumption;
- "mornings" 08:00-12:00, "afternoons" (and "pm" after a day) 12:00-16:00, "evenings" 16:00-20:00,
  "all day" 00:00-24:00, "after X" X-24:00, "before X" 00:00-X;
- "next <weekday>" is that weekday in next week (Mon-Sun), "<weekday>" / "this <weekday>" the next
  occurrence, today included;
- time off always has both ends (one day: start == end); open-ended leave is asked about;
- "PT" next to a profession word ("a PT", "PT students") is a physical therapist, not a zone;
- when a question (error) is returned, nothing else is: intent, tz, windows and dates are empty.

The package reads a message in passes, one module each: `tokens` (split), `scanner` (times, day
sets, dates, zones, keywords), `grouping` (day chains and day/time groups), `reading` (the final
weekly change or time off), with the word tables in `vocabulary`, `zones` and `intent_cues`.
"""

from bot.domain.availability_text.questions import MAX_MESSAGE_CHARS
from bot.domain.availability_text.reading import parse_availability, warm_up
from bot.domain.availability_text.result import DateSpan, Intent, ParseResult, Window
from bot.domain.labels import ZONE_ABBREVIATIONS, zone_label
from bot.domain.schedule import hhmm as format_minutes
from bot.domain.vocabulary import Day  # "08:00"; 1440 is "24:00"

__all__ = [
    "MAX_MESSAGE_CHARS",
    "ZONE_ABBREVIATIONS",
    "DateSpan",
    "Day",
    "Intent",
    "ParseResult",
    "Window",
    "format_minutes",
    "parse_availability",
    "warm_up",
    "zone_label",
]
