"""End to end: a manager's /match through serve, Approve all, and a second Approve."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from devtools.local_slack import LocalSlack
from devtools.proposals import (
    DmMessage,
    dm_messages,
    wait_for_proposals,
    wait_for_update,
)
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


def latest(fake: LocalSlack, ts: str) -> DmMessage:
    [found] = [x for x in dm_messages(fake) if x.ts == ts]
    return found


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
    assert json.loads(body)["text"] == (
        "Matching Anchorage School District… I'll post the proposal in our DM."
    )
    [proposal] = wait_for_proposals(fake, timeout=30)
    assert proposal.channel == "DU0DEMOM01"  # a real message in the manager's DM
    assert "Proposal: Anchorage School District" in proposal.said()
    assert "no licensed provider" in proposal.said()  # the demo's Anchorage OT students
    assert fake.calls_to("response_url") == []
    fake.wait_for("files.completeUploadExternal", timeout=10)
    assert len(latest(fake, proposal.ts).files) == 1  # the CSV, in the proposal's thread
    approve = proposal.button("match_approve_all")

    assert server.signed(click(fake, "U0DEMOM01", "match_approve_all", approve))[0] == 200
    # The same message, updated in place.
    result = wait_for_update(fake, proposal.ts, "✅ Approved by <@U0DEMOM01>")
    assert result.buttons() == []
    dms = [c for c in fake.calls_to("chat.postMessage") if c.params["channel"] != "DU0DEMOM01"]
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
    assert again["response_type"] == "ephemeral"
    assert fake.calls_to("chat.postMessage") == [] and fake.calls_to("chat.update") == []
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
    assert fake.calls_to("response_url") == [] and fake.calls_to("chat.postMessage") == []
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
