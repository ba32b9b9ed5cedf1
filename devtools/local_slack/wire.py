"""Development tools: the local Slack fake's HTTP side: the server, the request handler, how
bodies are parsed (form, JSON, multipart) and how injected failures are answered."""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesParser
from email.policy import HTTP as _HTTP_POLICY
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:
    from devtools.local_slack.fake import LocalSlack

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
class Failure:
    status: int
    retry_after: int | None
    error: str | None


@dataclass
class Reply:
    status: int
    body: Any  # dict -> JSON, str -> text, bytes -> as is
    headers: dict[str, str]


class Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: LocalSlack


class Handler(BaseHTTPRequestHandler):
    server: Server
    server_version = "LocalSlack/1.0"
    # HTTP/1.1: a client that keeps its connection open (the bot's response_url replies) can
    # reuse it, as with Slack; every reply carries its Content-Length.
    protocol_version = "HTTP/1.1"

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


def flatten(parsed: dict[str, list[str]]) -> dict[str, Any]:
    return {k: v[0] if len(v) == 1 else v for k, v in parsed.items()}


def parse_body(raw: bytes, content_type: str) -> dict[str, Any]:
    if not raw:
        return {}
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind == "application/json":
        body = json.loads(raw)  # ValueError -> invalid_json
        return body if isinstance(body, dict) else {"_body": body}
    if kind == "multipart/form-data":
        return _parse_multipart(raw, content_type)
    return flatten(parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True))


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


def decode_json_fields(params: dict[str, Any]) -> None:
    for key in _JSON_STRING_FIELDS & params.keys():
        value = params[key]
        if isinstance(value, str) and value[:1] in ("[", "{"):
            # On bad JSON keep the string: the assertion will show what was sent.
            with contextlib.suppress(ValueError):
                params[key] = json.loads(value)


def bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[len("bearer ") :].strip() or None
    return None


def failure_reply(failure: Failure, *, webhook: bool) -> Reply:
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
    return Reply(failure.status, body, headers)


def conversation_for(channel: str) -> str:
    # Posting to a user id delivers to the DM with that user, as conversations.open names it.
    return "D" + channel if channel[:1] in ("U", "W") else channel


def utc_offset_seconds(zone: str) -> int:
    try:
        tzinfo = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return 0
    offset = datetime.fromtimestamp(time.time(), tz=tzinfo).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0
