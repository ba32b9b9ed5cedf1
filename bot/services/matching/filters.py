"""Services: /match filters (`district=`, `service=`, `provider=`) and finding the district."""

from __future__ import annotations

from dataclasses import dataclass

from bot.deps import Deps
from bot.domain.mrkdwn import code
from bot.services.districts import find_district
from bot.services.errors import InvalidInput, NotFound
from bot.services.matching.common import SERVICES
from bot.services.people import identify, require_manager
from storage import models as m

# --- filters ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DistrictInfo:
    """A district as a plain value: what callers outside a session may hold (never an ORM row)."""

    id: str
    name: str
    state: str
    timezone: str

    @classmethod
    def of(cls, row: m.District) -> DistrictInfo:
        return cls(row.id, row.name, row.state, row.timezone)


@dataclass(frozen=True)
class Filters:
    district: str
    service: str | None = None
    provider_slack_id: str | None = None


USAGE = (
    "Usage: `/match district=anchorage` — optionally add `service=slp` and `provider=@someone`.\n"
    "The district can be its id or a word of its name. `/match help` says more."
)


def parse_filters(text: str) -> Filters:
    values: dict[str, str] = {}
    for token in (text or "").split():
        key, sep, value = token.partition("=")
        key = key.lower()
        if not sep or not value or key not in ("district", "service", "provider"):
            raise InvalidInput(f"I don't understand {code(token)}.\n{USAGE}")
        if key in values:
            raise InvalidInput(f"{code(key + '=')} appears twice.\n{USAGE}")
        values[key] = value
    if "district" not in values:
        raise InvalidInput(USAGE)
    service = values.get("service")
    if service is not None and service.lower() not in SERVICES:
        raise InvalidInput(
            f"{code('service=' + service, 28)} is not a service ({', '.join(SERVICES)})."
        )
    provider = values.get("provider")
    if provider is not None:
        provider = provider.strip("<>@").split("|")[0]
        if provider[:1] not in ("U", "W"):
            raise InvalidInput("Name the provider with an @-mention: `provider=@someone`.")
    return Filters(values["district"], service.lower() if service else None, provider)


def resolve_district(deps: Deps, text: str, slack_user_id: str | None = None) -> DistrictInfo:
    """The district ``text`` names (``bot.services.districts``: one reader for every command)."""
    with deps.session_factory() as s:
        return DistrictInfo.of(find_district(s, text, slack_user_id))


def check_manager(deps: Deps, slack_user_id: str) -> None:
    with deps.session_factory() as s:
        require_manager(identify(s, slack_user_id, deps.settings.org_timezone), "run /match")


def district_name_for(deps: Deps, text: str) -> str | None:
    try:
        return resolve_district(deps, text).name
    except (NotFound, InvalidInput):
        return None
