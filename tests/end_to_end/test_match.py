"""End to end: a manager's /match through serve, Approve all, and a second Approve."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from devtools.local_slack import LocalSlack
from devtools.slack_requests import block_actions_body, slash_command_body
from storage import models as m
from storage.db import make_session_factory
from storage.roster import import_roster
from tests.end_to_end.conftest import Server

# End-to-end through real processes: run by default and in CI; `-m "not slow"` skips them.
pytestmark = pytest.mark.slow

DEMO = Path(__file__).resolve().parents[2] / "demo" / "roster"


def match_command(fake: LocalSlack, user: str, text: str) -> str:
    return slash_command_body(
        command="/match",
        text=text,
        user_id=user,
        response_url=fake.response_url(f"m{time.monotonic_ns()}"),
    )


def click(fake: LocalSlack, user: str, action_id: str, value: str) -> str:
    return block_actions_body(
        user_id=user,
        action={
            "action_id": action_id,
            "block_id": "match_actions",
            "type": "button",
            "value": value,
            "text": {"type": "plain_text", "text": "Approve all"},
        },
        response_url=fake.response_url(f"c{time.monotonic_ns()}"),
        container={
            "type": "message",
            "message_ts": "1.2",
            "channel_id": "DU0DEMOM01",
            "is_ephemeral": True,
        },
    )


def test_manager_matches_approves_once_and_providers_hear_about_it(
    server: Server, fake: LocalSlack, db: Engine
) -> None:
    assert import_roster(DEMO, make_session_factory(db)).ok
    status, body, seconds = server.signed(match_command(fake, "U0DEMOM01", "district=anchorage"))
    assert status == 200 and seconds < 3
    assert json.loads(body)["text"] == "Matching Anchorage School District…"
    proposal = fake.wait_for("response_url", timeout=30)[0].params
    blocks = json.dumps(proposal["blocks"])
    assert "Proposal: Anchorage School District" in blocks
    assert "no licensed provider" in blocks  # the demo's Anchorage OT students
    approve = next(
        el["value"]
        for b in proposal["blocks"]
        if b["type"] == "actions"
        for el in b["elements"]
        if el["action_id"] == "match_approve_all"
    )

    fake.clear()
    assert server.signed(click(fake, "U0DEMOM01", "match_approve_all", approve))[0] == 200
    result = fake.wait_for("response_url", timeout=15)[0].params
    assert "Approved" in json.dumps(result["blocks"])
    dms = fake.calls_to("chat.postMessage")
    assert dms and all("You have new students" in c.params["text"] for c in dms)
    with make_session_factory(db)() as s:
        created = s.scalar(
            select(func.count())
            .select_from(m.Assignment)
            .where(m.Assignment.proposal_id == approve)
        )
    assert created and created > 0

    fake.clear()
    assert server.signed(click(fake, "U0DEMOM01", "match_approve_all", approve))[0] == 200
    again = fake.wait_for("response_url", timeout=15)[0].params
    assert "Already approved by you." in json.dumps(again["blocks"])
    assert fake.calls_to("chat.postMessage") == []
    with make_session_factory(db)() as s:
        assert (
            s.scalar(
                select(func.count())
                .select_from(m.Assignment)
                .where(m.Assignment.proposal_id == approve)
            )
            == created
        )


def test_provider_match_is_refused_and_nothing_is_computed(
    server: Server, fake: LocalSlack, db: Engine
) -> None:
    assert import_roster(DEMO, make_session_factory(db)).ok
    status, body, _ = server.signed(match_command(fake, "U0DEMOP01", "district=anchorage"))
    assert status == 200
    assert json.loads(body)["text"] == "Only provider-success managers can run /match."
    time.sleep(0.3)
    assert fake.calls_to("response_url") == []
    with make_session_factory(db)() as s:
        assert s.scalar(select(func.count()).select_from(m.PendingAction)) == 0


def test_bad_filter_gets_usage_and_unknown_district_gets_close_names(
    server: Server, fake: LocalSlack, db: Engine
) -> None:
    assert import_roster(DEMO, make_session_factory(db)).ok
    _, body, _ = server.signed(match_command(fake, "U0DEMOM01", "anchorage"))
    assert "Usage: `/match district=anchorage`" in json.loads(body)["text"]
    _, body, _ = server.signed(match_command(fake, "U0DEMOM01", "district=anchorge"))
    assert "Did you mean Anchorage School District" in json.loads(body)["text"]
