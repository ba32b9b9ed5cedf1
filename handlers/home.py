"""Slack edge: the App Home tab — publishing it when opened, a provider's Held / Cancelled /
No-show buttons, and a manager's Run match button (publishing lives in ``handlers.home_publish``).
"""

from __future__ import annotations

import logging
from typing import Any
from uuid import uuid4

from slack_bolt import Ack, App

from bot.domain.vocabulary import CancelReason, SessionStatus
from bot.services import matching, scope
from bot.services import sessions as sessions_svc
from bot.services.errors import InvalidInput
from bot.slack_gateway import PostedMessage
from handlers.common import deps_of, escape, row_id
from handlers.home_blocks import MARK_STATUS, HomeIds
from handlers.home_publish import publish_home, refresh_home
from handlers.proposal_dm import deliver
from handlers.solving import district_subject, submit

log = logging.getLogger(__name__)


def handle_app_home_opened_event(event: dict[str, Any], context: Any) -> None:
    if event.get("tab", "home") != "home":
        return
    publish_home(deps_of(context), event["user"])


def _session_id(value: str | None) -> int:
    number = row_id(value)
    if number is None:
        raise InvalidInput("That button is out of date. Open the Home tab again.")
    return number


def _cancel_choice(action: dict[str, Any]) -> tuple[str, int]:
    """``provider:123`` from the Cancelled… menu -> ("provider", 123)."""
    value = str((action.get("selected_option") or {}).get("value", ""))
    reason, _, raw_id = value.partition(":")
    if reason not in sessions_svc.MARK_REASONS:
        raise InvalidInput("That button is out of date. Open the Home tab again.")
    return reason, _session_id(raw_id)


def handle_home_mark_action(
    ack: Ack, body: dict[str, Any], action: dict[str, Any], context: Any
) -> None:
    ack()
    deps = deps_of(context)
    user = body["user"]["id"]
    status = MARK_STATUS[HomeIds(action["action_id"])]
    if status == SessionStatus.CANCELLED:
        reason, session_id = _cancel_choice(action)
        sessions_svc.mark_session(deps, user, session_id, status, CancelReason(reason))
    else:
        sessions_svc.mark_session(deps, user, _session_id(action.get("value")), status)
    refresh_home(deps, user)


def handle_home_run_match_action(
    ack: Ack,
    body: dict[str, Any],
    action: dict[str, Any],
    context: Any,
    respond: Any = None,
    client: Any = None,
) -> None:
    """Run what `/match district=<id>` runs; Home has no response_url, so everything is said in
    the DM: "Matching Anchorage…" there becomes the progress, then the proposal."""
    ack()
    deps = deps_of(context)
    user = body["user"]["id"]
    matching.check_manager(deps, user)
    district = matching.resolve_district(deps, str(action.get("value") or ""), user)
    scope.require_district(deps, user, district.id, "match.run")
    said: list[PostedMessage] = []
    submit(
        context,
        (body, context, respond, client),
        subject=district_subject(district.id),
        user=user,
        what=f"match for {escape(district.name)}",
        started=f"Matching {escape(district.name)}… the proposal follows here.",
        tell=lambda text: said.append(
            deps.gateway.post_dm(user, text, key=f"matching:{uuid4().hex}")
        ),
        work=lambda: deliver(
            deps,
            user,
            f"Matching {escape(district.name)}",
            lambda progress: matching.propose(deps, user, matching.Filters(district.id), progress),
            shown=said[-1] if said else None,
        ),
    )


def register(app: App) -> None:
    app.event("app_home_opened")(handle_app_home_opened_event)
    for action in MARK_STATUS:
        app.action(action.value)(handle_home_mark_action)
    app.action(HomeIds.RUN_MATCH.value)(handle_home_run_match_action)
