"""Wiring: acknowledge first, then work in a bounded pool, one task at a time per user.

Every listener is registered through ``AckFirst``:

* most listeners are acknowledged at once, in the request's own thread, and their body runs
  later on the ``WorkPool``: at most ``WORK_THREADS`` tasks at a time, each user's tasks one at a
  time in the order they arrived (so one person cannot hold several threads with parses or
  solves, and their replies keep their order). What a handler passes to ``ack()`` by then goes
  to the user through ``respond()`` instead.
* a listener that must answer *in* its acknowledgement (a form's ``response_action``, or a
  command registered with ``answer_in_ack``) runs on the ``AckLane`` until it calls ``ack()``;
  the HTTP response leaves at that moment and the rest of the listener continues on the lane.

Both paths are the same for ``serve`` and ``socket``. With ``inline=True`` (tests, the console)
the work runs in the request's thread right after the acknowledgement, so a test sees every
reply by the time ``dispatch`` returns.

Matching solves (``/match``, Home's Run match, [Find new times]) go one step further, to the
``SolvePool``: a second ``WorkPool`` of ``MATCH_SOLVES`` threads keyed by user as well, so a
solve that waits holds no thread and a person's solves still run one at a time, and at most one
solve per subject (a district) is queued or running. A solve's threads run at the lowest
priority (``SOLVE_NICENESS``): its native solver threads, which do most of the work without
Python's lock, then take only the CPU that requests leave. Where the solve runs in a child
process (``bot.solver_processes``, already at that priority), the pool's thread keeps the
process's priority (``lower=False``): it only reads, waits and stores.

In ``serve`` the door counts the requests being acknowledged on an ``AckGate`` that the
composition root (``bot.app.create_door``) gives to the door and to the app's pools alike; a work
thread about to start a task waits (at most ``YIELD_SECONDS``) until the requests that were being
acknowledged when the task was queued are answered, so under a burst the acknowledgements run
ahead of the work they queue, and later requests do not hold it back. Pools built without a gate
(``socket``, the console, tests) start their tasks at once.
"""

from __future__ import annotations

import functools
import inspect
import logging
import os
import sys
import threading
import time
import weakref
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("bot.work")

ACK_WAIT_SECONDS = 2.5
SOLVE_NICENESS = 19  # a solve's threads yield the CPU to requests (see lower_priority)
SOLVES = "caseload_solves"  # the listener context's key for the app's SolvePool
# Names Bolt can inject into a listener; every handler's parameters must be among them.
LISTENER_ARGS = (
    "ack",
    "body",
    "context",
    "respond",
    "client",
    "say",
    "logger",
    "payload",
    "command",
    "action",
    "view",
    "event",
    "message",
    "options",
    "shortcut",
)
ErrorReporter = Callable[[Exception, dict[str, Any], Any, Any, Any], None]


