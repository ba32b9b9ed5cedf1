"""End to end through the app (signed requests, the fake Slack): a provider's new hours leave two
weekly sessions outside them, their manager's DM offers [Find new times] and [Keep for now], and
both buttons do what they say, once, only for the manager's districts, and answer in a sentence
when pressed again or after things changed (handlers/schedule_change.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.deps import Deps
from bot.services.scope import OUTSIDE
from devtools.local_slack import LocalSlack
from storage import models as m
from tests.services.caseload_seed import add_slot, seed
from tests.storage.roster_files import VALID
from tests.support.app_driver import Driver, Reply

PROVIDERS = VALID["providers.csv"] + (
    "P3,Cy Dunn,cy@example.org,U0P3,slp,AK,America/Anchorage,20\n"
)
LICENSES = VALID["licenses.csv"] + "P3,AK,2027-06-30,AK-3\n"
# Ana (Pacific) works Tuesdays 08:00-14:00 PT = 07:00-13:00 in Anchorage; Cy (Alaska) Mon/Tue.
AVAILABILITY = (
    "provider_id,day,start,end\nP1,tue,08:00,14:00\nP2,mon,09:00,12:00\n"
    "P3,mon,08:30,11:30\nP3,tue,08:30,15:00\n"
)
MANAGERS = (
    "manager_id,name,email,slack_user_id,district_ids\n"
    "M1,Mia Park,mia@example.org,U0M1,\nM2,Max Roe,max@example.org,U0M2,mesa\n"
)
MIA, MAX, ANA = "U0M1", "U0M2", "U0P1"
MIA_DM = "DU0M1"


def roster(deps: Deps, tmp_path: Path, *, with_cy: bool = True) -> Deps:
    files: dict[str, str] = {"managers_csv": MANAGERS, "availability_csv": AVAILABILITY}
    if with_cy:
        files |= {"providers_csv": PROVIDERS, "licenses_csv": LICENSES}
    else:
        files["availability_csv"] = "".join(
            line for line in AVAILABILITY.splitlines(keepends=True) if not line.startswith("P3")
        )
    seed(deps, tmp_path, **files)
    add_slot(deps, "S1", "slp", 1, "09:00", "09:30")  # Tue, Anchorage time
    add_slot(deps, "S1", "slp", 1, "10:00", "10:30")
    return deps


def button(reply: Reply, action_id: str) -> str:
    """The value of the first button ``action_id`` anywhere in what the bot said."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("action_id") == action_id and "value" in node:
                found.append(str(node["value"]))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(reply.ack_json() if reply.ack.startswith("{") else {})
    for call in reply.calls:
        walk(call.params)
    assert found, f"no {action_id} button in {reply.said()[:2000]}"
    return found[0]


def no_longer_tuesdays(driver: Driver) -> str:
    """Ana drops Tuesdays and saves; the change id her manager's DM carries."""
    preview = driver.slash(ANA, "/availability", "no longer Tuesdays")
    saved = driver.press(ANA, "availability_save", button(preview, "availability_save"))
    dm = [
        c for c in saved.calls if c.method == "chat.postMessage" and c.params["channel"] == MIA_DM
    ]
    assert dm and "2 weekly sessions now fall outside it" in dm[0].params["text"]
    return button(saved, "change_find_new_times")


def assignment(deps: Deps) -> tuple[str, list[tuple[int, int]]]:
    with deps.session_factory() as s:
        a = s.scalars(
            select(m.Assignment).where(
                m.Assignment.student_id == "S1", m.Assignment.service == "slp"
            )
        ).one()
        slots = s.scalars(
            select(m.AssignmentSlot).where(m.AssignmentSlot.assignment_id == a.id)
        ).all()
        return a.provider_id, sorted((x.day, x.start_minute) for x in slots)


def audit(deps: Deps, action: str) -> list[m.AuditLog]:
    with deps.session_factory() as s:
        return list(s.scalars(select(m.AuditLog).where(m.AuditLog.action == action)))


