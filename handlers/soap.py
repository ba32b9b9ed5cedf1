"""Slack edge: /soap (the SOAP form, or a student's note history), the form's submission, and
the Write note / Open buttons.

The form is validated before it is acknowledged: problems go back on their fields
(``response_action="errors"``); a saved note replaces the form with a confirmation, then the
author's App Home is refreshed so the note leaves the overdue list.
"""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot.domain.sessions import note_from_form
from bot.services import soap as svc
from bot.services.errors import InvalidInput, UserFacingError
from handlers.common import deps_of, escape, form_input, row_id, selected_value, to_dicts
from handlers.home_publish import refresh_home
from handlers.soap_blocks import (
    FIELDS,
    SoapIds,
    history_blocks,
    none_waiting_text,
    note_view,
    saved_view,
    usage_text,
)
from handlers.soap_form import open_soap_modal

CHOOSE_SESSION = "Choose the session this note is for."
UNREADABLE_FIELD = "I couldn't read this field. Please type it again."
UNKNOWN_SESSION = (
    "I couldn't tell which session this note is for. Copy your text, then open the form again "
    "with /soap."
)


def _id(value: Any) -> int:
    number = row_id(value)
    if number is None:
        raise InvalidInput("That button is out of date. Please open it again.")
    return number


def handle_soap_command(ack: Ack, command: dict[str, Any], respond: Respond, context: Any) -> None:
    ack()
    deps = deps_of(context)
    user = command["user_id"]
    word, _, rest = (command.get("text") or "").strip().partition(" ")
    if word.lower() == "history":
        history = svc.history(deps, user, svc.parse_student_id(rest))
        respond(
            text=f"SOAP notes for {escape(history.student)}",
            blocks=to_dicts(history_blocks(history)),
            response_type="ephemeral",
        )
        return
    if word:
        respond(text=usage_text(deps.settings.soap_note_due_hours), response_type="ephemeral")
        return
    if not open_soap_modal(deps, user, command["trigger_id"]):
        respond(text=none_waiting_text(), response_type="ephemeral")


def read_form(view: dict[str, Any]) -> tuple[int | None, dict[str, str | None], set[str]]:
    """The session (from private_metadata or the select), each text field of the form, and the
    fields whose value was not text (a forged or garbled submission)."""
    metadata = view.get("private_metadata")
    fixed = metadata if isinstance(metadata, str) else ""
    chosen = selected_value(view, SoapIds.SESSION_BLOCK, SoapIds.SESSION_SELECT)
    session_id = row_id(fixed or chosen or "")
    fields: dict[str, str | None] = {}
    unreadable: set[str] = set()
    for name, (block, action) in FIELDS.items():
        raw = form_input(view, block, action).get("value")
        if raw is None or isinstance(raw, str):
            fields[name] = raw
        else:
            fields[name] = None
            unreadable.add(name)
    return session_id, fields, unreadable


def handle_soap_submit_view(
    ack: Ack, body: dict[str, Any], view: dict[str, Any], context: Any
) -> None:
    deps = deps_of(context)
    user = body["user"]["id"]
    session_id, fields, unreadable = read_form(view)
    note, problems = note_from_form(**fields)
    errors = {str(FIELDS[name][0]): message for name, message in problems.items()}
    errors |= {str(FIELDS[name][0]): UNREADABLE_FIELD for name in unreadable}
    # Errors must name a block the form has: the select, or (a form for one session) Objective.
    has_select = not view.get("private_metadata")
    if session_id is None and has_select:
        errors[str(SoapIds.SESSION_BLOCK)] = CHOOSE_SESSION
    elif session_id is None:
        errors.setdefault(str(SoapIds.OBJECTIVE_BLOCK), UNKNOWN_SESSION)
    if errors or note is None or session_id is None or unreadable:
        ack(response_action="errors", errors=errors)
        return
    try:
        saved = svc.save_note(deps, user, session_id, note)
    except UserFacingError as exc:
        # The form is still open: say it there, on the field that names the session.
        field = SoapIds.SESSION_BLOCK if has_select else SoapIds.OBJECTIVE_BLOCK
        ack(response_action="errors", errors={str(field): exc.message})
        return
    ack(response_action="update", view=saved_view(saved).to_dict())
    refresh_home(deps, user)


def handle_soap_write_note_action(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: Any
) -> None:
    ack()
    open_soap_modal(
        deps_of(context), body["user"]["id"], body["trigger_id"], _id(action.get("value"))
    )


def handle_soap_view_note_action(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: Any
) -> None:
    ack()
    deps = deps_of(context)
    note = svc.open_note(deps, body["user"]["id"], _id(action.get("value")))
    deps.gateway.open_view(body["trigger_id"], note_view(note).to_dict())


def register(app: App) -> None:
    app.command("/soap")(handle_soap_command)
    app.view(SoapIds.CALLBACK.value)(handle_soap_submit_view)
    app.action(SoapIds.WRITE_NOTE.value)(handle_soap_write_note_action)
    app.action(SoapIds.VIEW_NOTE.value)(handle_soap_view_note_action)
