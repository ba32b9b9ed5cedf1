"""End to end through ``serve`` (and the clock process): a provider's cancellation owes a
make-up; the DM's [Schedule make-up] offers only times that fit; choosing one books it; holding it
pays the debt back; ``/minutes`` shows each step; a manager's ``/minutes district=…`` lists the
student while they are behind."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select

from bot.clock import SystemClock
from devtools.local_slack import LocalSlack
from devtools.slack_requests import block_actions_body, slash_command_body, view_submission_body
from storage import models as m
from storage.db import make_session_factory
from storage.roster import import_roster
from tests.end_to_end.conftest import Server
from tests.services.caseload_seed import ASSIGNED, NO_SESSIONS, SERVICES, STUDENTS
from tests.storage.roster_files import write_roster

# End-to-end through real processes: run by default and in CI; `-m "not slow"` skips them.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
AK = ZoneInfo("America/Anchorage")


def next_tuesday(after: date) -> date:
    return after + timedelta(days=(1 - after.weekday()) % 7 or 7)


def at_ak(day: date, hhmm: str) -> datetime:
    h, mm = (int(x) for x in hhmm.split(":"))
    return datetime(day.year, day.month, day.day, h, mm, tzinfo=AK).astimezone(UTC)


def load(db: Engine, tmp_path: Path, now: datetime) -> dict[str, int]:
    """The small roster; P1 (Tue 08:00-11:00 Pacific) held S1 three days ago, has S1 booked
    yesterday (not marked yet) and S3 next Tuesday 09:00 Anchorage time."""
    folder = write_roster(
        tmp_path / "roster",
        students_csv=STUDENTS,
        services_csv=SERVICES,
        assignments_csv=ASSIGNED,
        sessions_csv=NO_SESSIONS,
    )
    factory = make_session_factory(db)
    assert import_roster(folder, factory).ok
    today = now.astimezone(AK).date()
    rows = {
        "held": ("S1", now - timedelta(days=3), "held"),
        "missed": ("S1", now - timedelta(days=1), "scheduled"),
        "busy": ("S3", at_ak(next_tuesday(today), "09:00"), "scheduled"),
    }
    ids = {}
    with factory.begin() as s:
        for key, (student, starts_at, status) in rows.items():
            row = m.TherapySession(
                session_key=f"E2E-{key}",
                provider_id="P1",
                student_id=student,
                service="slp",
                starts_at=starts_at,
                minutes=30,
                status=status,
                note_done_at=None,
            )
            s.add(row)
            s.flush()
            ids[key] = row.id
    return ids


def slash(server: Server, fake: LocalSlack, user: str, text: str = "") -> str:
    """The ``/minutes`` answer as the user sees it (its blocks' text)."""
    fake.clear()
    body = slash_command_body(
        command="/minutes",
        text=text,
        user_id=user,
        channel_id="D" + user,
        response_url=fake.response_url(f"m{time.monotonic_ns()}"),
    )
    status, _, seconds = server.signed(body)
    assert status == 200 and seconds < 3
    answer = fake.wait_for("response_url", timeout=10)[0].params
    return json.dumps(answer.get("blocks") or answer.get("text"), ensure_ascii=False)


def press(server: Server, user: str, action: dict[str, object], *, home: bool = False) -> None:
    container = (
        {"type": "view", "view_id": "VHOME"}
        if home
        else {"type": "message", "message_ts": "1.1", "channel_id": "D" + user}
    )
    body = block_actions_body(
        user_id=user,
        action={"block_id": "b", **action},
        response_url=None,
        container=container,
        view={"id": "VHOME", "type": "home", "blocks": []} if home else None,
    )
    assert server.signed(body)[0] == 200


def run_jobs(server: Server, database_url: str, api_url: str, now: datetime) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "jobs", "run-once", "--now", now.isoformat()],
        cwd=ROOT,
        env={
            "PATH": "/usr/bin:/bin",
            "DATABASE_URL": database_url,
            "SLACK_BOT_TOKEN": "xoxb-e2e-token",
            "SLACK_API_URL": api_url,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    return done.stdout


def next_working_morning(now: datetime) -> datetime:
    """17:00Z (09:00 Pacific) on the next weekday after ``now``."""
    day = now.date()
    while True:
        candidate = datetime(day.year, day.month, day.day, 17, tzinfo=UTC)
        if candidate > now and candidate.weekday() < 5:
            return candidate
        day += timedelta(days=1)


def test_cancel_owe_schedule_hold_and_minutes_through_serve(
    server: Server, fake: LocalSlack, db: Engine, tmp_path: Path, database_url: str
) -> None:
    now = SystemClock().now()  # serve runs on the real clock
    ids = load(db, tmp_path, now)
    before = slash(server, fake, "U0P1")
    assert "0 make-ups owed" in before and "T.E. (S1) · SLP" in before

    # The provider cancels yesterday's session from the Home tab: "Cancelled by me".
    fake.clear()
    press(
        server,
        "U0P1",
        {
            "action_id": "home_mark_cancelled",
            "type": "static_select",
            "selected_option": {"value": f"provider:{ids['missed']}"},
        },
        home=True,
    )
    fake.wait_for("views.publish", timeout=10)
    owed = slash(server, fake, "U0P1")
    assert "1 make-up owed" in owed and "30 min owed" in owed

    # The manager sees the student behind.
    district = slash(server, fake, "U0M1", "district=anc")
    assert "T.E. (S1) · SLP" in district and "Ana Reyes (P1) — 1 make-up, 30 min" in district

    # The clock process sends one DM in working hours, with [Schedule make-up].
    fake.clear()
    run_jobs(server, database_url, fake.api_url, next_working_morning(now))
    dms = [
        c.params
        for c in fake.calls_to("chat.postMessage")
        if str(c.params.get("text", "")).endswith("owed: please schedule")
    ]
    assert len(dms) == 1
    blocks = dms[0]["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    buttons = [b["accessory"] for b in blocks if (b.get("accessory") or {}).get("value")]
    assert [(b["action_id"], b["value"]) for b in buttons] == [
        ("makeup_schedule", str(ids["missed"]))
    ]

    # The button opens a form with only times that fit: Tuesdays 08:30-10:00 Anchorage time
    # (the school opens 08:30; P1 is free until 11:00 Pacific), not at 09:00 next Tuesday.
    fake.clear()
    press(
        server,
        "U0P1",
        {"action_id": "makeup_schedule", "type": "button", "value": buttons[0]["value"]},
    )
    view = fake.wait_for("views.open", timeout=10)[0].params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    options = view["blocks"][1]["element"]["options"]
    starts = [datetime.strptime(o["value"], "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC) for o in options]
    today = now.astimezone(AK).date()
    expected = []
    day = today
    winter_break = (date(2026, 12, 21), date(2027, 1, 1))  # the test roster's calendar.csv
    while day <= today + timedelta(days=14):
        if day.weekday() == 1 and not winter_break[0] <= day <= winter_break[1]:
            expected += [at_ak(day, t) for t in ("08:30", "09:00", "09:30")]
        day += timedelta(days=1)
    expected = [
        t
        for t in expected
        if t >= now + timedelta(hours=1) and t != at_ak(next_tuesday(today), "09:00")
    ]
    assert starts == expected and starts

    # Choosing one books the make-up session, once.
    choice = options[0]
    submit = view_submission_body(
        user_id="U0P1",
        view={**view, "id": "VMAKEUP"},
        state_values={"makeup_time": {"makeup_time_select": {"selected_option": choice}}},
    )
    status, body, _ = server.signed(submit)
    assert status == 200 and json.loads(body)["response_action"] == "update"
    # A second submit (a double click: a new request, so a later signature timestamp).
    again = json.loads(server.signed(submit, timestamp=int(time.time()) + 1)[1])
    assert again["response_action"] == "errors"
    assert "already booked" in again["errors"]["makeup_time"]
    factory = make_session_factory(db)
    with factory() as s:
        makeups = s.scalars(select(m.TherapySession).where(m.TherapySession.makeup.is_(True))).all()
        assert [(r.student_id, r.starts_at, r.status) for r in makeups] == [
            ("S1", starts[0], "scheduled")
        ]
    booked = slash(server, fake, "U0P1")
    assert "0 make-ups owed" in booked and "30 min owed" in booked  # booked, not yet held

    # The make-up is held when its day comes: from that month on, the debt is paid back.
    with factory.begin() as s:
        s.get(m.TherapySession, makeups[0].id).status = "held"  # type: ignore[union-attr]
    month = starts[0].astimezone(AK).strftime("%Y-%m")
    paid = slash(server, fake, "U0P1", f"month={month}")
    assert "min owed" not in paid and "0 make-ups owed" in paid
