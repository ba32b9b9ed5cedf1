"""Domain: phrases that tell what an availability message wants done (show, add, remove, off)."""

from __future__ import annotations

import re
from typing import Final

SHOW_RE: Final = re.compile(
    r"(?:please\s+)?(?:"
    r"(?:show|list|view|see|display|check)(?:\s+me)?(?:\s+(?:my|the))?(?:\s+(?:current|saved))?"
    r"(?:\s+(?:schedule|availability|hours|times|windows|time\s+off))?"
    r"|what(?:'s|\s+is|\s+are)\s+my\s+(?:current\s+)?(?:schedule|availability|hours|times)"
    r"|what\s+do\s+i\s+have(?:\s+(?:on\s+file|set(?:\s+up)?|saved|now))?"
    r"|what\s+(?:hours|times|days)\s+do\s+i\s+have(?:\s+(?:on\s+file|set(?:\s+up)?|saved|now))?"
    r"|when\s+am\s+i\s+available"
    r"|(?:my\s+)?(?:current\s+)?(?:schedule|availability|hours)"
    r")(?:\s+please)?"
)


OFF_TOPIC_RE: Final = re.compile(
    r"\b(?:move|moving|moved|reschedul\w*|swap\w*|weather)\b"
    # "my 2pm" points at a session, not at hours ("my 8-3" is still hours).
    r"|\bmy\s+[0-9]{1,2}(?::[0-9]{2})?\s*(?:am|pm|a|p)?\b(?!\s*(?:-|to\b|until\b|till\b))"
)


TIME_OFF_RE: Final = re.compile(
    r"(?<!figure )(?<!check )(?<!find )(?<!work )\bout\b|\booo\b|\bpto\b|\bvacation\b|\bvacay\b"
    r"|\bon\s+leave\b|(?<!right )\baway\b|\bsick\b|\btime\s+off\b|\bdays?\s+off\b"
    r"|(?<!take )\boff\b(?!\s+(?:my|the)\s+(?:schedule|calendar|availability|hours))"
    r"|\bback\b|\breturning\b"
)


REMOVE_RE: Final = re.compile(
    r"\bno\s+longer\b|\bdrop\b|\bremove\b|\bdelete\b|\btake\s+off\b|\bcan'?t\s+(?:do|make|work)\b"
    r"|\bcannot\s+(?:do|make|work)\b|\bcan\s+not\s+(?:do|make|work)\b|\bdon'?t\s+do\b"
    r"|\bdo\s+not\s+do\b|\bnot\s+available\b|\bunavailable\b|\bnot\s+free\b"
    r"|\bwon'?t\s+be\s+(?:available|free)\b|\bno\s+more\b|\bnot\s+doing\b|\bstop\b|\bclear\b"
)


ADD_STRONG_RE: Final = re.compile(
    r"\badd\b|\badding\b|\bplus\b|\bin\s+addition\b|\badditionally\b|\bextra\b|\banother\b"
)


ADD_WEAK_RE: Final = re.compile(r"\balso\b|\btoo\b|\bas\s+well\b")


# Enough on its own to make a message about availability (else a lone "thanks" is off topic).
ON_TOPIC_RE: Final = re.compile(
    r"\b(?:ooo|pto|vacation|out\s+of\s+(?:the\s+)?office|time\s+off|add|remove|drop|delete"
    r"|no\s+longer|not\s+available|unavailable|available|availability|hours|schedule"
    r"|out|off|sick|on\s+leave)\b"
)


OR_RE: Final = re.compile(r"\bor\b|\beither\b")
