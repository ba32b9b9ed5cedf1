"""Handlers and wiring: /match solves run in the bounded solve pool (MATCH_SOLVES). With one
solve at a time and a solver that waits for the test, a second manager's match is queued and
told so at once, a second match of the same district starts no solve, and both queued managers
get their proposals (handlers/solving.py, bot/work.py's SolvePool)."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace

import pytest

from bot.deps import Deps
from bot.domain import matching as mt
from bot.work import SolveBusy, SolvePool
from devtools.local_slack import LocalSlack
from devtools.proposals import wait_for_proposals
from handlers import proposal_dm
from tests.support.app_driver import Driver

ANC_ONLY, MESA_ONLY, EVERY = "U0DEMOM02", "U0DEMOM03", "U0DEMOM01"
MESA_TX_HOME = MESA_ONLY


class BlockingSolver:
    """Solves nothing until ``release``; counts the solves and how many ran at once."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.started = threading.Semaphore(0)
        self._lock = threading.Lock()
        self.running = self.peak = self.calls = 0

    def __call__(
        self, inp: mt.MatchInput, limit: float, progress: mt.ProgressFn | None = None
    ) -> mt.MatchResult:
        with self._lock:
            self.calls += 1
            self.running += 1
            self.peak = max(self.peak, self.running)
        self.started.release()
        try:
            assert self.release.wait(30), "the test never released the solver"
            return mt.MatchResult((), (), "fake", {}, 0.0)
        finally:
            with self._lock:
                self.running -= 1


@pytest.fixture
def solver() -> BlockingSolver:
    return BlockingSolver()


@pytest.fixture
def driver(
    demo_deps: Deps, slack: LocalSlack, solver: BlockingSolver, monkeypatch: pytest.MonkeyPatch
) -> Driver:
    # These solves wait for the test: no "Matching… 2 s" messages among the ones counted here.
    monkeypatch.setattr(proposal_dm, "FIRST_AFTER_S", 60.0)
    settings = demo_deps.settings.model_copy(update={"match_solves": 1})
    deps = replace(demo_deps, settings=settings, solver_override=solver)
    return Driver(deps, slack, inline=False)


def proposals(slack: LocalSlack, count: int) -> list[str]:
    found = wait_for_proposals(slack, count, timeout=20)
    return sorted(b["text"]["text"] for p in found for b in p.blocks if b["type"] == "header")


def test_a_second_managers_match_is_queued_at_once_and_both_get_proposals(
    driver: Driver, slack: LocalSlack, solver: BlockingSolver
) -> None:
    t0 = time.monotonic()
    first = driver.slash(ANC_ONLY, "/match", "district=anchorage")
    acks = [time.monotonic() - t0]
    assert solver.started.acquire(timeout=10)  # the first solve holds the only place
    t0 = time.monotonic()
    second = driver.slash(MESA_ONLY, "/match", "district=mesa")
    acks.append(time.monotonic() - t0)
    assert (
        first.ack_json()["text"]
        == "Matching Anchorage School District… I'll post the proposal in our DM."
    )
    assert second.ack_json()["text"] == (
        "Queued behind 1 other match — I'll post the proposal in our DM when it's ready."
    )
    # Neither acknowledgement waited for a solve (the solver is still blocked): both inside
    # Slack's 3 seconds, with room for a loaded machine.
    assert max(acks) < 3
    assert solver.calls == 1 and slack.calls_to("chat.postMessage") == []

    solver.release.set()
    assert proposals(slack, 2) == [
        "Proposal: Anchorage School District",
        "Proposal: Mesa Public Schools",
    ]
    assert solver.calls == 2 and solver.peak == 1


def test_a_second_match_of_the_same_district_starts_no_solve(
    driver: Driver, slack: LocalSlack, solver: BlockingSolver
) -> None:
    driver.slash(ANC_ONLY, "/match", "district=anchorage")
    assert solver.started.acquire(timeout=10)
    queued = driver.slash(MESA_ONLY, "/match", "district=mesa")
    assert "Queued behind 1 other match" in queued.ack_json()["text"]
    running = driver.slash(EVERY, "/match", "district=anc").ack_json()["text"]
    assert running == (
        "A match for Anchorage School District is already running, started by <@U0DEMOM02>: "
        "the proposal goes to them. Try again once it's done."
    )
    waiting = driver.slash(EVERY, "/match", "district=mesa").ack_json()["text"]
    assert "A match for Mesa Public Schools is already queued, started by <@U0DEMOM03>" in waiting
    mine = driver.slash(ANC_ONLY, "/match", "district=anchorage").ack_json()["text"]
    assert mine == (
        "Your match for Anchorage School District is already running — "
        "I'll post the proposal in our DM when it's ready."
    )

    solver.release.set()
    assert len(proposals(slack, 2)) == 2
    time.sleep(0.2)
    assert solver.calls == 2  # the three refused /match started nothing
    again = driver.slash(EVERY, "/match", "district=anc")  # done: the district is free again
    assert (
        again.ack_json()["text"]
        == "Matching Anchorage School District… I'll post the proposal in our DM."
    )
    assert proposals(slack, 3)


def test_queue_positions_count_what_must_finish_first() -> None:
    pool = SolvePool(2)
    gate = threading.Event()
    assert pool.claim("district:a", "U1") == 0
    pool.start("district:a", "U1", lambda: gate.wait(10))
    assert pool.claim("district:b", "U2") == 0  # a second place is free
    pool.start("district:b", "U2", lambda: gate.wait(10))
    assert pool.claim("district:c", "U3") == 1  # one of the two must finish first
    assert pool.claim("district:d", "U4") == 2
    with pytest.raises(SolveBusy) as busy:
        pool.claim("district:c", "U5")
    assert (busy.value.running, busy.value.by) == (False, "U3")
    pool.release("district:c", "U3")
    pool.release("district:d", "U4")
    assert pool.claim("district:e", "U1") == 1  # U1's own solve is still running
    pool.release("district:e", "U1")
    gate.set()
    assert pool._work.drain(10)
    assert pool.peak == 2 and pool.running == 0
    assert pool.claim("district:a", "U1") == 0


def test_the_queue_notice_pluralises() -> None:
    from handlers.solving import queued_text

    assert queued_text(2) == (
        "Queued behind 2 other matches — I'll post the proposal in our DM when it's ready."
    )
    assert json.dumps(queued_text(1)).count("other match ") == 1


def test_homes_run_match_waits_in_the_same_queue_and_says_so_by_dm(
    driver: Driver, slack: LocalSlack, solver: BlockingSolver
) -> None:
    driver.slash(ANC_ONLY, "/match", "district=anchorage")
    assert solver.started.acquire(timeout=10)
    pressed = driver.press(MESA_TX_HOME, "home_run_match", "mesa", from_home=True)
    assert pressed.status == 200
    [notice] = slack.wait_for("chat.postMessage", timeout=10)
    assert notice.params["channel"] == "D" + MESA_TX_HOME
    assert notice.params["text"] == (
        "Queued behind 1 other match — I'll post the proposal in our DM when it's ready."
    )
    assert solver.calls == 1
    solver.release.set()
    # The queue notice itself becomes the proposal, in place: one message in the DM.
    [proposal] = [
        p for p in wait_for_proposals(slack, 2, timeout=20) if p.ts == notice.response["ts"]
    ]
    assert proposal.updates >= 1 and "Proposal: Mesa Public Schools" in proposal.said()
    assert solver.peak == 1
