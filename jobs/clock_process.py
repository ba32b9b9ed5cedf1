"""Jobs: the clock process (``python -m bot jobs``, Procfile ``clock``) and ``jobs run-once``.

APScheduler 3 runs here only, never in ``web``. Each job is a thin call into a service: from
``bot.services.nudges`` one sweep per rule and delivery; from
``jobs.caseload_jobs`` dated sessions and the weekly digest. All state lives
in our ``nudges`` table; the scheduler keeps its jobs in memory (a shared APScheduler 3 job store
runs jobs twice), so several clock processes may run against one PostgreSQL database and still
send each nudge once. ``coalesce``/``max_instances=1``/``misfire_grace_time=None`` make a late or
missed run happen once, late, rather than be skipped (the default grace time is 1 s).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from types import FrameType
from typing import Any

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from bot.clock import FixedClock
from bot.deps import Deps, build_deps
from bot.services import events, nudges
from bot.services.ports import DeliveryFailed
from bot.settings import Settings
from bot.views.format import plural
from jobs import caseload_jobs, minutes_jobs

log = logging.getLogger("jobs.clock")

SWEEP_EVERY = timedelta(minutes=5)
DELIVER_EVERY = timedelta(minutes=1)
# Delivery starts a little after the sweeps, so the first run already finds what they queued.
DELIVERY_OFFSET = timedelta(seconds=20)
JOB_OPTIONS: dict[str, Any] = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


def make_scheduler() -> BlockingScheduler:
    return BlockingScheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(max_workers=4)},
        job_defaults=dict(JOB_OPTIONS),
        timezone=UTC,
    )


def _guarded(name: str, work: Callable[[], object]) -> Callable[[], None]:
    """A job body: a down database or Slack is one warning line; the next run catches up."""

    def run() -> None:
        try:
            work()
        except SQLAlchemyError as exc:
            log.warning("job.database_unavailable", extra={"job": name, "error": _reason(exc)})
        except DeliveryFailed as exc:
            log.warning("job.slack_unavailable", extra={"job": name, "error": str(exc)})

    run.__name__ = f"job_{name}"
    return run


def _deliver(deps: Deps) -> None:
    report = nudges.deliver(deps)
    if report.error:
        log.warning("job.slack_unavailable", extra={"job": "deliver", "left": report.left})


def register_jobs(scheduler: BaseScheduler, deps: Deps) -> None:
    """Add one job per sweep and one delivery job, each on an interval in UTC, and the
    caseload jobs (dated sessions, the weekly digest)."""
    caseload_jobs.register(scheduler, deps)
    minutes_jobs.register(scheduler, deps)
    start = deps.clock.now()
    for name, sweep in nudges.SWEEPS:
        scheduler.add_job(
            _guarded(name, partial(sweep, deps)),
            IntervalTrigger(seconds=int(SWEEP_EVERY.total_seconds()), timezone=UTC),
            id=f"nudges.{name}",
            name=f"nudges.{name}",
            next_run_time=start,
            replace_existing=True,
            **JOB_OPTIONS,
        )
    scheduler.add_job(
        _guarded("forget_old_events", partial(events.forget_old_events, deps)),
        IntervalTrigger(hours=24, timezone=UTC),
        id="events.forget_old",
        name="events.forget_old",
        next_run_time=start + DELIVERY_OFFSET,
        replace_existing=True,
        **JOB_OPTIONS,
    )
    scheduler.add_job(
        _guarded("deliver", partial(_deliver, deps)),
        IntervalTrigger(seconds=int(DELIVER_EVERY.total_seconds()), timezone=UTC),
        id="nudges.deliver",
        name="nudges.deliver",
        next_run_time=start + DELIVERY_OFFSET,
        replace_existing=True,
        **JOB_OPTIONS,
    )


def _reason(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return text[0][:160] if text else type(exc).__name__


def _fail(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return 1


def _database_problem(settings: Settings) -> str | None:
    """None when the schema is current (SQLite is migrated on the spot), else one sentence."""
    from storage.db import is_current, make_engine, migrate

    try:
        if settings.is_sqlite:
            migrate(settings.database_url)
            return None
        engine = make_engine(settings.database_url, null_pool=True)
        try:
            current = is_current(engine)
        finally:
            engine.dispose()
    except SQLAlchemyError as exc:
        return f"DATABASE_URL: cannot reach the database ({_reason(exc)}); the next run catches up"
    if not current:
        return "the database schema is not up to date: run `python -m bot migrate`"
    return None


def run_cli(args: argparse.Namespace, settings: Settings) -> int:
    """``jobs`` (args.action None) or ``jobs run-once [--now T]`` (args.now aware or None)."""
    if not settings.slack_bot_token:
        return _fail("SLACK_BOT_TOKEN is not set; the clock process needs it to send DMs")
    problem = _database_problem(settings)
    if problem:
        return _fail(problem)
    now: datetime | None = args.now
    # One quick retry per call: a run that fails leaves its rows for the next run anyway.
    clock = FixedClock(now) if now is not None else None
    deps = build_deps(settings, clock=clock, slack_retries=1)
    try:
        if args.action == "run-once":
            return run_once(deps)
        return serve(deps)
    finally:
        deps.engine.dispose()


def run_once(deps: Deps) -> int:
    """Every sweep and one delivery as of the deps' clock; 1 when the database or Slack is down."""
    try:
        report = nudges.run_once(deps)
        caseload = caseload_jobs.run_once(deps, deps.clock.now())
        makeups = minutes_jobs.run_once(deps, deps.clock.now())
        events.forget_old_events(deps)
    except SQLAlchemyError as exc:
        return _fail(
            f"DATABASE_URL: the database stopped answering ({_reason(exc)}); "
            "the next run catches up"
        )
    d = report.delivery
    if d.error:
        return _fail(
            f"Slack did not take {plural(d.failed, 'DM')} ({d.error}); "
            f"{plural(d.left, 'nudge')} wait for the next run"
        )
    print(
        f"{deps.clock.now():%Y-%m-%dT%H:%M:%SZ}: {run_summary(report, caseload)}, "
        f"{plural(makeups.sent, 'make-up DM')} sent"
    )
    return 0


def run_summary(report: nudges.RunReport, caseload: caseload_jobs.CaseloadJobsReport) -> str:
    """What one run did, in counts that match what Slack saw."""
    d = report.delivery
    parts = [
        f"queued {sum(report.queued.values())}",
        f"sent {plural(d.messages, 'DM')} with {plural(d.items, 'item')}",
        f"held {plural(d.held, 'DM')} for working hours",
        f"dropped {d.skipped} obsolete",
    ]
    if d.unreachable:
        parts.append(f"{plural(d.unreachable, 'person', 'people')} unreachable")
    return (
        ", ".join(parts)
        + f"; {plural(caseload.sessions_created, 'session')} generated, "
        + f"{plural(caseload.digests_sent, 'weekly digest')} sent"
    )


def serve(deps: Deps) -> int:
    """Run the scheduler until SIGTERM/SIGINT."""
    scheduler = make_scheduler()
    register_jobs(scheduler, deps)

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("jobs.stopping", extra={"signal": signum})
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    log.info("jobs.started", extra={"jobs": len(scheduler.get_jobs())})
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        if scheduler.running:
            scheduler.shutdown(wait=False)
    return 0
