"""Domain: the questions the availability parser puts back to the user."""

from __future__ import annotations

from typing import Final

Q_OFF_TOPIC: Final = (
    "I can only update availability and time off. Try “Tue 8-11 PT” or “out Dec 23 - Jan 2”."
)
# Messages are capped so that no message can cost the parser (or anyone waiting) much time.
MAX_MESSAGE_CHARS: Final = 500
Q_TOO_LONG: Final = (
    "That message is longer than I can read ({length} characters). Please send your hours in "
    "under {limit} characters, e.g. “Mon/Wed 8-12, Fri 1-4”, or one change at a time."
)
Q_NO_DAYS: Final = "Which days? Try “Tue 8-11”."
Q_NO_TIME: Final = "What times on {days}? Try “{day} 8-11”."
Q_SINGLE_TIME: Final = "From when to when? Try “Tue 9-11” rather than a single time like “{raw}”."
Q_END_BEFORE_START: Final = "“{raw}” ends before it starts. Which hours did you mean?"
Q_AM_OR_PM: Final = "Is “{raw}” am or pm? Please add it, e.g. “6am-10am” or “6pm-8pm”."
Q_OVERNIGHT: Final = "“{raw}” runs past midnight. Could you split it at midnight, one day each?"
Q_BAD_TIME: Final = "“{raw}” isn't a time I can read. Which time did you mean?"
Q_ALTERNATIVES: Final = (
    "Which one should I save? Send just the days and hours you want, e.g. “Tue 8-11”."
)
Q_TWO_ZONES: Final = "Which time zone: {zones}? Send one zone per message, e.g. “Tue 8-11 PT”."
Q_AMBIGUOUS_ZONE: Final = (
    "Which time zone do you mean by “{raw}”? Try “PT”, “ET” or a full name like “Europe/London”."
)
Q_PAST_DATE: Final = "{label} has already passed. Which date did you mean?"
Q_BAD_DATE: Final = "I couldn't read “{raw}” as a date. Which date did you mean?"
Q_WRONG_WEEKDAY: Final = "{label} is a {weekday}. Which date did you mean?"
Q_BACKWARDS_DATES: Final = "Those dates run backwards. Which dates did you mean?"
Q_OFF_NO_DATE: Final = "Which dates are you out? Try “out Dec 23 - Jan 2” or “off Friday”."
Q_OFF_NO_END: Final = "Until when are you out? Add the last day, e.g. “out {label} - {example}”."
Q_OFF_ONE_SPAN: Final = "Please send one stretch of time off at a time, e.g. “out Dec 23 - Jan 2”."
Q_LONG_STRETCH: Final = (
    "{span} is {days} days ({school_days} school days). Is that right? Time off longer than "
    "30 school days goes through your manager; or send the first and last day out again."
)
Q_NOT_WEEKLY: Final = (
    "I keep hours that repeat every week. For a one-off change, send the date, "
    "e.g. “out Fri Dec 4 9-12”; for every week, send the days, e.g. “Fri 9-12”."
)
Q_OFF_WITH_TIMES: Final = (
    "Time off is saved as whole days. Which days are you out? Try “off Friday”, "
    "or “remove Fri 1-4” to drop weekly hours."
)
Q_OFF_RECURRING: Final = (
    "Do you mean one {day} or every {day}? Try “off {example}” for one day, "
    "or “drop {plural}” to stop working them every week."
)
Q_DATE_IN_WEEKLY: Final = (
    "I keep weekly hours, not one-off dates. Did you mean starting {label}? "
    "Try “starting {label}, Tue 8-11”."
)
Q_DATES_ONLY: Final = "Are you out then? Try “out {raw}”, or give days and hours like “Tue 8-11”."
Q_MIXED: Final = "One change at a time, please: send the removal and the addition separately."


class AskUser(Exception):
    """Raised inside the parser to stop at the first thing the user must clarify."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
