"""Slack edge: every listener module registers itself here, explicitly."""

from __future__ import annotations

from slack_bolt import App


def register_all(app: App) -> None:
    from handlers import (
        availability,
        caseload,
        home,
        makeups,
        match,
        messages,
        minutes,
        nudges,
        schedule_change,
        soap,
    )

    availability.register(app)
    match.register(app)
    caseload.register(app)
    soap.register(app)
    messages.register(app)
    home.register(app)
    nudges.register(app)
    minutes.register(app)
    makeups.register(app)
    schedule_change.register(app)
