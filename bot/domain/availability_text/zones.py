"""Domain: time-zone words in availability messages and their everyday labels."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Final
from zoneinfo import available_timezones

from bot.domain.availability_text.vocabulary import words

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


ZONE_NAMES: Final[Mapping[str, str]] = {
    "pacific": "America/Los_Angeles",
    "mountain": "America/Denver",
    "arizona": "America/Phoenix",
    "central": "America/Chicago",
    "eastern": "America/New_York",
    "alaska": "America/Anchorage",
    "hawaii": "Pacific/Honolulu",
}


_ZONE_LABELS: Final[Mapping[str, str]] = {
    "America/Los_Angeles": "Pacific",
    "America/Anchorage": "Alaska",
    "America/Phoenix": "Arizona",
    "America/Chicago": "Central",
    "America/New_York": "Eastern",
    "America/Denver": "Mountain",
    "Pacific/Honolulu": "Hawaii",
}


# Abbreviations that name several zones around the world; we ask rather than guess.
AMBIGUOUS_ZONES: Final = frozenset({"IST", "BST", "AST", "SST"})


# First segment of an IANA name; lets "Mon/Wed" skip the zone lookup entirely.
IANA_AREAS: Final = words(
    "africa america antarctica arctic asia atlantic australia brazil canada chile etc "
    "europe indian mexico pacific us"
)


# "PT" is also a physical therapist in this product; these neighbours mean the profession.
PT_PROFESSION_BEFORE: Final = frozenset({"a", "an", "the", "my", "as", "our", "your", "another"})


PT_PROFESSION_AFTER: Final = words(
    "student students session sessions caseload caseloads service services eval evals "
    "evaluation evaluations kid kids group groups provider providers therapist therapists "
    "license licence minutes"
)


def zone_label(tz: str) -> str:
    """A short everyday name for a zone ("America/Los_Angeles" -> "Pacific"), else the IANA name."""
    return _ZONE_LABELS.get(tz, tz)


@lru_cache(maxsize=1)
def iana_names() -> dict[str, str]:
    # Computed once, on the first message that names a zone like "America/Boise".
    return {name.lower(): name for name in available_timezones()}
