"""Wiring: matching solves in long-lived child processes, so a solve never holds this process's
interpreter lock while it acknowledges requests.

The matcher is Python for much of its work (building the relaxation, the ejection moves, the
checks), and Python runs one thread at a time per process. Run in a web process's thread, a
solve's Python phases hold back every acknowledgement queued behind them: with ``/match`` at
concurrency 10 beside a burst of previews, ack p99 went from about 0.3 s to 1.5 s. In its own
process, at the lowest priority (``SOLVE_NICENESS``), a solve takes only the CPU that requests
leave, and the web process's thread that waits for it holds no lock at all.

``SolverProcesses`` keeps ``processes`` children, started at once (each imports OR-Tools and
the matcher while the server starts, so the first ``/match`` pays for neither). A call takes an
idle child, sends it the input and the time limit, passes on its progress reports as they come,
and returns its result. A child found dead while idle is replaced before it is asked. One that
dies or stops answering during a solve (the time limit plus ``GRACE_SECONDS``) is replaced, and
the call raises ``SolverFailed``; the caller's usual error path tells the manager. ``close`` ends
the children.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import signal
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import TYPE_CHECKING, Any

from bot.services.errors import Unavailable

if TYPE_CHECKING:
    from bot.domain import matching as mt

log = logging.getLogger("bot.solver_processes")

GRACE_SECONDS = 30.0  # past the time limit, a child that has not answered is stuck
START_SECONDS = 120.0  # a child's first answer (it imports OR-Tools) may take this long


class SolverFailed(Unavailable):
    """The solve's child process died or stopped answering; it has been replaced. The manager
    reads the message; the log has the reason."""

    def __init__(self, reason: str) -> None:
        super().__init__(
            "The matcher stopped before it finished, so there is no proposal this time. "
            "Please run it again in a moment."
        )
        self.reason = reason


def _child(conn: Connection, niceness: int) -> None:
    """A child's life: load the matcher (at the server's priority, so that a busy machine does
    not hold back its start), lower its priority, then solve what it is sent. Ctrl-C in a
    terminal reaches the whole process group: the server stops, and its children with it, as the
    pipe closes; the child itself ignores the signal."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from bot.domain import matching

    with contextlib.suppress(OSError):  # not allowed: the child runs at the parent's priority
        os.nice(max(0, niceness - os.nice(0)))

    # The parent may go at any moment (closed, or died: a reset): then so does the child,
    # quietly, whatever it was doing.
    with contextlib.suppress(EOFError, OSError):
        _serve(conn, matching.solve)


def _serve(conn: Connection, solve: Callable[..., mt.MatchResult]) -> None:
    conn.send(("ready", None))
    while True:
        request = conn.recv()
        if request is None:
            return
        inp, limit = request

        def progress(p: mt.Progress) -> None:
            conn.send(("progress", p))

        try:
            result = solve(inp, time_limit_s=limit, progress=progress)
        except (EOFError, OSError):
            raise  # the pipe, not the solve
        except Exception as exc:  # noqa: BLE001 - the parent raises it again, with its text
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
        else:
            conn.send(("done", result))


class _Child:
    def __init__(self, ctx: Any, niceness: int) -> None:
        self.conn, child_end = ctx.Pipe()
        self.process: BaseProcess = ctx.Process(
            target=_child, args=(child_end, niceness), name="solver", daemon=True
        )
        self.process.start()
        child_end.close()
        self.ready = False

    def wait_ready(self) -> None:
        if self.ready:
            return
        if not self.conn.poll(START_SECONDS):
            raise SolverFailed("the solver process did not start")
        kind, _ = self.conn.recv()
        if kind != "ready":
            raise SolverFailed(f"the solver process said {kind!r} on starting")
        self.ready = True

    def stop(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.conn.send(None)
        self.process.join(1.0)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(1.0)
        self.conn.close()


class SolverProcesses:
    """The matcher, as ``Deps.solver_override`` expects it: ``(input, limit, progress)``."""

    def __init__(self, processes: int, niceness: int) -> None:
        # spawn, not fork: a web process has threads and database connections a fork would copy.
        self._ctx = multiprocessing.get_context("spawn")
        self._niceness = niceness
        self._idle: queue.Queue[_Child] = queue.Queue()
        self._all: list[_Child] = []
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(processes):
            self._add()

    def _add(self) -> None:
        child = _Child(self._ctx, self._niceness)
        with self._lock:
            self._all.append(child)
        self._idle.put(child)

    def _replace(self, child: _Child) -> None:
        with self._lock:
            if child in self._all:
                self._all.remove(child)
            closed = self._closed
        child.stop()
        if not closed:
            self._add()

    def __call__(
        self, inp: mt.MatchInput, limit: float, progress: mt.ProgressFn | None
    ) -> mt.MatchResult:
        child = self._idle.get()
        while not child.process.is_alive():  # died while idle: replace it before it is asked
            log.warning("match.solver_process_replaced", extra={"reason": "died while idle"})
            self._replace(child)
            child = self._idle.get()
        healthy = False  # the child may take the next solve
        reason = "stopped during a solve"
        try:
            child.wait_ready()
            child.conn.send((inp, limit))
            while True:
                if not child.conn.poll(limit + GRACE_SECONDS):
                    raise SolverFailed(f"the solver process did not answer in {limit:.0f} s")
                kind, payload = child.conn.recv()
                if kind == "progress":
                    if progress is not None:
                        progress(payload)
                    continue
                healthy = True
                if kind == "done":
                    result: mt.MatchResult = payload
                    return result
                raise RuntimeError(f"the solve failed: {payload}")
        except (EOFError, OSError) as exc:
            raise SolverFailed("the solver process stopped") from exc
        except SolverFailed as exc:
            reason = exc.reason
            raise
        finally:
            if healthy:
                self._idle.put(child)
            else:
                log.warning("match.solver_process_replaced", extra={"reason": reason})
                self._replace(child)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            children = list(self._all)
        for child in children:
            child.stop()
