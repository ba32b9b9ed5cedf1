"""Wiring: the door of ``serve``. Each ``POST /slack/events`` is checked on its raw bytes (size,
timestamp, signature, replay) before anything parses it.

A refused request gets ``401`` and one short log line naming the reason, never its body; nothing
else happens: no listener, no error handler, no Web API call, no ``response_url`` post.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import SQLAlchemyError

from bot.services import events

if TYPE_CHECKING:
    from slack_bolt import App

    from bot.deps import Deps
    from bot.work import AckGate

log = logging.getLogger("bot.edge")

SIGNATURE_WINDOW_SECONDS = 300
MAX_BODY_BYTES = 1 << 20
# ASCII digits only, at most 12 of them: "1e3", "abc", " 17", 5,000 digits never reach int().
_TIMESTAMP = re.compile(r"[0-9]{1,12}")
_SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")
_PURGE_EVERY_SECONDS = 60.0

StartResponse = Callable[..., Any]


def refusal_reason(
    secret: bytes, body: bytes, timestamp: str | None, signature: str | None, now: float
) -> str | None:
    """None when Slack signed ``body`` within the window; else a short reason for the log."""
    if not timestamp or not signature:
        return "unsigned"
    if not _TIMESTAMP.fullmatch(timestamp):
        return "bad_timestamp"
    if abs(now - int(timestamp)) > SIGNATURE_WINDOW_SECONDS:
        return "stale_timestamp"
    if not _SIGNATURE.fullmatch(signature):
        return "bad_signature"
    base = b"v0:" + timestamp.encode("ascii") + b":" + body
    expected = "v0=" + hmac.new(secret, base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "bad_signature"
    return None


def plain(start_response: StartResponse, status: str, text: str) -> list[bytes]:
    body = text.encode()
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def _read_body(environ: dict[str, Any]) -> bytes | None:
    """The whole body, or None when it is over the limit (then it is not read at all)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if length > MAX_BODY_BYTES or length < 0:
        return None
    stream = environ.get("wsgi.input")
    data = stream.read(length) if stream is not None and length else b""
    return bytes(data)


def _bolt_headers(environ: dict[str, Any]) -> dict[str, list[str]]:
    headers = {
        key[5:].lower().replace("_", "-"): [str(value)]
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.lower().replace("_", "-")] = [str(environ[key])]
    return headers


class SlackDoor:
    """The WSGI endpoint for ``/slack/events``: verify, refuse replays, then hand to Bolt.

    ``acks`` counts the requests being answered; the app's work pools wait on the same gate
    (``bot.app.create_door`` builds the two together)."""

    def __init__(self, app: App, deps: Deps, signing_secret: str, acks: AckGate) -> None:
        self.app, self.deps, self.acks = app, deps, acks
        self.secret = signing_secret.encode()
        self._next_purge = 0.0
        self._purge_lock = threading.Lock()
        # SQLite has one writer at a time and its busy handler sleeps in steps of up to 100 ms:
        # queueing this process's claims in line costs far less than letting them collide.
        self._claim_lock: AbstractContextManager[Any] = (
            threading.Lock() if deps.settings.is_sqlite else nullcontext()
        )

    def refuse(self, start_response: StartResponse, reason: str) -> list[bytes]:
        log.info("request.refused", extra={"reason": reason})
        return plain(start_response, "401 Unauthorized", "invalid request\n")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        with self.acks.acknowledging():  # work waits to start while requests are being answered
            return self._answer(environ, start_response)

    def _answer(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        body = _read_body(environ)
        if body is None:
            return self.refuse(start_response, "too_large")
        now = self.deps.clock.now().timestamp()
        timestamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP")
        signature = environ.get("HTTP_X_SLACK_SIGNATURE")
        reason = refusal_reason(self.secret, body, timestamp, signature, now)
        if reason is not None:
            return self.refuse(start_response, reason)
        assert timestamp is not None and signature is not None
        try:
            with self._claim_lock:
                fresh = events.claim_request(self.deps, int(timestamp), signature)
            self._purge(now)
        except SQLAlchemyError as exc:
            log.warning("request.replay_check_failed", extra={"error": type(exc).__name__})
            return plain(start_response, "503 Service Unavailable", "try again\n")
        if not fresh:
            return self.refuse(start_response, "replay")
        return self._dispatch(environ, body, start_response)

    def _dispatch(
        self, environ: dict[str, Any], body: bytes, start_response: StartResponse
    ) -> Iterable[bytes]:
        from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
        from slack_bolt.request import BoltRequest

        try:
            request = BoltRequest(
                body=body.decode("utf-8"),
                query=environ.get("QUERY_STRING") or None,
                headers=_bolt_headers(environ),
            )
        except Exception as exc:  # signed but unreadable: Slack never sends one; answer, don't 500
            log.warning("request.unreadable", extra={"error": type(exc).__name__})
            return plain(start_response, "400 Bad Request", "unreadable request\n")
        response = self.app.dispatch(request)
        wsgi = WsgiHttpResponse(
            status=response.status, headers=response.headers, body=response.body
        )
        start_response(wsgi.status, wsgi.get_headers())
        return wsgi.get_body()

    def _purge(self, now: float) -> None:
        """Forget signatures that are stale anyway, about once a minute per process."""
        tick = time.monotonic()
        if tick < self._next_purge or not self._purge_lock.acquire(blocking=False):
            return
        try:
            self._next_purge = tick + _PURGE_EVERY_SECONDS
            events.forget_old_requests(self.deps, int(now) - 2 * SIGNATURE_WINDOW_SECONDS)
        finally:
            self._purge_lock.release()
