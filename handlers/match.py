"""Slack edge: /match (placeholder until the matcher is wired)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond


def handle_match_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
    ack()
    respond(
        text="Caseload matching is not available yet. It's coming soon.", response_type="ephemeral"
    )


def register(app: App) -> None:
    app.command("/match")(handle_match_command)
