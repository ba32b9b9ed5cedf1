"""Slack edge: publish someone's App Home, for any listener that changed what it shows.

``refresh_home`` re-publishes someone's Home after a change they made elsewhere (a note saved,
availability saved); a refresh that Slack refuses is logged and dropped, since the next
``app_home_opened`` publishes it again. Listener modules share it here rather than importing
each other.
"""

from __future__ import annotations

import logging

from bot.deps import Deps
from bot.services import home as svc
from bot.slack_gateway import SlackUnavailable
from handlers.home_blocks import home_view

log = logging.getLogger(__name__)


def publish_home(deps: Deps, slack_user_id: str) -> None:
    deps.gateway.publish_home(slack_user_id, home_view(svc.home_for(deps, slack_user_id)))


def refresh_home(deps: Deps, slack_user_id: str | None) -> None:
    """Publish again after a change; never fails the change itself."""
    if not slack_user_id:
        return
    try:
        publish_home(deps, slack_user_id)
    except SlackUnavailable:
        log.warning("home.refresh_failed")
