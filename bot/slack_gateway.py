"""Wiring: the one Slack Web API gateway.

Every Web API call of every process goes through the ``WebClient`` built here, so
``SLACK_API_URL`` and the retry policy (429 after Retry-After, 5xx, connection errors, all via
slack_sdk's retry handlers) hold everywhere. Bolt's ``App`` is given this same client.
Retries happen only after a listener has acked, because listeners ack first.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from bot.services.ports import PERMANENT_ERRORS, DeliveryFailed, RecipientUnreachable, Sent

log = logging.getLogger(__name__)


class SlackUnavailable(DeliveryFailed):
    """Slack did not take the call (rate limited past retries, 5xx, timeout, network).

    ``uncertain``: the request may have reached Slack (a timeout or a server error), so a post
    may have been taken after all.
    """


# Message metadata that marks a DM sent from the outbox with its key (see ``was_sent``).
OUTBOX_EVENT = "caseload_outbox"
HISTORY_LIMIT = 100  # recent messages searched for an outbox key
Render = Callable[[object], tuple[str, list[dict[str, Any]]]]


def _default_render(message: object) -> tuple[str, list[dict[str, Any]]]:
    # Imported here: the views import the services' message types, which import the deps.
    from bot.views.dm import render

    return render(message)


@dataclass(frozen=True)
class PostedMessage:
    channel: str
    ts: str


def _maybe_arrived(exc: BaseException) -> bool:
    """A timeout may fire after Slack took the request; a refused connection never reached it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, TimeoutError | socket.timeout):
            return True
        if isinstance(current, ConnectionRefusedError):
            return False
        reason = getattr(current, "reason", None)
        current = reason if isinstance(reason, BaseException) else current.__cause__
    return "timed out" in str(exc).lower()


def make_web_client(
    token: str | None, base_url: str, *, retries: int = 2, timeout: int = 10
) -> WebClient:
    return WebClient(
        token=token,
        base_url=base_url,
        timeout=timeout,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=retries),
            ServerErrorRetryHandler(max_retry_count=retries),
            ConnectionErrorRetryHandler(max_retry_count=retries),
        ],
    )


# A modal's trigger_id expires 3 s after the click, and opening a DM is one quick lookup:
# waiting longer for either only holds a worker thread.
QUICK_TIMEOUT_SECONDS = 3


