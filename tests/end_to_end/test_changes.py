"""End to end through ``serve`` and ``jobs run-once``: availability and time off reach the sessions
(the small test roster: P1 Ana Reyes, Pacific SLP, serves S1 at Birchwood, Anchorage; M1 manages;
Anchorage is closed Dec 21 - Jan 1)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from devtools.local_slack import LocalSlack
from storage import models as m
from storage.db import make_session_factory
from storage.roster import import_roster
from tests.end_to_end.conftest import Server
from tests.end_to_end.test_jobs import ROOT, run_jobs
from tests.end_to_end.test_serve import button_value, dm, press
from tests.storage.roster_files import VALID, write_roster

# End-to-end through real processes: run by default and in CI; `-m "not slow"` skips them.
pytestmark = pytest.mark.slow

AK = "America/Anchorage"
HOURS = VALID["school_hours.csv"] + "SCH1,thu,08:30,15:00\n"
AVAILABILITY = VALID["availability.csv"] + "P1,thu,08:00,11:00\n"
TS = m.TherapySession


def load(db: Engine, tmp_path: Path, day: int, availability: str = AVAILABILITY) -> None:
    """The roster, with S1's SLP on a weekly slot at 09:00 Alaska (10:00 Pacific) on ``day``."""
    folder = write_roster(
        tmp_path / "roster", school_hours_csv=HOURS, availability_csv=availability
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
    load(db, tmp_path, day=3, availability=AVAILABILITY + "P1,mon,09:00,12:00\n")
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

    # The manager presses [Find new times]: a proposal for S1 alone (two sessions a week), at
    # times Ana still has (Monday and Tuesday, in Anchorage time), arrives in their DM.
    fake.clear()
    change = button_value(to_manager, "change_find_new_times")
    server.signed(press(fake, "U0M1", "change_find_new_times", change, ephemeral=False))
    proposals: list[dict] = []
    for _ in range(120):  # the solve runs in the pool after the ack
        proposals = [
            c.params
            for c in fake.calls_to("chat.postMessage")
            if c.params["channel"] == "DU0M1" and "Proposal" in json.dumps(c.params.get("blocks"))
        ]
        if proposals:
            break
        time.sleep(0.25)
    [proposal] = proposals
    shown = json.dumps(proposal["blocks"])
    assert "T.E. (S1)" in shown and "Mon" in shown and "Tue" in shown and "Thu" not in shown
    assert "N.L. (S2)" not in shown  # only the student whose time was lost


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


# --- licences, calendars and roster updates, through `jobs run-once` and `import` ------------


def import_cli(database_url: str, folder: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "import", str(folder), *flags],
        cwd=ROOT,
        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "DATABASE_URL": database_url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    return done


def slot_sessions(db: Engine) -> list[tuple[str, str, str, str | None]]:
    """(date, provider, status, cancel reason) of the sessions generated from weekly slots."""
    with make_session_factory(db)() as s:
        rows = s.execute(
            select(TS.starts_at, TS.provider_id, TS.status, TS.cancel_reason)
            .where(TS.session_key.like("slot:%"))
            .order_by(TS.starts_at)
        ).all()
    return [(a.date().isoformat(), p, st, r) for a, p, st, r in rows]


def test_no_sessions_after_a_licence_ends_mid_month(
    fake: LocalSlack, db: Engine, tmp_path: Path, database_url: str
) -> None:
    """P1's Alaska licence ends Dec 16: the Tuesday slot gets Dec 1, 8 and 15, never Dec 22."""
    licences = "provider_id,state,expires_on,license_number\nP1,CA,2027-06-30,CA-1\n"
    licences += "P1,AK,2026-12-16,AK-1\nP2,AK,2027-06-30,AK-2\n"
    folder = write_roster(
        tmp_path / "roster",
        school_hours_csv=HOURS,
        availability_csv=AVAILABILITY,
        licenses_csv=licences,
        calendar_csv=None,  # no winter break here: the licence alone must stop the sessions
    )
    assert import_roster(folder, make_session_factory(db)).ok
    with make_session_factory(db).begin() as s:
        a = s.scalars(select(m.Assignment).where(m.Assignment.student_id == "S1")).one()
        s.add(m.AssignmentSlot(assignment_id=a.id, day=1, start_minute=540, end_minute=570,
                               timezone=AK))  # fmt: skip
    for now in ("2026-11-30T17:00:00Z", "2026-12-14T17:00:00Z", "2026-12-28T17:00:00Z"):
        run_jobs(database_url, fake.api_url, now)
    dates = [d for d, _, _, _ in slot_sessions(db)]
    assert dates[:3] == ["2026-12-01", "2026-12-08", "2026-12-15"]
    assert all(d <= "2026-12-16" for d in dates)


def test_no_sessions_on_a_closed_day(
    fake: LocalSlack, db: Engine, tmp_path: Path, database_url: str
) -> None:
    """Anchorage is closed Dec 21 - Jan 1: the Tuesday slot skips Dec 22 and Dec 29."""
    load(db, tmp_path, day=1)
    for now in ("2026-12-14T17:00:00Z", "2026-12-28T17:00:00Z"):
        run_jobs(database_url, fake.api_url, now)
    dates = [d for d, _, _, _ in slot_sessions(db)]
    assert "2026-12-15" in dates and "2027-01-05" in dates
    assert "2026-12-22" not in dates and "2026-12-29" not in dates


def test_reimport_without_a_student_applies_the_removal_and_their_nudges_stop(
    fake: LocalSlack, db: Engine, tmp_path: Path, database_url: str
) -> None:
    """S1's annual review is due Dec 10: the 14-day reminder names them; after a re-import
    without S1 (--apply-removals), the 7-day and 1-day ones never come, and their sessions
    still ahead are cancelled."""
    students = VALID["students.csv"].replace(
        "S1,SCH1,Tala,Evans,3,2027-01-15", "S1,SCH1,Tala,Evans,3,2026-12-10"
    )
    folder = write_roster(
        tmp_path / "roster", school_hours_csv=HOURS, availability_csv=AVAILABILITY,
        students_csv=students,
    )  # fmt: skip
    assert import_roster(folder, make_session_factory(db)).ok
    with make_session_factory(db).begin() as s:
        a = s.scalars(select(m.Assignment).where(m.Assignment.student_id == "S1")).one()
        s.add(m.AssignmentSlot(assignment_id=a.id, day=3, start_minute=540, end_minute=570,
                               timezone=AK))  # fmt: skip
    run_jobs(database_url, fake.api_url, "2026-11-26T18:00:00Z")  # Thu: 14 days before
    first = [json.dumps(c.params.get("blocks")) for c in fake.calls_to("chat.postMessage")]
    assert any("(S1)" in text for text in first)  # the control: S1 is nudged while enrolled

    # The next export has no S1 (and so no S1 rows anywhere).
    gone = write_roster(
        tmp_path / "roster2",
        school_hours_csv=HOURS,
        availability_csv=AVAILABILITY,
        students_csv="\n".join(
            line for line in students.splitlines() if not line.startswith("S1,")
        ) + "\n",
        services_csv="\n".join(
            line for line in VALID["services.csv"].splitlines() if not line.startswith("S1,")
        ) + "\n",
        assignments_csv="student_id,service,provider_id\n",
        sessions_csv=None,
    )  # fmt: skip
    dry = import_cli(database_url, gone, "--dry-run")
    assert "S1" in dry.stdout
    import_cli(database_url, gone, "--apply-removals")
    fake.clear()
    for now in ("2026-12-03T18:00:00Z", "2026-12-07T18:00:00Z", "2026-12-10T18:00:00Z"):
        run_jobs(database_url, fake.api_url, now)
    later = [json.dumps(c.params) for c in fake.calls_to("chat.postMessage")]
    # No more IEP deadline nudges for S1 (notes for sessions held before the exit are still
    # asked for: they document minutes that were delivered).
    assert not [text for text in later if "Annual IEP reviews" in text]
    with make_session_factory(db)() as s:
        stages = s.scalars(
            select(m.Nudge.stage).where(m.Nudge.rule == "annual_review", m.Nudge.subject_id == "S1")
        ).all()
    assert stages == ["14"]
    future = [x for x in slot_sessions(db) if x[0] >= "2026-12-03"]
    assert future and all(st == "cancelled" and r == "student_exited" for _, _, st, r in future)


def test_reimport_with_a_reassignment_moves_the_future_sessions(
    fake: LocalSlack, db: Engine, tmp_path: Path, database_url: str
) -> None:
    """S1's SLP moves from P1 to P3 (another SLP licensed in Alaska): the sessions still ahead
    go to P3; the ones already held (X1, X2 on Nov 24 and 26) stay with P1."""
    providers = (
        VALID["providers.csv"] + "P3,Cy Diaz,cy@example.org,U0P3,slp,AK,America/Anchorage,20\n"
    )
    licences = VALID["licenses.csv"] + "P3,AK,2027-06-30,AK-3\n"
    availability = AVAILABILITY + "P3,tue,08:00,12:00\n"
    folder = write_roster(
        tmp_path / "roster", school_hours_csv=HOURS, availability_csv=availability,
        providers_csv=providers, licenses_csv=licences,
    )  # fmt: skip
    assert import_roster(folder, make_session_factory(db)).ok
    with make_session_factory(db).begin() as s:
        a = s.scalars(select(m.Assignment).where(m.Assignment.student_id == "S1")).one()
        s.add(m.AssignmentSlot(assignment_id=a.id, day=1, start_minute=540, end_minute=570,
                               timezone=AK))  # fmt: skip
    # `import` runs on the real clock: generate the coming weeks from the real now.
    now = datetime.now(UTC).replace(microsecond=0)
    run_jobs(database_url, fake.api_url, now.isoformat().replace("+00:00", "Z"))
    ahead = slot_sessions(db)
    assert ahead and {p for _, p, _, _ in ahead} == {"P1"}
    moved = write_roster(
        tmp_path / "roster2", school_hours_csv=HOURS, availability_csv=availability,
        providers_csv=providers, licenses_csv=licences,
        assignments_csv="student_id,service,provider_id\nS1,slp,P3\n",
    )  # fmt: skip
    import_cli(database_url, moved)
    assert [(d, p) for d, p, _, _ in slot_sessions(db)] == [(d, "P3") for d, _, _, _ in ahead]
    with make_session_factory(db)() as s:  # the sessions already held stay with P1
        past = s.execute(select(TS.session_key, TS.provider_id).where(TS.starts_at < now)).all()
    assert sorted(past) == [("X1", "P1"), ("X2", "P1")]