def test_find_new_times_proposes_another_provider_and_approving_moves_the_student(
    deps: Deps, slack: LocalSlack, tmp_path: Path
) -> None:
    driver = Driver(roster(deps, tmp_path), slack)
    change = no_longer_tuesdays(driver)

    found = driver.press(MIA, "change_find_new_times", change)
    said = found.said()
    assert "Finding new times for Ana Reyes's students in Anchorage School District" in said
    posted = [c for c in found.calls if c.method == "chat.postMessage"]
    assert posted and posted[-1].params["channel"] == "DU0M1"  # a DM that stays, not ephemeral
    blocks = json.dumps(posted[-1].params["blocks"])
    assert "Proposal: Anchorage School District" in blocks and "Cy Dunn" in blocks
    assert "T.E. (S1)" in blocks and "Ana Reyes" not in blocks  # only the moved student
    proposal = button(found, "match_approve_all")
    with deps.session_factory() as s:  # S3 (Ana's other student, no conflict) is left alone
        row = s.get(m.PendingAction, proposal)
        assert row is not None and row.payload["rematch"] == [["S1", "slp", "P1"]]

    again = driver.press(MIA, "change_find_new_times", change)
    assert "I already proposed new times for this change" in again.said()

    approved = driver.press(MIA, "match_approve_all", proposal)
    assert "Approved" in approved.said()
    provider, slots = assignment(deps)
    assert provider == "P3" and len(slots) == 2 and all(day in (0, 1) for day, _ in slots)
    with deps.session_factory() as s:  # no session is left at Ana's old Tuesday times
        ahead = s.scalars(
            select(m.TherapySession.provider_id).where(
                m.TherapySession.student_id == "S1",
                m.TherapySession.starts_at >= deps.clock.now(),
                m.TherapySession.status == "scheduled",
            )
        ).all()
        assert "P1" not in ahead

    for action in ("change_find_new_times", "change_keep_for_now"):
        late = driver.press(MIA, action, change)
        assert "Nothing to do: no weekly session of this change is outside Ana Reyes's hours" in (
            late.said()
        )
        assert "went wrong" not in late.said()


def test_keep_for_now_records_it_replaces_the_message_and_the_conflicts_stay(
    deps: Deps, slack: LocalSlack, tmp_path: Path
) -> None:
    driver = Driver(roster(deps, tmp_path), slack)
    change = no_longer_tuesdays(driver)

    kept = driver.press(MIA, "change_keep_for_now", change)
    [replaced] = [c for c in kept.calls if c.method == "response_url"]
    assert replaced.params["text"] == (
        "Kept as is — 2 sessions stay outside Ana Reyes's hours; they'll show as conflicts on Home."
    )
    assert replaced.params["replace_original"] is True
    [row] = audit(deps, "schedule_change.keep")
    assert (row.actor, row.subject_id, row.after) == (
        "manager:M1",
        "P1",
        {"change_id": change, "sessions": 2, "services": [["S1", "slp"]]},
    )
    assert assignment(deps) == ("P1", [(1, 540), (1, 600)])  # nothing moved

    home = driver.open_home(MIA).said()
    assert "outside availability" in home and "S1" in home

    twice = driver.press(MIA, "change_keep_for_now", change)
    assert "Already kept as is by <@U0M1> — 2 sessions stay outside" in twice.said()
    assert len(audit(deps, "schedule_change.keep")) == 1


def test_a_manager_of_other_districts_can_do_neither_and_is_audited(
    deps: Deps, slack: LocalSlack, tmp_path: Path
) -> None:
    driver = Driver(roster(deps, tmp_path), slack)
    change = no_longer_tuesdays(driver)
    for action in ("change_find_new_times", "change_keep_for_now"):
        assert OUTSIDE in driver.press(MAX, action, change).said()
    assert [r.action for r in audit(deps, "match.rematch.denied")] == ["match.rematch.denied"]
    assert len(audit(deps, "schedule_change.keep.denied")) == 1
    assert audit(deps, "schedule_change.keep") == []
    with deps.session_factory() as s:
        assert s.scalars(select(m.PendingAction).where(m.PendingAction.kind == "match")).all() == []


