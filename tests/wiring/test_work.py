"""Wiring: acknowledgements leave before the work starts; the work pool keeps each user's tasks
in order, one at a time, and runs different users' tasks side by side."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from slack_bolt import App
from slack_bolt.request import BoltRequest
from slack_sdk import WebClient

from bot.work import (
    SOLVE_NICENESS,
    YIELD_SECONDS,
    AckFirst,
    AckGate,
    LateAck,
    SolvePool,
    WorkPool,
)
from devtools.local_slack import LocalSlack
from devtools.slack_requests import block_actions_body, slash_command_body, view_submission_body


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.events: list[str] = []
        self.responds: list[dict[str, Any]] = []
        self.errors: list[Exception] = []

    def note(self, event: str) -> None:
        with self.lock:
            self.events.append(event)

    def report(self, error: Exception, body: Any, context: Any, respond: Any, client: Any) -> None:
        self.errors.append(error)


@pytest.fixture(autouse=True)
def _fake_slack(slack: LocalSlack) -> None:
    global API_URL
    API_URL = slack.api_url


API_URL = ""


def bolt() -> App:
    return App(
        signing_secret="x",
        client=WebClient(token="xoxb-x", base_url=API_URL),
        token_verification_enabled=False,
        request_verification_enabled=False,
        process_before_response=True,
    )


def dispatch(app: App, body: str) -> tuple[int, str, float]:
    start = time.monotonic()
    response = app.dispatch(BoltRequest(body=body))
    return response.status, response.body or "", time.monotonic() - start


def command(user: str = "U1", text: str = "") -> str:
    return slash_command_body(
        command="/slow", text=text, user_id=user, response_url="http://127.0.0.1:9/r"
    )


def test_the_ack_is_sent_before_the_work_starts() -> None:
    """A fake slow service: the handler's work blocks until the test lets it go."""
    rec, release = Recorder(), threading.Event()
    app = bolt()
    registrar = AckFirst(app, WorkPool(2), ThreadPoolExecutor(2), rec.report)

    def handle_slow_command(ack: Any, command: dict[str, Any]) -> None:
        ack()
        rec.note("work started")
        release.wait(5)
        rec.note("work done")

    registrar.command("/slow")(handle_slow_command)
    status, _, seconds = dispatch(app, command())
    rec.note("acked")
    assert status == 200 and seconds < 0.5
    release.set()
    deadline = time.monotonic() + 5
    while "work done" not in rec.events and time.monotonic() < deadline:
        time.sleep(0.01)
    assert rec.events.index("acked") < rec.events.index("work done")


def test_a_users_tasks_run_one_at_a_time_in_order_and_others_run_alongside() -> None:
    pool = WorkPool(4)
    rec = Recorder()
    running: dict[str, int] = {}
    overlap: list[str] = []

    def task(user: str, i: int) -> None:
        with rec.lock:
            running[user] = running.get(user, 0) + 1
            if running[user] > 1:
                overlap.append(user)
        time.sleep(0.02)
        rec.note(f"{user}:{i}")
        with rec.lock:
            running[user] -= 1

    started = time.monotonic()
    for i in range(5):
        for user in ("A", "B", "C"):
            pool.submit(user, lambda user=user, i=i: task(user, i))
    while pool.pending() and time.monotonic() - started < 5:
        time.sleep(0.01)
    assert overlap == []
    for user in ("A", "B", "C"):
        assert [e for e in rec.events if e.startswith(user)] == [f"{user}:{i}" for i in range(5)]
    # Three users side by side: about 5 x 20 ms, not 15 x 20 ms.
    assert time.monotonic() - started < 0.25


def test_a_failed_task_is_reported_and_the_next_one_still_runs() -> None:
    rec = Recorder()
    app = bolt()
    pool = WorkPool(1)
    registrar = AckFirst(app, pool, ThreadPoolExecutor(1), rec.report)

    def handle_slow_command(ack: Any, command: dict[str, Any]) -> None:
        ack()
        if command["text"] == "boom":
            raise ValueError("boom")
        rec.note(command["text"])

    registrar.command("/slow")(handle_slow_command)
    assert dispatch(app, command(text="boom"))[0] == 200
    assert dispatch(app, command(text="fine"))[0] == 200
    deadline = time.monotonic() + 5
    while "fine" not in rec.events and time.monotonic() < deadline:
        time.sleep(0.01)
    assert [type(e) for e in rec.errors] == [ValueError] and rec.events == ["fine"]


def test_a_form_answers_with_its_response_action_and_keeps_working_after() -> None:
    rec, release = Recorder(), threading.Event()
    app = bolt()
    registrar = AckFirst(app, WorkPool(1), ThreadPoolExecutor(2), rec.report)

    def handle_form_view(ack: Any, view: dict[str, Any]) -> None:
        ack(response_action="errors", errors={"field": "Say more"})
        release.wait(5)
        rec.note("after ack")

    registrar.view("form")(handle_form_view)
    body = view_submission_body(
        user_id="U1", view={"id": "V1", "callback_id": "form", "blocks": []}, state_values={}
    )
    status, answer, seconds = dispatch(app, body)
    assert status == 200 and seconds < 0.5
    assert json.loads(answer) == {"response_action": "errors", "errors": {"field": "Say more"}}
    release.set()


