"""Slack edge: plain DMs to the bot are read as availability messages.

Replies are real messages (chat.postMessage), so a preview survives a reload and shows on the
phone; its Save, Cancel and Undo buttons then update it in place. "help" and "undo" do what
they say.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import App
from slack_sdk import WebClient

from bot.services import availability as svc
from handlers.availability_blocks import help_blocks, render_result, undone_blocks
from handlers.common import HELP_WORDS, deps_of, to_dicts

UNDO_WORDS = {"undo", "undo that", "undo it", "undo last"}


def handle_direct_message_event(event: dict[str, Any], client: WebClient, context: Any) -> None:
    if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
        return  # edits, joins and our own messages are not requests
    user, channel = event.get("user"), event.get("channel")
    if not user or not channel:
        return
    text = (event.get("text") or "").strip()
    word = text.lower().strip(" .!")
    if word in HELP_WORDS:
        message, blocks = "How to use this bot", to_dicts(help_blocks())
    elif word in UNDO_WORDS:
        undone = svc.undo_last(deps_of(context), user)
        if undone is None:
            message, blocks = "There is nothing of yours to undo.", []
        else:
            message, blocks = "Undone", to_dicts(undone_blocks(undone))
    else:
        message, blocks = render_result(svc.preview(deps_of(context), user, text))
    client.chat_postMessage(channel=channel, text=message, blocks=blocks)


def register(app: App) -> None:
    app.event("message")(handle_direct_message_event)
