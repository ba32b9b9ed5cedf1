"""Slack edge: the controls on a deadline nudge DM — Review held, the overdue note's menu
(Write the note; Cancelled by me, by the school, or the student absent; It was a no-show),
Snooze.

Each acks first, parses the action into a small pydantic model (ids only travel in the payload),
calls one service, and replaces the line it acted on. The services act once, so a double click
or a Slack retry only gets "already done".
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, ValidationError
from slack_bolt import Ack, App, Respond

from bot.domain.vocabulary import CancelReason
from bot.services import nudges as svc
from bot.services import sessions as sessions_svc
from bot.services.errors import InvalidInput
from handlers.common import deps_of
from handlers.home_publish import refresh_home
from handlers.nudge_blocks import (
    NudgeIds,
    replace_block,
    review_held_text,
    session_marked_text,
    snoozed_text,
)
from handlers.soap_form import open_soap_modal

BAD_ACTION = "That button is out of date. Please use the newest reminder."


RowId = Annotated[int, Field(ge=1, lt=2**31)]  # a forged id never reaches the database


class ReviewHeldAction(BaseModel):
    nudge_id: RowId
    held_on: date

    @classmethod
    def of(cls, action: dict[str, Any]) -> ReviewHeldAction:
        prefix, _, raw_id = str(action.get("block_id", "")).partition(":")
        try:
            if prefix != NudgeIds.REVIEW_BLOCK:
                raise ValueError(prefix)
            return cls(nudge_id=raw_id, held_on=action.get("selected_date"))  # type: ignore[arg-type]
        except (ValidationError, ValueError):
            raise InvalidInput("Pick the day the review was held.") from None


class NoteWrittenAction(BaseModel):
    session_id: RowId

    @classmethod
    def of(cls, action: dict[str, Any]) -> NoteWrittenAction:
        try:
            return cls(session_id=action.get("value"))  # type: ignore[arg-type]
        except ValidationError:
            raise InvalidInput(BAD_ACTION) from None


class NoteMenuAction(BaseModel):
    """``write:<id>``, ``no_show:<id>`` or ``cancelled:<who>:<id>``. A cancellation always says
    who cancelled (an older reminder's bare ``cancelled:<id>`` is out of date, never guessed)."""

    choice: Literal["write", "cancelled", "no_show"]
    reason: CancelReason | None = None
    session_id: RowId

    @classmethod
    def of(cls, action: dict[str, Any]) -> NoteMenuAction:
        value = str((action.get("selected_option") or {}).get("value", ""))
        choice, _, raw_id = value.partition(":")
        reason = None
        if choice == "cancelled":
            reason, _, raw_id = raw_id.partition(":")
        try:
            if choice == "cancelled" and reason not in sessions_svc.MARK_REASONS:
                raise ValueError(reason)
            return cls(choice=choice, reason=reason, session_id=raw_id)  # type: ignore[arg-type]
        except (ValidationError, ValueError):
            raise InvalidInput(BAD_ACTION) from None


class SnoozeAction(BaseModel):
    batch_id: UUID

    @classmethod
    def of(cls, action: dict[str, Any]) -> SnoozeAction:
        try:
            return cls(batch_id=action.get("value"))  # type: ignore[arg-type]
        except ValidationError:
            raise InvalidInput(BAD_ACTION) from None


def _answer(respond: Respond, body: dict[str, Any], block_id: str, text: str) -> None:
    """Replace the line acted on in the DM; failing that, answer beside it."""
    blocks = (body.get("message") or {}).get("blocks")
    updated = replace_block(blocks, block_id, text) if isinstance(blocks, list) else None
    if updated is not None:
        original = (body.get("message") or {}).get("text") or "Reminders"
        respond(text=original, blocks=updated, replace_original=True)
    else:
        respond(text=text, response_type="ephemeral", replace_original=False)


def handle_nudge_review_held_action(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    ack()
    parsed = ReviewHeldAction.of(action)
    result = svc.mark_review_held(
        deps_of(context), body["user"]["id"], parsed.nudge_id, parsed.held_on
    )
    _answer(respond, body, f"{NudgeIds.REVIEW_BLOCK}:{parsed.nudge_id}", review_held_text(result))


def handle_nudge_note_written_action(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: Any
) -> None:
    """The button of reminders sent before the menu: it opens the SOAP form now."""
    ack()
    parsed = NoteWrittenAction.of(action)
    open_soap_modal(deps_of(context), body["user"]["id"], body["trigger_id"], parsed.session_id)


def handle_nudge_note_menu_action(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    ack()
    deps = deps_of(context)
    user = body["user"]["id"]
    parsed = NoteMenuAction.of(action)
    if parsed.choice == "write":
        open_soap_modal(deps, user, body["trigger_id"], parsed.session_id)
        return
    marked = sessions_svc.mark_session(deps, user, parsed.session_id, parsed.choice, parsed.reason)
    block_id = f"{NudgeIds.NOTE_BLOCK}:{parsed.session_id}"
    text = session_marked_text(parsed.choice, marked.already, parsed.reason)
    _answer(respond, body, block_id, text)
    refresh_home(deps, user)


def handle_nudge_snooze_action(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond, context: Any
) -> None:
    ack()
    parsed = SnoozeAction.of(action)
    result = svc.snooze(deps_of(context), body["user"]["id"], str(parsed.batch_id))
    _answer(respond, body, NudgeIds.ACTIONS, snoozed_text(result))


def register(app: App) -> None:
    app.action(NudgeIds.REVIEW_HELD.value)(handle_nudge_review_held_action)
    app.action(NudgeIds.NOTE_WRITTEN.value)(handle_nudge_note_written_action)
    app.action(NudgeIds.NOTE_MENU.value)(handle_nudge_note_menu_action)
    app.action(NudgeIds.SNOOZE.value)(handle_nudge_snooze_action)
