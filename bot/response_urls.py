"""Wiring: replies to Slack's ``response_url`` over connections kept open per host.

Bolt's own ``respond()`` builds a new ``WebhookClient`` for every reply, and urllib opens (and,
for HTTPS, negotiates) a new connection each time: at a burst of previews that is a connect and
a TLS handshake per reply. ``KeptRespond`` sends the same message (Bolt's ``_build_message``,
the same JSON, the same ``WebhookResponse`` back) through ``KeptConnections``, which keeps idle
connections to each host and reuses them. A kept connection the server has closed meanwhile is
retried once on a fresh one, as slack_sdk retries a reset connection once.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from slack_bolt.context.respond import Respond
from slack_bolt.context.respond.internals import _build_message
from slack_sdk.web.internal_utils import get_user_agent
from slack_sdk.webhook import WebhookResponse

TIMEOUT_SECONDS = 10  # as slack_sdk's WebhookClient
IDLE_PER_HOST = 16
# A kept connection the server closed: the request never reached it, so sending again is safe.
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)

Key = tuple[str, str, int]


class KeptConnections:
    """Idle HTTP(S) connections per (scheme, host, port), at most ``idle`` kept for each."""

    def __init__(self, timeout: float = TIMEOUT_SECONDS, idle: int = IDLE_PER_HOST) -> None:
        self.timeout, self.idle = timeout, idle
        self._lock = threading.Lock()
        self._kept: dict[Key, list[http.client.HTTPConnection]] = {}
        self._tls = ssl.create_default_context()
        self._headers = {
            "Content-Type": "application/json;charset=utf-8",
            "User-Agent": get_user_agent(),
        }
        self.opened = 0  # connections opened, for the benchmarks

    def post_json(self, url: str, message: dict[str, Any]) -> WebhookResponse:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("response_url is not an http(s) URL")
        key = (parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        body = json.dumps(message).encode("utf-8")
        for attempt in (1, 2):
            conn = self._take(key)
            try:
                conn.request("POST", target, body, self._headers)
                resp = conn.getresponse()
                data = resp.read()
            except _STALE:
                conn.close()
                if attempt == 1:
                    continue
                raise
            except BaseException:
                conn.close()
                raise
            if resp.will_close:
                conn.close()
            else:
                self._give(key, conn)
            return WebhookResponse(
                url=url,
                status_code=resp.status,
                body=data.decode("utf-8", "replace"),
                headers=dict(resp.getheaders()),
            )
        raise AssertionError("unreachable")

    def _take(self, key: Key) -> http.client.HTTPConnection:
        with self._lock:
            kept = self._kept.get(key)
            if kept:
                return kept.pop()
            self.opened += 1
        scheme, host, port = key
        if scheme == "https":
            return http.client.HTTPSConnection(host, port, timeout=self.timeout, context=self._tls)
        return http.client.HTTPConnection(host, port, timeout=self.timeout)

    def _give(self, key: Key, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            kept = self._kept.setdefault(key, [])
            if len(kept) < self.idle:
                kept.append(conn)
                return
        conn.close()


class KeptRespond(Respond):
    """Bolt's ``respond()``, sent over ``KeptConnections``."""

    def __init__(self, response_url: str, connections: KeptConnections) -> None:  # noqa: D107
        super().__init__(response_url=response_url)
        self._connections = connections

    def __call__(  # type: ignore[override]
        self,
        text: str | dict[str, Any] = "",
        blocks: Sequence[Any] | None = None,
        attachments: Sequence[Any] | None = None,
        response_type: str | None = None,
        replace_original: bool | None = None,
        delete_original: bool | None = None,
        unfurl_links: bool | None = None,
        unfurl_media: bool | None = None,
        thread_ts: str | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> WebhookResponse:
        assert self.response_url is not None
        if isinstance(text, dict):
            message = _build_message(**text)
        else:
            message = _build_message(
                text=text,
                blocks=blocks,
                attachments=attachments,
                response_type=response_type,
                replace_original=replace_original,
                delete_original=delete_original,
                unfurl_links=unfurl_links,
                unfurl_media=unfurl_media,
                thread_ts=thread_ts,
                metadata=metadata,
            )
        return self._connections.post_json(self.response_url, message)
