"""Wiring: the composition root that builds the Bolt ``App``.

``create_app(settings, deps)`` is the only place that assembles the app: it hands the shared
Slack client to Bolt, injects ``Deps`` through one middleware, de-duplicates retried events in
the database, registers every listener and installs the one error handler. ``create_door``
builds ``serve``'s stack on it: the door that verifies each request, and the app behind it,
sharing one ``AckGate`` between the door and the app's work pools.
"""

from __future__ import annotations

import logging
import secrets
import string
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor, wait
from typing import TYPE_CHECKING, Any

from slack_bolt import App, BoltResponse
from slack_bolt.context.respond import Respond
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest
from sqlalchemy.exc import DBAPIError, OperationalError

from bot.deps import Deps
from bot.logs import bolt_logger
from bot.response_urls import KeptConnections, KeptRespond
from bot.services import events
from bot.services.errors import Unavailable, UserFacingError
from bot.settings import Settings
from bot.slack_gateway import SlackUnavailable
from bot.work import SOLVES, AckFirst, AckGate, SolvePool, WorkPool

if TYPE_CHECKING:
    from bot.edge import SlackDoor

log = logging.getLogger("bot.app")

SOMETHING_WRONG = (
    "Something went wrong on my side (ref {ref}). Please try again; "
    "if it keeps happening, tell your manager the ref."
)


class QueuedRespond(Respond):
    """``respond()`` that returns at once: the post runs on the outbound pool, in call order.

    A listener thread blocked on a slow or hanging response URL would starve the listener
    pool, and then acknowledgements of new requests wait; queued, they stay fast.
    """

    def __init__(self, inner: Respond, pool: Executor) -> None:  # noqa: D107
        self._inner, self._pool = inner, pool
        self._last: Future[None] | None = None
        self._lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        with self._lock:
            previous = self._last

            def send() -> None:
                if previous is not None:
                    wait([previous])
                try:
                    self._inner(*args, **kwargs)
                except Exception as exc:  # the person cannot be told; the log says what failed
                    log.warning("respond.failed", extra={"error": type(exc).__name__})

            self._last = self._pool.submit(send)


class Admission(Middleware):
    """What every request goes through once it is verified, before its listener, in order:
    it is marked verified, refused if it carries a NUL character, answered at once if it is an
    ``ssl_check``, given a ``respond()`` over kept connections (queued on ``outbound``, if any),
    handed ``Deps`` and the ``SolvePool``, and dropped if it is a retried event.

    One middleware object rather than six functions: Bolt builds the whole set of listener
    arguments (body, payload, command, action, view, …) for every function middleware, on
    every request."""

    def __init__(
        self,
        deps: Deps,
        solves: SolvePool,
        connections: KeptConnections,
        outbound: Executor | None,
    ) -> None:
        self.deps, self.solves = deps, solves
        self.connections, self.outbound = connections, outbound

    def process(
        self,
        *,
        req: BoltRequest,
        resp: BoltResponse,
        next: Callable[[], BoltResponse],  # noqa: A002
    ) -> BoltResponse | None:
        context, body = req.context, req.body
        # Custom middleware runs only after the signature check passed (Bolt's, or the door's
        # before Bolt saw the request; for Socket Mode, Slack's own connection is the proof), so
        # the error handler can tell.
        context[VERIFIED] = True
        # Slack never sends a NUL, and PostgreSQL refuses them in text: a forged field carrying
        # one gets a plain answer here instead of a database error deep in a service.
        if _has_nul(body):
            log.info("request.nul_refused")
            _tell_user(NUL_REFUSED, body, context.respond, context.client)
            return BoltResponse(status=200, body="")
        if body.get("ssl_check") == "1":  # a signed certificate check from Slack: nothing to run
            return BoltResponse(status=200, body="")
        inner = context.respond
        if inner is not None and inner.response_url:
            respond: Respond = KeptRespond(inner.response_url, self.connections)
            if self.outbound is not None:
                respond = QueuedRespond(respond, self.outbound)
            context["respond"] = respond
        context["deps"] = self.deps
        context[SOLVES] = self.solves
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and not events.claim_event(self.deps, str(event_id)):
            log.info("event.duplicate_dropped", extra={"event_id": event_id})
            return BoltResponse(status=200, body="")
        next()
        return None


VERIFIED = "caseload_verified"
NUL_REFUSED = "I couldn't read that: it contains a character Slack never sends."


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def new_ref() -> str:
    alphabet = string.ascii_uppercase + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(4))


