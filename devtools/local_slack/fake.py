"""Development tools: `LocalSlack`, the recording fake itself: its lifecycle, what tests inspect
(`calls`, `wait_for`), the faults they inject (`fail_next`, `hang_next`) and request routing.
The Web API methods it answers are in `devtools.local_slack.methods`."""

from __future__ import annotations

import itertools
import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from devtools.local_slack.methods import WebApiMethods
from devtools.local_slack.wire import (
    Failure,
    Handler,
    Reply,
    Server,
    bearer,
    decode_json_fields,
    failure_reply,
    flatten,
    parse_body,
)

logger = logging.getLogger("devtools.local_slack")

DEFAULT_TZ = "America/Los_Angeles"


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


class LocalSlack(WebApiMethods):
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
        # Where apps.connections.open sends a Socket Mode client (devtools.socket_mode); None:
        # the method answers as Slack does for an app without Socket Mode.
        self.socket_url: str | None = None
        # Called (on the server thread) after each call is recorded; console mode prints from it.
        self.on_call = on_call
        self._cond = threading.Condition()
        self._calls: list[RecordedCall] = []
        self._failures: dict[str, deque[Failure]] = {}
        self._hangs: dict[str, deque[float]] = {}
        self._ts_seq = itertools.count(1)
        self._id_seqs: dict[str, itertools.count[int]] = {}
        self._views: dict[str, dict[str, Any]] = {}
        self._home_view_ids: dict[str, str] = {}
        self._pending_files: dict[str, dict[str, Any]] = {}
        self._files: dict[str, dict[str, Any]] = {}
        # channel -> messages the fake took, oldest first (served by conversations.history)
        self._history: dict[str, list[dict[str, Any]]] = {}
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._released = threading.Event()  # wakes the answers parked by hold_next
        self._methods: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
            "auth.test": self._auth_test,
            "apps.connections.open": self._apps_connections_open,
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
        server = Server((self.host, self.port), Handler)
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
        self._released.set()  # and by hold_next
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
            queue.extend(Failure(status, retry_after, error) for _ in range(times))

    def hang_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Delay the answer to the next ``times`` calls of ``method`` (recorded on arrival)."""
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._cond:
            self._hangs.setdefault(method, deque()).extend([seconds] * times)

    # ---- request handling ------------------------------------------------------------------

    def hold_next(self, method: str, times: int = 1) -> None:
        """Hold the answer to the next ``times`` calls of ``method`` (recorded on arrival) until
        ``release_held()`` or ``stop()``: a Slack that does not answer, for as long as a test
        needs, with no timing in the test."""
        self._released.clear()
        self.hang_next(method, math.inf, times)

    def release_held(self) -> None:
        """Answer every call parked by ``hold_next``, and let later held calls through."""
        self._released.set()

    def _sleep(self, seconds: float) -> None:
        if seconds == math.inf:
            self._released.wait()
        else:
            self._stopping.wait(seconds)

    def _serve(
        self, *, path: str, raw: bytes, content_type: str, authorization: str | None
    ) -> tuple[Reply, float]:
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
        return Reply(404, "not_found", {}), 0.0

    def _serve_api(
        self,
        method: str,
        route: str,
        query: str,
        raw: bytes,
        content_type: str,
        authorization: str | None,
    ) -> tuple[Reply, float]:
        params = flatten(parse_qs(query, keep_blank_values=True))
        body_error: str | None = None
        try:
            params.update(parse_body(raw, content_type))
        except ValueError:
            body_error = "invalid_json"
        decode_json_fields(params)
        form_token = params.pop("token", None)
        token = bearer(authorization) or (form_token if isinstance(form_token, str) else None)

        failure = self._pop_failure(method)
        if failure is not None:
            reply = failure_reply(failure, webhook=False)
        elif body_error is not None:
            reply = Reply(200, {"ok": False, "error": body_error}, {})
        elif not token:
            reply = Reply(200, {"ok": False, "error": "not_authed"}, {})
        else:
            reply = self._run_method(method, params)
        return reply, self._record(method, params, token, route, reply)

    def _run_method(self, method: str, params: dict[str, Any]) -> Reply:
        handler = self._methods.get(method)
        if handler is None:
            return Reply(200, {"ok": True}, {})
        try:
            return Reply(200, handler(params), {})
        except Exception as exc:  # a bug in the fake must show up, not hang the caller
            logger.exception("local_slack.method_failed method=%s", method)
            return Reply(500, {"ok": False, "error": f"local_slack_error: {exc}"}, {})

    def _serve_webhook(self, route: str, raw: bytes) -> tuple[Reply, float]:
        try:
            params = json.loads(raw or b"{}")
        except ValueError:
            params = {"_raw": raw.decode("utf-8", "replace")}
        if not isinstance(params, dict):
            params = {"_body": params}
        failure = self._pop_failure("response_url")
        reply = failure_reply(failure, webhook=True) if failure else Reply(200, "ok", {})
        return reply, self._record("response_url", params, None, route, reply)

    def _serve_upload(self, route: str, raw: bytes) -> tuple[Reply, float]:
        file_id = route[len("/upload/") :]
        params: dict[str, Any] = {"file_id": file_id, "content": raw}
        failure = self._pop_failure("file_upload")
        if failure is not None:
            reply = failure_reply(failure, webhook=True)
        else:
            with self._cond:
                pending = self._pending_files.get(file_id)
                if pending is not None:
                    pending["content"] = raw
                    params["filename"] = pending["filename"]
            # Slack's upload endpoint answers in plain text.
            reply = (
                Reply(200, f"OK - {len(raw)}", {})
                if pending is not None
                else Reply(404, "file_not_found", {})
            )
        return reply, self._record("file_upload", params, None, route, reply)

    def _serve_download(self, route: str) -> Reply:
        file_id = route[len("/files/") :].split("/", 1)[0]
        with self._cond:
            stored = self._files.get(file_id)
        if stored is None:
            return Reply(404, "file_not_found", {})
        return Reply(200, stored["content"], {})

    def _pop_failure(self, method: str) -> Failure | None:
        with self._cond:
            queue = self._failures.get(method)
            return queue.popleft() if queue else None

    def _record(
        self, method: str, params: dict[str, Any], token: str | None, path: str, reply: Reply
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
