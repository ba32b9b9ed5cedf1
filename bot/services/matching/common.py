"""Services: words and constants shared by the /match modules (zones, services, hours)."""

from __future__ import annotations

from bot.domain.labels import ZONE_LABELS, service_label
from bot.domain.labels import zone_abbr as zone_abbr
from bot.domain.vocabulary import Service
from bot.services.errors import Conflict
from storage.proposals import KIND as KIND

# Views of the one vocabulary (bot.domain.vocabulary, bot.domain.labels), kept under the names
# the /match modules use.
ZONE_ABBR = {tz: abbr for tz, (_, abbr) in ZONE_LABELS.items()}
SERVICES = tuple(s.value for s in Service)
SERVICE_LABEL = {s.value: service_label(s) for s in Service}


class Stale(Conflict):
    """The roster, an availability or an assignment changed since the proposal was computed."""


def hours(minutes: int) -> str:
    """90 -> '1.5', 230 -> '3.83' (hours, at most two decimals, no trailing zeros)."""
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def short_name(name: str) -> str:
    """ "Mo Rahimi" -> "Mo R." (how a proposal names other providers in a sentence)."""
    words = name.split()
    if len(words) < 2:
        return name
    return f"{words[0]} {words[-1][0]}."
