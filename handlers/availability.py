"""Slack edge: /availability and its Save / Cancel / Undo buttons."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.services import availability as svc
from handlers.availability_blocks import (
    AvailabilityIds,
    help_blocks,
    render_result,
    saved_blocks,
    schedule_blocks,
    undone_blocks,
)
from handlers.common import HELP_WORDS, deps_of, split_mention, to_dicts
from handlers.home_publish import refresh_home


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
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    ack()
    deps = deps_of(context)
    saved = svc.save(deps, body["user"]["id"], action["value"])
    respond(text="Availability saved", blocks=to_dicts(saved_blocks(saved)), replace_original=True)
    if not saved.view.on_behalf:
        refresh_home(deps, body["user"]["id"])


def handle_availability_cancel_action(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    ack()
    svc.cancel(deps_of(context), body["user"]["id"], action["value"])
    respond(text="Cancelled — nothing was saved.", replace_original=True)


def handle_availability_undo_action(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    ack()
    deps = deps_of(context)
    undone = svc.undo(deps, body["user"]["id"], action["value"])
    respond(text="Undone", blocks=to_dicts(undone_blocks(undone)), replace_original=True)
    if not undone.view.on_behalf:
        refresh_home(deps, body["user"]["id"])


def register(app: App) -> None:
    app.command("/availability")(handle_availability_command)
    app.action(AvailabilityIds.SAVE.value)(handle_availability_save_action)
    app.action(AvailabilityIds.CANCEL.value)(handle_availability_cancel_action)
    app.action(AvailabilityIds.UNDO.value)(handle_availability_undo_action)
