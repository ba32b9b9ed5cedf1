"""Domain: the human labels of the vocabulary: days, services, US states and time zones.

One table each, so every reply names things the same way. Values come from
``bot.domain.vocabulary``; a code not in a table is shown as itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from bot.domain.vocabulary import CancelReason, Day, Service, SessionStatus

# --- days --------------------------------------------------------------------------------------

DAY_LABELS: Final = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
DAY_FULL: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def day_label(day: Day | int) -> str:
    """The label "Mon" for ``Day.MON`` or weekday index 0."""
    return DAY_LABELS[day.weekday if isinstance(day, Day) else day]


def day_full(day: Day | int) -> str:
    """The name "Monday" for ``Day.MON`` or weekday index 0."""
    return DAY_FULL[day.weekday if isinstance(day, Day) else day]


# --- services ----------------------------------------------------------------------------------

# (the service, one provider of it, several providers), as used inside a sentence:
# "SLP, Tue 08:00", "no SLP holds a licence…", "the 3 licensed school psychologists…".
SERVICE_LABELS: Final[Mapping[str, tuple[str, str, str]]] = MappingProxyType(
    {
        Service.SLP: ("SLP", "SLP", "SLPs"),
        Service.OT: ("OT", "OT", "OTs"),
        Service.PT: ("PT", "PT", "PTs"),
        Service.PSYCH: ("school psychology", "school psychologist", "school psychologists"),
        Service.MH: ("mental health", "mental-health specialist", "mental-health specialists"),
    }
)


def service_label(service: str) -> str:
    """The service itself: "SLP", "school psychology"."""
    return SERVICE_LABELS.get(service.lower(), (service, service, service))[0]


def provider_label(service: str, count: int = 1) -> str:
    """Who delivers it, singular or plural: "SLP" / "SLPs", "school psychologist(s)"."""
    labels = SERVICE_LABELS.get(service.lower())
    if labels is None:
        return service if count == 1 else service + "s"
    return labels[1] if count == 1 else labels[2]


# --- session statuses --------------------------------------------------------------------------

# A status as a list shows it, and as the end of "marked …".
STATUS_LABELS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        SessionStatus.SCHEDULED: ("not marked yet", "scheduled"),
        SessionStatus.HELD: ("held", "held"),
        SessionStatus.CANCELLED: ("cancelled", "cancelled"),
        SessionStatus.NO_SHOW: ("no-show", "a no-show"),
    }
)


def status_label(status: str) -> str:
    """How a list shows a session's status: "held", "no-show", "not marked yet"."""
    labels = STATUS_LABELS.get(status)
    return labels[0] if labels else status


def marked_as(status: str) -> str:
    """The end of "Session marked …": "held", "cancelled", "a no-show"."""
    labels = STATUS_LABELS.get(status)
    return labels[1] if labels else status


# Who cancelled, as the buttons that mark a session cancelled ask it (menu label, "marked …").
CANCEL_CHOICES: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        CancelReason.PROVIDER: ("Cancelled by me", "cancelled by you"),
        CancelReason.SCHOOL: ("Cancelled by the school", "cancelled by the school"),
        CancelReason.STUDENT_ABSENT: ("Student absent", "cancelled: student absent"),
    }
)


def marked_cancelled_as(reason: str | None) -> str:
    """The end of "Session marked …" for a cancellation: "cancelled by the school"."""
    labels = CANCEL_CHOICES.get(reason or "")
    return labels[1] if labels else marked_as(SessionStatus.CANCELLED)


# --- US states ---------------------------------------------------------------------------------

