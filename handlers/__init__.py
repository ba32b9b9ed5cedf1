"""Slack edge: every listener module registers itself here, explicitly."""

from __future__ import annotations

from slack_bolt import App


def register_all(app: App) -> None:
    from handlers import availability, home, match, messages, placeholders

    availability.register(app)
    match.register(app)
    placeholders.register(app)
    messages.register(app)
    home.register(app)
