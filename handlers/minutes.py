"""Slack edge: /minutes [district=…] [month=YYYY-MM], as an ephemeral answer."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.services import minutes as svc
from handlers.common import deps_of, escape, to_dicts
from handlers.minutes_blocks import (
    district_minutes_blocks,
    org_minutes_blocks,
    provider_minutes_blocks,
)

HELP_WORDS = {"help", "?", "-h", "--help"}
HELP = (
    "*/minutes* shows IEP service minutes for this month: required (prorated), delivered, and "
    "make-ups owed.\n"
    "• `/minutes` — your students, on track or behind\n"
    "• `/minutes district=anc` — (managers) students below 90% and make-ups owed per provider\n"
    "• add `month=2026-11` for another month"
)


def handle_minutes_command(
    ack: Ack, command: dict[str, Any], respond: Respond, context: Any
) -> None:
    ack()
    text = (command.get("text") or "").strip()
    if text.lower() in HELP_WORDS:
        respond(text=HELP, response_type="ephemeral")
        return
    view = svc.minutes_for(deps_of(context), command["user_id"], svc.parse_args(text))
    if isinstance(view, svc.ProviderMinutes):
        title, blocks = f"Minutes for {escape(view.provider)}", provider_minutes_blocks(view)
    elif isinstance(view, svc.DistrictMinutes):
        title, blocks = f"Minutes for {escape(view.district)}", district_minutes_blocks(view)
    else:
        title, blocks = "Minutes per district", org_minutes_blocks(view)
    respond(text=title, blocks=to_dicts(blocks), response_type="ephemeral")


def register(app: App) -> None:
    app.command("/minutes")(handle_minutes_command)
