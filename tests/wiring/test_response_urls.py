"""Wiring tests: replies to response URLs go over kept connections, and say what Bolt's would."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from slack_bolt import Respond

from bot.response_urls import KeptConnections, KeptRespond
from devtools.local_slack import LocalSlack

BLOCKS = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Tue* 8:00-11:00"}}]


def test_replies_reuse_one_connection_and_carry_what_bolts_respond_sends(
    slack: LocalSlack,
) -> None:
    connections = KeptConnections()
    for key in ("a", "b", "c"):
        reply = KeptRespond(slack.response_url(key), connections)(
            text="Preview", blocks=BLOCKS, response_type="ephemeral", replace_original=False
        )
        assert reply.status_code == 200
    KeptRespond(slack.response_url("d"), connections)({"text": "whole", "delete_original": True})
    Respond(response_url=slack.response_url("bolt"))(
        text="Preview", blocks=BLOCKS, response_type="ephemeral", replace_original=False
    )
    calls = {c.response_key: c.params for c in slack.calls_to("response_url")}
    assert calls["a"] == calls["b"] == calls["c"] == calls["bolt"]
    assert calls["d"] == {"text": "whole", "delete_original": True}
    assert connections.opened == 1


class _ClosesSilently(BaseHTTPRequestHandler):
    """Answers as HTTP/1.1 without "Connection: close", then hangs up: a kept connection that
    the server dropped while it sat idle."""

    protocol_version = "HTTP/1.1"
    seen: list[bytes] = []

    def do_POST(self) -> None:
        self.seen.append(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")
        self.close_connection = True

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def closing_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ClosesSilently)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _ClosesSilently.seen = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook"
    finally:
        server.shutdown()
        server.server_close()


def test_a_connection_the_server_dropped_is_retried_once_on_a_fresh_one(
    closing_server: str,
) -> None:
    connections = KeptConnections()
    for text in ("one", "two", "three"):
        assert KeptRespond(closing_server, connections)(text=text).status_code == 200
    assert _ClosesSilently.seen == [b'{"text": "one"}', b'{"text": "two"}', b'{"text": "three"}']
    assert connections.opened == 3  # each kept one was found closed, and replaced
