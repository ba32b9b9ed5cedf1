"""Slack edge: plain DMs to the bot are read as availability messages."""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.services import availability as svc
from handlers.availability_blocks import help_blocks, render_result
from handlers.common import HELP_WORDS, deps_of, to_dicts


def handle_direct_message_event(event: dict[str, Any], client: WebClient, context: Any) -> None:
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return  # edits, joins and our own messages are not requests
    user, channel = event.get("user"), event.get("channel")
    if not user or not channel:
        return
    text = (event.get("text") or "").strip()
    if text.lower() in HELP_WORDS:
        message, blocks = "How to use this bot", to_dicts(help_blocks())
    else:
        message, blocks = render_result(svc.preview(deps_of(context), user, text))
    client.chat_postEphemeral(channel=channel, user=user, text=message, blocks=blocks)


def register(app: App) -> None:
    app.event("message")(handle_direct_message_event)
