"""End to end: with student names disabled (the default), nothing that leaves the bot — no Slack
message, form, Home tab or file, and no log line of `serve` or of the clock process — carries a
student's first or last name or any SOAP note text."""

from __future__ import annotations

import csv
import json
import re
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from bot.clock import SystemClock
from devtools.local_slack import LocalSlack
from devtools.proposals import wait_for_proposals, wait_for_update
from devtools.slack_requests import (
    app_home_opened_event,
    block_actions_body,
    event_body,
    im_message_event,
    slash_command_body,
    view_submission_body,
)
from storage import models as m
from storage.db import make_session_factory
from storage.roster import import_roster
from tests.end_to_end.conftest import Server
from tests.end_to_end.test_jobs import run_jobs
from tests.support.app_driver import soap_values

# End-to-end through real processes: run by default and in CI; `-m "not slow"` skips them.
pytestmark = pytest.mark.slow

DEMO = Path(__file__).resolve().parents[2] / "demo" / "roster"
NOTE = "Privacy-marker-7Q: produced /r/ in 8 of 10 trials, Sqrl-Zebu"
PROVIDER, MANAGER = "U0DEMOP01", "U0DEMOM01"


def student_names() -> set[str]:
    """Every student first and last name that is not also part of a staff, school or district
    name (those may legitimately appear)."""
    with open(DEMO / "students.csv", encoding="utf-8") as fh:
        names = {n for row in csv.DictReader(fh) for n in (row["first_name"], row["last_name"])}
    public = ""
    for file, column in (
        ("providers.csv", "name"),
        ("managers.csv", "name"),
        ("schools.csv", "name"),
        ("districts.csv", "name"),
    ):
        with open(DEMO / file, encoding="utf-8") as fh:
            public += " " + " ".join(row[column] for row in csv.DictReader(fh))
    return {n for n in names if not re.search(rf"\b{re.escape(n)}\b", public)}


def slash(fake: LocalSlack, user: str, command: str, text: str = "") -> str:
    return slash_command_body(
        command=command,
        text=text,
        user_id=user,
        channel_id="D" + user,
        response_url=fake.response_url(f"p{time.monotonic_ns()}"),
    )


def press(fake: LocalSlack, user: str, action_id: str, value: str) -> str:
    return block_actions_body(
        user_id=user,
        action={
            "action_id": action_id,
            "block_id": "b",
            "type": "button",
            "value": value,
            "text": {"type": "plain_text", "text": "x"},
        },
        response_url=fake.response_url(f"a{time.monotonic_ns()}"),
        container={
            "type": "message",
            "message_ts": "1.1",
            "channel_id": "D" + user,
            "is_ephemeral": True,
        },
    )


def first_value(params: dict, action_id: str) -> str:
    for block in params.get("blocks") or []:
        for el in block.get("elements", []) + [block.get("accessory") or {}]:
            if el.get("action_id") == action_id:
                return str(el["value"])
    raise AssertionError(f"no {action_id} in {params}")


def test_no_student_name_or_note_text_leaves_the_bot(
    server: Server, fake: LocalSlack, db: Engine, database_url: str
) -> None:
    factory = make_session_factory(db)
    assert import_roster(DEMO, factory).ok
    with factory.begin() as s:  # a held session of the provider's, three days ago, no note
        assigned = s.scalars(select(m.Assignment).where(m.Assignment.provider_id == "P01")).first()
        assert assigned is not None
        session = m.TherapySession(
            session_key="PRIV1",
            provider_id="P01",
            student_id=assigned.student_id,
            service=assigned.service,
            starts_at=SystemClock().now() - timedelta(days=3),
            minutes=30,
            status="held",
            note_done_at=None,
        )
        s.add(session)
        s.flush()
        session_id, student_id = session.id, assigned.student_id

    # A provider: availability by DM and by command, saved.
    server.signed(
        event_body(event=im_message_event(user_id=PROVIDER, text="add Fri 1-4"), event_id="EvPRIV1")
    )
    preview = fake.wait_for("chat.postMessage", timeout=10)[0].params
    server.signed(
        press(fake, PROVIDER, "availability_save", first_value(preview, "availability_save"))
    )
    # Their SOAP note, with text that must never leave the database except in its modal.
    server.signed(slash(fake, PROVIDER, "/soap"))
    view = fake.wait_for("views.open", timeout=10)[0].params["view"]
    values = soap_values(session=str(session_id), objective=NOTE, subjective=NOTE)
    status, _, _ = server.signed(
        view_submission_body(user_id=PROVIDER, view={**view, "id": "V9"}, state_values=values)
    )
    assert status == 200
    with factory() as s:
        assert s.scalars(select(m.SoapNote.objective)).one() == NOTE
    # Their views of the caseload.
    for command, text in (
        ("/caseload", ""),
        ("/deadlines", ""),
        ("/soap", f"history {student_id}"),
    ):
        server.signed(slash(fake, PROVIDER, command, text))
    server.signed(event_body(event=app_home_opened_event(user_id=PROVIDER), event_id="EvPRIV2"))

    # A manager: match, approve (providers are DMed), and their own views.
    server.signed(slash(fake, MANAGER, "/match", "district=anchorage"))
    [proposal] = wait_for_proposals(fake, timeout=30)
    fake.wait_for("file_upload", timeout=15)  # its CSV, checked below with everything else
    server.signed(press(fake, MANAGER, "match_approve_all", proposal.button("match_approve_all")))
    wait_for_update(fake, proposal.ts, "✅ Approved by")
    for command, text in (("/caseload", "<@U0DEMOP01>"), ("/deadlines", "district=anchorage")):
        server.signed(slash(fake, MANAGER, command, text))
    server.signed(event_body(event=app_home_opened_event(user_id=MANAGER), event_id="EvPRIV3"))

    # The clock process: every nudge and digest due on a Monday at 17:00Z.
    jobs = run_jobs(database_url, fake.api_url, "2026-11-30T17:00:00Z")
    time.sleep(1.0)

    # Files (the proposal's CSV) are checked as the text they carry.
    outbound = json.dumps(
        [c.params for c in fake.calls], ensure_ascii=False, default=lambda b: b.decode()
    )
    assert "proposal-anc-" in outbound
    logs = server.log() + jobs.stdout + jobs.stderr
    names = student_names()
    assert len(names) > 60  # the check is real: most students' names are distinctive
    leaked = sorted(n for n in names if re.search(rf"\b{re.escape(n)}\b", outbound))
    assert leaked == [], f"student names sent to Slack: {leaked[:10]}"
    leaked = sorted(n for n in names if re.search(rf"\b{re.escape(n)}\b", logs))
    assert leaked == [], f"student names in logs: {leaked[:10]}"
    for marker in ("Privacy-marker-7Q", "Sqrl-Zebu"):
        assert marker not in outbound and marker not in logs
    assert len(fake.calls) > 20  # many messages were checked, not none
