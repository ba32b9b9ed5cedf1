"""Wiring: matching solves run in child processes (``serve`` and ``socket``), give the same
answer as in-process, pass progress back, and survive a child that dies."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from bot.domain.matching import MatchInput, Progress, solve
from bot.solver_processes import SolverFailed, SolverProcesses
from bot.work import SOLVE_NICENESS
from tests.domain.test_matching import instance, need, provider


@pytest.fixture(scope="module")
def pool() -> Iterator[SolverProcesses]:
    procs = SolverProcesses(1, SOLVE_NICENESS)
    yield procs
    procs.close()


def _inp() -> MatchInput:
    return instance([need("S1"), need("S2"), need("S3", state="HI")], [provider("P1")])


def test_a_child_solves_as_this_process_would_and_reports_progress(
    pool: SolverProcesses,
) -> None:
    heard: list[Progress] = []
    result = pool(_inp(), 2.0, heard.append)
    here = solve(_inp(), time_limit_s=2.0)

    assert result.sessions == here.sessions and result.bound == here.bound == 2
    assert [p.phase for p in heard][:2] == ["greedy", "bound"]
    assert heard[-1].served <= 2


def _the_child(pool: SolverProcesses) -> tuple[Any, int]:
    """The pool's one child, up and having answered a solve, and its process id."""
    pool(_inp(), 1.0, None)
    (child,) = pool._all
    pid = child.process.pid
    assert pid is not None
    return child, pid


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="niceness as on Linux")
def test_the_child_runs_at_the_solve_niceness(pool: SolverProcesses) -> None:
    _, pid = _the_child(pool)
    assert pid != os.getpid()
    assert os.getpriority(os.PRIO_PROCESS, pid) == SOLVE_NICENESS


def test_a_child_that_died_while_idle_is_replaced_before_it_is_asked(
    pool: SolverProcesses,
) -> None:
    child, pid = _the_child(pool)
    os.kill(pid, signal.SIGKILL)
    child.process.join(5)

    result = pool(_inp(), 2.0, None)

    assert result.bound == 2 and len(result.sessions) == 2
    (replacement,) = pool._all
    assert replacement is not child and replacement.process.is_alive()


def test_a_solve_that_raises_fails_the_call_and_keeps_the_child(pool: SolverProcesses) -> None:
    child, _ = _the_child(pool)

    with pytest.raises(RuntimeError, match="the solve failed: AttributeError"):
        pool(None, 1.0, None)  # type: ignore[arg-type]  # not an input: the matcher raises

    assert pool(_inp(), 1.0, None).bound == 2
    assert pool._all == [child]


def test_a_child_that_aborts_mid_solve_fails_the_call_politely_and_is_replaced(
    pool: SolverProcesses,
) -> None:
    # OR-Tools can abort the process on a failed native check (SIGABRT, no exception): the
    # call must end in SolverFailed, a sentence for the manager, and the next call must work.
    from demo.instances import hard_instance

    child, pid = _the_child(pool)
    started = threading.Event()

    def abort_once_solving(p: Progress) -> None:
        if not started.is_set():
            started.set()
            os.kill(pid, signal.SIGABRT)

    with pytest.raises(SolverFailed) as failed:
        pool(hard_instance(300, 40, 0), 10.0, abort_once_solving)

    assert started.is_set()
    assert "Please run it again" in failed.value.message
    assert pool(_inp(), 1.0, None).bound == 2
    (replacement,) = pool._all
    assert replacement is not child