def test_a_form_that_fails_before_answering_goes_to_the_error_handler() -> None:
    app = bolt()
    seen: list[str] = []

    @app.error
    def on_error(error: Exception) -> None:
        seen.append(type(error).__name__)

    registrar = AckFirst(app, WorkPool(1), ThreadPoolExecutor(1), lambda *a: None)

    def handle_form_view(ack: Any) -> None:
        raise KeyError("x")

    registrar.view("form")(handle_form_view)
    body = view_submission_body(
        user_id="U1", view={"id": "V1", "callback_id": "form", "blocks": []}, state_values={}
    )
    dispatch(app, body)
    assert seen == ["KeyError"]


def test_what_a_deferred_handler_acks_with_reaches_the_user_through_respond() -> None:
    said: list[dict[str, Any]] = []
    LateAck(lambda **kw: said.append(kw))(text="Matching Anchorage…")
    LateAck(lambda **kw: said.append(kw))()  # an empty ack says nothing
    assert said == [
        {
            "text": "Matching Anchorage…",
            "blocks": None,
            "response_type": "ephemeral",
            "replace_original": False,
        }
    ]


def test_buttons_are_acknowledged_before_their_work() -> None:
    rec, release = Recorder(), threading.Event()
    app = bolt()
    registrar = AckFirst(app, WorkPool(1), ThreadPoolExecutor(1), rec.report)

    def handle_press_action(ack: Any, body: dict[str, Any]) -> None:
        ack()
        release.wait(5)

    registrar.action("press")(handle_press_action)
    body = block_actions_body(
        user_id="U1",
        action={"action_id": "press", "block_id": "b", "type": "button", "value": "1"},
        response_url=None,
        container={"type": "message", "message_ts": "1.1", "channel_id": "D1"},
    )
    status, _, seconds = dispatch(app, body)
    release.set()
    assert status == 200 and seconds < 0.5


def test_work_waits_to_start_while_a_request_is_being_acknowledged() -> None:
    acks = AckGate()
    pool = WorkPool(2, acks=acks)
    started = threading.Event()
    with acks.acknowledging():
        pool.submit("A", started.set)
        assert not started.wait(0.05)  # held back while the acknowledgement is in progress
    assert started.wait(1)  # and it starts once none is


def test_a_pool_waits_only_on_its_own_gate() -> None:
    """Gates are not shared process-wide: another door's requests, or a pool built without a
    gate (socket mode), do not hold work back."""
    mine, other = AckGate(), AckGate()
    gated, ungated = WorkPool(1, acks=mine), WorkPool(1)
    started = [threading.Event(), threading.Event()]
    with other.acknowledging():
        begun = time.monotonic()
        gated.submit("A", started[0].set)
        ungated.submit("A", started[1].set)
        assert started[0].wait(1) and started[1].wait(1)
        assert time.monotonic() - begun < YIELD_SECONDS * 0.9


def test_under_a_flood_of_acknowledgements_work_still_starts_after_a_bound() -> None:
    acks = AckGate()
    pool = WorkPool(1, acks=acks)
    started = threading.Event()
    with acks.acknowledging():
        begun = time.monotonic()
        pool.submit("A", started.set)
        assert started.wait(2)
        assert YIELD_SECONDS * 0.9 <= time.monotonic() - begun < 1


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")
def test_a_solve_runs_at_the_lowest_priority_and_the_work_threads_do_not() -> None:
    solves = SolvePool(1)
    seen: dict[str, int] = {}
    done = threading.Event()

    def task(name: str) -> None:
        seen[name] = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        done.set()

    assert solves.claim("district-a", "U1") == 0
    solves.start("district-a", "U1", lambda: task("solve"))
    assert done.wait(5)
    done.clear()
    WorkPool(1).submit("U1", lambda: task("work"))
    assert done.wait(5)
    assert seen == {"solve": SOLVE_NICENESS, "work": os.getpriority(os.PRIO_PROCESS, 0)}


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")
def test_where_the_solve_runs_in_a_child_process_the_pool_thread_keeps_its_priority() -> None:
    # (serve and socket: the thread only reads the input, waits and stores the proposal; at a
    # low priority it would hold Python's lock while requests wait for it.)
    solves = SolvePool(1, lower=False)
    seen: list[int] = []
    done = threading.Event()

    def task() -> None:
        seen.append(os.getpriority(os.PRIO_PROCESS, threading.get_native_id()))
        done.set()

    assert solves.claim("district-a", "U1") == 0
    solves.start("district-a", "U1", task)
    assert done.wait(5)
    assert seen == [os.getpriority(os.PRIO_PROCESS, 0)]


def test_work_does_not_wait_for_requests_that_arrived_after_it_was_queued() -> None:
    """A steady stream of requests would otherwise hold every task for the whole
    YIELD_SECONDS: a task waits only for those being answered when it was queued (``mark``)."""
    acks = AckGate()
    first_done, later_done, quiet = threading.Event(), threading.Event(), threading.Event()
    first = threading.Thread(target=_acknowledge_until, args=(acks, first_done))
    first.start()
    time.sleep(0.02)
    mark = acks.mark()  # a task is queued while the first request is being answered
    later = threading.Thread(target=_acknowledge_until, args=(acks, later_done))
    later.start()  # then a request arrives that takes its time

    waiter = threading.Thread(target=lambda: (acks.wait_quiet(5.0, before=mark), quiet.set()))
    waiter.start()
    assert not quiet.wait(0.2)  # the first request holds the task back
    first_done.set()
    assert quiet.wait(1.0)  # and once it is answered the task goes, the later one still running
    assert later.is_alive()
    later_done.set()
    for t in (first, later, waiter):
        t.join()


def _acknowledge_until(acks: AckGate, done: threading.Event) -> None:
    with acks.acknowledging():
        done.wait(5.0)
