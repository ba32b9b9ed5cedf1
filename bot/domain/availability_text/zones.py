"""Domain: time-zone words in availability messages and their everyday labels."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Final
from zoneinfo import available_timezones

from bot.domain.availability_text.vocabulary import words

# The zone tables and labels are the product's one vocabulary (bot.domain.labels).
from bot.domain.labels import ZONE_WORDS

ZONE_NAMES: Final = ZONE_WORDS  # "pacific", "alaska", ...

_LA, _DEN, _PHX, _CHI, _NY, _AK, _HI = (
    "America/Los_Angeles",
    "America/Denver",
    "America/Phoenix",
    "America/Chicago",
    "America/New_York",
    "America/Anchorage",
    "Pacific/Honolulu",
)
# Places people name a zone by, lower-case (a state that spans two zones is left out, so it
# gets a question): "Texas time", "Alaska", "Chicago time", "New York time".
PLACE_ZONES: Final[Mapping[str, str]] = MappingProxyType(
    {
        **dict.fromkeys(words("alaska anchorage juneau fairbanks"), _AK),
        **dict.fromkeys(words("hawaii honolulu"), _HI),
        **dict.fromkeys(words("arizona phoenix tucson"), _PHX),
        **dict.fromkeys(
            ["california", "washington state", "oregon", "nevada", "seattle", "los angeles"]
            + ["san francisco", "san diego", "sacramento", "las vegas"],
            _LA,
        ),
        **dict.fromkeys(
            ["colorado", "utah", "new mexico", "montana", "wyoming", "denver", "salt lake"]
            + ["salt lake city", "albuquerque", "boise"],
            _DEN,
        ),
        **dict.fromkeys(
            ["texas", "illinois", "minnesota", "wisconsin", "iowa", "missouri", "arkansas"]
            + ["louisiana", "oklahoma", "mississippi", "alabama", "chicago", "dallas", "houston"]
            + ["austin", "san antonio", "minneapolis", "st louis", "new orleans", "milwaukee"]
            + ["nashville", "kansas city"],
            _CHI,
        ),
        **dict.fromkeys(
            ["new york", "nyc", "florida", "georgia", "north carolina", "south carolina"]
            + ["virginia", "west virginia", "pennsylvania", "ohio", "michigan", "massachusetts"]
            + ["new jersey", "connecticut", "maine", "delaware", "maryland", "vermont"]
            + ["new hampshire", "rhode island", "boston", "atlanta", "miami", "philadelphia"]
            + ["detroit", "orlando", "charlotte", "pittsburgh", "washington dc", "dc"],
            _NY,
        ),
    }
)
# USPS state codes, upper-case. Those that are also words ("OR", "ME", "OK") count only before
# "time"; the rest also right after a time ("Mon 9-12 AK"). "CT" and "MT" stay zones.
STATE_CODES: Final[Mapping[str, str]] = MappingProxyType(
    {
        **dict.fromkeys(words("AK"), _AK),
        **dict.fromkeys(words("HI"), _HI),
        **dict.fromkeys(words("CA WA OR NV LA"), _LA),
        **dict.fromkeys(words("CO UT NM WY"), _DEN),
        **dict.fromkeys(words("TX IL MN WI IA MO AR OK MS AL"), _CHI),
        **dict.fromkeys(words("NY NYC FL GA NC SC VA WV PA OH MI MA NJ ME DE MD VT NH RI DC"), _NY),
    }
)
STATE_CODES_ONLY_BEFORE_TIME: Final = words("OR LA OK MS AL CO HI ME DE PA OH MA")
# "school time", "my school's time": the zone of the provider's schools, found by the service.
SCHOOL_ZONE: Final = "school"
# Words before "time" that are not places: "lunch time", "my time" (the provider's own zone).
NOT_PLACES: Final = words(
    "lunch free same part full any my your our their local this that next last first planning "
    "prep travel break drive session therapy work office down face screen nap play real "
    "standard daylight spare some more less extra quiet family own home class recess bell "
    "start end closing opening pickup dropoff drop pick his her its what which one"
)

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


@lru_cache(maxsize=1)
def iana_names() -> dict[str, str]:
    # Computed once, on the first message that names a zone like "America/Boise".
    return {name.lower(): name for name in available_timezones()}
