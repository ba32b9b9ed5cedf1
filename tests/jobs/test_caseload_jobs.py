"""Jobs: the caseload jobs are registered with the house options, and run_once runs both."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.deps import Deps
from devtools.local_slack import LocalSlack
from jobs import caseload_jobs
from tests.services.caseload_seed import add_slot, seed, utc


def test_register_adds_two_jobs_that_coalesce_and_never_skip(deps: Deps) -> None:
    scheduler = BackgroundScheduler(timezone=UTC)
    caseload_jobs.register(scheduler, deps)
    caseload_jobs.register(scheduler, deps)  # registering again replaces, never duplicates
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert set(jobs) == {caseload_jobs.SESSIONS_JOB, caseload_jobs.DIGEST_JOB}
    for job in jobs.values():
        assert (job.coalesce, job.max_instances, job.misfire_grace_time) == (True, 1, None)
        assert str(job.trigger.timezone) == "UTC"
    sessions, digest = jobs[caseload_jobs.SESSIONS_JOB], jobs[caseload_jobs.DIGEST_JOB]
    assert isinstance(sessions.trigger, CronTrigger)
    assert isinstance(digest.trigger, IntervalTrigger)
    assert digest.trigger.interval == timedelta(minutes=15)


def test_run_once_runs_both_and_repeating_it_changes_nothing(
    deps: Deps, tmp_path: Path, slack: LocalSlack
) -> None:
    seed(deps, tmp_path)
    add_slot(deps, "S1", "slp", 1, "09:00", "09:30")
    monday_9_pt = utc(2026, 11, 30, 17)
    first = caseload_jobs.run_once(deps, monday_9_pt)
    assert (first.sessions_created, first.digests_sent) == (2, 1)
    again = caseload_jobs.run_once(deps, monday_9_pt)
    assert (again.sessions_created, again.digests_sent) == (0, 0)
    assert len(slack.calls_to("chat.postMessage")) == 1


def test_the_jobs_use_the_injected_clock(deps: Deps, tmp_path: Path) -> None:
    seed(deps, tmp_path)
    add_slot(deps, "S1", "slp", 1, "09:00", "09:30")
    assert caseload_jobs.generate_sessions_job(deps) == 2
    assert caseload_jobs.weekly_digest_job(deps) == 1


def test_a_down_database_is_a_warning_and_the_next_run_catches_up(
    deps: Deps, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from storage.db import make_engine, make_session_factory

    engine = make_engine(f"sqlite:///{tmp_path}/missing/dir/x.db", null_pool=True)
    down = replace(deps, engine=engine, session_factory=make_session_factory(engine))
    assert caseload_jobs.generate_sessions_job(down) == 0
    assert caseload_jobs.weekly_digest_job(down) == 0
    assert [r.getMessage() for r in caplog.records].count("job.database_unavailable") == 2