class SlackGateway:
    """The bot's outbound Slack calls, as the services need them."""

    def __init__(self, client: WebClient, render: Render | None = None) -> None:
        self.client = client
        self._quick = WebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=QUICK_TIMEOUT_SECONDS,
            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)],
        )
        # For posts tagged with a key: no blind retry of a post Slack may have taken (a 5xx or a
        # timeout after it arrived); only 429s, which Slack did not take, are retried.
        self._once = WebClient(
            token=client.token,
            base_url=client.base_url,
            timeout=client.timeout,
            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=2)],
        )
        self.render = render or _default_render
        self._dm_channels: dict[str, str] = {}

    def _call(
        self, method: str, *, quick: bool = False, once: bool = False, **kwargs: Any
    ) -> dict[str, Any]:
        client = self._quick if quick else self._once if once else self.client
        try:
            resp = client.api_call(method, json=kwargs)
        except SlackApiError as exc:
            status = exc.response.status_code
            error = exc.response.get("error") if isinstance(exc.response.data, dict) else None
            log.warning("slack.call_failed", extra={"method": method, "status": status})
            if error in PERMANENT_ERRORS:
                raise RecipientUnreachable(str(error)) from None
            raise SlackUnavailable(
                f"{method} failed: {status} {error or ''}".strip(), uncertain=status >= 500
            ) from None
        except Exception as exc:  # timeouts, refused connections: Slack is unreachable
            log.warning("slack.unreachable", extra={"method": method, "error": type(exc).__name__})
            raise SlackUnavailable(
                f"{method} failed: {type(exc).__name__}", uncertain=_maybe_arrived(exc)
            ) from None
        return dict(resp.data) if isinstance(resp.data, dict) else {}

    def open_dm(self, user_id: str) -> str:
        channel = self._dm_channels.get(user_id)
        if channel is None:
            data = self._call("conversations.open", quick=True, users=user_id)
            channel = str(data["channel"]["id"])
            self._dm_channels[user_id] = channel
        return channel

    def post_dm(
        self,
        user_id: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        *,
        key: str | None = None,
    ) -> PostedMessage:
        """Post into the user's DM. With ``key`` the post is tagged with it and never lands
        twice: a failure after which Slack may have taken it (a timeout, a 5xx) is not retried
        blindly; the DM's latest messages are looked at for ``key`` first, and only when it is
        not there is it posted once more."""
        channel = self.open_dm(user_id)
        params: dict[str, Any] = {"channel": channel, "text": text, "blocks": blocks or []}
        if key is None:
            data = self._call("chat.postMessage", **params)
            return PostedMessage(str(data.get("channel", channel)), str(data.get("ts", "")))
        params["metadata"] = {"event_type": OUTBOX_EVENT, "event_payload": {"key": key}}
        try:
            data = self._call("chat.postMessage", once=True, **params)
        except SlackUnavailable as exc:
            if not exc.uncertain:
                raise
            ts = self._tagged(channel, key)
            if ts is not None:
                log.info("slack.post_found_after_failure", extra={"method": "chat.postMessage"})
                return PostedMessage(channel, ts)
            data = self._call("chat.postMessage", once=True, **params)
        return PostedMessage(str(data.get("channel", channel)), str(data.get("ts", "")))

    def send_dm(self, user_id: str, message: object, *, key: str | None = None) -> Sent:
        """The ``Notifier`` port: render ``message`` at this edge and DM it, tagged with ``key``."""
        text, blocks = self.render(message)
        channel = self.open_dm(user_id)
        params: dict[str, Any] = {"channel": channel, "text": text, "blocks": blocks}
        if key:
            params["metadata"] = {"event_type": OUTBOX_EVENT, "event_payload": {"key": key}}
        data = self._call("chat.postMessage", **params)
        return Sent(channel=str(data.get("channel", channel)), ts=str(data.get("ts", "")))

    def was_sent(self, user_id: str, key: str) -> bool:
        """Whether the DM channel's latest messages hold one tagged with ``key``.

        No ``oldest``: the bot's clock may be set apart from Slack's (``jobs run-once --now``),
        and the latest ``HISTORY_LIMIT`` messages of a DM with the bot reach back far enough.
        """
        return self._tagged(self.open_dm(user_id), key) is not None

    def _tagged(self, channel: str, key: str) -> str | None:
        """The ts of the channel's latest message tagged with ``key``, if any."""
        data = self._call(
            "conversations.history",
            channel=channel,
            limit=HISTORY_LIMIT,
            include_all_metadata=True,
        )
        for message in data.get("messages") or []:
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == OUTBOX_EVENT and payload.get("key") == key:
                return str(message.get("ts", ""))
        return None

    def update_message(
        self, channel: str, ts: str, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        self._call("chat.update", channel=channel, ts=ts, text=text, blocks=blocks or [])

    def open_view(self, trigger_id: str, view: dict[str, Any]) -> dict[str, Any]:
        return self._call("views.open", quick=True, trigger_id=trigger_id, view=view)

    def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        self._call("views.publish", user_id=user_id, view=view)

    def user_timezone(self, user_id: str) -> str | None:
        try:
            data = self._call("users.info", user=user_id)
        except SlackUnavailable:
            return None
        tz = data.get("user", {}).get("tz")
        return str(tz) if tz else None

    def upload_csv(
        self, channel: str, filename: str, content: str, title: str, thread_ts: str | None = None
    ) -> None:
        """Share a CSV in ``channel`` (in the thread of ``thread_ts``, when given)."""
        try:
            self.client.files_upload_v2(
                channel=channel,
                filename=filename,
                content=content,
                title=title,
                thread_ts=thread_ts or None,
            )
        except SlackApiError as exc:
            raise SlackUnavailable(f"files upload failed: {exc.response.status_code}") from None
        except Exception as exc:  # timeouts, refused connections, a refused upload URL
            log.warning("slack.upload_failed", extra={"error": type(exc).__name__})
            raise SlackUnavailable(f"files upload failed: {type(exc).__name__}") from None
