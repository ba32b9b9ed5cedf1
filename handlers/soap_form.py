"""Slack edge: open the SOAP form, for /soap and for any button that offers "Write note".

Listener modules (``handlers.soap``, ``handlers.nudges``) share it here rather than importing
each other.
"""

from __future__ import annotations

from bot.deps import Deps
from bot.services import soap as svc
from handlers.soap_blocks import note_form


def open_soap_modal(
    deps: Deps, slack_user_id: str, trigger_id: str, session_id: int | None = None
) -> bool:
    """Open the SOAP form for one session, or with a choice of the provider's sessions.

    Returns False when there is nothing to write. Raises the service's ``NotAllowed`` /
    ``NotFound`` / ``Conflict`` for the app's error handler. Any listener with a ``trigger_id``
    (a nudge's "Write note" button too) may call it after ``ack()``.
    """
    if session_id is None:
        choices = svc.sessions_awaiting_note(deps, slack_user_id)
        if not choices:
            return False
        view = note_form(choices=choices)
    else:
        view = note_form(fixed=svc.session_for_note(deps, slack_user_id, session_id))
    deps.gateway.open_view(trigger_id, view.to_dict())
    return True
