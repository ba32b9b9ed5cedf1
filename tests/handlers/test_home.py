"""Handlers: the App Home view stays inside Slack's limits however big the caseload, and its
buttons (mark a session, run a match) do what they say (handlers/home.py)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.clock import FixedClock
from bot.deps import Deps
from bot.services import caseload as cs
from bot.services import coverage as cov
from bot.services import deadlines as dl
from bot.services import home as svc
from bot.services.errors import InvalidInput
from bot.work import SOLVES, SolvePool
from devtools.local_slack import LocalSlack
from devtools.proposals import proposals
from handlers import home as h
from handlers.home_blocks import VIEW_LIMIT, home_view
from tests.services.caseload_seed import add_session, seed

T0 = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
PT = "America/Los_Angeles"


def huge_home(n: int) -> svc.Home:
    entries = tuple(
        cs.CaseloadEntry(f"S{i}", f"A.B. (S{i})", "slp", ("Tue 09:00–09:30",) * 3, i % 2 == 0)
        for i in range(40)
    )
    schools = tuple(
        cs.SchoolCaseload(f"SCH{i}", f"School {i} <&>", "District", entries) for i in range(n)
    )
    caseload = cs.Caseload("P1", "Ana", PT, date(2026, 11, 30), schools, 600, 1200, False)
    deadline = dl.DeadlineItem("annual_review", date(2026, 12, 5), 5, "A.B. (S1)", "School", "Ana")
    note = dl.OverdueNote(
        1, "P1", "S1", "A.B. (S1)", "slp", "School", T0, PT, T0, 3, timedelta(days=3)
    )
    recent = svc.RecentSession(1, "A.B. (S1)", "slp", T0, PT, "scheduled", False)
    provider = svc.ProviderHome(caseload, (deadline,) * n, (note,) * n, (recent,) * n, 48)
    manager = svc.ManagerHome(
        tuple(cov.DistrictCoverage(f"d{i}", f"District {i}", 10, 4) for i in range(n)),
        tuple(
            cov.Unserved("S1", "A.B. (S1)", "slp", "d", "D", "no capacity", "") for _ in range(n)
        ),
        tuple(dl.NoteCount(f"P{i}", f"Provider {i}", 3, date(2026, 11, 1)) for i in range(n)),
        (deadline,) * n,
    )
    return svc.Home(True, "Ana Reyes", True, None, provider, manager)


@pytest.mark.parametrize("n", [0, 1, 300])
def test_home_view_stays_within_100_blocks_and_slacks_text_limits(n: int) -> None:
    view = home_view(huge_home(n))  # to_dict() inside checks every text length
    assert len(view["blocks"]) <= VIEW_LIMIT
    for block in view["blocks"]:
        if block["type"] == "section" and "text" in block:
            assert len(block["text"]["text"]) <= 3000
    text = json.dumps(view, ensure_ascii=False)
    if n == 300:
        assert "…and 292 more" in text  # overdue notes: top 8 shown
        assert "…and 288 more districts" in text
    assert "School 0 &lt;&amp;&gt;" in text or n == 0


def test_unknown_person_sees_the_roster_sentence() -> None:
    view = home_view(svc.Home(False, "U0X", False, None))
    assert "I don't have you in the roster yet" in json.dumps(view)


class Calls:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def __call__(self, **kwargs: Any) -> None:
        self.calls.append(kwargs)


@pytest.fixture
def world(deps: Deps, tmp_path: Path, clock: FixedClock, slack: LocalSlack) -> dict[str, Any]:
    seed(deps, tmp_path)
    sid = add_session(deps, "A", "S1", clock.now() - timedelta(hours=3), status="scheduled")
    context = {"deps": deps, SOLVES: SolvePool(1, inline=True)}
    return {"context": context, "session": sid, "deps": deps, "slack": slack}


def test_mark_button_marks_and_republishes_the_home(world: dict[str, Any]) -> None:
    ack = Calls()
    body = {"user": {"id": "U0P1"}}
    action = {"action_id": "home_mark_held", "value": str(world["session"])}
    h.handle_home_mark_action(ack, body, action, world["context"])
    assert ack.calls == [{}]
    (publish,) = world["slack"].calls_to("views.publish")
    assert "_held_" in json.dumps(publish.params["view"])
    with pytest.raises(InvalidInput, match="out of date"):
        h.handle_home_mark_action(
            Calls(), body, {"action_id": "home_mark_held", "value": "x"}, world["context"]
        )


def test_run_match_dms_the_proposal(world: dict[str, Any]) -> None:
    h.handle_home_run_match_action(
        Calls(), {"user": {"id": "U0M1"}}, {"value": "anc"}, world["context"]
    )
    # "Matching …" is posted in the DM, then becomes the proposal in place, CSV in its thread.
    [post] = world["slack"].calls_to("chat.postMessage")
    assert post.params["channel"] == "DU0M1"
    assert post.params["text"].startswith("Matching Anchorage School District…")
    [proposal] = proposals(world["slack"])
    assert proposal.ts == post.response["ts"] and proposal.updates >= 1
    assert "Proposal: Anchorage School District" in proposal.said()
    [csv_file] = proposal.files
    assert csv_file["title"].startswith("Proposal for Anchorage School District, week of ")


def test_refresh_home_never_fails_the_change(world: dict[str, Any]) -> None:
    world["slack"].fail_next("views.publish", 200, error="fatal_error")
    h.refresh_home(world["deps"], "U0P1")  # logged, not raised
    h.refresh_home(world["deps"], None)
