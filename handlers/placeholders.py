"""Slack edge: commands whose features are still being built answer politely."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

PENDING = {
    "/caseload": "Caseload summaries",
    "/soap": "SOAP notes from Slack",
    "/deadlines": "Deadline summaries",
}


def handle_pending_command(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
    ack()
    feature = PENDING.get(command.get("command", ""), "This command")
    respond(
        text=f"{feature} are not available yet. They're coming soon.", response_type="ephemeral"
    )


def register(app: App) -> None:
    for name in PENDING:
        app.command(name)(handle_pending_command)
