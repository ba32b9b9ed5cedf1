"""Development tools: requests built and signed as Slack sends them, and dispatched in process.

Slash commands, interactivity (block actions, view submissions) and Events API envelopes, with
Slack's fields in Slack's order, signed with the v0 HMAC scheme. ``dispatch_signed`` is the one
way the console and the tests hand such a request to the real Bolt app without HTTP.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import threading
import time
import uuid
from typing import Any
from urllib.parse import urlencode

from slack_bolt import App, BoltResponse
from slack_bolt.request import BoltRequest

TEAM_ID = "T0LOCAL"
TEAM_DOMAIN = "local"
APP_ID = "A0LOCAL"
BOT_USER_ID = "UBOT"
BOT_ID = "BBOT"
BOT_NAME = "caseload-bot"
VERIFICATION_TOKEN = "local-verification-token"  # the deprecated token Slack still puts in payloads

_trigger_seq = itertools.count(1)
_ts_lock = threading.Lock()
_last_ts = [0]


def _fresh_ts() -> str:
    """A unique, increasing Slack-style ts based on the wall clock."""
    with _ts_lock:
        micros = max(int(time.time() * 1_000_000), _last_ts[0] + 1)
        _last_ts[0] = micros
    return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"


def _trigger_id() -> str:
    return f"{int(time.time())}.{next(_trigger_seq)}.{uuid.uuid4().hex}"


def _user(user_id: str, user_name: str | None = None) -> dict[str, str]:
    name = user_name or user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": TEAM_ID}


def _channel_name(channel_id: str) -> str:
    return "directmessage" if channel_id.startswith("D") else channel_id.lower()


def sign_request(signing_secret: str, body: str, timestamp: int | None = None) -> dict[str, str]:
    """Headers Slack sends with ``body``: timestamp, v0 HMAC-SHA256 signature, content type."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    base = f"v0:{ts}:{body}".encode()
    digest = hmac.new(signing_secret.encode(), base, hashlib.sha256).hexdigest()
    is_json = body.lstrip().startswith("{")
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/json" if is_json else "application/x-www-form-urlencoded",
    }


def slash_command_body(
    *,
    command: str,
    text: str,
    user_id: str,
    channel_id: str = "D0LOCAL",
    response_url: str,
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    user_name: str | None = None,
) -> str:
    """A slash command request body, form-encoded with Slack's fields in Slack's order."""
    fields = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": _channel_name(channel_id),
        "user_id": user_id,
        "user_name": user_name or user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id or _trigger_id(),
    }
    return urlencode(fields)


def block_actions_body(
    *,
    user_id: str,
    action: dict[str, Any],
    response_url: str | None,
    container: dict[str, Any],
    message: dict[str, Any] | None = None,
    view: dict[str, Any] | None = None,
    trigger_id: str | None = None,
    channel_id: str | None = None,
) -> str:
    """An interactivity body ("payload=<json>") for a block_actions event.

    ``container`` is e.g. ``{"type": "message", "message_ts": ts, "channel_id": ch,
    "is_ephemeral": False}`` or ``{"type": "view", "view_id": "V..."}``.
    """
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id or _trigger_id(),
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
    }
    channel = channel_id or container.get("channel_id")
    if channel:
        payload["channel"] = {"id": channel, "name": _channel_name(channel)}
    if message is not None:
        payload["message"] = message
        payload["state"] = {"values": {}}
    if view is not None:
        payload["view"] = view
    if response_url is not None:
        payload["response_url"] = response_url
    payload["actions"] = [{**action, "action_ts": action.get("action_ts") or _fresh_ts()}]
    return urlencode({"payload": json.dumps(payload)})


def modal_view(view_id: str) -> dict[str, Any]:
    """A modal view object as Slack serves it, before the app's own fields are laid over it."""
    return {
        "id": view_id,
        "team_id": TEAM_ID,
        "type": "modal",
        "blocks": [],
        "private_metadata": "",
        "callback_id": "",
        "external_id": "",
        "clear_on_close": False,
        "notify_on_close": False,
        "previous_view_id": None,
        "app_id": APP_ID,
        "app_installed_team_id": TEAM_ID,
        "bot_id": BOT_ID,
        "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
    }


def view_submission_body(
    *,
    user_id: str,
    view: dict[str, Any],
    state_values: dict[str, Any],
    trigger_id: str | None = None,
) -> str:
    """An interactivity body for submitting ``view`` with ``state_values`` as the input state."""
    view_id = view.get("id") or f"V{uuid.uuid4().hex[:10].upper()}"
    submitted = modal_view(view_id)
    submitted["root_view_id"] = view_id
    submitted.update(view)
    submitted["state"] = {"values": state_values}
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM_ID, "domain": TEAM_DOMAIN},
        "user": _user(user_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or _trigger_id(),
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return urlencode({"payload": json.dumps(payload)})


def event_body(*, event: dict[str, Any], event_id: str, team_id: str = TEAM_ID) -> str:
    """An Events API envelope (JSON) around ``event``."""
    event_ts = event.get("event_ts") or event.get("ts")
    event_time = int(float(event_ts)) if event_ts else int(time.time())
    envelope = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": event_time,
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": team_id,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_context": f"4-local-{event_id}",
    }
    return json.dumps(envelope)


def im_message_event(
    *, user_id: str, text: str, channel: str | None = None, ts: str | None = None
) -> dict[str, Any]:
    """A ``message`` event for a DM from ``user_id`` to the bot."""
    ts = ts or _fresh_ts()
    return {
        "type": "message",
        "channel_type": "im",
        "client_msg_id": str(uuid.uuid4()),
        "user": user_id,
        "text": text,
        "team": TEAM_ID,
        "channel": channel or "D" + user_id,
        "ts": ts,
        "event_ts": ts,
    }


def app_home_opened_event(*, user_id: str, view: dict[str, Any] | None = None) -> dict[str, Any]:
    """An ``app_home_opened`` event for the Home tab (``view`` once one was published)."""
    event: dict[str, Any] = {
        "type": "app_home_opened",
        "user": user_id,
        "channel": "D" + user_id,
        "tab": "home",
        "event_ts": _fresh_ts(),
    }
    if view is not None:
        event["view"] = view
    return event


def dispatch_signed(app: App, signing_secret: str, body: str) -> BoltResponse:
    """Sign ``body`` as Slack would and hand it to ``app`` in process (no HTTP)."""
    headers = sign_request(signing_secret, body)
    return app.dispatch(BoltRequest(body=body, headers=dict(headers.items())))
