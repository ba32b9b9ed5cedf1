"""Jobs: the clock process registers one job per sweep plus delivery, and `jobs run-once`
exits with one clear line when the database or Slack is down."""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import OperationalError

from bot.deps import Deps
from bot.settings import Settings, load_settings
from devtools.local_slack import LocalSlack
from jobs import clock_process

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 30, 17, tzinfo=UTC)
EXPECTED_JOBS = {
    "nudges.annual_review",
    "nudges.triennial",
    "nudges.soap_note",
    "nudges.licence",
    "nudges.deliver",
    "caseload.generate_sessions",
    "caseload.weekly_digest",
    "events.forget_old",
    "minutes.makeups",
}


def test_register_jobs_adds_one_job_per_sweep_and_one_delivery_job(deps: Deps) -> None:
    scheduler = clock_process.make_scheduler()
    clock_process.register_jobs(scheduler, deps)
    jobs = {job.id: job for job in scheduler.get_jobs()}
    assert set(jobs) == EXPECTED_JOBS
    for job in jobs.values():
        assert job.coalesce is True
        assert job.max_instances == 1
        assert job.misfire_grace_time is None  # late runs happen late, never skipped
        assert str(job.trigger.timezone) == "UTC"
        assert isinstance(job.trigger, IntervalTrigger) or job.id.startswith("caseload.")
    assert jobs["nudges.soap_note"].trigger.interval == timedelta(minutes=5)
    assert jobs["nudges.deliver"].trigger.interval == timedelta(minutes=1)
    assert jobs["events.forget_old"].trigger.interval == timedelta(hours=24)
    assert jobs["nudges.annual_review"].next_run_time == NOW  # the first sweep runs at start
    assert isinstance(scheduler._jobstores["default"], MemoryJobStore)
    assert str(scheduler.timezone) == "UTC"


def test_the_jobs_are_thin_calls_into_the_services(demo_deps: Deps, slack: LocalSlack) -> None:
    scheduler = clock_process.make_scheduler()
    clock_process.register_jobs(scheduler, demo_deps)
    for job in sorted(scheduler.get_jobs(), key=lambda j: j.id == "nudges.deliver"):
        job.func(*job.args)
    texts = [c.params["text"] for c in slack.calls_to("chat.postMessage")]
    assert any(t.startswith("Reminders") for t in texts)


def test_a_job_with_the_database_down_logs_one_line(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused\nmore detail"))

    with caplog.at_level(logging.WARNING):
        clock_process._guarded("annual_review", broken)()
    [record] = caplog.records
    assert record.getMessage() == "job.database_unavailable"
    assert record.exc_info is None


def cli_settings(database_url: str, api_url: str, **extra: str) -> Settings:
    env = {"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-t", "SLACK_API_URL": api_url}
    return load_settings({**env, **extra})


def args(now: datetime | None = NOW, action: str | None = "run-once") -> argparse.Namespace:
    return argparse.Namespace(command="jobs", action=action, now=now)


def test_run_once_sends_then_sends_nothing_new(
    demo_deps: Deps, slack: LocalSlack, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = cli_settings(database_url, slack.api_url)
    assert clock_process.run_cli(args(), settings) == 0
    first = capsys.readouterr().out
    assert "2026-11-30T17:00:00Z: queued" in first
    posted = len(slack.calls_to("chat.postMessage"))
    assert posted > 0
    assert clock_process.run_cli(args(), settings) == 0
    assert "queued 0, sent 0 DMs with 0 items" in capsys.readouterr().out
    assert len(slack.calls_to("chat.postMessage")) == posted


def test_run_once_with_slack_down_exits_1_with_one_line(
    demo_deps: Deps, slack: LocalSlack, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    slack.fail_next("chat.postMessage", 503, times=4)  # two DMs, each tried twice
    settings = cli_settings(database_url, slack.api_url)
    assert clock_process.run_cli(args(), settings) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: Slack did not take 2 DMs")
    assert "wait for the next run" in err[0]
    # The next run catches up.
    assert clock_process.run_cli(args(), settings) == 0


def test_run_once_needs_a_bot_token(
    database_url: str, slack: LocalSlack, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = load_settings({"DATABASE_URL": database_url})
    assert clock_process.run_cli(args(), settings) == 1
    assert capsys.readouterr().err.strip() == (
        "error: SLACK_BOT_TOKEN is not set; the clock process needs it to send DMs"
    )


def test_run_once_with_the_database_down_exits_1_with_one_line_and_no_traceback(
    slack: LocalSlack,
) -> None:
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere",
        "SLACK_BOT_TOKEN": "xoxb-t",
        "SLACK_API_URL": slack.api_url,
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "jobs", "run-once", "--now", "2026-11-30T17:00:00Z"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: DATABASE_URL: cannot reach the database")
    assert "Traceback" not in done.stderr and done.stdout == ""


def test_run_once_counts_the_dms_held_for_working_hours(
    deps: Deps, slack: LocalSlack, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Monday 16:30Z is 08:30 in Los Angeles and 07:30 in Anchorage: one DM goes, one waits
    (and the manager, in the organisation's zone, gets the weekly digest)."""
    from tests.services.test_nudges import seed, student

    seed(deps, providers={"P1": "America/Los_Angeles", "P2": "America/Anchorage"})
    with deps.session_factory.begin() as s:
        student(s, "S1", annual_in=3, provider="P1")
        student(s, "S2", annual_in=3, provider="P2")
        student(s, "S3", annual_in=7, provider="P2")
    settings = cli_settings(database_url, slack.api_url)
    night = datetime(2026, 11, 30, 8, tzinfo=UTC)  # midnight in LA, 23:00 Sunday in Anchorage
    assert clock_process.run_cli(args(night), settings) == 0
    out = capsys.readouterr().out
    assert "queued 3, sent 0 DMs with 0 items, held 2 DMs for working hours" in out
    assert slack.calls_to("chat.postMessage") == []

    morning = datetime(2026, 11, 30, 16, 30, tzinfo=UTC)
    assert clock_process.run_cli(args(morning), settings) == 0
    out = capsys.readouterr().out
    assert "sent 1 DM with 1 item, held 1 DM for working hours" in out
    assert [c.params["channel"] for c in slack.calls_to("chat.postMessage")] == ["DUP1", "DUM1"]
