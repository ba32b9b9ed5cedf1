"""Slack edge: [Schedule make-up] opens a form of times that fit; choosing one books it.

The form is checked before it is acknowledged: a time that stopped fitting goes back on the
field (``response_action="errors"``); a booked make-up replaces the form with a confirmation.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App

from bot.services import makeups as svc
from bot.services.errors import InvalidInput, UserFacingError
from bot.views.makeups import MakeupIds
from handlers.common import deps_of, row_id, selected_value
from handlers.home_publish import refresh_home
from handlers.makeup_blocks import booked_view, options_view


def _id(value: Any) -> int:
    number = row_id(value)
    if number is None:
        raise InvalidInput("That button is out of date. Please use the newest message.")
    return number


def handle_makeup_schedule_action(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: Any
) -> None:
    ack()
    deps = deps_of(context)
    options = svc.makeup_options(deps, body["user"]["id"], _id(action.get("value")))
    deps.gateway.open_view(body["trigger_id"], options_view(options).to_dict())


def handle_makeup_book_view(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any
) -> None:
    deps = deps_of(context)
    # Anything not shaped as Slack sends it is a field error: the form stays open.
    chosen = selected_value(view, MakeupIds.TIME_BLOCK, MakeupIds.TIME_SELECT)
    metadata = view.get("private_metadata")
    missed = row_id(metadata) if isinstance(metadata, str) else None
    field = str(MakeupIds.TIME_BLOCK)
    if not chosen or missed is None:
        ack(response_action="errors", errors={field: "Choose one of the times."})
        return
    try:
        booked = svc.book_makeup(deps, body["user"]["id"], missed, chosen)
    except UserFacingError as exc:
        ack(response_action="errors", errors={field: exc.message})
        return
    ack(response_action="update", view=booked_view(booked).to_dict())
    refresh_home(deps, body["user"]["id"])


def register(app: App) -> None:
    app.action(MakeupIds.SCHEDULE.value)(handle_makeup_schedule_action)
    app.view(MakeupIds.CALLBACK.value)(handle_makeup_book_view)