def create_door(settings: Settings, deps: Deps, *, inline: bool = False) -> SlackDoor:
    """``serve``'s endpoint: the door, and the app it hands verified requests to. Work waits to
    start while the door is answering requests: one gate, given to both."""
    from bot.edge import SlackDoor

    acks = AckGate()
    app = create_app(settings, deps, process_before_response=inline, acks=acks, behind_door=True)
    return SlackDoor(app, deps, settings.slack_signing_secret or "", acks)


def create_app(
    settings: Settings,
    deps: Deps,
    *,
    process_before_response: bool = False,
    acks: AckGate | None = None,
    behind_door: bool = False,
) -> App:
    """``acks``: the gate of the door in front of the app, if any; ``behind_door``: only the door
    (``create_door``) hands requests to this app, and it has checked every signature already,
    so Bolt does not check them again."""
    # The token travels inside the shared client; giving Bolt both only makes it warn.
    # inline: the work runs in the request's thread right after the acknowledgement (tests and
    # the console want every reply by the time dispatch returns); otherwise on the work pool.
    inline = process_before_response
    app = App(
        name="caseload-bot",
        logger=bolt_logger(),
        signing_secret=settings.slack_signing_secret or "local-console-secret",
        client=deps.gateway.client,
        token_verification_enabled=False,
        request_verification_enabled=not behind_door,
        # Bolt answers ssl_check bodies before verifying the signature; ours answers them after.
        ssl_check_enabled=False,
        # Listeners run in the request's thread; AckFirst makes them acknowledge and hand their
        # work to the pool, so the response never waits for a free thread or for the work.
        process_before_response=True,
    )

    # Replies to response URLs reuse kept connections (one connect per host, not per reply);
    # outside the tests and the console they are queued, so no listener waits on Slack.
    connections = KeptConnections(idle=settings.listener_threads)
    outbound = None
    if not inline:
        outbound = ThreadPoolExecutor(
            max_workers=settings.listener_threads, thread_name_prefix="outbound"
        )
    # /match solves wait here, at most MATCH_SOLVES at a time (bot.work.SolvePool). Where the
    # solve itself runs in a child process (serve, socket), the pool's thread only reads the
    # input, waits and stores the proposal: it keeps the process's priority, so that it never
    # holds Python's lock at a low one while requests wait for it.
    solves = SolvePool(
        settings.match_solves,
        report_error,
        inline=inline,
        acks=acks,
        lower=deps.solver_override is None,
    )
    app.use(Admission(deps, solves, connections, outbound))

    @app.error
    def handle_error(
        error: Exception, body: dict[str, Any], context: Any, respond: Any, client: Any
    ) -> BoltResponse:
        if not context.get(VERIFIED):
            # Raised before the request was verified (a malformed timestamp makes slack_sdk's
            # verifier raise): nobody is contacted about a request anyone could have forged.
            log.info("request.refused", extra={"reason": "unverified_error"})
            return BoltResponse(status=401, body="")
        report_error(error, body, context, respond, client)
        return BoltResponse(status=200, body="")

    from handlers import register_all

    pool = WorkPool(settings.listener_threads, inline=inline, acks=acks)
    lane = None
    if not inline:
        lane = ThreadPoolExecutor(2 * settings.listener_threads, thread_name_prefix="ack-lane")
    register_all(AckFirst(app, pool, lane, report_error))
    return app


def report_error(
    error: Exception, body: dict[str, Any], context: Any, respond: Any, client: Any
) -> None:
    """Tell the person what went wrong, in a sentence; log a reference for anything unexpected.

    Called for verified requests only: by the app's error handler, and by the work pool for
    listener bodies that failed after the acknowledgement.
    """
    if isinstance(error, OperationalError) or (
        isinstance(error, DBAPIError) and error.connection_invalidated
    ):
        error = Unavailable()
    if isinstance(error, SlackUnavailable):
        error = Unavailable("Slack is not answering me right now. Please try again in a moment.")
    if isinstance(error, UserFacingError):
        message = error.message
        log.info("user_error", extra={"kind": type(error).__name__})
    else:
        ref = new_ref()
        log.exception("unexpected_error ref=%s", ref, exc_info=error)
        message = SOMETHING_WRONG.format(ref=ref)
    _tell_user(message, body, respond, client)


def _tell_user(message: str, body: dict[str, Any], respond: Any, client: Any) -> None:
    try:
        if respond is not None and (body.get("response_url") or body.get("response_urls")):
            respond(text=message, response_type="ephemeral", replace_original=False)
            return
        user = body.get("user_id") or (body.get("user") or {}).get("id")
        event = body.get("event") or {}
        user = user or event.get("user")
        if user:
            channel = client.conversations_open(users=user)["channel"]["id"]
            client.chat_postMessage(channel=channel, text=message)
    except Exception:  # the error path must never raise; the log has the original error
        log.warning("user_error.not_delivered")
