"""Services: words and constants shared by the /match modules (zones, services, hours)."""

from __future__ import annotations

from bot.services.errors import Conflict
from storage.proposals import KIND as KIND

ZONE_ABBR = {
    "America/Los_Angeles": "PT",
    "America/Denver": "MT",
    "America/Boise": "MT",
    "America/Phoenix": "Arizona time",
    "America/Chicago": "CT",
    "America/New_York": "ET",
    "America/Detroit": "ET",
    "America/Anchorage": "AKT",
    "America/Juneau": "AKT",
    "Pacific/Honolulu": "HT",
}
SERVICES = ("slp", "ot", "pt", "psych", "mh")
SERVICE_LABEL = {
    "slp": "SLP",
    "ot": "OT",
    "pt": "PT",
    "psych": "School psych",
    "mh": "Mental health",
}


class Stale(Conflict):
    """The roster, an availability or an assignment changed since the proposal was computed."""


def hours(minutes: int) -> str:
    """90 -> '1.5', 230 -> '3.83' (hours, at most two decimals, no trailing zeros)."""
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def zone_abbr(tz: str) -> str:
    return ZONE_ABBR.get(tz, tz)
