"""Wiring: the production HTTP server (gunicorn, threaded workers).

``POST /slack/events`` carries slash commands, interactivity and the Events API (one Request
URL for all three); ``GET /healthz`` answers 200 when the database answers. The Bolt app is
built inside each worker after the fork, so no database connection crosses a fork.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn.app.base import BaseApplication

from bot.settings import Settings

log = logging.getLogger("bot.web")

MAX_BODY_BYTES = 1 << 20
StartResponse = Callable[..., Any]


def make_wsgi_app(settings: Settings) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    from bot.app import create_app
    from bot.deps import build_deps
    from storage.db import ping

    deps = build_deps(settings)
    bolt = SlackRequestHandler(create_app(settings, deps), path="/slack/events")

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/healthz" and method in ("GET", "HEAD"):
            ok = ping(deps.engine)
            body = b"ok\n" if ok else b"database unavailable\n"
            start_response(
                "200 OK" if ok else "503 Service Unavailable",
                [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
            )
            return [body]
        if path == "/slack/events" and method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = MAX_BODY_BYTES + 1
            if length > MAX_BODY_BYTES:
                # Unverifiable without reading it all; refuse like any unsigned request.
                log.warning("request.too_large", extra={"bytes": length})
                body = b"invalid request\n"
                start_response(
                    "401 Unauthorized",
                    [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
                )
                return [body]
            return bolt(environ, start_response)
        body = b"not found\n"
        start_response(
            "404 Not Found", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))]
        )
        return [body]

    return app


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    def __init__(self, settings: Settings, port: int) -> None:
        self.settings, self.port = settings, port
        super().__init__()

    def load_config(self) -> None:
        cfg = {
            "bind": f"0.0.0.0:{self.port}",
            "workers": self.settings.web_workers,
            "worker_class": "gthread",
            "threads": self.settings.web_threads,
            "timeout": 60,
            "graceful_timeout": 10,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "preload_app": False,
        }
        for key, value in cfg.items():
            self.cfg.set(key, value)

    def load(self) -> Callable[..., Any]:
        from bot.logs import configure

        configure(self.settings.log_level)
        return make_wsgi_app(self.settings)


def serve(settings: Settings, port: int) -> int:
    log.info("serve.start", extra={"port": port})
    _Gunicorn(settings, port).run()
    return 0
