"""Jobs: the make-up DMs — record the weekly-slot dates that passed with nothing on file (as
sessions cancelled ``not_recorded``, first withdrawing those whose session turned up since),
queue what is owed, then deliver in each recipient's working hours.

Thin calls into ``bot.services.unrecorded`` and ``bot.services.makeups``; the DM goes out
through the Notifier port.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError

from bot.deps import Deps
from bot.services.makeups import deliver_makeups, sweep_makeups
from bot.services.unrecorded import record_unrecorded

log = logging.getLogger(__name__)

MAKEUPS_JOB = "minutes.makeups"
JOB_OPTIONS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}


@dataclass(frozen=True)
class MakeupRun:
    queued: int
    sent: int
    recorded: int = 0  # slot dates with nothing on file, now sessions cancelled not_recorded


def run_once(deps: Deps, now: datetime) -> MakeupRun:
    """Record the slot dates nobody recorded, queue the make-up DMs due at ``now`` and deliver
    what is due; safe to repeat."""
    recorded = record_unrecorded(deps, now)
    return MakeupRun(sweep_makeups(deps, now), deliver_makeups(deps), recorded)


def makeups_job(deps: Deps) -> None:
    try:
        run_once(deps, deps.clock.now())
    except SQLAlchemyError as exc:  # a down database is one line; the next run catches up
        log.warning(
            "job.database_unavailable", extra={"job": MAKEUPS_JOB, "error": type(exc).__name__}
        )


def register(scheduler: BaseScheduler, deps: Deps) -> None:
    scheduler.add_job(
        makeups_job,
        IntervalTrigger(minutes=15, timezone=UTC),
        args=[deps],
        id=MAKEUPS_JOB,
        next_run_time=deps.clock.now(),
        name="record unrecorded slot dates, queue and send make-up DMs",
        replace_existing=True,
        **JOB_OPTIONS,
    )
