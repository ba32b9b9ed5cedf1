"""Wiring: log format and policy. Lines carry event names and ids, never request bodies, message
text or SQL parameters, at every ``LOG_LEVEL``.

Our own loggers (``bot``, ``handlers``, ``jobs``, ``storage``) log event names with ids. Libraries
do not know what is private: slack_bolt writes whole request bodies (at INFO when a signature
fails, at WARNING for an unhandled request), slack_sdk writes API payloads at DEBUG, SQLAlchemy
writes SQL parameters at INFO. So a library's record below WARNING is dropped, and one at WARNING
or above keeps only the words before its first detail (``(``, ``:``, ``{``, ``[``, ``=`` or a new
line). An exception is shown as its traceback's frames and the exception types, never their
messages, which can quote a payload or a database row.
"""

from __future__ import annotations

import logging
import re
import sys
import threading
import traceback
from types import TracebackType

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}
OWN = ("bot", "handlers", "jobs", "storage", "demo", "__main__")
LIBRARIES = (
    "slack_bolt",
    "slack_sdk",
    "apscheduler",
    "sqlalchemy",
    "alembic",
    "urllib3",
    "waitress",
    "asyncio",
)
_DETAIL = re.compile(r"[(:{\[=\n]")
_MAX_LIBRARY_MESSAGE = 120

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def _is_own(name: str) -> bool:
    return any(name == own or name.startswith(own + ".") for own in OWN)


def withhold_details(message: str) -> str:
    """``Unhandled request ({'type': ...})`` -> ``Unhandled request``."""
    head = _DETAIL.split(message, maxsplit=1)[0].strip()
    return head[:_MAX_LIBRARY_MESSAGE] or "(details withheld)"


class LibraryRecords(logging.Filter):
    """Drops libraries' records below WARNING and strips the details from the rest."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _is_own(record.name):
            return True
        if record.levelno < logging.WARNING:
            return False
        record.msg, record.args = withhold_details(record.getMessage()), None
        return True


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

    def formatException(self, ei: ExcInfo | tuple[None, None, None]) -> str:  # noqa: N802
        _, exc, _ = ei
        return format_exception_without_messages(exc) if exc is not None else ""


def format_exception_without_messages(exc: BaseException) -> str:
    """The traceback's frames and the chain of exception types; no exception message."""
    parts: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    chain: list[BaseException] = []
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        chain.append(current)
        current = current.__cause__ or current.__context__
    for link in reversed(chain):
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_tb(link.__traceback__))
        parts.append(f"{type(link).__module__}.{type(link).__qualname__} (message withheld)\n")
    return "".join(parts).rstrip("\n")


def configure(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    handler.addFilter(LibraryRecords())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper() if level.upper() in logging.getLevelNamesMapping() else "INFO")
    # Library loggers at WARNING also spare the work of formatting what the filter drops.
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)
    # An exception nobody caught is logged like any other: frames and types, no message.
    crashed = logging.getLogger("bot.crash")

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is not None:
            crashed.error("thread.crashed", exc_info=args.exc_value)

    def process_hook(
        kind: type[BaseException], value: BaseException, tb: TracebackType | None
    ) -> None:
        crashed.error("process.crashed", exc_info=(kind, value, tb))

    threading.excepthook = thread_hook
    sys.excepthook = process_hook


def bolt_logger() -> logging.Logger:
    """The base logger handed to Bolt's ``App``: Bolt copies its level onto every logger it
    makes, which would otherwise copy the root's level (INFO, or DEBUG) at the time."""
    logger = logging.getLogger("slack_bolt.app")
    logger.setLevel(logging.WARNING)
    return logger
