"""End to end through ``serve`` and ``jobs run-once``: availability and time off reach the sessions
(the small test roster: P1 Ana Reyes, Pacific SLP, serves S1 at Birchwood, Anchorage; M1 manages;
Anchorage is closed Dec 21 - Jan 1)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from devtools.local_slack import LocalSlack
from storage import models as m
from storage.db import make_session_factory
from storage.roster import import_roster
from tests.end_to_end.conftest import Server
from tests.end_to_end.test_jobs import run_jobs
from tests.end_to_end.test_serve import button_value, dm, press
from tests.storage.roster_files import VALID, write_roster

# End-to-end through real processes: run by default and in CI; `-m "not slow"` skips them.
pytestmark = pytest.mark.slow

AK = "America/Anchorage"
HOURS = VALID["school_hours.csv"] + "SCH1,thu,08:30,15:00\n"
AVAILABILITY = VALID["availability.csv"] + "P1,thu,08:00,11:00\n"
TS = m.TherapySession


def load(db: Engine, tmp_path: Path, day: int) -> None:
    """The roster, with S1's SLP on a weekly slot at 09:00 Alaska (10:00 Pacific) on ``day``."""
    folder = write_roster(
        tmp_path / "roster", school_hours_csv=HOURS, availability_csv=AVAILABILITY
    )
    assert import_roster(folder, make_session_factory(db)).ok
    with make_session_factory(db).begin() as s:
        a = s.scalars(select(m.Assignment).where(m.Assignment.student_id == "S1")).one()
        s.add(
            m.AssignmentSlot(
                assignment_id=a.id, day=day, start_minute=540, end_minute=570, timezone=AK
            )
        )


def save(server: Server, fake: LocalSlack, preview: dict, ts: str) -> dict:
    """Presses Save on a DM preview; returns the message as Save updated it."""
    fake.clear()
    value = button_value(preview, "availability_save")
    server.signed(press(fake, "U0P1", "availability_save", value, message_ts=ts, ephemeral=False))
    return fake.wait_for("chat.update")[0].params


def test_no_longer_thursdays_names_the_student_and_dms_the_manager(
    server: Server, fake: LocalSlack, db: Engine, tmp_path: Path
) -> None:
    load(db, tmp_path, day=3)
    preview, ts = dm(server, fake, "no longer Thursdays", "EvCHG1")
    shown = json.dumps(preview["blocks"])
    assert "1 weekly session falls outside your new hours: Thu 09:00 AKT, T.E. (S1)" in shown

    saved = save(server, fake, preview, ts)
    assert "Availability saved" in json.dumps(saved["blocks"])
    [to_manager] = [c.params for c in fake.wait_for("chat.postMessage")]
    assert to_manager["channel"] == "DU0M1"
    text = json.dumps(to_manager["blocks"])
    assert "Ana Reyes changed their availability" in text and "T.E. (S1)" in text
    assert "Find new times" in text and "Keep for now" in text


def test_out_over_a_session_cancels_it_and_no_note_nudge_names_it(
    server: Server, fake: LocalSlack, db: Engine, tmp_path: Path, database_url: str
) -> None:
    load(db, tmp_path, day=1)  # Tuesdays 09:00 Alaska
    run_jobs(database_url, fake.api_url, "2026-11-30T17:00:00Z")  # generates Dec 1 and Dec 8
    preview, ts = dm(server, fake, "out Dec 8", "EvCHG2")
    assert "1 session on these days will be cancelled" in json.dumps(preview["blocks"])
    saved = save(server, fake, preview, ts)
    assert "1 session on these days was cancelled" in json.dumps(saved["blocks"])
    with make_session_factory(db)() as s:
        rows = s.execute(
            select(TS.starts_at, TS.status, TS.cancel_reason)
            .where(TS.session_key.like("slot:%"))
            .order_by(TS.starts_at)
        ).all()
    assert [(a.date().isoformat(), st, r) for a, st, r in rows] == [
        ("2026-12-01", "scheduled", None),
        ("2026-12-08", "cancelled", "provider_out"),
    ]
    # Days later, with both sessions' notes long overdue, only the held one is asked for.
    fake.clear()
    run_jobs(database_url, fake.api_url, "2026-12-14T19:00:00Z")
    reminders = [
        json.dumps(c.params.get("blocks"))
        for c in fake.calls_to("chat.postMessage")
        if c.params["channel"] == "DU0P1" and str(c.params["text"]).startswith("Reminders")
    ]
    assert any("Dec 1" in r for r in reminders)
    assert not any("Dec 8" in r for r in reminders)
    # Time off owes the student the Dec 8 minutes: that is the make-up DM, not a note reminder.
    makeups = [
        json.dumps(c.params.get("blocks"))
        for c in fake.calls_to("chat.postMessage")
        if c.params["channel"] == "DU0P1" and str(c.params["text"]).endswith("please schedule")
    ]
    assert len(makeups) == 1 and "Dec 8" in makeups[0]