STATE_NAMES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "AL": "Alabama",
        "AK": "Alaska",
        "AZ": "Arizona",
        "AR": "Arkansas",
        "CA": "California",
        "CO": "Colorado",
        "CT": "Connecticut",
        "DE": "Delaware",
        "DC": "the District of Columbia",
        "FL": "Florida",
        "GA": "Georgia",
        "HI": "Hawaii",
        "ID": "Idaho",
        "IL": "Illinois",
        "IN": "Indiana",
        "IA": "Iowa",
        "KS": "Kansas",
        "KY": "Kentucky",
        "LA": "Louisiana",
        "ME": "Maine",
        "MD": "Maryland",
        "MA": "Massachusetts",
        "MI": "Michigan",
        "MN": "Minnesota",
        "MS": "Mississippi",
        "MO": "Missouri",
        "MT": "Montana",
        "NE": "Nebraska",
        "NV": "Nevada",
        "NH": "New Hampshire",
        "NJ": "New Jersey",
        "NM": "New Mexico",
        "NY": "New York",
        "NC": "North Carolina",
        "ND": "North Dakota",
        "OH": "Ohio",
        "OK": "Oklahoma",
        "OR": "Oregon",
        "PA": "Pennsylvania",
        "RI": "Rhode Island",
        "SC": "South Carolina",
        "SD": "South Dakota",
        "TN": "Tennessee",
        "TX": "Texas",
        "UT": "Utah",
        "VT": "Vermont",
        "VA": "Virginia",
        "WA": "Washington",
        "WV": "West Virginia",
        "WI": "Wisconsin",
        "WY": "Wyoming",
    }
)


def state_name(code: str) -> str:
    """The state's name: "AK" -> "Alaska"; an unknown code is shown as given."""
    return STATE_NAMES.get(code.upper(), code)


# --- time zones --------------------------------------------------------------------------------

# What people type for a zone (upper-cased), as in "Tue 8-11 PT".
ZONE_ABBREVIATIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "PT": "America/Los_Angeles",
        "PST": "America/Los_Angeles",
        "PDT": "America/Los_Angeles",
        "MT": "America/Denver",
        "MST": "America/Denver",
        "MDT": "America/Denver",
        "AZ": "America/Phoenix",
        "CT": "America/Chicago",
        "CST": "America/Chicago",
        "CDT": "America/Chicago",
        "ET": "America/New_York",
        "EST": "America/New_York",
        "EDT": "America/New_York",
        "AKT": "America/Anchorage",
        "AKST": "America/Anchorage",
        "AKDT": "America/Anchorage",
        "HT": "Pacific/Honolulu",
        "HST": "Pacific/Honolulu",
    }
)

# Zone words people type (lower-cased), as in "Tue 8-11 pacific".
ZONE_WORDS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "pacific": "America/Los_Angeles",
        "mountain": "America/Denver",
        "arizona": "America/Phoenix",
        "central": "America/Chicago",
        "eastern": "America/New_York",
        "alaska": "America/Anchorage",
        "hawaii": "Pacific/Honolulu",
    }
)

# IANA zone -> (everyday name, short label after a time). Arizona keeps no daylight saving, so
# "MT" would be wrong half the year there: its short label is "Arizona time".
ZONE_LABELS: Final[Mapping[str, tuple[str, str]]] = MappingProxyType(
    {
        "America/Los_Angeles": ("Pacific", "PT"),
        "America/Denver": ("Mountain", "MT"),
        "America/Boise": ("Mountain", "MT"),
        "America/Phoenix": ("Arizona", "Arizona time"),
        "America/Chicago": ("Central", "CT"),
        "America/New_York": ("Eastern", "ET"),
        "America/Detroit": ("Eastern", "ET"),
        "America/Anchorage": ("Alaska", "AKT"),
        "America/Juneau": ("Alaska", "AKT"),
        "Pacific/Honolulu": ("Hawaii", "HT"),
    }
)


def zone_label(tz: str) -> str:
    """An everyday name for a zone ("America/Los_Angeles" -> "Pacific"), else the IANA name."""
    labels = ZONE_LABELS.get(tz)
    return labels[0] if labels else tz


def zone_abbr(tz: str) -> str:
    """The short label written after a time ("08:00 PT"), else the IANA name."""
    labels = ZONE_LABELS.get(tz)
    return labels[1] if labels else tz
