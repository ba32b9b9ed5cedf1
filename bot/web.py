"""Wiring: the production HTTP server (waitress).

``POST /slack/events`` carries slash commands, interactivity and the Events API (one Request
URL for all three); ``GET /healthz`` answers 200 when the database answers.

waitress reads each request whole (headers and body) in its event loop before a worker thread
sees it, so a slow or stalled client holds a socket, never a thread. A request that takes longer
than ``REQUEST_READ_SECONDS`` to arrive, or a connection idle for ``IDLE_SECONDS``, is closed.
With ``WEB_WORKERS`` above 1 the listening socket is shared by that many forked processes; the
Bolt app is built inside each one after the fork, so no database connection crosses a fork.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from bot.settings import Settings

log = logging.getLogger("bot.web")

StartResponse = Callable[..., Any]
REQUEST_READ_SECONDS = 10  # headers and body together
IDLE_SECONDS = 30
MAX_CONNECTIONS = 2000
DRAIN_SECONDS = 20


def make_wsgi_app(settings: Settings) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    from bot.app import create_door
    from bot.deps import build_deps
    from bot.edge import plain
    from storage.db import ping

    deps = build_deps(settings, solve_in_processes=True)
    door = create_door(settings, deps)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            if ping(deps.engine):
                return plain(start_response, "200 OK", "ok\n")
            return plain(start_response, "503 Service Unavailable", "database unavailable\n")
        if path == "/slack/events" and method == "POST":
            return door(environ, start_response)
        return plain(start_response, "404 Not Found", "not found\n")

    return app


class QueueBursts(logging.Filter):
    """waitress warns ``Task queue depth is N`` for every request that finds no idle thread:
    hundreds of lines in one burst. On the ``waitress.queue`` logger this lets the first
    warning of a burst through, counts the rest, and ``tick`` (about once a second, from the
    server's maintenance) writes one ``serve.queue_burst`` line with the burst's peak depth and
    how many warnings it held: once the burst is over (no warning for ``quiet`` seconds), and
    every ``every`` seconds while it lasts. Any other record passes untouched."""

    MESSAGE = "Task queue depth is %d"

    def __init__(
        self, quiet: float = 2.0, every: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.quiet, self.every, self.clock = quiet, every, clock
        self._lock = threading.Lock()
        self._in_burst = False
        self._count = self._peak = 0
        self._started = self._last = 0.0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg != self.MESSAGE or not isinstance(record.args, tuple):
            return True
        depth = int(record.args[0]) if record.args else 0
        now = self.clock()
        with self._lock:
            first = not self._in_burst
            if first:
                self._in_burst, self._started = True, now
            self._count += 1
            self._peak = max(self._peak, depth)
            self._last = now
        return first

    def tick(self) -> None:
        now = self.clock()
        with self._lock:
            if not self._in_burst:
                return
            over = now - self._last >= self.quiet
            if not over and now - self._started < self.every:
                return
            peak, count, seconds = self._peak, self._count, round(self._last - self._started, 1)
            self._count = self._peak = 0
            self._started = now
            self._in_burst = not over
        log.warning(
            "serve.queue_burst",
            extra={"peak_depth": peak, "warnings": count, "seconds": seconds, "over": over},
        )


def _server(
    app: Any, sock: socket.socket, threads: int, tick: Callable[[], None] | None = None
) -> Any:
    """A waitress server on ``sock`` that also closes connections slow to deliver a request;
    ``tick`` runs with its maintenance, about once a second."""
    from waitress.channel import HTTPChannel
    from waitress.server import TcpWSGIServer, create_server

    class Channel(HTTPChannel):  # type: ignore[misc]
        request_started = 0.0

        def received(self, data: bytes) -> bool:
            if self.request is None and data:
                self.request_started = time.time()
            return bool(super().received(data))

    class Server(TcpWSGIServer):  # type: ignore[misc]
        channel_class = Channel

        def maintenance(self, now: float) -> None:
            super().maintenance(now)
            if tick is not None:
                tick()
            cutoff = now - REQUEST_READ_SECONDS
            for channel in list(self.active_channels.values()):
                if channel.request is not None and channel.request_started < cutoff:
                    channel.will_close = True

    server = create_server(
        app,
        sockets=[sock],
        threads=threads,
        channel_timeout=IDLE_SECONDS,
        cleanup_interval=1,
        connection_limit=MAX_CONNECTIONS,
        asyncore_use_poll=True,  # select() stops at 1,024 descriptors
        # Over the door's 1 MiB limit, so the door answers 401 like any unverified request; the
        # limit here only stops waitress buffering more than that.
        max_request_body_size=4 << 20,
        max_request_header_size=64 << 10,
        expose_tracebacks=False,
        ident="caseload-bot",
    )
    server.__class__ = Server
    return server


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("0.0.0.0", port))
    sock.listen(1024)
    sock.setblocking(False)
    return sock


def _run_worker(settings: Settings, sock: socket.socket) -> None:
    from bot.logs import configure
    from bot.work import drain_all

    configure(settings.log_level)

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    bursts = QueueBursts()
    logging.getLogger("waitress.queue").addFilter(bursts)
    server = _server(make_wsgi_app(settings), sock, settings.web_threads, bursts.tick)
    log.info("serve.worker_ready", extra={"pid": os.getpid()})
    try:
        server.run()
    except SystemExit:
        pass
    finally:
        server.close()
        # Every acknowledged request was promised an answer: finish them before exiting
        # (platforms allow about 30 s between SIGTERM and SIGKILL).
        if not drain_all(DRAIN_SECONDS):
            log.warning("serve.work_abandoned")


def serve(settings: Settings, port: int) -> int:
    log.info("serve.start", extra={"port": port, "workers": settings.web_workers})
    sock = _listen(port)
    if settings.web_workers == 1:
        _run_worker(settings, sock)
        return 0
    children: list[int] = []
    for _ in range(settings.web_workers):
        pid = os.fork()
        if pid == 0:  # the child serves until told to stop, and never returns into the CLI
            code = 0
            try:
                _run_worker(settings, sock)
            except SystemExit:  # told to stop, possibly before it was ready
                pass
            except BaseException:
                log.exception("serve.worker_failed")
                code = 1
            finally:
                logging.shutdown()
                os._exit(code)
        children.append(pid)
    sock.close()

    def forward(signum: int, frame: Any) -> None:
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGTERM)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    # One worker gone means the process is unwell: stop the others and let the platform restart.
    _, status = os.wait()
    forward(signal.SIGTERM, None)
    for _ in children[1:]:
        try:
            os.wait()
        except ChildProcessError:
            break
    code = os.waitstatus_to_exitcode(status)
    sys.stderr.flush()
    return 0 if code in (0, -signal.SIGTERM) else 1
