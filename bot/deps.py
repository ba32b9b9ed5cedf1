"""Wiring: the dependencies every listener, job and service receives.

Built only by the CLI entry points (``build_deps``) and by tests with fakes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.clock import Clock, SystemClock
from bot.services.ports import Notifier
from bot.settings import Settings
from bot.slack_gateway import SlackGateway, make_web_client
from storage.db import make_engine, make_session_factory

if TYPE_CHECKING:  # the solver loads OR-Tools: only the processes that match pay for it
    from bot.domain import matching as mt
    from bot.solver_processes import SolverProcesses


@dataclass(frozen=True)
class Deps:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    clock: Clock
    gateway: SlackGateway  # the listeners' Web API calls (views, responses, uploads)
    # Where services send DMs; None means the Slack gateway (its adapter). Tests pass a fake.
    notifier_override: Notifier | None = None
    # The matcher (input, time limit in seconds, progress callback or None); None means the
    # real one, in this process. ``serve``, ``socket``, the ``match`` command and the console pass
    # ``SolverProcesses`` (the real one in child processes: a solve never holds back
    # acknowledgements, and an abort in OR-Tools ends only the child); tests pass a fake.
    solver_override: (
        Callable[[mt.MatchInput, float, mt.ProgressFn | None], mt.MatchResult] | None
    ) = None

    def solve(self, inp: mt.MatchInput, progress: mt.ProgressFn | None = None) -> mt.MatchResult:
        """The matcher on ``inp``; ``progress`` hears how far it has got (``mt.Progress``)."""
        limit = self.settings.match_time_limit_seconds
        if self.solver_override is not None:
            return self.solver_override(inp, limit, progress)
        from bot.domain import matching

        return matching.solve(inp, time_limit_s=limit, progress=progress)

    @property
    def notifier(self) -> Notifier:
        return self.notifier_override if self.notifier_override is not None else self.gateway


def build_deps(
    settings: Settings,
    *,
    clock: Clock | None = None,
    slack_retries: int = 2,
    solve_in_processes: bool = False,
) -> Deps:
    """The production dependencies. ``solve_in_processes``: run matching solves in
    ``MATCH_SOLVES`` child processes (the servers, the ``match`` command, the console), not in
    the calling thread (the clock process, which never matches, and the tests)."""
    # Work threads hold a connection through a service call; request threads only for a moment.
    threads = settings.listener_threads + settings.match_solves
    engine = make_engine(settings.database_url, pool_size=min(threads + 8, 20))
    client = make_web_client(
        settings.slack_bot_token, settings.slack_api_url, retries=slack_retries
    )
    return Deps(
        settings=settings,
        engine=engine,
        session_factory=make_session_factory(engine),
        clock=clock or SystemClock(),
        gateway=SlackGateway(client),
        solver_override=_solver_processes(settings) if solve_in_processes else None,
    )


def _solver_processes(settings: Settings) -> SolverProcesses:
    from bot.solver_processes import SolverProcesses
    from bot.work import SOLVE_NICENESS

    return SolverProcesses(settings.match_solves, SOLVE_NICENESS)