class AckGate:
    """Requests being acknowledged right now (``serve``'s door counts them). Python runs one
    thread at a time, so work started while requests wait for their acknowledgement takes the
    interpreter from them: a work thread about to start a task first waits until the requests
    that were being acknowledged when the task was queued (``mark``) are answered, for at most
    ``YIELD_SECONDS`` (so work always moves, if slower, under a flood). Requests that arrive
    after the task was queued do not hold it back: under a steady stream of requests, work
    would otherwise wait out the whole ``YIELD_SECONDS`` every time, and the work threads,
    not the CPU, would bound the throughput."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._next = 0  # the sequence number of the next acknowledgement
        self._active: set[int] = set()

    @contextmanager
    def acknowledging(self) -> Iterator[None]:
        with self._cond:
            seq = self._next
            self._next += 1
            self._active.add(seq)
        try:
            yield
        finally:
            with self._cond:
                self._active.discard(seq)
                self._cond.notify_all()

    def mark(self) -> int:
        """Where the acknowledgements stand now: a task queued now waits for those before it."""
        with self._cond:
            return self._next

    def wait_quiet(self, timeout: float, before: int) -> None:
        """Wait until no acknowledgement that began before ``before`` (a ``mark``) is in
        progress, for at most ``timeout`` seconds."""
        with self._cond:
            self._cond.wait_for(lambda: all(seq >= before for seq in self._active), timeout)


YIELD_SECONDS = 0.1


class WorkPool:
    """A bounded pool that runs each key's tasks one at a time, in submission order.

    A key whose task finished goes to the back of the line for its next task, so a user with
    many queued tasks does not crowd out the others. With ``acks``, a task starts once the requests
    being acknowledged on that gate when it was queued are answered, or after ``YIELD_SECONDS``
    at most.
    """

    def __init__(self, threads: int, *, inline: bool = False, acks: AckGate | None = None) -> None:
        self.inline, self._acks = inline, acks
        self._executor = None if inline else ThreadPoolExecutor(threads, thread_name_prefix="work")
        self._lock = threading.Lock()
        # Each key's tasks, each with where the acknowledgements stood when it was queued.
        self._queues: dict[str, deque[tuple[Callable[[], None], int]]] = {}
        self._idle = threading.Condition(self._lock)
        _POOLS.add(self)

    def submit(self, key: str, task: Callable[[], None]) -> int:
        """Queue ``task`` for ``key``; returns how many of that key's tasks are ahead of it."""
        if self._executor is None:
            _run_safely(task)
            return 0
        mark = self._acks.mark() if self._acks is not None else 0
        with self._lock:
            queue = self._queues.get(key)
            if queue is not None:
                queue.append((task, mark))
                return len(queue) - 1
            self._queues[key] = deque([(task, mark)])
        self._executor.submit(self._drain_one, key)
        return 0

    def _drain_one(self, key: str) -> None:
        with self._lock:
            task, mark = self._queues[key][0]
        if self._acks is not None:
            self._acks.wait_quiet(YIELD_SECONDS, before=mark)
        try:
            _run_safely(task)
        finally:
            with self._lock:
                queue = self._queues[key]
                queue.popleft()
                more = bool(queue)
                if not more:
                    del self._queues[key]
                    if not self._queues:
                        self._idle.notify_all()
            if more and self._executor is not None:
                self._executor.submit(self._drain_one, key)

    def pending(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._queues.values())

    def drain(self, timeout: float) -> bool:
        """Wait until every queued task has run (or ``timeout``); True if none is left."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._queues, timeout)


_POOLS: weakref.WeakSet[WorkPool] = weakref.WeakSet()


class SolveBusy(Exception):
    """A solve for this subject is already queued or running."""

    def __init__(self, subject: str, running: bool, by: str) -> None:
        super().__init__(subject)
        self.subject, self.running, self.by = subject, running, by


class SolvePool:
    """Matching solves: at most ``size`` at a time, each user's one at a time (the ``WorkPool``
    order), one per subject; waiting solves hold no thread.

    ``claim`` holds a subject and says how many solves must finish before this one starts;
    ``start`` queues the work (call it once the person has been told). The peak number of
    solves running at once is logged with every start, for the benchmarks.
    """

    def __init__(
        self,
        size: int,
        report: ErrorReporter | None = None,
        *,
        inline: bool = False,
        acks: AckGate | None = None,
        lower: bool = True,
    ) -> None:
        self.size, self.report = size, report
        self._lower = lower and not inline  # lower_priority() for a solve in this thread
        self._work = WorkPool(size, inline=inline, acks=acks)
        self._lock = threading.Lock()
        self._subjects: dict[str, tuple[str, bool]] = {}  # subject -> (user, started)
        self._per_user: Counter[str] = Counter()
        self._outstanding = 0
        self.running = 0
        self.peak = 0

    def claim(self, subject: str, user: str) -> int:
        """Hold ``subject`` for ``user``'s solve; how many solves are ahead of it (0: it starts
        at once). Raises ``SolveBusy`` when that subject is queued or running already."""
        with self._lock:
            held = self._subjects.get(subject)
            if held is not None:
                raise SolveBusy(subject, held[1], held[0])
            self._subjects[subject] = (user, False)
            ahead = max(self._outstanding - self.size + 1, self._per_user[user], 0)
            self._outstanding += 1
            self._per_user[user] += 1
            return ahead

    def start(
        self,
        subject: str,
        user: str,
        task: Callable[[], None],
        request: tuple[dict[str, Any], Any, Any, Any] | None = None,
    ) -> None:
        """Queue the solve claimed for ``subject``; the subject is free again when it ends.

        ``request`` (body, context, respond, client) is whom a failure is reported to."""

        def run() -> None:
            if self._lower:
                lower_priority()
            with self._lock:
                self.running += 1
                self.peak = max(self.peak, self.running)
                self._subjects[subject] = (user, True)
                running, waiting = self.running, self._outstanding - self.running
            log.info("match.solve_started", extra={"running": running, "waiting": waiting})
            try:
                task()
            except Exception as exc:
                if self.report is None or request is None:
                    raise
                self.report(exc, *request)
            finally:
                with self._lock:
                    self.running -= 1
                    self._release(subject, user)

        self._work.submit(user, run)

    def release(self, subject: str, user: str) -> None:
        """Give back a claim whose solve will not start."""
        with self._lock:
            self._release(subject, user)

    def _release(self, subject: str, user: str) -> None:
        self._subjects.pop(subject, None)
        self._outstanding -= 1
        self._per_user[user] -= 1
        if self._per_user[user] <= 0:
            del self._per_user[user]


def lower_priority() -> None:
    """Run this thread (a solve's) at ``SOLVE_NICENESS``: on Linux niceness is per thread, and
    the solver's worker threads, which this thread starts, inherit it. Acknowledgements and
    previews then get the CPU first while a solve runs; the solve takes what is left."""
    if not sys.platform.startswith("linux"):
        return
    tid = threading.get_native_id()
    try:
        if os.getpriority(os.PRIO_PROCESS, tid) < SOLVE_NICENESS:
            os.setpriority(os.PRIO_PROCESS, tid, SOLVE_NICENESS)
    except OSError:  # not allowed here: the solve runs at the process's priority
        log.info("match.solve_priority_unchanged")


def drain_all(timeout: float) -> bool:
    """Let acknowledged work finish before the process exits (a deploy or a restart)."""
    deadline = time.monotonic() + timeout
    return all(pool.drain(max(0.0, deadline - time.monotonic())) for pool in list(_POOLS))


def _run_safely(task: Callable[[], None]) -> None:
    try:
        task()
    except Exception:  # tasks report their own errors; this is the last line of defence
        log.exception("work.task_failed")


def user_key(body: dict[str, Any]) -> str:
    """Whose request this is: the key that orders a user's tasks."""
    user = body.get("user_id") or (body.get("user") or {}).get("id")
    event = body.get("event") or {}
    return str(user or event.get("user") or body.get("team_id") or "-")


class LateAck:
    """``ack()`` for a listener body that runs after the real acknowledgement went out: what it
    would have said is posted through ``respond()`` (ephemeral, like a slash command's ack)."""

    def __init__(self, respond: Any) -> None:
        self._respond = respond

    def __call__(
        self,
        text: str | dict[str, Any] = "",
        blocks: Any = None,
        response_type: str | None = None,
        **_ignored: Any,
    ) -> None:
        if isinstance(text, dict):
            message = text
            text, blocks = str(message.get("text") or ""), message.get("blocks") or blocks
        if not (text or blocks):
            return
        if self._respond is None:
            log.warning("work.late_ack_dropped")
            return
        self._respond(
            text=text or "",
            blocks=blocks,
            response_type=response_type or "ephemeral",
            replace_original=False,
        )


class _GatedAck:
    """The ack of an answer-in-ack listener: the first call before the deadline is the HTTP
    answer; a call after the request stopped waiting becomes a ``LateAck``."""

    def __init__(self, ack: Any, respond: Any) -> None:
        self._ack, self._late = ack, LateAck(respond)
        self._lock = threading.Lock()
        self.done = threading.Event()
        self._closed = False

    def __call__(self, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            if not self._closed and not self.done.is_set():
                self._ack(*args, **kwargs)
                self.done.set()
                return
        self._late(*args, **kwargs)

    def close(self) -> bool:
        """Stop waiting; True if the listener had acknowledged."""
        with self._lock:
            self._closed = True
            return self.done.is_set()


class AckFirst:
    """Registers listeners on a Bolt app so that acknowledgements never wait for work."""

    def __init__(
        self, app: Any, pool: WorkPool, lane: ThreadPoolExecutor | None, report: ErrorReporter
    ):
        self.app, self.pool, self.lane, self.report = app, pool, lane, report

    # The registration surface the handler modules use.
    def command(
        self, name: str, *, answer_in_ack: bool = False
    ) -> Callable[[Callable[..., Any]], Any]:
        return self._register(self.app.command(name), answer_in_ack)

    def action(self, constraints: Any) -> Callable[[Callable[..., Any]], Any]:
        return self._register(self.app.action(constraints), False)

    def event(self, event: Any) -> Callable[[Callable[..., Any]], Any]:
        return self._register(self.app.event(event), False)

    def view(self, constraints: Any) -> Callable[[Callable[..., Any]], Any]:
        return self._register(self.app.view(constraints), True)

    def __getattr__(self, name: str) -> Any:  # anything else goes to the app unchanged
        return getattr(self.app, name)

    def _register(
        self, decorator: Callable[[Callable[..., Any]], Any], answer_in_ack: bool
    ) -> Callable[[Callable[..., Any]], Any]:
        def register(handler: Callable[..., Any]) -> Any:
            wrapped = self._answer_in_ack(handler) if answer_in_ack else self._deferred(handler)
            decorator(wrapped)
            return handler

        return register

    def _deferred(self, handler: Callable[..., Any]) -> Callable[..., None]:
        wanted = _handler_args(handler)
        report = self.report

        def listener(
            ack: Any, body: dict[str, Any], context: Any, respond: Any, client: Any, **rest: Any
        ) -> None:
            ack()
            given = {"ack": LateAck(respond), "body": body, "context": context}
            given |= {"respond": respond, "client": client, **rest}
            kwargs = {name: given.get(name) for name in wanted}

            def work() -> None:
                try:
                    handler(**kwargs)
                except Exception as exc:
                    report(exc, body, context, respond, client)

            self.pool.submit(user_key(body), work)

        return _with_signature(listener, handler)

    def _answer_in_ack(self, handler: Callable[..., Any]) -> Callable[..., None]:
        wanted = _handler_args(handler)
        report = self.report

        def listener(
            ack: Any, body: dict[str, Any], context: Any, respond: Any, client: Any, **rest: Any
        ) -> None:
            gate = _GatedAck(ack, respond)
            given = {"ack": gate, "body": body, "context": context}
            given |= {"respond": respond, "client": client, **rest}
            kwargs = {name: given.get(name) for name in wanted}
            if self.lane is None:  # inline: the listener is the request
                handler(**kwargs)
                return
            failure: list[Exception] = []

            def work() -> None:
                try:
                    handler(**kwargs)
                except Exception as exc:
                    if gate.close():
                        report(exc, body, context, respond, client)
                    else:
                        failure.append(exc)
                finally:
                    gate.done.set()

            self.lane.submit(work)
            gate.done.wait(ACK_WAIT_SECONDS)
            acknowledged = gate.close()
            if failure:  # it failed before acknowledging: Bolt's error handler answers
                raise failure[0]
            if not acknowledged:
                log.warning("work.ack_late", extra={"listener": handler.__name__})
                ack()

        return _with_signature(listener, handler)


def _handler_args(handler: Callable[..., Any]) -> list[str]:
    names = list(inspect.signature(handler).parameters)
    unknown = [n for n in names if n not in LISTENER_ARGS]
    if unknown:
        raise TypeError(f"{handler.__name__}: unsupported listener arguments {unknown}")
    return names


def _with_signature(
    listener: Callable[..., None], handler: Callable[..., Any]
) -> Callable[..., None]:
    """Bolt injects the arguments a listener names: ours takes every one the handler might."""

    @functools.wraps(handler)
    def named(
        ack: Any,
        body: dict[str, Any],
        context: Any,
        respond: Any,
        client: Any,
        say: Any,
        logger: Any,
        payload: Any,
        command: Any,
        action: Any,
        view: Any,
        event: Any,
        message: Any,
        options: Any,
        shortcut: Any,
    ) -> None:
        listener(
            ack,
            body,
            context,
            respond,
            client,
            say=say,
            logger=logger,
            payload=payload,
            command=command,
            action=action,
            view=view,
            event=event,
            message=message,
            options=options,
            shortcut=shortcut,
        )

    del named.__wrapped__  # Bolt reads the names from the listener itself, not the handler
    return named
