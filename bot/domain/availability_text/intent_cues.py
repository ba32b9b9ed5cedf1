"""Domain: phrases that tell what an availability message wants done (show, add, remove, off)."""

from __future__ import annotations

import re
from typing import Final

SHOW_RE: Final = re.compile(
    r"(?:(?:can|could|would)\s+you\s+)?(?:please\s+)?(?:"
    r"(?:show|list|view|see|display|check)(?:\s+me)?(?:\s+(?:my|the))?(?:\s+(?:current|saved))?"
    r"(?:\s+(?:schedule|availability|hours|times|windows|time\s+off))?"
    r"|what(?:'s|\s+is|\s+are)\s+my\s+(?:current\s+)?(?:schedule|availability|hours|times)"
    r"|what\s+do\s+i\s+have(?:\s+(?:on\s+file|set(?:\s+up)?|saved|now))?"
    r"|what(?:'s|\s+is|\s+do\s+you\s+have)\s+(?:on\s+file|saved|set(?:\s+up)?)"
    r"|what\s+(?:hours|times|days|availability|schedule)\s+do\s+(?:i|you)\s+have"
    r"(?:\s+(?:on\s+file|set(?:\s+up)?|saved|now))?"
    r"|when\s+am\s+i\s+available"
    r"|(?:my\s+)?(?:current\s+)?(?:schedule|availability|hours)"
    # "... for me", "... for Tuesdays", "... this week": still a question about what is saved.
    r")(?:\s+for\s+(?:me|[a-z]+days?|the\s+week|this\s+week|next\s+week)|\s+this\s+week)?"
    r"(?:\s+please)?"
)
OFF_TOPIC_RE: Final = re.compile(
    r"\b(?:move|moving|moved|reschedul\w*|swap\w*|weather)\b"
    # "my 2pm" points at a session, not at hours ("my 8-3" is still hours).
    r"|\bmy\s+[0-9]{1,2}(?::[0-9]{2})?\s*(?:am|pm|a|p)?\b(?!\s*(?:-|to\b|until\b|till\b))"
)
TIME_OFF_RE: Final = re.compile(
    r"(?<!figure )(?<!check )(?<!find )(?<!work )\bout\b|\booo\b|\bpto\b|\bvacation\b|\bvacay\b"
    r"|\bon\s+leave\b|(?<!right )\baway\b|\bsick\b|\btime\s+off\b|\bdays?\s+off\b"
    r"|\bno\s+sessions\b|\bleave\s+(?=[a-z]{3}|[0-9])(?!at\b|by\b|early\b|for\b)"
    # A one-off appointment is time off on that date, not a weekly change.
    r"|\b(?:dentist|doctor'?s?|dr|appt|appointment|surgery|procedure|funeral|jury)\b"
    r"|(?<!take )\boff\b(?!\s+(?:my|the)\s+(?:schedule|calendar|availability|hours))"
    r"|\bback\b|\breturning\b"
)
REMOVE_RE: Final = re.compile(
    r"\bno\s+longer\b|\bdrop\b|\bremove\b|\bdelete\b|\btake\s+off\b|\bcan'?t\s+(?:do|make|work)\b"
    r"|\bcannot\s+(?:do|make|work)\b|\bcan\s+not\s+(?:do|make|work)\b|\bdon'?t\s+do\b"
    r"|\bdo\s+not\s+do\b|\bnot\s+available\b|\bunavailable\b|\bnot\s+free\b"
    r"|\bwon'?t\s+be\s+(?:available|free)\b|\bno\s+more\b|\bnot\s+doing\b|\bstop\b|\bclear\b"
    r"|\bcancel\s+(?:my|the|all)\b|\banymore\b|\bany\s+more\b"
)
# "take Tue 8-11 off my schedule": a removal whose "off" is not time off.
TAKE_OFF_SCHEDULE_RE: Final = re.compile(
    r"\btake\b.{1,40}\boff\s+(?:of\s+)?(?:my|the)\s+(?:schedule|calendar|availability|hours)\b"
)
# Cancelling or shortening time off ("cancel time off Dec 7", "not out Dec 7 after all",
# "back Dec 29 instead of Jan 4"); checked before time off, whose words these contain.
CANCEL_TIME_OFF_RE: Final = re.compile(
    r"\b(?:cancel|remove|delete|drop|undo|scrap|take\s+back)\b.{0,20}"
    r"\b(?:time\s+off|pto|ooo|vacation|leave|days?\s+off|day\s+out|out\s+of\s+office)\b"
    r"|\bnot\s+(?:out|off|away|ooo|on\s+pto|on\s+leave|taking)\b"
    r"|\bback\b.{1,30}\binstead\s+of\b"
)
# Not a weekly pattern: asked about rather than saved as every week.
NOT_WEEKLY_RE: Final = re.compile(
    r"\bevery\s+(?:other|second|2nd|third|3rd|two|three|2|3)\b|\balternat\w*\b|\bbi-?weekly\b"
    r"|\b(?:odd|even)\s+weeks?\b|\bthis\s+week\s+only\b|\bonly\s+this\s+week\b"
    r"|\b(?:first|second|third|fourth|last)\s+[a-z]+days?\s+of\b|\bonce\s+a\s+month\b"
)
ADD_STRONG_RE: Final = re.compile(
    r"^\s*\+|\badd\b|\badding\b|\bplus\b|\bin\s+addition\b|\badditionally\b|\bextra\b|\banother\b"
)
ADD_WEAK_RE: Final = re.compile(r"\balso\b|\btoo\b|\bas\s+well\b")

# Enough on its own to make a message about availability (else a lone "thanks" is off topic).
ON_TOPIC_RE: Final = re.compile(
    r"\b(?:ooo|pto|vacation|out\s+of\s+(?:the\s+)?office|time\s+off|add|remove|drop|delete"
    r"|no\s+longer|not\s+available|unavailable|available|availability|hours|schedule"
    r"|out|off|sick|on\s+leave)\b"
)
OR_RE: Final = re.compile(r"\bor\b|\beither\b")
