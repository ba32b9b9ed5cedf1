"""Handlers: a /match proposal is one message in the manager's DM, with its CSV in the thread,
and every click updates that same message: Approve (one provider, then all), Discard, stale and
Run it again; double clicks change nothing; a long solve shows its progress there first."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any

import pytest

from bot.deps import Deps
from bot.domain import matching as mt
from bot.domain.matching.progress import Progress
from devtools.local_slack import LocalSlack
from devtools.proposals import DmMessage, dm_messages, proposals, wait_for_proposals
from handlers import proposal_dm
from handlers.match_blocks import CSV_FAILED, MAX_BLOCKS
from storage import models as m
from tests.support.app_driver import Driver

MANAGER = "U0DEMOM01"


@pytest.fixture
def driver(demo_deps: Deps, slack: LocalSlack) -> Driver:
    return Driver(demo_deps, slack)


def match(driver: Driver, slack: LocalSlack) -> DmMessage:
    reply = driver.slash(MANAGER, "/match", "district=anchorage")
    assert reply.ack_json()["text"] == (
        "Matching Anchorage School District… I'll post the proposal in our DM."
    )
    [proposal] = wait_for_proposals(slack)
    return proposal


def latest(slack: LocalSlack, ts: str) -> DmMessage:
    [found] = [p for p in dm_messages(slack) if p.ts == ts]
    return found


def test_the_proposal_is_a_dm_message_with_its_csv_in_the_thread(
    driver: Driver, slack: LocalSlack, demo_deps: Deps
) -> None:
    proposal = match(driver, slack)
    assert proposal.channel == "D" + MANAGER
    assert not slack.calls_to("response_url")  # nothing ephemeral
    [csv_file] = proposal.files
    assert csv_file["title"].startswith("Proposal for Anchorage School District, week of ")
    [upload] = slack.calls_to("file_upload")
    assert upload.params["filename"].startswith("proposal-anc-")
    assert upload.params["content"].decode().startswith("provider_id,provider,student_ids")
    assert "CSV in this message's thread" in proposal.said()
    proposal_id = proposal.button("match_approve_all")
    with demo_deps.session_factory() as s:
        row = s.get(m.PendingAction, proposal_id)
        assert row is not None
        stored = row.payload["message"]
        assert (stored["channel"], stored["ts"], stored["csv"]) == (
            proposal.channel,
            proposal.ts,
            "attached",
        )


def test_approve_one_provider_then_all_updates_the_message_in_place_and_a_double_click_is_quiet(
    driver: Driver, slack: LocalSlack
) -> None:
    proposal = match(driver, slack)
    first = proposal.button("match_approve_provider")
    driver.press(MANAGER, "match_approve_provider", first)
    after_one = latest(slack, proposal.ts)
    assert after_one.updates == proposal.updates + 1  # (a slow solve updated it before)
    proposal_id, _, provider_id = first.partition(":")
    with driver.deps.session_factory() as s:
        row = s.get(m.PendingAction, proposal_id)
        assert row is not None
        theirs = {
            (sid, x["service"])
            for x in row.payload["sessions"]
            if x["provider_id"] == provider_id
            for sid in x["student_ids"]
        }
    created = f"{len(theirs)} assignment{'' if len(theirs) == 1 else 's'} created"
    assert f"✅ Approved by <@{MANAGER}>: {created}." in after_one.said()
    assert first not in [
        b.get("accessory", {}).get("value") for b in after_one.blocks
    ]  # that provider's Approve is gone, the others stay
    assert after_one.buttons().count("match_approve_provider") == (
        proposal.buttons().count("match_approve_provider") - 1
    )

    driver.press(MANAGER, "match_approve_all", proposal.button("match_approve_all"))
    after_all = latest(slack, proposal.ts)
    assert after_all.updates == proposal.updates + 2 and after_all.buttons() == []
    assert after_all.said().count("✅ Approved by") == 2  # the provider's, and the rest
    assert len(proposals(slack)) == 1  # still one message

    again = driver.press(MANAGER, "match_approve_all", proposal.button("match_approve_all"))
    assert "Already approved by you. Nothing changed." in again.said()
    assert "chat.update" not in again.methods()
    assert [c.params["response_type"] for c in again.calls if c.method == "response_url"] == [
        "ephemeral"
    ]


def test_discard_updates_the_message_and_a_second_discard_changes_nothing(
    driver: Driver, slack: LocalSlack
) -> None:
    proposal = match(driver, slack)
    value = proposal.button("match_discard")
    driver.press(MANAGER, "match_discard", value)
    gone = latest(slack, proposal.ts)
    assert gone.buttons() == [] and f"Discarded by <@{MANAGER}>." in gone.said()
    assert len(gone.blocks) == 3  # title, summary, who discarded it
    again = driver.press(MANAGER, "match_discard", value)
    assert "already decided" in again.said() and "chat.update" not in again.methods()


def test_a_stale_proposal_says_so_in_place_and_run_it_again_runs_once(
    driver: Driver, slack: LocalSlack, demo_deps: Deps
) -> None:
    proposal = match(driver, slack)
    proposal_id = proposal.button("match_approve_all")
    with demo_deps.session_factory.begin() as s:  # one of its providers' hours change
        row = s.get(m.PendingAction, proposal_id)
        assert row is not None
        s.add(
            m.AvailabilityWindow(
                provider_id=row.payload["provider_ids"][0], day=4, start_minute=60,
                end_minute=120, timezone="America/Anchorage",
            )
        )  # fmt: skip
    driver.press(MANAGER, "match_approve_all", proposal_id)
    stale = latest(slack, proposal.ts)
    assert "can't be approved as it stands" in stale.said()
    assert stale.buttons() == ["match_rerun"]

    rerun = driver.press(MANAGER, "match_rerun", stale.button("match_rerun"))
    assert rerun.status == 200
    ran = latest(slack, proposal.ts)
    assert f"<@{MANAGER}> ran it again" in ran.said() and ran.buttons() == []
    fresh = wait_for_proposals(slack, 2)[-1]
    assert fresh.ts != proposal.ts and fresh.button("match_approve_all") != proposal_id
    assert len(fresh.files) == 1

    twice = driver.press(MANAGER, "match_rerun", proposal_id)
    assert "You already ran this proposal again" in twice.said()
    assert len(proposals(slack)) == 2  # no third proposal


def test_a_failed_csv_upload_still_posts_the_proposal_and_says_so(
    driver: Driver, slack: LocalSlack
) -> None:
    slack.fail_next("files.getUploadURLExternal", 200, error="fatal_error", times=3)
    proposal = match(driver, slack)
    assert proposal.files == []
    assert CSV_FAILED.split(" (")[0] in latest(slack, proposal.ts).said()
    assert proposal.button("match_approve_all")


def test_a_slow_solve_shows_progress_in_the_dm_then_becomes_the_proposal(
    demo_deps: Deps, slack: LocalSlack, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(proposal_dm, "FIRST_AFTER_S", 0.05)
    monkeypatch.setattr(proposal_dm, "EVERY_S", 0.05)

    def slow(inp: mt.MatchInput, limit: float, progress: mt.ProgressFn | None) -> mt.MatchResult:
        assert progress is not None
        progress(Progress("greedy", 0.1, 255, 274))
        time.sleep(0.4)
        return mt.solve(inp, time_limit_s=limit)

    driver = Driver(replace(demo_deps, solver_override=slow), slack)
    driver.slash(MANAGER, "/match", "district=anchorage")
    [posted] = slack.calls_to("chat.postMessage")
    assert posted.params["text"].startswith("Matching Anchorage School District… ")
    texts = [c.params["text"] for c in slack.calls_to("chat.update")]
    assert any(t.endswith(", 255 served so far, at most 274") for t in texts)
    [proposal] = proposals(slack)
    assert proposal.ts == posted.response["ts"]  # the progress message became the proposal
    assert len(slack.calls_to("chat.postMessage")) == 1


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def post_dm(self, user: str, text: str, blocks: Any = None, key: str | None = None) -> Any:
        with self.lock:
            self.calls.append(("post", text))
        return proposal_dm.PostedMessage("D1", "1.0")

    def update_message(self, channel: str, ts: str, text: str, blocks: Any = None) -> None:
        with self.lock:
            self.calls.append(("update", text))


def test_a_quick_solve_shows_no_progress_and_updates_are_spaced() -> None:
    quick = Recorder()
    with proposal_dm.ProgressMessage(quick, "U1", "Anchorage", first_after=5, every=5) as p:
        p(Progress("greedy", 0.0, 3, 5))
    assert quick.calls == []

    slow = Recorder()
    with proposal_dm.ProgressMessage(
        slow, "U1", "Matching Anchorage", first_after=0.1, every=0.2
    ) as p:
        time.sleep(0.75)
    kinds = [k for k, _ in slow.calls]
    assert kinds[0] == "post" and set(kinds[1:]) <= {"update"}
    assert 2 <= len(kinds) <= 5  # about one per 0.2 s after the first 0.1 s, never a flood
    assert slow.calls[0][1].startswith("Matching Anchorage… 0 s")


def test_progress_text_and_the_block_budget() -> None:
    assert (
        proposal_dm.progress_text("Matching Anchorage", 4.2, Progress("cover", 4.0, 255, 274))
        == "Matching Anchorage… 4 s, 255 served so far, at most 274"
    )
    assert proposal_dm.progress_text("Matching X", 2.0, None) == "Matching X… 2 s"
    assert MAX_BLOCKS == 50


def test_a_proposal_with_no_dm_message_is_answered_as_before(
    driver: Driver, slack: LocalSlack, demo_deps: Deps
) -> None:
    # A proposal stored before proposals became DM messages (or whose post never happened):
    # its buttons answer through the response_url, replacing the ephemeral proposal.
    from bot.services import matching as svc

    stored = svc.propose(demo_deps, MANAGER, svc.Filters("anc"))
    assert stored.proposal_id is not None
    slack.clear()
    reply = driver.press(MANAGER, "match_approve_all", stored.proposal_id)
    [answer] = [c.params for c in reply.calls if c.method == "response_url"]
    assert answer["replace_original"] is True and "✅ Approved" in str(answer["blocks"])
    assert "chat.update" not in reply.methods()


def test_two_providers_approved_at_once_both_show_on_the_message(
    driver: Driver, slack: LocalSlack
) -> None:
    proposal = match(driver, slack)
    values = [
        str(b["accessory"]["value"])
        for b in proposal.blocks
        if (b.get("accessory") or {}).get("action_id") == "match_approve_provider"
    ][:2]
    assert len(values) == 2
    threads = [
        threading.Thread(target=driver.press, args=(MANAGER, "match_approve_provider", v))
        for v in values
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    final = latest(slack, proposal.ts)
    assert final.said().count("✅ Approved by") == 2
    assert final.buttons().count("match_approve_provider") == (
        proposal.buttons().count("match_approve_provider") - 2
    )


def test_a_failed_solve_does_not_leave_matching_on_screen() -> None:
    shown = Recorder()
    with (
        pytest.raises(RuntimeError),
        proposal_dm.ProgressMessage(shown, "U1", "Matching Anchorage", first_after=0.01, every=5),
    ):
        time.sleep(0.2)
        raise RuntimeError("solver bug")
    assert shown.calls[0][0] == "post"
    assert shown.calls[-1] == ("update", "Matching Anchorage didn't finish.")
