"""Slack edge: /minutes [district=…] [month=YYYY-MM], as an ephemeral answer; the manager Home's
[Service log CSV] button, which uploads this month's CSVs to the manager's DM."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.services import minutes as svc
from bot.services import minutes_report as report_svc
from bot.views.format import bold
from handlers.common import deps_of, escape, to_dicts
from handlers.home_blocks import HomeIds
from handlers.minutes_blocks import (
    district_minutes_blocks,
    org_minutes_blocks,
    provider_minutes_blocks,
)

HELP_WORDS = {"help", "?", "-h", "--help"}
HELP = (
    bold("/minutes")
    + " shows IEP service minutes for this month: required (prorated), delivered, and "
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


def handle_home_minutes_csv_action(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: Any
) -> None:
    """A manager's Home button: this month's service log and summary CSVs, to their DM."""
    ack()
    deps = deps_of(context)
    user = body["user"]["id"]
    files = report_svc.manager_reports(deps, user, str(action.get("value") or ""))
    channel = deps.gateway.open_dm(user)
    for f in files:
        deps.gateway.upload_csv(channel, f.filename, f.content, f.title)


def register(app: App) -> None:
    app.command("/minutes")(handle_minutes_command)
    app.action(HomeIds.MINUTES_CSV.value)(handle_home_minutes_csv_action)
