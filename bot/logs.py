"""Wiring: log format. Lines carry event names and ids, never request bodies or message text."""

from __future__ import annotations

import logging
import sys

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class KeyValueFormatter(logging.Formatter):
    """``2026-11-30T17:00:01 INFO bot.app event.duplicate_dropped event_id=Ev1``."""

    def format(self, record: logging.LogRecord) -> str:
        base = super().format(record)
        extras = " ".join(
            f"{k}={v}"
            for k, v in record.__dict__.items()
            if k not in _STANDARD and not k.startswith("_")
        )
        return f"{base} {extras}" if extras else base


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if level.upper() in logging.getLevelNamesMapping() else "INFO")
    # Bolt logs request bodies at DEBUG; keep third-party chatter at WARNING.
    for name in ("slack_bolt", "slack_sdk", "apscheduler", "sqlalchemy", "alembic", "urllib3"):
        logging.getLogger(name).setLevel(logging.WARNING)
