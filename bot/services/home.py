"""Services: what the App Home tab shows a person."""

from __future__ import annotations

from dataclasses import dataclass

from bot.deps import Deps
from bot.services.availability import ScheduleView, view_for_provider
from bot.services.people import NOT_IN_ROSTER, identify

__all__ = ["NOT_IN_ROSTER", "Home", "home_for"]


@dataclass(frozen=True)
class Home:
    known: bool
    name: str
    is_manager: bool
    schedule: ScheduleView | None


def home_for(deps: Deps, slack_user_id: str) -> Home:
    with deps.session_factory() as s:
        person = identify(s, slack_user_id, deps.settings.org_timezone)
        provider_id = person.provider.id if person.provider else None
        name, known, is_manager = person.name, person.known, person.is_manager
    schedule = view_for_provider(deps, provider_id) if provider_id else None
    return Home(known=known, name=name, is_manager=is_manager, schedule=schedule)
