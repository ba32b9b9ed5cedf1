"""Services: the roster directory the console's /who and /as read (no SQL in the console)."""

from __future__ import annotations

from bot.deps import Deps
from bot.services.directory import directory, first_provider, member, roster_is_empty


def test_an_empty_roster(deps: Deps) -> None:
    assert roster_is_empty(deps)
    assert first_provider(deps) is None
    assert directory(deps).providers == ()
    assert member(deps, "U0DEMOP01") is None


def test_the_demo_roster(demo_deps: Deps) -> None:
    assert not roster_is_empty(demo_deps)
    people = directory(demo_deps)
    assert people.managers and all(p.manager for p in people.managers)
    assert people.providers and not any(p.manager for p in people.providers)
    assert first_provider(demo_deps) == people.providers[0].slack_user_id
    manager = member(demo_deps, people.managers[0].slack_user_id)
    assert manager is not None and manager.manager
    provider = member(demo_deps, people.providers[0].slack_user_id)
    assert provider is not None and provider.discipline and provider.timezone
