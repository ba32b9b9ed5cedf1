"""APScheduler edge: the caseload jobs — daily session generation and the weekly digest check.

Each job is a thin call into a service with the injected clock's ``now``. The state lives in
our own tables (sessions keyed by slot and date, the digest ledger in ``nudges``), so a
coalesced, late or repeated run changes nothing twice; the scheduler only says when to look.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from bot.deps import Deps
from bot.services.digest import send_weekly_digests
from bot.services.sessions import generate_sessions

log = logging.getLogger(__name__)

SESSIONS_JOB = "caseload.generate_sessions"
DIGEST_JOB = "caseload.weekly_digest"
# Every job: one instance at a time, missed runs folded into one, and never skipped for being
# late (APScheduler's default grace of 1 s would skip a run after any pause).
JOB_OPTIONS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


@dataclass(frozen=True)
class CaseloadJobsReport:
    sessions_created: int
    digests_sent: int


def generate_sessions_job(deps: Deps) -> int:
    try:
        return generate_sessions(deps, deps.clock.now())
    except SQLAlchemyError as exc:  # a down database is one line; tomorrow's run catches up
        log.warning(
            "job.database_unavailable", extra={"job": SESSIONS_JOB, "error": type(exc).__name__}
        )
        return 0


def weekly_digest_job(deps: Deps) -> int:
    try:
        return send_weekly_digests(deps, deps.clock.now())
    except SQLAlchemyError as exc:  # unsent digests stay in the ledger for the next run
        log.warning(
            "job.database_unavailable", extra={"job": DIGEST_JOB, "error": type(exc).__name__}
        )
        return 0


def register(scheduler: BaseScheduler, deps: Deps) -> None:
    """Add the caseload jobs to the clock process's scheduler (memory job store).

    Both also run once at start, so a fresh deploy does not wait for the first trigger.
    """
    start = deps.clock.now()
    scheduler.add_job(
        generate_sessions_job,
        CronTrigger(hour=9, minute=0, timezone=UTC),  # 01:00 Pacific, before any school day
        args=[deps],
        id=SESSIONS_JOB,
        next_run_time=start,
        name="generate dated sessions for the next 14 days",
        replace_existing=True,
        **JOB_OPTIONS,
    )
    scheduler.add_job(
        weekly_digest_job,
        IntervalTrigger(minutes=15, timezone=UTC),
        args=[deps],
        id=DIGEST_JOB,
        next_run_time=start,
        name="send the managers' weekly digest when it is Monday 08:00 their time",
        replace_existing=True,
        **JOB_OPTIONS,
    )


def run_once(deps: Deps, now: datetime) -> CaseloadJobsReport:
    """Run both jobs once as if it were ``now`` (``jobs run-once --now``); safe to repeat."""
    report = CaseloadJobsReport(generate_sessions(deps, now), send_weekly_digests(deps, now))
    log.info(
        "caseload_jobs.ran",
        extra={"sessions": report.sessions_created, "digests": report.digests_sent},
    )
    return report
