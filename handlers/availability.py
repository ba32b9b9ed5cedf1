"""Slack edge: /availability and its Save / Change-only / Cancel / Undo buttons.

Previews from /availability are ephemeral; previews in a DM are real messages, so Save, Cancel
and Undo update that message in place (chat.update) and it survives a reload.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient

from bot.services import availability as svc
from handlers.availability_blocks import (
    AvailabilityIds,
    help_blocks,
    render_result,
    saved_blocks,
    schedule_blocks,
    undone_blocks,
)
from handlers.common import HELP_WORDS, deps_of, row_id, split_mention, to_dicts
from handlers.home_publish import refresh_home


def replace_message(
    body: dict[str, Any],
    client: WebClient,
    respond: Respond,
    text: str,
    blocks: list[dict[str, Any]] | None = None,
) -> None:
    """Replaces the message a button sits on: chat.update for a real (DM) message, the
    response_url for an ephemeral one."""
    container = body.get("container") or {}
    channel, ts = container.get("channel_id"), container.get("message_ts")
    if container.get("is_ephemeral") is False and channel and ts:
        client.chat_update(channel=channel, ts=ts, text=text, blocks=blocks or [])
    else:
        respond(text=text, blocks=blocks or [], replace_original=True)


def handle_availability_command(
    ack: Ack, command: dict[str, Any], respond: Respond, context: Any
) -> None:
    ack()
    deps = deps_of(context)
    user = command["user_id"]
    target, text = split_mention(command.get("text", ""))
    if text.lower() in HELP_WORDS:
        respond(
            text="How to use /availability",
            blocks=to_dicts(help_blocks()),
            response_type="ephemeral",
        )
        return
    if not text:
        view = svc.show(deps, user, target)
        respond(
            text="Your availability",
            blocks=to_dicts(schedule_blocks(view)),
            response_type="ephemeral",
        )
        return
    message, blocks = render_result(svc.preview(deps, user, text, target))
    respond(text=message, blocks=blocks, response_type="ephemeral")


def handle_availability_save_action(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    respond: Respond,
    context: Any,
) -> None:
    """Save, or [Change … only] (SAVE_DAYS) of a replace that would drop the days not named."""
    ack()
    deps = deps_of(context)
    user = body["user"]["id"]
    only_named_days = action.get("action_id") == AvailabilityIds.SAVE_DAYS
    saved = svc.save(deps, user, action["value"], only_named_days=only_named_days)
    replace_message(body, client, respond, "Availability saved", to_dicts(saved_blocks(saved)))
    if not saved.view.on_behalf:
        refresh_home(deps, user)


def handle_availability_cancel_action(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    respond: Respond,
    context: Any,
) -> None:
    ack()
    svc.cancel(deps_of(context), body["user"]["id"], action["value"])
    replace_message(body, client, respond, "Cancelled — nothing was saved.")


def handle_availability_undo_action(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    client: WebClient,
    respond: Respond,
    context: Any,
) -> None:
    ack()
    deps = deps_of(context)
    undone = svc.undo(deps, body["user"]["id"], action["value"])
    replace_message(body, client, respond, "Undone", to_dicts(undone_blocks(undone)))
    if not undone.view.on_behalf:
        refresh_home(deps, body["user"]["id"])


def handle_availability_cancel_time_off_action(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    ack()
    time_off_id = row_id(action.get("value"))
    if time_off_id is None:
        respond(text="That button is out of date. Send `/availability` to see your time off.")
        return
    preview = svc.preview_cancel_time_off(deps_of(context), body["user"]["id"], time_off_id)
    message, blocks = render_result(preview)
    respond(text=message, blocks=blocks, response_type="ephemeral", replace_original=False)


def register(app: App) -> None:
    app.command("/availability")(handle_availability_command)
    app.action(AvailabilityIds.SAVE.value)(handle_availability_save_action)
    app.action(AvailabilityIds.SAVE_DAYS.value)(handle_availability_save_action)
    app.action(AvailabilityIds.CANCEL.value)(handle_availability_cancel_action)
    app.action(AvailabilityIds.UNDO.value)(handle_availability_undo_action)
    app.action(AvailabilityIds.CANCEL_TIME_OFF.value)(handle_availability_cancel_time_off_action)
