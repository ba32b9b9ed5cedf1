"""Development tools: Slack's end of Socket Mode on loopback, and the real ``python -m bot
socket`` in a subprocess talking to it, for the end-to-end tests.

``FakeSocketMode`` is a WebSocket server (the ``websockets`` library). Point ``LocalSlack``'s
``socket_url`` at it: the bot's Socket Mode client asks ``apps.connections.open`` for the URL,
connects, and is greeted with ``hello``, as by Slack. ``deliver`` sends an envelope (a slash
command, an interaction or an event) and waits for the bot's acknowledgement of it.

``SocketBot`` has the end-to-end tests' ``Server.signed(body)``: it turns the HTTP body Slack would
have posted into the envelope Slack would have sent instead, so one test body runs over either
transport. Its answer is (200, the acknowledgement's payload as JSON or "", seconds).
"""

from __future__ import annotations

import json
import queue
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from websockets.sync.server import Server, ServerConnection, serve

from devtools.harness import start_bot, stop_process

APP_TOKEN = "xapp-1-e2e-socket-token"


class FakeSocketMode:
    def __init__(self) -> None:
        self._server: Server = serve(self._connected, "127.0.0.1", 0, compression=None)
        port = self._server.socket.getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/link"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self._conn: ServerConnection | None = None
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._acks: dict[str, queue.Queue[dict[str, Any]]] = {}

    def _connected(self, conn: ServerConnection) -> None:
        conn.send(json.dumps({"type": "hello", "num_connections": 1, "debug_info": {}}))
        self._conn = conn
        self._ready.set()
        for message in conn:
            data = json.loads(message)
            waiting = self._acks.get(str(data.get("envelope_id")))
            if waiting is not None:
                waiting.put(data)

    def wait_connected(self, timeout: float) -> bool:
        return self._ready.wait(timeout)

    def deliver(
        self, kind: str, payload: dict[str, Any], timeout: float = 10
    ) -> tuple[dict[str, Any] | None, float]:
        """Send one envelope; the bot's acknowledgement (None if none came) and how long it
        took."""
        if self._conn is None:
            raise RuntimeError("no Socket Mode client is connected")
        envelope_id = str(uuid.uuid4())
        answers: queue.Queue[dict[str, Any]] = queue.Queue()
        self._acks[envelope_id] = answers
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": kind != "events_api",
        }
        start = time.monotonic()
        with self._lock:
            self._conn.send(json.dumps(envelope))
        try:
            return answers.get(timeout=timeout), time.monotonic() - start
        except queue.Empty:
            return None, time.monotonic() - start
        finally:
            del self._acks[envelope_id]

    def close(self) -> None:
        self._server.shutdown()
        self._thread.join(5)


def envelope_of(body: str) -> tuple[str, dict[str, Any]]:
    """The Socket Mode envelope type and payload for what Slack would have posted over HTTP."""
    if body.lstrip().startswith("{"):
        return "events_api", json.loads(body)
    form = dict(parse_qsl(body, keep_blank_values=True))
    if "payload" in form:
        return "interactive", json.loads(form["payload"])
    return "slash_commands", form


@dataclass
class SocketBot:
    socket: FakeSocketMode
    process: subprocess.Popen[bytes]
    log_path: Path
    timeouts: int = field(default=0)

    def signed(self, body: str, timestamp: int | None = None) -> tuple[int, str, float]:
        """``Server.signed``'s answer over Socket Mode (nothing to sign there)."""
        kind, payload = envelope_of(body)
        ack, seconds = self.socket.deliver(kind, payload)
        if ack is None:
            self.timeouts += 1
            return 504, "", seconds
        answer = ack.get("payload")
        return 200, json.dumps(answer) if answer else "", seconds

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def start_socket_bot(
    database_url: str, api_url: str, socket: FakeSocketMode, tmp: Path
) -> SocketBot:
    env = {
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-e2e-token",
        "SLACK_APP_TOKEN": APP_TOKEN,
        "SLACK_API_URL": api_url,
    }
    log_path = tmp / "socket.log"
    proc = start_bot("socket", env, log_path, lambda: socket.wait_connected(0.1), "connect")
    return SocketBot(socket, proc, log_path)


def stop_socket_bot(bot: SocketBot) -> None:
    stop_process(bot.process)