def test_nothing_fits_says_why_and_proposes_nothing(
    deps: Deps, slack: LocalSlack, tmp_path: Path
) -> None:
    driver = Driver(roster(deps, tmp_path, with_cy=False), slack)
    change = no_longer_tuesdays(driver)
    said = driver.press(MIA, "change_find_new_times", change).said()
    assert "I couldn't find new times for Ana Reyes's students in Anchorage School District" in said
    assert "T.E. (S1) SLP:" in said
    assert "match_approve_all" not in said


def test_buttons_after_the_hours_came_back_or_on_an_unknown_change_answer_politely(
    deps: Deps, slack: LocalSlack, tmp_path: Path
) -> None:
    driver = Driver(roster(deps, tmp_path), slack)
    change = no_longer_tuesdays(driver)
    preview = driver.slash(ANA, "/availability", "add Tue 8-2")
    driver.press(ANA, "availability_save", button(preview, "availability_save"))
    for action in ("change_find_new_times", "change_keep_for_now"):
        said = driver.press(MIA, action, change).said()
        assert "Nothing to do" in said and "went wrong" not in said
        gone = driver.press(MIA, action, "no-such-change").said()
        assert "That message is out of date" in gone


@pytest.mark.parametrize("who", ["U0P1", "U0NOBODY"])
def test_only_managers_may_press_them(
    deps: Deps, slack: LocalSlack, tmp_path: Path, who: str
) -> None:
    driver = Driver(roster(deps, tmp_path), slack)
    change = no_longer_tuesdays(driver)
    for action in ("change_find_new_times", "change_keep_for_now"):
        said = driver.press(who, action, change).said()
        assert "went wrong" not in said and "manager" in said.lower()
    assert audit(deps, "schedule_change.keep") == []


def test_a_stale_rematch_runs_again_as_a_rematch(
    deps: Deps, slack: LocalSlack, tmp_path: Path
) -> None:
    driver = Driver(roster(deps, tmp_path), slack)
    change = no_longer_tuesdays(driver)
    first = button(driver.press(MIA, "change_find_new_times", change), "match_approve_all")
    with deps.session_factory.begin() as s:  # Cy's hours change after the proposal was made
        s.add(
            m.AvailabilityWindow(
                provider_id="P3", day=3, start_minute=8 * 60, end_minute=9 * 60,
                timezone="America/Anchorage",
            )
        )  # fmt: skip
    stale = driver.press(MIA, "match_approve_all", first)
    assert "changed since this proposal was computed" in stale.said()
    assert assignment(deps)[0] == "P1"
    rerun = driver.press(MIA, "match_rerun", button(stale, "match_rerun"))
    assert "ran it again: the fresh proposal follows" in rerun.said()
    second = button(rerun, "match_approve_all")
    assert second != first
    with deps.session_factory() as s:
        row = s.get(m.PendingAction, second)
        assert row is not None and row.payload["rematch"] == [["S1", "slp", "P1"]]
        assert row.payload["change_id"] == change
    assert "Approved" in driver.press(MIA, "match_approve_all", second).said()
    assert assignment(deps)[0] == "P3"


def test_replies_escape_the_providers_name(deps: Deps, slack: LocalSlack, tmp_path: Path) -> None:
    driver = Driver(roster(deps, tmp_path, with_cy=False), slack)
    change = no_longer_tuesdays(driver)
    with deps.session_factory.begin() as s:
        provider = s.get(m.Provider, "P1")
        assert provider is not None
        provider.name = "Ana <!here> & Co"
    found = driver.press(MIA, "change_find_new_times", change).said()
    kept = driver.press(MIA, "change_keep_for_now", change).said()
    for said in (found, kept):
        assert "Ana &lt;!here&gt; &amp; Co's" in said and "<!here>" not in said
