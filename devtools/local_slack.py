"""Development tools: a local fake of the Slack Web API on loopback that records what the bot said.

End-to-end tests run the bot as a subprocess with ``SLACK_API_URL=http://127.0.0.1:PORT/api/``
and assert on what it said (``calls``, ``wait_for``), including rate limits, server errors and
slow answers (``fail_next``, ``hang_next``). The console runs without any Slack at all and shows
what the bot said. Requests as Slack sends them are built in ``devtools.slack_requests``.

The fake answers the Web API methods the bot uses with realistic payloads, accepts posts to
response URLs, and implements the three-step ``files_upload_v2`` flow end to end.

Run ``python -m devtools.local_slack --port 8081`` to try it by hand: it prints each call as a
JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import logging
import mimetypes
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesParser
from email.policy import HTTP as _HTTP_POLICY
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from devtools.slack_requests import APP_ID, BOT_ID, BOT_NAME, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID

logger = logging.getLogger(__name__)

DEFAULT_TZ = "America/Los_Angeles"

# Fields that slack_sdk sends as JSON strings inside form bodies (or that a caller may pass as a
# string in a JSON body); decoded so tests can assert on structure.
_JSON_STRING_FIELDS = frozenset(
    {
        "attachments",
        "blocks",
        "files",
        "inputs",
        "metadata",
        "outputs",
        "unfurls",
        "user_auth_blocks",
        "view",
    }
)


@dataclass(frozen=True)
class RecordedCall:
    """One request the fake received, after it decided how to answer."""

    method: str  # "chat.postMessage", or "response_url", or "file_upload" (the upload POST)
    params: dict[str, Any]
    token: str | None
    at: float  # time.monotonic() on arrival
    path: str
    status: int = 200  # HTTP status the fake answered
    response: Any = None  # the body it answered: a dict for the Web API, text for webhooks

    @property
    def ok(self) -> bool:
        """Whether the caller got a successful answer."""
        if isinstance(self.response, dict):
            return self.status == 200 and bool(self.response.get("ok"))
        return self.status == 200

    @property
    def response_key(self) -> str | None:
        """The <key> of a post to /response/<key>, else None."""
        prefix = "/response/"
        return self.path[len(prefix) :] if self.path.startswith(prefix) else None


@dataclass(frozen=True)
class _Failure:
    status: int
    retry_after: int | None
    error: str | None


@dataclass
class _Reply:
    status: int
    body: Any  # dict -> JSON, str -> text, bytes -> as is
    headers: dict[str, str]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: LocalSlack


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    server_version = "LocalSlack/1.0"

    def do_POST(self) -> None:
        self._handle()

    def do_GET(self) -> None:
        self._handle()

    def log_message(self, format: str, *args: Any) -> None:
        # The default writes every request to stderr; calls are recorded instead.
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        reply, delay = self.server.fake._serve(
            path=self.path,
            raw=raw,
            content_type=self.headers.get("Content-Type", ""),
            authorization=self.headers.get("Authorization"),
        )
        if delay > 0:
            self.server.fake._sleep(delay)
        body = reply.body
        if isinstance(body, (dict, list)):
            payload = json.dumps(body).encode("utf-8")
            content_type = "application/json; charset=utf-8"
        elif isinstance(body, bytes):
            payload = body
            content_type = "application/octet-stream"
        else:
            payload = str(body).encode("utf-8")
            content_type = "text/plain; charset=utf-8"
        try:
            self.send_response(reply.status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout test); nothing to answer.
            pass


class LocalSlack:
    """A recording fake of the Slack Web API on a loopback port. Thread-safe.

    Use as a context manager, or call ``start()`` and ``stop()``.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        default_tz: str = DEFAULT_TZ,
        on_call: Callable[[RecordedCall], None] | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.default_tz = default_tz
        # user_id -> user object served by users.info (merged over a default object)
        self.users: dict[str, dict[str, Any]] = {}
        # Called (on the server thread) after each call is recorded; console mode prints from it.
        self.on_call = on_call
        self._cond = threading.Condition()
        self._calls: list[RecordedCall] = []
        self._failures: dict[str, deque[_Failure]] = {}
        self._hangs: dict[str, deque[float]] = {}
        self._ts_seq = itertools.count(1)
        self._id_seqs: dict[str, itertools.count[int]] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self._home_view_ids: dict[str, str] = {}
        self._pending_files: dict[str, dict[str, Any]] = {}
        self._files: dict[str, dict[str, Any]] = {}
        # channel -> messages the fake took, oldest first (served by conversations.history)
        self._history: dict[str, list[dict[str, Any]]] = {}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.update": self._chat_update,
            "chat.delete": self._chat_delete,
            "conversations.open": self._conversations_open,
            "conversations.history": self._conversations_history,
            "views.open": self._views_open,
            "views.push": self._views_open,
            "views.update": self._views_update,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> LocalSlack:
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self.host, self.port), _Handler)
        server.fake = self
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},  # shutdown() waits up to one interval
            name=f"local-slack-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()  # releases handlers parked by hang_next
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> LocalSlack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_url(self) -> str:
        """Base URL for WebClient(base_url=...) and SLACK_API_URL; ends with "/"."""
        return f"{self.base_url}/api/"

    def response_url(self, key: str) -> str:
        """A response_url that records posts as method "response_url"."""
        return f"{self.base_url}/response/{key}"

    # ---- inspection ------------------------------------------------------------------------

    @property
    def calls(self) -> list[RecordedCall]:
        with self._cond:
            return list(self._calls)

    def calls_to(self, method: str) -> list[RecordedCall]:
        with self._cond:
            return [c for c in self._calls if c.method == method]

    def clear(self) -> None:
        """Forget recorded calls, channel histories and pending failures/hangs (ids and other
        state are kept)."""
        with self._cond:
            self._calls.clear()
            self._failures.clear()
            self._hangs.clear()
            self._history.clear()

    def history(self, channel: str) -> list[dict[str, Any]]:
        """The messages posted to ``channel`` that the fake took, oldest first."""
        with self._cond:
            return [dict(message) for message in self._history.get(channel, [])]

    def wait_for(self, method: str, count: int = 1, timeout: float = 5.0) -> list[RecordedCall]:
        """Block until at least ``count`` calls of ``method`` were recorded; return them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self._calls if c.method == method]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [c.method for c in self._calls]
                    raise AssertionError(
                        f"expected {count} call(s) to {method} within {timeout}s, "
                        f"got {len(found)}; recorded: {seen}"
                    )
                self._cond.wait(remaining)

    def view(self, view_id: str) -> dict[str, Any] | None:
        """The latest view object served under ``view_id`` (views.open/push/update/publish)."""
        with self._cond:
            view = self._views.get(view_id)
            return dict(view) if view is not None else None

    # ---- fault injection -------------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        status: int,
        *,
        times: int = 1,
        retry_after: int | None = None,
        error: str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with a failure.

        429 sends Retry-After (default 1); other non-200 statuses send an error body; 200 sends
        ``{"ok": false, "error": error}``. The failed calls are recorded and have no effect.
        """
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._cond:
            queue = self._failures.setdefault(method, deque())
            queue.extend(_Failure(status, retry_after, error) for _ in range(times))

    def hang_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Delay the answer to the next ``times`` calls of ``method`` (recorded on arrival)."""
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._cond:
            self._hangs.setdefault(method, deque()).extend([seconds] * times)

    # ---- request handling ------------------------------------------------------------------

    def _sleep(self, seconds: float) -> None:
        self._stopping.wait(seconds)

    def _serve(
        self, *, path: str, raw: bytes, content_type: str, authorization: str | None
    ) -> tuple[_Reply, float]:
        split = urlsplit(path)
        route = split.path
        if route.startswith("/api/"):
            method = unquote(route[len("/api/") :])
            return self._serve_api(method, route, split.query, raw, content_type, authorization)
        if route.startswith("/response/"):
            return self._serve_webhook(route, raw)
        if route.startswith("/upload/"):
            return self._serve_upload(route, raw)
        if route.startswith("/files/"):
            return self._serve_download(route), 0.0
        return _Reply(404, "not_found", {}), 0.0

    def _serve_api(
        self,
        method: str,
        route: str,
        query: str,
        raw: bytes,
        content_type: str,
        authorization: str | None,
    ) -> tuple[_Reply, float]:
        params = _flatten(parse_qs(query, keep_blank_values=True))
        body_error: str | None = None
        try:
            params.update(_parse_body(raw, content_type))
        except ValueError:
            body_error = "invalid_json"
        _decode_json_fields(params)
        form_token = params.pop("token", None)
        token = _bearer(authorization) or (form_token if isinstance(form_token, str) else None)

        failure = self._pop_failure(method)
        if failure is not None:
            reply = _failure_reply(failure, webhook=False)
        elif body_error is not None:
            reply = _Reply(200, {"ok": False, "error": body_error}, {})
        elif not token:
            reply = _Reply(200, {"ok": False, "error": "not_authed"}, {})
        else:
            reply = self._run_method(method, params)
        return reply, self._record(method, params, token, route, reply)

    def _run_method(self, method: str, params: dict[str, Any]) -> _Reply:
        handler = self._methods.get(method)
        if handler is None:
            return _Reply(200, {"ok": True}, {})
        try:
            return _Reply(200, handler(params), {})
        except Exception as exc:  # a bug in the fake must show up, not hang the caller
            logger.exception("local_slack.method_failed method=%s", method)
            return _Reply(500, {"ok": False, "error": f"local_slack_error: {exc}"}, {})

    def _serve_webhook(self, route: str, raw: bytes) -> tuple[_Reply, float]:
        try:
            params = json.loads(raw or b"{}")
        except ValueError:
            params = {"_raw": raw.decode("utf-8", "replace")}
        if not isinstance(params, dict):
            params = {"_body": params}
        failure = self._pop_failure("response_url")
        reply = _failure_reply(failure, webhook=True) if failure else _Reply(200, "ok", {})
        return reply, self._record("response_url", params, None, route, reply)

    def _serve_upload(self, route: str, raw: bytes) -> tuple[_Reply, float]:
        file_id = route[len("/upload/") :]
        params: dict[str, Any] = {"file_id": file_id, "content": raw}
        failure = self._pop_failure("file_upload")
        if failure is not None:
            reply = _failure_reply(failure, webhook=True)
        else:
            with self._cond:
                pending = self._pending_files.get(file_id)
                if pending is not None:
                    pending["content"] = raw
                    params["filename"] = pending["filename"]
            # Slack's upload endpoint answers in plain text.
            reply = (
                _Reply(200, f"OK - {len(raw)}", {})
                if pending is not None
                else _Reply(404, "file_not_found", {})
            )
        return reply, self._record("file_upload", params, None, route, reply)

    def _serve_download(self, route: str) -> _Reply:
        file_id = route[len("/files/") :].split("/", 1)[0]
        with self._cond:
            stored = self._files.get(file_id)
        if stored is None:
            return _Reply(404, "file_not_found", {})
        return _Reply(200, stored["content"], {})

    def _pop_failure(self, method: str) -> _Failure | None:
        with self._cond:
            queue = self._failures.get(method)
            return queue.popleft() if queue else None

    def _record(
        self, method: str, params: dict[str, Any], token: str | None, path: str, reply: _Reply
    ) -> float:
        """Record a call, wake waiters, and return how long to hang before answering."""
        call = RecordedCall(
            method=method,
            params=params,
            token=token,
            at=time.monotonic(),
            path=path,
            status=reply.status,
            response=reply.body,
        )
        with self._cond:
            self._calls.append(call)
            hangs = self._hangs.get(method)
            delay = hangs.popleft() if hangs else 0.0
            self._cond.notify_all()
        if self.on_call is not None:
            try:
                self.on_call(call)
            except Exception:
                logger.exception("local_slack.on_call_failed method=%s", method)
        return delay

    # ---- ids -------------------------------------------------------------------------------

    def _next_ts(self) -> str:
        micros = 1_700_000_000_000_000 + next(self._ts_seq) * 100
        return f"{micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        with self._cond:
            seq = self._id_seqs.setdefault(prefix, itertools.count(1))
            return f"{prefix}{next(seq):08d}"

    # ---- Web API methods -------------------------------------------------------------------

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Local Workspace",
            "user": BOT_NAME,
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _message(self, params: dict[str, Any], ts: str) -> dict[str, Any]:
        message: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": params.get("text", ""),
            "ts": ts,
            "team": TEAM_ID,
            "bot_profile": {
                "id": BOT_ID,
                "app_id": APP_ID,
                "name": BOT_NAME,
                "deleted": False,
                "team_id": TEAM_ID,
            },
        }
        for key in ("blocks", "attachments", "thread_ts", "metadata"):
            if params.get(key):
                message[key] = params[key]
        return message

    @staticmethod
    def _has_content(params: dict[str, Any]) -> bool:
        return any(params.get(key) for key in ("text", "blocks", "attachments"))

    def _chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not self._has_content(params):
            return {"ok": False, "error": "no_text"}
        ts = self._next_ts()
        channel = _conversation_for(str(params["channel"]))
        message = self._message(params, ts)
        with self._cond:
            self._history.setdefault(channel, []).append(message)
        return {"ok": True, "channel": channel, "ts": ts, "message": message}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        """Newest first, from ``oldest`` (a ts), at most ``limit``; message metadata only with
        ``include_all_metadata``, as Slack does."""
        channel = str(params.get("channel") or "")
        if not channel:
            return {"ok": False, "error": "channel_not_found"}
        oldest = float(params.get("oldest") or 0)
        limit = int(params.get("limit") or 100)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in {"true", "1"}
        with self._cond:
            taken = list(self._history.get(_conversation_for(channel), []))
        found = [m for m in reversed(taken) if float(m["ts"]) >= oldest]
        out = []
        for message in found[:limit]:
            shown = dict(message)
            if not with_metadata:
                shown.pop("metadata", None)
            out.append(shown)
        return {"ok": True, "messages": out, "has_more": len(found) > limit}

    def _chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("user"):
            return {"ok": False, "error": "user_not_found"}
        if not self._has_content(params):
            return {"ok": False, "error": "no_text"}
        return {"ok": True, "message_ts": self._next_ts()}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        ts = str(params["ts"])
        return {
            "ok": True,
            "channel": str(params["channel"]),
            "ts": ts,
            "text": params.get("text", ""),
            "message": self._message(params, ts),
        }

    def _chat_delete(self, params: dict[str, Any]) -> dict[str, Any]:
        if not params.get("channel"):
            return {"ok": False, "error": "channel_not_found"}
        if not params.get("ts"):
            return {"ok": False, "error": "message_not_found"}
        return {"ok": True, "channel": str(params["channel"]), "ts": str(params["ts"])}

    def _conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("channel"):
            return {
                "ok": True,
                "no_op": True,
                "already_open": True,
                "channel": {"id": params["channel"]},
            }
        users = params.get("users")
        if isinstance(users, list):
            users = ",".join(users)
        ids = [u for u in str(users or "").split(",") if u]
        if not ids:
            return {"ok": False, "error": "users_list_not_supplied"}
        channel_id = "D" + ids[0] if len(ids) == 1 else "G" + "".join(sorted(ids))
        return {"ok": True, "no_op": False, "already_open": False, "channel": {"id": channel_id}}

    def _view_object(
        self, view: dict[str, Any], view_id: str, *, root_view_id: str | None = None
    ) -> dict[str, Any]:
        served: dict[str, Any] = {
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
        }
        served.update(view)
        served["id"] = view_id
        served["state"] = {"values": {}}
        served["hash"] = f"{int(time.time())}.{uuid.uuid4().hex[:8]}"
        served["root_view_id"] = root_view_id or view_id
        with self._cond:
            self._views[view_id] = served
        return served

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        if not (params.get("trigger_id") or params.get("interactivity_pointer")):
            return {"ok": False, "error": "invalid_arguments"}
        return {"ok": True, "view": self._view_object(view, self._next_id("V"))}

    def _views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        if not isinstance(view, dict):
            return {"ok": False, "error": "invalid_arguments"}
        view_id = params.get("view_id")
        external_id = params.get("external_id")
        with self._cond:
            if not view_id and external_id:
                view_id = next(
                    (vid for vid, v in self._views.items() if v.get("external_id") == external_id),
                    None,
                )
                if view_id is None:
                    return {"ok": False, "error": "not_found"}
            previous = self._views.get(str(view_id)) if view_id else None
        if not view_id:
            return {"ok": False, "error": "invalid_arguments"}
        root = previous.get("root_view_id") if previous else None
        return {"ok": True, "view": self._view_object(view, str(view_id), root_view_id=root)}

    def _views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = params.get("view")
        user_id = params.get("user_id")
        if not isinstance(view, dict) or not user_id:
            return {"ok": False, "error": "invalid_arguments"}
        with self._cond:
            view_id = self._home_view_ids.setdefault(str(user_id), self._next_id("V"))
        return {"ok": True, "view": self._view_object({"type": "home", **view}, view_id)}

    def default_user(self, user_id: str, tz: str | None = None) -> dict[str, Any]:
        """The user object served for ``user_id`` when ``users`` does not say otherwise."""
        zone = tz or self.default_tz
        name = user_id.lower()
        real_name = BOT_NAME if user_id == BOT_USER_ID else f"Local User {user_id}"
        return {
            "id": user_id,
            "team_id": TEAM_ID,
            "name": name,
            "deleted": False,
            "real_name": real_name,
            "tz": zone,
            "tz_label": zone,
            "tz_offset": _utc_offset_seconds(zone),
            "is_admin": False,
            "is_owner": False,
            "is_bot": user_id == BOT_USER_ID,
            "is_app_user": False,
            "updated": 1_700_000_000,
            "profile": {
                "real_name": real_name,
                "display_name": name,
                "email": f"{name}@example.org",
                "team": TEAM_ID,
            },
        }

    def _users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = params.get("user")
        if not user_id:
            return {"ok": False, "error": "user_not_found"}
        override = self.users.get(str(user_id), {})
        user = self.default_user(str(user_id), override.get("tz"))
        user.update(override)
        return {"ok": True, "user": user}

    def _files_get_upload_url(self, params: dict[str, Any]) -> dict[str, Any]:
        filename = params.get("filename")
        try:
            length = int(params.get("length", ""))
        except ValueError:
            return {"ok": False, "error": "invalid_arguments"}
        if not filename:
            return {"ok": False, "error": "invalid_arguments"}
        file_id = self._next_id("F")
        with self._cond:
            self._pending_files[file_id] = {
                "filename": str(filename),
                "length": length,
                "content": None,
            }
        return {"ok": True, "upload_url": f"{self.base_url}/upload/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, params: dict[str, Any]) -> dict[str, Any]:
        entries = params.get("files")
        if not isinstance(entries, list) or not entries:
            return {"ok": False, "error": "invalid_arguments"}
        channels = [c for c in str(params.get("channels") or "").split(",") if c]
        if params.get("channel_id"):
            channels.insert(0, str(params["channel_id"]))
        created = int(time.time())
        served: list[dict[str, Any]] = []
        uploads: list[dict[str, Any]] = []
        with self._cond:
            for entry in entries:
                file_id = str(entry.get("id", ""))
                pending = self._pending_files.get(file_id)
                if pending is None or pending["content"] is None:
                    return {"ok": False, "error": "file_not_found"}
                content: bytes = pending["content"]
                filename = pending["filename"]
                title = entry.get("title") or filename
                url = f"{self.base_url}/files/{file_id}/{filename}"
                file_obj = {
                    "id": file_id,
                    "created": created,
                    "timestamp": created,
                    "name": filename,
                    "title": title,
                    "mimetype": mimetypes.guess_type(filename)[0] or "application/octet-stream",
                    "filetype": filename.rsplit(".", 1)[-1] if "." in filename else "binary",
                    "user": BOT_USER_ID,
                    "user_team": TEAM_ID,
                    "size": len(content),
                    "mode": "hosted",
                    "is_external": False,
                    "is_public": False,
                    "url_private": url,
                    "url_private_download": url,
                    "permalink": url,
                    "channels": channels,
                }
                self._files[file_id] = {**file_obj, "content": content}
                del self._pending_files[file_id]
                served.append(file_obj)
                uploads.append(
                    {"file_id": file_id, "filename": filename, "title": title, "content": content}
                )
        # What the bot uploaded, for assertions (these keys are not part of Slack's API).
        params["uploads"] = uploads
        params["content"] = uploads[0]["content"]
        return {"ok": True, "files": served}


# ---- request parsing helpers ---------------------------------------------------------------


def _flatten(parsed: dict[str, list[str]]) -> dict[str, Any]:
    return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}


def _parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json":
        body = json.loads(raw)  # ValueError -> invalid_json
        return body if isinstance(body, dict) else {"_body": body}
    if kind == "multipart/form-data":
        return _parse_multipart(raw, content_type)
    return _flatten(parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True))


def _parse_multipart(raw: bytes, content_type: str) -> dict[str, Any]:
    message = BytesParser(policy=_HTTP_POLICY).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
    )
    fields: dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not name:
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            data = b""
        if part.get_filename() is not None:
            fields[str(name)] = data
        else:
            fields[str(name)] = data.decode("utf-8", "replace")
    return fields


def _decode_json_fields(params: dict[str, Any]) -> None:
    for key in _JSON_STRING_FIELDS & params.keys():
        value = params[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            # On bad JSON keep the string: the assertion will show what was sent.
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[len("bearer ") :].strip() or None
    return None


def _failure_reply(failure: _Failure, *, webhook: bool) -> _Reply:
    headers: dict[str, str] = {}
    retry_after = failure.retry_after
    if failure.status == 429:
        retry_after = retry_after if retry_after is not None else 1
        default_error = "ratelimited"
    elif failure.status >= 500:
        default_error = "internal_error"
    elif failure.status == 200:
        default_error = "fatal_error"
    else:
        default_error = "invalid_request"
    if retry_after is not None:
        headers["Retry-After"] = str(retry_after)
    error = failure.error or default_error
    # Webhooks (response_url, uploads) answer errors in plain text, the Web API in JSON.
    body: Any = error if webhook else {"ok": False, "error": error}
    return _Reply(failure.status, body, headers)


def _conversation_for(channel: str) -> str:
    # Posting to a user id delivers to the DM with that user, as conversations.open names it.
    return "D" + channel if channel[:1] in ("U", "W") else channel


def _utc_offset_seconds(zone: str) -> int:
    try:
        tzinfo = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return 0
    offset = datetime.fromtimestamp(time.time(), tz=tzinfo).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


# ---- command line --------------------------------------------------------------------------


def _json_default(value: object) -> object:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return repr(value)


def _print_call(call: RecordedCall) -> None:
    token = f"{call.token[:5]}…" if call.token else None
    line = {
        "method": call.method,
        "status": call.status,
        "ok": call.ok,
        "token": token,
        "params": call.params,
        "response": call.response,
    }
    print(json.dumps(line, default=_json_default), flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.local_slack",
        description="A local fake of the Slack Web API; prints each call as a JSON line.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--tz", default=DEFAULT_TZ, help="time zone users.info reports")
    args = parser.parse_args(argv)
    fake = LocalSlack(args.host, args.port, default_tz=args.tz, on_call=_print_call)
    try:
        fake.start()
    except OSError as exc:
        print(f"cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"LocalSlack on {fake.api_url} (SLACK_API_URL); Ctrl-C stops", file=sys.stderr)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
