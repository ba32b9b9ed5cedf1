"""End to end: the real ``python -m bot jobs run-once`` against the demo roster and the fake
Slack Web API: the expected DMs, nothing new on a re-run, working hours per recipient's zone,
and no duplicates from two clock processes on one PostgreSQL database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.deps import Deps
from devtools.local_slack import LocalSlack
from devtools.slack_requests import block_actions_body
from storage import models as m
from tests.end_to_end.conftest import Server

# End-to-end through real processes: run by default and in CI; `-m "not slow"` skips them.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
MANAGERS = {"DU0DEMOM01", "DU0DEMOM02", "DU0DEMOM03"}


def command(now: str) -> list[str]:
    return [sys.executable, "-m", "bot", "jobs", "run-once", "--now", now]


def environment(database_url: str, api_url: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": database_url,
        "SLACK_BOT_TOKEN": "xoxb-e2e-token",
        "SLACK_API_URL": api_url,
    }


def run_jobs(database_url: str, api_url: str, now: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        command(now),
        cwd=ROOT,
        env=environment(database_url, api_url),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    return done


NUDGE_TEXTS = ("Reminders",)  # the weekly caseload digest is another DM


def dm_counts(slack: LocalSlack) -> Counter[str]:
    """Deadline nudge DMs taken by Slack, per DM channel."""
    return Counter(
        str(c.params["channel"])
        for c in slack.calls_to("chat.postMessage")
        if c.ok and str(c.params.get("text", "")).startswith(NUDGE_TEXTS)
    )


def provider_channels(deps: Deps, *zones: str) -> set[str]:
    with deps.session_factory() as s:
        rows = s.execute(select(m.Provider.slack_user_id, m.Provider.timezone)).all()
    return {f"D{slack_id}" for slack_id, tz in rows if tz in zones}


def test_run_once_on_the_demo_roster_sends_the_expected_dms_once(
    demo_deps: Deps, slack: LocalSlack, database_url: str
) -> None:
    done = run_jobs(database_url, slack.api_url, "2026-11-30T17:00:00Z")
    assert done.stdout.startswith("2026-11-30T17:00:00Z: queued ")
    sent = dm_counts(slack)
    assert set(sent.values()) == {1}  # one DM per person
    assert not set(sent) & MANAGERS  # managers hear once a week, in their digest
    digests = Counter(
        str(c.params["channel"])
        for c in slack.calls_to("chat.postMessage")
        if c.ok and str(c.params["text"]).startswith("*Your weekly caseload digest*")
    )
    assert digests == dict.fromkeys(MANAGERS, 1)
    # P03: S1004's annual review (12 days) and triennial; P04: AZ licence lapses in 5 days;
    # P05: annual reviews and the AK licence within the month.
    assert {"DU0DEMOP03", "DU0DEMOP04", "DU0DEMOP05"} <= set(sent)
    posts = {
        str(c.params["channel"]): c.params
        for c in slack.calls_to("chat.postMessage")
        if str(c.params["text"]).startswith(NUDGE_TEXTS)
    }
    assert "Your *AZ* licence" in str(posts["DU0DEMOP04"]["blocks"])
    assert "S1004" in str(posts["DU0DEMOP03"]["blocks"])
    digest = next(
        c.params["text"]
        for c in slack.calls_to("chat.postMessage")
        if c.params["channel"] == "DU0DEMOM01"
    )
    assert "*Overdue IEP reviews and triennials*" in digest

    makeups = [
        c
        for c in slack.calls_to("chat.postMessage")
        if str(c.params["text"]).endswith("owed: please schedule")
    ]
    assert makeups  # the demo has sessions cancelled by providers: one make-up DM each
    assert len({c.params["channel"] for c in makeups}) == len(makeups)

    again = run_jobs(database_url, slack.api_url, "2026-11-30T17:00:00Z")
    assert "queued 0, sent 0 DMs with 0 items" in again.stdout
    assert "0 make-up DMs sent" in again.stdout
    assert dm_counts(slack) == sent
    assert len(slack.calls_to("chat.postMessage")) == (
        sum(sent.values()) + len(MANAGERS) + len(makeups)
    )


def test_at_08z_pacific_and_alaska_wait_for_their_own_window(
    demo_deps: Deps, slack: LocalSlack, database_url: str
) -> None:
    pacific = provider_channels(demo_deps, "America/Los_Angeles")
    alaska = provider_channels(demo_deps, "America/Anchorage")

    run_jobs(database_url, slack.api_url, "2026-11-30T08:00:00Z")  # 00:00 PT, Sun 23:00 AKT
    assert dm_counts(slack) == Counter()
    with demo_deps.session_factory() as s:
        waiting = s.scalar(
            select(func.count()).where(m.Nudge.sent_at.is_(None), m.Nudge.skipped_at.is_(None))
        )
    assert waiting

    run_jobs(database_url, slack.api_url, "2026-11-30T16:00:00Z")  # 08:00 PT, 07:00 AKT
    at_16 = dm_counts(slack)
    assert pacific & set(at_16) and not alaska & set(at_16)

    run_jobs(database_url, slack.api_url, "2026-11-30T17:00:00Z")  # 08:00 AKT
    at_17 = dm_counts(slack)
    assert "DU0DEMOP03" in at_17 and "DU0DEMOP03" not in at_16
    assert set(at_17.values()) == {1}  # nobody heard twice


def test_a_process_killed_mid_post_never_repeats_the_dm_slack_took(
    demo_deps: Deps, slack: LocalSlack, database_url: str
) -> None:
    """Slack took the DM, the process died before marking it sent. Its rows stay leased
    (nobody sends them meanwhile); after the lease, the DM's history shows the post carrying
    their batch, so they are marked sent and nothing is posted twice."""
    slack.hang_next("chat.postMessage", 30)
    env = environment(database_url, slack.api_url)
    proc = subprocess.Popen(
        command("2026-11-30T17:00:00Z"),
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        [hung] = slack.wait_for("chat.postMessage", 1, timeout=60)
    finally:
        proc.kill()  # SIGKILL while Slack is answering the first DM
        proc.wait(timeout=10)
    victim = str(hung.params["channel"])

    run_jobs(database_url, slack.api_url, "2026-11-30T17:00:00Z")
    first = dm_counts(slack)
    assert first[victim] == 1  # the lease still holds: not sent again yet
    assert set(first.values()) == {1}

    run_jobs(database_url, slack.api_url, "2026-11-30T17:06:00Z")  # the lease has lapsed
    after = dm_counts(slack)
    assert after[victim] == 1 and set(after.values()) == {1}
    assert len(after) > 1  # the others the dead process had leased went out
    assert [c.params["channel"] for c in slack.calls_to("conversations.history")] == [victim]


def test_a_nudge_button_pressed_through_serve_acts_once(
    demo_deps: Deps, server: Server, fake: LocalSlack, database_url: str
) -> None:
    run_jobs(database_url, fake.api_url, "2026-11-30T17:00:00Z")
    dm = next(
        c.params
        for c in fake.calls_to("chat.postMessage")
        if c.params["channel"] == "DU0DEMOP03" and c.params["text"].startswith("Reminders")
    )
    [button] = [
        el
        for block in dm["blocks"]
        if block.get("type") == "actions"
        for el in block["elements"]
        if el["action_id"] == "nudge_snooze"
    ]

    def press() -> str:
        fake.clear()
        body = block_actions_body(
            user_id="U0DEMOP03",
            action={**button, "block_id": "nudge_actions"},
            response_url=fake.response_url(f"snooze{time.monotonic_ns()}"),
            container={"type": "message", "message_ts": "1.1", "channel_id": "DU0DEMOP03"},
            message={"type": "message", "text": dm["text"], "blocks": dm["blocks"], "ts": "1.1"},
        )
        status, _, seconds = server.signed(body)
        assert status == 200 and seconds < 3
        [answer] = fake.wait_for("response_url")
        assert answer.params["replace_original"] is True
        return str(answer.params["blocks"])

    assert "Snoozed. I'll bring" in press()
    assert "Already snoozed" in press()  # a double click acts once
    with demo_deps.session_factory() as s:
        copies = s.scalars(select(m.Nudge).where(m.Nudge.key.contains(":snooze:"))).all()
    assert copies and {c.recipient_id for c in copies} == {"P03"}


@pytest.mark.postgres
def test_two_clock_processes_on_one_postgresql_send_no_duplicates(
    demo_deps: Deps, slack: LocalSlack, database_url: str
) -> None:
    # Many recipients, so that the two processes really contend for them.
    with demo_deps.session_factory.begin() as s:
        school_id = s.scalar(select(m.School.id).limit(1))
        for i in range(150):
            pid, sid = f"PX{i:03d}", f"SX{i:03d}"
            s.add(
                m.Provider(
                    id=pid,
                    name=f"Extra {i}",
                    email=f"x{i}@example.org",
                    slack_user_id=f"UX{i:03d}",
                    discipline="slp",
                    home_state="AK",
                    timezone="America/Los_Angeles",
                    weekly_hours=Decimal(20),
                )
            )
            s.add(
                m.Student(
                    id=sid,
                    school_id=school_id,
                    first_name="Ann",
                    last_name="Lee",
                    grade="2",
                    annual_review_due=date(2026, 12, 3),
                    triennial_due=None,
                )
            )
            s.flush()
            s.add(m.Assignment(student_id=sid, service="slp", provider_id=pid))
    env = environment(database_url, slack.api_url)
    procs = [
        subprocess.Popen(
            command("2026-11-30T17:00:00Z"),
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=180) for p in procs]
    for proc, (_out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
        assert "Traceback" not in err
    sent = dm_counts(slack)
    assert set(sent.values()) == {1}, [c for c, n in sent.items() if n > 1]
    each = [int(re.search(r"sent (\d+) DM", out).group(1)) for out, _ in outputs]  # type: ignore[union-attr]
    assert sum(each) == len(sent)
    every_dm = Counter(
        (str(c.params["channel"]), str(c.params["text"])[:20])
        for c in slack.calls_to("chat.postMessage")
    )
    assert set(every_dm.values()) == {1}  # the weekly digests too
    assert {f"DUX{i:03d}" for i in range(150)} <= set(sent)
    assert {channel for channel, _ in every_dm} >= MANAGERS  # each got one weekly digest
    with demo_deps.session_factory() as s:
        unsent = s.scalar(
            select(func.count()).where(
                m.Nudge.sent_at.is_(None),
                m.Nudge.skipped_at.is_(None),
                m.Nudge.send_after <= datetime(2026, 11, 30, 17, tzinfo=UTC),
            )
        )
    assert unsent == 0
