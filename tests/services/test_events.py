"""Services: retried Slack events are claimed once; old claims are forgotten."""

from __future__ import annotations

from bot.clock import FixedClock
from bot.deps import Deps
from bot.services.events import claim_event, forget_old_events


def test_an_event_is_claimed_once_and_forgotten_after_three_days(
    deps: Deps, clock: FixedClock
) -> None:
    assert claim_event(deps, "Ev1")
    assert not claim_event(deps, "Ev1")  # Slack's retry of the same event
    clock.advance(days=2)
    assert claim_event(deps, "Ev2")
    assert forget_old_events(deps) == 0
    clock.advance(days=1, minutes=1)
    assert forget_old_events(deps) == 1  # Ev1 only
    assert not claim_event(deps, "Ev2")
